#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `store`: the outbox's layout under `/data`, over the SDK's `files` helpers
//!   (whole-then-rename writes, exclusive create, reads, listings).
//! - `record`: a message as JSON on disk and back.
//! - `status`: the simulated delivery status of a message and its recipients.
#![warn(missing_docs)]

pub mod record;
pub mod status;
pub mod store;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use switchyard_sdk::email::{
    validate, Email, Lifecycle, Message, MessagePage, MessageStatus, MessageSummary, SendReceipt,
    SentMessage,
};
use switchyard_sdk::types::{Error, HealthStatus, PageInfo, PageRequest, Timestamp};
use switchyard_sdk::{files, log, retry, time};
use wasi::filesystem::types::Descriptor;

use record::{array, corrupt, field, obj, string};
use status::Timing;

/// Default of config `sent_after_ms`: how long a message stays `queued`.
pub const DEFAULT_SENT_AFTER_MS: u64 = 200;
/// Default of config `delivered_after_ms`: when a message reaches its final status.
pub const DEFAULT_DELIVERED_AFTER_MS: u64 = 1000;
/// The default page size of `list`.
pub const DEFAULT_PAGE: u32 = 100;
/// The largest page size of `list`.
pub const MAX_PAGE: u32 = 1000;
/// How long a send waits for a concurrent send with the same idempotency key to finish.
const KEY_WAIT_MS: u64 = 5000;

/// The local email adapter.
pub struct Local;

impl Email for Local {
    fn send(message: Message) -> Result<SendReceipt, Error> {
        validate::message(&message)?;
        let timing = Timing::from_config()?;
        let data = store::open()?;
        match message.idempotency_key.clone() {
            None => {
                let meta = record_message(&data, &message)?;
                receipt(&meta, &timing)
            }
            Some(key) => send_once(&data, &key, &message, &timing),
        }
    }

    fn send_bulk(messages: Vec<Message>) -> Result<Vec<Result<SendReceipt, Error>>, Error> {
        validate::bulk(&messages)?;
        Timing::from_config()?;
        Ok(messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| Self::send(m).map_err(|e| e.context(format!("messages[{i}]"))))
            .collect())
    }

    fn status(id: String) -> Result<MessageStatus, Error> {
        let timing = Timing::from_config()?;
        let data = store::open()?;
        let meta = read_meta(&data, &id)?;
        let (status, recipients, updated_at) = timing.status(&meta)?;
        Ok(MessageStatus {
            id,
            status,
            recipients,
            updated_at,
        })
    }

    fn get(id: String) -> Result<SentMessage, Error> {
        let timing = Timing::from_config()?;
        let data = store::open()?;
        let meta = read_meta(&data, &id)?;
        let file = format!("{id}.message.json");
        let value: Value = files::read_json(&data, &store::in_outbox(&file), |e| {
            corrupt(&file, &e.to_string())
        })?
        .ok_or_else(|| corrupt(&file, "the message file is missing"))?;
        let message = record::message_from_json(&value).map_err(|why| corrupt(&file, &why))?;
        let (status, _, _) = timing.status(&meta)?;
        Ok(SentMessage {
            id,
            message,
            accepted_at: accepted_at(&meta)?,
            status,
        })
    }

    fn list(page: PageRequest) -> Result<MessagePage, Error> {
        let timing = Timing::from_config()?;
        let limit = match page.limit {
            None => DEFAULT_PAGE,
            Some(0) => return Err(Error::invalid_input("page.limit is 0: ask for at least 1")),
            Some(n) => n.min(MAX_PAGE),
        };
        if let Some(cursor) = &page.cursor {
            if !is_id(cursor) {
                return Err(Error::invalid_input(format!(
                    "page.cursor '{}' is not a cursor this provider gave",
                    cursor.escape_debug()
                )));
            }
        }
        let data = store::open()?;
        let mut ids: Vec<String> = files::list(&data, store::OUTBOX)?
            .into_iter()
            .filter_map(|n| n.strip_suffix(".meta.json").map(str::to_string))
            .filter(|id| is_id(id))
            .collect();
        ids.sort();
        let total = ids.len() as u64;
        let rest: Vec<&String> = ids
            .iter()
            .filter(|id| page.cursor.as_ref().is_none_or(|c| *id > c))
            .collect();
        let mut messages = Vec::new();
        for id in rest.iter().take(limit as usize) {
            match read_meta(&data, id).and_then(|meta| summary(&meta, &timing)) {
                Ok(s) => messages.push(s),
                Err(err) => log::warn(
                    "skipping an unreadable outbox entry",
                    &[("id", id.as_str()), ("reason", &err.message)],
                ),
            }
        }
        let next_cursor = if rest.len() > limit as usize {
            rest.get(limit as usize - 1).map(|id| id.to_string())
        } else {
            None
        };
        Ok(MessagePage {
            messages,
            page: PageInfo {
                next_cursor,
                total: Some(total),
            },
        })
    }

    fn health() -> Result<HealthStatus, Error> {
        let checked = store::open()
            .and_then(|data| files::list(&data, store::OUTBOX))
            .and_then(|names| Timing::from_config().map(|_| names));
        Ok(match checked {
            Ok(names) => HealthStatus {
                ok: true,
                detail: format!(
                    "{}/{} (the binding's files directory) is usable; {} messages recorded",
                    files::DATA_DIR,
                    store::OUTBOX,
                    names.iter().filter(|n| n.ends_with(".meta.json")).count()
                ),
            },
            Err(err) => HealthStatus {
                ok: false,
                detail: err.message,
            },
        })
    }
}

impl Lifecycle for Local {
    /// Nothing is buffered: nothing to do.
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    /// Nothing is buffered: nothing to do.
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

/// Records the message whole (`<id>.message.json`, then `<id>.meta.json`, the commit point);
/// answers its meta.
fn record_message(data: &Descriptor, m: &Message) -> Result<Value, Error> {
    let now = time::now();
    let id = time::uuid_v7_at(&now);
    let body = serde_json::to_vec(&record::message_to_json(m))
        .map_err(|e| Error::internal(format!("serialising the message failed: {e}")))?;
    let message_file = format!("{id}.message.json");
    files::write_atomic(data, &store::in_outbox(&message_file), &body)?;
    let recipients: Vec<&str> =
        m.to.iter()
            .chain(m.cc.iter().flatten())
            .chain(m.bcc.iter().flatten())
            .map(|a| a.email.as_str())
            .collect();
    let meta = json!({
        "id": id,
        "accepted_at_ms": time::unix_millis(&now),
        "from": m.from.email,
        "recipients": recipients,
        "subject": m.subject,
        "tags": m.tags.clone().unwrap_or_default(),
        "attachment_count": m.attachments.as_ref().map_or(0, Vec::len),
    });
    let meta_bytes = serde_json::to_vec(&meta)
        .map_err(|e| Error::internal(format!("serialising the message failed: {e}")))?;
    let meta_file = store::in_outbox(&format!("{id}.meta.json"));
    if let Err(err) = files::write_atomic(data, &meta_file, &meta_bytes) {
        let _ = files::remove(data, &store::in_outbox(&message_file));
        return Err(err);
    }
    Ok(meta)
}

/// A send with an idempotency key: the call that creates `keys/<sha256(key)>` exclusively
/// records the message and then writes its id into the key file; any other call with the
/// same key waits for that id and answers the first send's receipt.
fn send_once(
    data: &Descriptor,
    key: &str,
    m: &Message,
    timing: &Timing,
) -> Result<SendReceipt, Error> {
    files::create_dir(data, store::KEYS)?;
    let path = format!(
        "{}/{}",
        store::KEYS,
        hex::encode(Sha256::digest(key.as_bytes()))
    );
    let start = now_ms();
    loop {
        if files::create_exclusive(data, &path, b"")? {
            let meta = match record_message(data, m) {
                Ok(meta) => meta,
                Err(err) => {
                    let _ = files::remove(data, &path);
                    return Err(err);
                }
            };
            let id =
                string(meta.get("id").unwrap_or(&Value::Null), "id").map_err(Error::internal)?;
            files::write_atomic(data, &path, id.as_bytes())?;
            return receipt(&meta, timing);
        }
        if let Some(bytes) = files::read(data, &path)? {
            let id = String::from_utf8_lossy(&bytes).trim().to_string();
            if is_id(&id) {
                let meta = read_meta(data, &id)?;
                return receipt(&meta, timing);
            }
        }
        if now_ms().saturating_sub(start) > KEY_WAIT_MS {
            return Err(Error::conflict(
                "idempotency-key: a send with this key is still being recorded; retry later",
            )
            .with_retryable(true));
        }
        retry::sleep(std::time::Duration::from_millis(10));
    }
}

fn receipt(meta: &Value, timing: &Timing) -> Result<SendReceipt, Error> {
    let (status, _, _) = timing.status(meta)?;
    Ok(SendReceipt {
        id: meta_str(meta, "id")?,
        status,
        accepted_at: accepted_at(meta)?,
    })
}

fn summary(meta: &Value, timing: &Timing) -> Result<MessageSummary, Error> {
    let (status, _, _) = timing.status(meta)?;
    let tags = meta
        .get("tags")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(MessageSummary {
        id: meta_str(meta, "id")?,
        from: meta_str(meta, "from")?,
        recipients: meta_recipients(meta)?,
        subject: meta_str(meta, "subject")?,
        tags,
        attachment_count: meta
            .get("attachment_count")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        accepted_at: accepted_at(meta)?,
        status,
    })
}

/// The meta of message `id`: `invalid-input` for an id this provider never gives,
/// `not-found` for an unknown one.
fn read_meta(data: &Descriptor, id: &str) -> Result<Value, Error> {
    validate::id(id)?;
    if !is_id(id) {
        return Err(Error::invalid_input(format!(
            "id '{}' is not a message id of this provider (a UUID)",
            id.escape_debug()
        )));
    }
    let file = format!("{id}.meta.json");
    let meta: Value = files::read_json(data, &store::in_outbox(&file), |e| {
        corrupt(&file, &e.to_string())
    })?
    .ok_or_else(|| Error::not_found(format!("id: no message '{id}' in this outbox")))?;
    obj(&meta, "meta").map_err(|why| corrupt(&file, &why))?;
    Ok(meta)
}

fn meta_str(meta: &Value, name: &str) -> Result<String, Error> {
    meta.as_object()
        .ok_or_else(|| "meta is not an object".to_string())
        .and_then(|o| field(o, name))
        .and_then(|v| string(v, name))
        .map_err(|why| corrupt("meta", &why))
}

fn meta_recipients(meta: &Value) -> Result<Vec<String>, Error> {
    meta.get("recipients")
        .ok_or_else(|| "recipients is missing".to_string())
        .and_then(|v| array(v, "recipients"))
        .and_then(|l| l.iter().map(|r| string(r, "recipients")).collect())
        .map_err(|why| corrupt("meta", &why))
}

fn accepted_ms(meta: &Value) -> Result<u64, Error> {
    meta.get("accepted_at_ms")
        .and_then(Value::as_u64)
        .ok_or_else(|| corrupt("meta", "accepted_at_ms is missing"))
}

fn accepted_at(meta: &Value) -> Result<Timestamp, Error> {
    accepted_ms(meta).map(from_ms)
}

fn now_ms() -> u64 {
    time::unix_millis(&time::now())
}

fn from_ms(ms: u64) -> Timestamp {
    Timestamp {
        seconds: ms / 1000,
        nanoseconds: u32::try_from(ms % 1000).unwrap_or(0) * 1_000_000,
    }
}

/// Whether `s` has the shape of the ids this provider gives (a hyphenated UUID).
fn is_id(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
        })
}

switchyard_sdk::export_email!(Local);
