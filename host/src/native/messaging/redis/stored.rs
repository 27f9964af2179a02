//! Messages as Redis holds them ([`Stored`], JSON the scripts never parse), and the
//! contract's records built from what the scripts answer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::bindings::messaging::switchyard::messaging::types::{
    Delivery, Outgoing, Priority, QueueInfo,
};
use crate::contract::timestamp;

use super::scripts::Reply;

/// A message as Redis holds it (the scripts never parse it).
#[derive(Serialize, Deserialize)]
pub(super) struct Stored {
    body: String,
    headers: Vec<(String, String)>,
    /// The priority's rank, 0 (low) to 3 (urgent).
    pub(super) priority: u8,
    topic: Option<String>,
    published_ms: u64,
}

impl Stored {
    /// `m` as stored, published now (to `topic` when published).
    pub(super) fn new(m: &Outgoing, topic: Option<&str>) -> Self {
        Stored {
            body: m.body.clone(),
            headers: m.headers.clone(),
            priority: rank(m.priority.unwrap_or(Priority::Normal)),
            topic: topic.map(str::to_string),
            published_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as u64,
        }
    }

    /// The JSON the scripts keep.
    pub(super) fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn rank(p: Priority) -> u8 {
    match p {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
        Priority::Urgent => 3,
    }
}

fn priority(rank: u8) -> Priority {
    match rank {
        0 => Priority::Low,
        2 => Priority::High,
        3 => Priority::Urgent,
        _ => Priority::Normal,
    }
}

/// A queue's description, as `declare.lua` and `describe.lua` answer it.
pub(super) fn info_of(queue: &str, r: &mut Reply) -> QueueInfo {
    let (vt, max, bo, bomax) = (r.int(), r.int(), r.int(), r.int());
    let (ready, delayed, in_flight, dead) = (r.int(), r.int(), r.int(), r.int());
    QueueInfo {
        name: queue.to_string(),
        visibility_timeout_ms: vt.max(0) as u64,
        max_attempts: max.max(0) as u32,
        retry_backoff_ms: bo.max(0) as u64,
        retry_backoff_max_ms: bomax.max(0) as u64,
        topics: r.list(),
        ready: ready.max(0) as u64,
        delayed: delayed.max(0) as u64,
        in_flight: in_flight.max(0) as u64,
        dead: dead.max(0) as u64,
    }
}

/// The delivery of a stored message (`json`), as `receive.lua` and `dead.lua` answer it.
pub(super) fn delivery(
    id: String,
    receipt: String,
    attempt: u32,
    json: &str,
    last_error: String,
) -> Delivery {
    // Only this backend writes these; anything else in the key was put there by hand.
    let stored: Stored = serde_json::from_str(json).unwrap_or_else(|e| {
        tracing::warn!(message_id = %id, error = %e, "a message in redis is not one this backend wrote; delivering it empty");
        Stored {
            body: String::new(),
            headers: Vec::new(),
            priority: 1,
            topic: None,
            published_ms: 0,
        }
    });
    Delivery {
        id,
        receipt,
        body: stored.body,
        headers: stored.headers,
        priority: priority(stored.priority),
        topic: stored.topic,
        attempt,
        published_at: timestamp(UNIX_EPOCH + Duration::from_millis(stored.published_ms)),
        last_error: (!last_error.is_empty()).then_some(last_error),
    }
}
