//! Delivery: takes buffered events and POSTs them to `{host}/batch/`.
//!
//! - 2xx: the batch is acked (dropped from the host's buffer for good).
//! - 5xx, 429 (honouring `Retry-After`) and network errors: retried with backoff.
//! - 413: the batch size is halved and the same events are sent again in smaller batches;
//!   a single event the server still finds too large is dropped (logged at error level).
//! - 400 on a batch of several: its events are sent one at a time; only an event the server
//!   itself rejects with 400 is dropped, logged at error level with the reason.
//! - 401/403: delivery stops, nothing taken is acked (the events stay buffered), and the
//!   `unauthorized` error carries PostHog's message.
//! - Anything else (a denial by the host, retries exhausted...): delivery stops and the
//!   error is returned; the events of the failed batch stay buffered.
//!
//! The buffer acks all items a call took at once, so a batch is acked only when every
//! event in it was delivered or deliberately dropped. If delivery fails partway through a
//! batch that was split, the whole batch returns to the buffer and its delivered events are
//! sent again later: PostHog drops such duplicates by their `uuid`.

use core::time::Duration;

use serde_json::{json, Value};
use switchyard_sdk::http::Request;
use switchyard_sdk::retry::retry;
use switchyard_sdk::types::{Error, ErrorKind};
use switchyard_sdk::{buffer, log, time};

use crate::config::Config;
use crate::error;

/// The per-request time limit asked of the host (posthog-node's `requestTimeout`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What a flush did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Events PostHog accepted.
    pub sent: u32,
    /// Events dropped because PostHog rejected them (400/413 on their own) or they were not
    /// readable JSON.
    pub dropped: u32,
}

/// Delivers everything pending when the call started, batch by batch.
pub fn flush(config: &Config) -> Result<Outcome, Error> {
    let mut outcome = Outcome::default();
    let mut remaining = buffer::stats().pending;
    let mut batch_size = config.max_batch_size;
    while remaining > 0 {
        let items = buffer::take(batch_size.min(remaining));
        if items.is_empty() {
            break;
        }
        remaining = remaining.saturating_sub(items.len() as u32);
        let events = decode(items, &mut outcome);
        deliver(config, &events, &mut batch_size, &mut outcome)?;
        buffer::ack();
    }
    Ok(outcome)
}

/// Parses buffered items; an item that is not a JSON object cannot be delivered and is
/// dropped (it will be acked with its batch).
fn decode(items: Vec<Vec<u8>>, outcome: &mut Outcome) -> Vec<Value> {
    let mut events = Vec::with_capacity(items.len());
    for item in items {
        match serde_json::from_slice::<Value>(&item) {
            Ok(event @ Value::Object(_)) => events.push(event),
            _ => {
                outcome.dropped += 1;
                log::error(
                    "dropping a buffered item that is not a PostHog event",
                    &[("bytes", &item.len().to_string())],
                );
            }
        }
    }
    events
}

/// Sends `events` in batches of at most `batch_size`, splitting on 413 and going one by
/// one on 400. Returns an error when the events must stay buffered.
fn deliver(
    config: &Config,
    events: &[Value],
    batch_size: &mut u32,
    outcome: &mut Outcome,
) -> Result<(), Error> {
    let mut start = 0;
    while start < events.len() {
        let end = events.len().min(start + *batch_size as usize);
        let chunk = &events[start..end];
        match post_batch(config, chunk) {
            Ok(()) => {
                outcome.sent += chunk.len() as u32;
                start = end;
            }
            Err(err) if err.kind == ErrorKind::TooLarge && chunk.len() > 1 => {
                *batch_size = (chunk.len() as u32 / 2).max(1);
                log::warn(
                    "PostHog answered 413: halving the batch size",
                    &[("batch_size", &batch_size.to_string())],
                );
            }
            Err(err) if err.kind == ErrorKind::InvalidInput && chunk.len() > 1 => {
                log::warn(
                    "PostHog rejected a batch with 400: sending its events one at a time",
                    &[
                        ("events", &chunk.len().to_string()),
                        ("error", &err.describe()),
                    ],
                );
                for event in chunk {
                    send_single(config, event, outcome)?;
                }
                start = end;
            }
            Err(err) if error::is_rejection(&err) => {
                drop_event(&chunk[0], &err, outcome);
                start = end;
            }
            Err(err) if err.kind == ErrorKind::Unauthorized => return Err(error::key_refused(err)),
            Err(err) => return Err(err.context("delivering events to PostHog")),
        }
    }
    Ok(())
}

/// Sends one event of a rejected batch; drops it only when PostHog rejects it.
fn send_single(config: &Config, event: &Value, outcome: &mut Outcome) -> Result<(), Error> {
    match post_batch(config, core::slice::from_ref(event)) {
        Ok(()) => {
            outcome.sent += 1;
            Ok(())
        }
        Err(err) if error::is_rejection(&err) => {
            drop_event(event, &err, outcome);
            Ok(())
        }
        Err(err) if err.kind == ErrorKind::Unauthorized => Err(error::key_refused(err)),
        Err(err) => Err(err.context("delivering events to PostHog")),
    }
}

fn drop_event(event: &Value, err: &Error, outcome: &mut Outcome) {
    outcome.dropped += 1;
    let name = event.get("event").and_then(Value::as_str).unwrap_or("?");
    let uuid = event.get("uuid").and_then(Value::as_str).unwrap_or("?");
    let reason = err
        .provider_message
        .clone()
        .unwrap_or_else(|| err.message.clone());
    log::error(
        "PostHog rejected an event: dropped",
        &[("event", name), ("uuid", uuid), ("reason", &reason)],
    );
}

/// One `/batch/` request, retried on retryable failures. Sent uncompressed so the host can
/// add `api_key` to the JSON body.
fn post_batch(config: &Config, events: &[Value]) -> Result<(), Error> {
    let body = json!({
        "batch": events,
        "sent_at": time::to_rfc3339_millis(&time::now()),
        "historical_migration": false,
    });
    let body = serde_json::to_vec(&body)
        .map_err(|err| Error::internal(format!("serialising the batch failed: {err}")))?;
    let url = format!("{}/batch/", config.host);
    retry(&config.retry, || {
        let response = Request::post(url.as_str())
            .header("content-type", "application/json")
            .body(body.clone())
            .timeout(REQUEST_TIMEOUT)
            .send()?;
        error::check(response).map(|_| ())
    })
}
