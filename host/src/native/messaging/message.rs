//! The messaging contract's rules and the shapes both backends share: limits, input checks,
//! queue options, messages as queues hold them, and the contract's not-found errors.

use std::time::SystemTime;

use crate::bindings::base::switchyard::types::types::{self, ErrorKind};
use crate::bindings::messaging::switchyard::messaging::types::{
    DeadLetter, Delivery, Outgoing, Priority, QueueOptions,
};
use crate::contract::{error, timestamp};

/// The contract's error record.
pub type WitError = types::Error;

/// The longest topic or queue name.
pub const MAX_NAME: usize = 128;
/// The largest message body, in bytes.
pub const MAX_BODY: usize = 1024 * 1024;
/// The most headers on one message.
pub const MAX_HEADERS: usize = 64;
/// The most messages in one batch.
pub const MAX_BATCH: usize = 1000;
/// The longest delay or retry delay: 7 days.
pub const MAX_DELAY_MS: u64 = 7 * 24 * 3600 * 1000;
/// The longest visibility timeout: 12 hours.
pub const MAX_VISIBILITY_MS: u64 = 12 * 3600 * 1000;
/// The longest a `receive` waits for a first message.
pub const MAX_WAIT_MS: u32 = 20_000;
/// The most messages one `receive` returns.
pub const MAX_RECEIVE: u32 = 100;

/// The messages that passed their checks, each with its new id.
pub(super) fn valid<'a>(
    messages: &[Result<&'a Outgoing, WitError>],
    ids: &[String],
) -> Vec<(String, &'a Outgoing)> {
    messages
        .iter()
        .zip(ids)
        .filter_map(|(m, id)| m.as_ref().ok().map(|m| (id.clone(), *m)))
        .collect()
}

/// A result per message: the check's error where it failed, else the backend's answer for
/// it (`done` holds one per valid message, in order), with its id.
pub(super) fn in_place<T>(
    messages: Vec<Result<&Outgoing, WitError>>,
    ids: Vec<String>,
    done: Vec<Result<T, WitError>>,
) -> Vec<Result<(String, T), WitError>> {
    let mut done = done.into_iter();
    messages
        .into_iter()
        .zip(ids)
        .map(|(m, id)| {
            m?;
            let answer = done.next().unwrap_or_else(|| {
                Err(error(
                    ErrorKind::Unavailable,
                    "the broker answered fewer results than messages",
                ))
            })?;
            Ok((id, answer))
        })
        .collect()
}

/// A queue's effective options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    pub visibility_timeout_ms: u64,
    pub max_attempts: u32,
    pub retry_backoff_ms: u64,
    pub retry_backoff_max_ms: u64,
}

impl Options {
    /// The options asked for, defaults filled in; an error names a value out of range.
    pub(super) fn from_wit(o: &QueueOptions) -> Result<Self, WitError> {
        let options = Options {
            visibility_timeout_ms: o.visibility_timeout_ms.unwrap_or(30_000),
            max_attempts: o.max_attempts.unwrap_or(5),
            retry_backoff_ms: o.retry_backoff_ms.unwrap_or(1000),
            retry_backoff_max_ms: o.retry_backoff_max_ms.unwrap_or(60_000),
        };
        let bad = |m: String| Err(error(ErrorKind::InvalidInput, m));
        if options.visibility_timeout_ms == 0 || options.visibility_timeout_ms > MAX_VISIBILITY_MS {
            return bad(format!(
                "options.visibility-timeout-ms must be 1 to {MAX_VISIBILITY_MS}, not {}",
                options.visibility_timeout_ms
            ));
        }
        if options.max_attempts == 0 {
            return bad("options.max-attempts must be at least 1".into());
        }
        if options.retry_backoff_max_ms > MAX_DELAY_MS {
            return bad(format!(
                "options.retry-backoff-max-ms must be at most {MAX_DELAY_MS}"
            ));
        }
        if options.retry_backoff_ms > options.retry_backoff_max_ms {
            return bad(format!(
                "options.retry-backoff-ms ({}) must not exceed options.retry-backoff-max-ms ({})",
                options.retry_backoff_ms, options.retry_backoff_max_ms
            ));
        }
        Ok(options)
    }

    /// The retry delay after the `attempt`-th delivery failed: doubled each time, capped.
    pub fn backoff(&self, attempt: u32) -> u64 {
        let doublings = attempt.saturating_sub(1).min(40);
        self.retry_backoff_ms
            .saturating_mul(1u64 << doublings)
            .min(self.retry_backoff_max_ms)
    }
}

/// A message as a queue holds it.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub id: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub priority: Priority,
    pub topic: Option<String>,
    pub attempts: u32,
    pub published_at: SystemTime,
    pub last_error: Option<String>,
}

impl Message {
    pub(crate) fn new(id: &str, m: &Outgoing, topic: Option<String>) -> Self {
        Message {
            id: id.to_string(),
            body: m.body.clone(),
            headers: m.headers.clone(),
            priority: m.priority.unwrap_or(Priority::Normal),
            topic,
            attempts: 0,
            published_at: SystemTime::now(),
            last_error: None,
        }
    }

    /// 0 (low) to 3 (urgent).
    pub fn priority_rank(&self) -> u8 {
        match self.priority {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }

    /// Roughly what the message costs to hold.
    pub fn bytes(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
            + 128
    }
}

/// The contract's delivery of a message under `receipt`.
pub(crate) fn delivery_of(m: &Message, receipt: &str) -> Delivery {
    Delivery {
        id: m.id.clone(),
        receipt: receipt.to_string(),
        body: m.body.clone(),
        headers: m.headers.clone(),
        priority: m.priority,
        topic: m.topic.clone(),
        attempt: m.attempts,
        published_at: timestamp(m.published_at),
        last_error: m.last_error.clone(),
    }
}

/// Checks a topic or queue name; `what` says which in the error.
pub(super) fn check_name(what: &str, name: &str) -> Result<(), WitError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'));
    if ok {
        Ok(())
    } else {
        Err(error(
            ErrorKind::InvalidInput,
            format!(
                "{what} name {name:?} is not valid: use 1 to {MAX_NAME} characters of A-Z a-z 0-9 . _ - :"
            ),
        ))
    }
}

/// Checks a message; `at` names it in errors (`message`, `messages[3]`).
pub(super) fn check_message(at: &str, m: &Outgoing) -> Result<(), WitError> {
    let bad = |msg: String| Err(error(ErrorKind::InvalidInput, msg));
    if m.body.len() > MAX_BODY {
        let mut e = error(
            ErrorKind::TooLarge,
            format!(
                "{at}.body is {} bytes; the most is {MAX_BODY}",
                m.body.len()
            ),
        );
        e.retryable = false;
        return Err(e);
    }
    if m.headers.len() > MAX_HEADERS {
        return bad(format!(
            "{at}.headers has {} entries; the most is {MAX_HEADERS}",
            m.headers.len()
        ));
    }
    if let Some((i, _)) = m
        .headers
        .iter()
        .enumerate()
        .find(|(_, (k, _))| k.is_empty())
    {
        return bad(format!("{at}.headers[{i}] has an empty name"));
    }
    if let Some(d) = m.delay_ms.filter(|d| *d > MAX_DELAY_MS) {
        return bad(format!(
            "{at}.delay-ms is {d}; the most is {MAX_DELAY_MS} (7 days)"
        ));
    }
    Ok(())
}

/// A new message id (time-ordered).
pub(super) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// No queue of that name.
pub(crate) fn unknown(queue: &str) -> WitError {
    error(
        ErrorKind::NotFound,
        format!("no queue named '{queue}' (declare it with declare-queue first)"),
    )
}

/// A receipt that is not (or no longer) a delivery's.
pub(crate) fn stale(receipt: &str) -> WitError {
    error(
        ErrorKind::NotFound,
        format!(
            "receipt '{receipt}' is unknown or expired: the message was acknowledged, or its \
             visibility timeout passed and it will be (or was) delivered again"
        ),
    )
}

/// Checks a batch's size.
pub(super) fn check_batch(n: usize) -> Result<(), WitError> {
    if n == 0 {
        return Err(error(ErrorKind::InvalidInput, "messages is empty"));
    }
    if n > MAX_BATCH {
        return Err(error(
            ErrorKind::TooLarge,
            format!("messages has {n} items; the most in one batch is {MAX_BATCH}"),
        ));
    }
    Ok(())
}

/// A message that ran out of attempts, as the in-process broker keeps it.
pub(super) struct Dead {
    pub message: Message,
    pub last_error: String,
    pub dead_at: SystemTime,
}

/// The contract's dead letter of `d`.
pub(super) fn dead_letter_of(d: &Dead) -> DeadLetter {
    DeadLetter {
        id: d.message.id.clone(),
        body: d.message.body.clone(),
        headers: d.message.headers.clone(),
        priority: d.message.priority,
        topic: d.message.topic.clone(),
        published_at: timestamp(d.message.published_at),
        attempts: d.message.attempts,
        last_error: d.last_error.clone(),
        dead_at: timestamp(d.dead_at),
    }
}
