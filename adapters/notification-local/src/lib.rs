#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `store`: the outbox's layout under `/data`, over the SDK's `files` helpers (whole-file
//!   writes, exclusive creates, locks).
//! - `message`: validation, the record of a message, and its status computed from its times.
#![warn(missing_docs)]

pub mod message;
pub mod store;

use std::time::Duration;

use message::{Record, Timing};
use store::{Outbox, KEYS, MESSAGES, WAIT_MS};
use switchyard_sdk::notification::{
    BulkResult, DeliveryStatus, Lifecycle, Message, MessagePage, MessageQuery, MessageStatus,
    Notification,
};
use switchyard_sdk::types::{Error, HealthStatus, PageInfo, PageRequest};
use switchyard_sdk::{config, files, log, random, retry, time};

/// The most messages one `send-bulk` takes.
pub const MAX_BULK: usize = 1000;
/// The default and the largest page of `list`.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page of `list`.
pub const MAX_LIMIT: u32 = 1000;

/// The local notification adapter.
pub struct Local;

fn now_ms() -> u64 {
    time::unix_millis(&time::now())
}

fn timing() -> Result<Timing, Error> {
    Ok(Timing {
        sent_after_ms: config::parse("sent_after_ms", 0u64)?,
        delivered_after_ms: config::parse("delivered_after_ms", 0u64)?,
    })
}

/// A new message id: `msg_`, the wall-clock time in nanoseconds (16 hex digits) and 64
/// random bits, so ids sort by creation.
fn new_id() -> String {
    let now = time::now();
    let nanos = now
        .seconds
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(now.nanoseconds));
    format!("msg_{nanos:016x}{}", hex::encode(random::bytes(8)))
}

/// Checks an id given by a caller: `invalid-input` naming `id` unless it could be one of ours.
fn check_id(id: &str, field: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::invalid_input(format!("{field} must not be empty")));
    }
    if id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Error::invalid_input(format!(
            "{field} {id:?} is not a message id of this provider"
        )));
    }
    Ok(())
}

fn message_path(id: &str) -> String {
    format!("{MESSAGES}/{id}.json")
}

fn load(outbox: &Outbox, id: &str) -> Result<Option<Record>, Error> {
    let Some(bytes) = outbox.read(&message_path(id))? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|err| Error::internal(format!("the record of message {id} is unreadable: {err}")))
}

fn save(outbox: &Outbox, record: &Record) -> Result<(), Error> {
    let bytes = serde_json::to_vec(record)
        .map_err(|err| Error::internal(format!("serialising the message failed: {err}")))?;
    outbox.write_whole(&message_path(&record.id), &bytes)
}

/// Accepts one message: validates it, claims its idempotency key, writes its record.
fn accept(outbox: &Outbox, m: &Message, timing: Timing) -> Result<MessageStatus, Error> {
    let now = now_ms();
    let record = message::validate(m, new_id(), now, timing)?;
    let key_path = record
        .idempotency_key
        .as_ref()
        .map(|k| format!("{KEYS}/{}", hex::encode(k.as_bytes())));
    if let Some(path) = &key_path {
        if !outbox.create_exclusive(path, record.id.as_bytes())? {
            return existing(outbox, path, m);
        }
    }
    if let Err(err) = save(outbox, &record) {
        if let Some(path) = &key_path {
            let _ = outbox.remove(path);
        }
        return Err(err);
    }
    log::debug(
        "message accepted",
        &[("id", &record.id), ("channel", &record.channel)],
    );
    record.status(now)
}

/// The message that owns the idempotency key at `path`; waits while its send is still
/// being written.
fn existing(outbox: &Outbox, path: &str, m: &Message) -> Result<MessageStatus, Error> {
    let start = now_ms();
    loop {
        if let Some(bytes) = outbox.read(path)? {
            let id = String::from_utf8_lossy(&bytes).into_owned();
            if check_id(&id, "id").is_ok() {
                if let Some(record) = load(outbox, &id)? {
                    if record.to != m.to || record.channel != message::channel_name(m.channel) {
                        return Err(Error::conflict(format!(
                            "idempotency-key was already used for message {id} to another \
                             recipient"
                        )));
                    }
                    return record.status(now_ms());
                }
            }
        }
        if now_ms().saturating_sub(start) > WAIT_MS {
            return Err(Error::unavailable(
                "a send with this idempotency-key is still being accepted; try again",
            ));
        }
        retry::sleep(Duration::from_millis(5));
    }
}

impl Notification for Local {
    fn send(message: Message) -> Result<MessageStatus, Error> {
        let outbox = Outbox::open()?;
        accept(&outbox, &message, timing()?)
    }

    fn send_bulk(messages: Vec<Message>) -> Result<Vec<BulkResult>, Error> {
        if messages.is_empty() {
            return Err(Error::invalid_input("messages must not be empty"));
        }
        if messages.len() > MAX_BULK {
            return Err(Error::too_large(format!(
                "messages has {} entries; at most {MAX_BULK} are taken per call",
                messages.len()
            )));
        }
        let outbox = Outbox::open()?;
        let timing = timing()?;
        Ok(messages
            .iter()
            .enumerate()
            .map(|(i, m)| BulkResult {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                to: m.to.clone(),
                outcome: accept(&outbox, m, timing),
            })
            .collect())
    }

    fn status(id: String) -> Result<MessageStatus, Error> {
        check_id(&id, "id")?;
        let outbox = Outbox::open()?;
        load(&outbox, &id)?
            .ok_or_else(|| Error::not_found(format!("id: no message {id}")))?
            .status(now_ms())
    }

    fn cancel(id: String) -> Result<MessageStatus, Error> {
        check_id(&id, "id")?;
        let outbox = Outbox::open()?;
        outbox.with_lock(&id, || {
            let mut record = load(&outbox, &id)?
                .ok_or_else(|| Error::not_found(format!("id: no message {id}")))?;
            let now = now_ms();
            let current = record.status(now)?;
            match current.status {
                DeliveryStatus::Canceled => Ok(current),
                DeliveryStatus::Scheduled | DeliveryStatus::Queued => {
                    record.canceled_ms = Some(now);
                    save(&outbox, &record)?;
                    record.status(now)
                }
                other => Err(Error::conflict(format!(
                    "message {id} is already {}; only scheduled or queued messages can be \
                     canceled",
                    status_name(other)
                ))),
            }
        })
    }

    fn list(query: MessageQuery, page: PageRequest) -> Result<MessagePage, Error> {
        let limit = page.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 {
            return Err(Error::invalid_input("limit must be at least 1"));
        }
        let limit = limit.min(MAX_LIMIT) as usize;
        if let Some(c) = &page.cursor {
            check_id(c, "cursor")?;
        }
        let outbox = Outbox::open()?;
        let now = now_ms();
        let mut messages = Vec::new();
        let mut total = 0u64;
        let mut next_cursor = None;
        for name in outbox.names(MESSAGES)? {
            let Some(id) = name.strip_suffix(".json") else {
                continue;
            };
            let record = match load(&outbox, id) {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(err) => {
                    log::warn(
                        "skipping an unreadable message record",
                        &[("id", id), ("reason", &err.message)],
                    );
                    continue;
                }
            };
            let status = record.status(now)?;
            if query.channel.is_some_and(|c| c != status.channel)
                || query.to.as_ref().is_some_and(|t| *t != status.to)
                || query.status.is_some_and(|s| s != status.status)
            {
                continue;
            }
            total += 1;
            if page.cursor.as_deref().is_some_and(|c| id <= c) {
                continue;
            }
            if messages.len() < limit {
                messages.push(status);
            } else if next_cursor.is_none() {
                next_cursor = messages.last().map(|m: &MessageStatus| m.id.clone());
            }
        }
        Ok(MessagePage {
            messages,
            page: PageInfo {
                next_cursor,
                total: Some(total),
            },
        })
    }

    fn health() -> Result<HealthStatus, Error> {
        let checked = Outbox::open().and_then(|o| o.check_writable());
        Ok(match checked {
            Ok(n) => HealthStatus {
                ok: true,
                detail: format!(
                    "{} (the binding's files directory) is writable; {n} messages in the outbox",
                    files::DATA_DIR
                ),
            },
            Err(err) => HealthStatus {
                ok: false,
                detail: err.message,
            },
        })
    }
}

fn status_name(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Scheduled => "scheduled",
        DeliveryStatus::Queued => "queued",
        DeliveryStatus::Sent => "sent",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Undelivered => "undelivered",
        DeliveryStatus::Failed => "failed",
        DeliveryStatus::Canceled => "canceled",
    }
}

impl Lifecycle for Local {
    /// Statuses are computed from recorded times when read: nothing to do.
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    /// Nothing is buffered: nothing to do.
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

switchyard_sdk::export_notification!(Local);
