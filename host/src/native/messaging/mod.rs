//! The messaging contract, host-native: input checks and the host side of the
//! `switchyard:messaging/messaging` import that `adapters/messaging-host` forwards to.
//!
//! [`Broker`] is the backend a binding's `backend` key picks; every function checks its input
//! here first (names, sizes, ranges), so backends see only valid requests.

pub mod memory;
pub mod redis;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::bindings::base::switchyard::types::types::{
    self, ErrorKind, HealthStatus, PageInfo, PageRequest, Timestamp,
};
use crate::bindings::messaging::switchyard::messaging::types::{
    DeadLetter, DeadLetterPage, Delivery, NackOutcome, Outgoing, Priority, Published, QueueInfo,
    QueueOptions,
};
use crate::bindings::messaging_bridge::switchyard::messaging::messaging::Host;
use crate::native::error;
use crate::state::CallState;

type WitError = types::Error;

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
/// How long before its deadline a waiting `receive` gives up, so the call answers in time.
const WAIT_MARGIN: Duration = Duration::from_millis(250);

/// The messaging backend of one tenant.
#[derive(Clone)]
pub(crate) enum Broker {
    /// In-process ([`memory::MemoryBroker`]).
    Memory(Arc<memory::MemoryBroker>),
    /// On a Redis server ([`redis::RedisBroker`]).
    Redis(Arc<redis::RedisBroker>),
}

/// One operation on either backend: the in-process broker answers at once, Redis after a
/// round trip.
macro_rules! either {
    ($broker:expr, $b:ident => $memory:expr, $redis:expr) => {
        match $broker {
            Broker::Memory($b) => $memory,
            Broker::Redis($b) => $redis,
        }
    };
}

/// The messages that passed their checks, each with its new id.
fn valid<'a>(
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
fn in_place<T>(
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

impl Broker {
    async fn declare_queue(&self, queue: &str, options: Options) -> Result<QueueInfo, WitError> {
        either!(self, b => Ok(b.declare_queue(queue, options)), b.declare_queue(queue, options).await)
    }

    async fn delete_queue(&self, queue: &str) -> Result<(), WitError> {
        either!(self, b => b.delete_queue(queue), b.delete_queue(queue).await)
    }

    async fn describe_queue(&self, queue: &str) -> Result<QueueInfo, WitError> {
        either!(self, b => b.describe_queue(queue), b.describe_queue(queue).await)
    }

    async fn queues(&self) -> Result<Vec<QueueInfo>, WitError> {
        either!(self, b => Ok(b.queues()), b.queues().await)
    }

    async fn subscribe(&self, topic: &str, queue: &str, on: bool) -> Result<(), WitError> {
        either!(self, b => b.subscribe(topic, queue, on), b.subscribe(topic, queue, on).await)
    }

    /// Publishes each valid message (`Err` holds the check's error) with a new id; a result
    /// per message. Redis gets the valid ones in one pipeline.
    async fn publish(
        &self,
        topic: &str,
        messages: Vec<Result<&Outgoing, WitError>>,
    ) -> Result<Vec<Result<Published, WitError>>, WitError> {
        let ids: Vec<String> = messages.iter().map(|_| new_id()).collect();
        match self {
            Broker::Memory(b) => Ok(messages
                .into_iter()
                .zip(ids)
                .map(|(m, id)| {
                    let queues = b.publish(topic, &id, m?)?;
                    Ok(Published { id, queues })
                })
                .collect()),
            Broker::Redis(b) => {
                let done = b.publish(topic, &valid(&messages, &ids)).await?;
                Ok(in_place(messages, ids, done)
                    .into_iter()
                    .map(|r| r.map(|(id, queues)| Published { id, queues }))
                    .collect())
            }
        }
    }

    /// Sends each valid message to `queue` with a new id; a result per message.
    async fn send(
        &self,
        queue: &str,
        messages: Vec<Result<&Outgoing, WitError>>,
    ) -> Result<Vec<Result<String, WitError>>, WitError> {
        let ids: Vec<String> = messages.iter().map(|_| new_id()).collect();
        match self {
            Broker::Memory(b) => Ok(messages
                .into_iter()
                .zip(ids)
                .map(|(m, id)| {
                    b.send(queue, &id, m?)?;
                    Ok(id)
                })
                .collect()),
            Broker::Redis(b) => {
                let done = b.send(queue, &valid(&messages, &ids)).await?;
                Ok(in_place(messages, ids, done)
                    .into_iter()
                    .map(|r| r.map(|(id, ())| id))
                    .collect())
            }
        }
    }

    async fn receive(
        &self,
        queue: &str,
        max: u32,
        wait: Duration,
        visibility_ms: Option<u64>,
    ) -> Result<Vec<Delivery>, WitError> {
        either!(self, b => b.receive(queue, max, wait, visibility_ms).await,
            b.receive(queue, max, wait, visibility_ms).await)
    }

    async fn ack(&self, queue: &str, receipt: &str) -> Result<(), WitError> {
        either!(self, b => b.ack(queue, receipt), b.ack(queue, receipt).await)
    }

    async fn nack(
        &self,
        queue: &str,
        receipt: &str,
        reason: &str,
        retry_in_ms: Option<u64>,
    ) -> Result<NackOutcome, WitError> {
        either!(self, b => b.nack(queue, receipt, reason, retry_in_ms),
            b.nack(queue, receipt, reason, retry_in_ms).await)
    }

    async fn extend(&self, queue: &str, receipt: &str, ms: u64) -> Result<(), WitError> {
        either!(self, b => b.extend(queue, receipt, ms), b.extend(queue, receipt, ms).await)
    }

    async fn dead_letters(
        &self,
        queue: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<DeadLetter>, usize), WitError> {
        either!(self, b => b.dead_letters(queue, offset, limit),
            b.dead_letters(queue, offset, limit).await)
    }

    async fn replay(&self, queue: &str, ids: &[String]) -> Result<u32, WitError> {
        either!(self, b => b.replay(queue, ids), b.replay(queue, ids).await)
    }

    async fn purge(&self, queue: &str) -> Result<u64, WitError> {
        either!(self, b => b.purge(queue), b.purge(queue).await)
    }

    async fn health(&self) -> (bool, String) {
        either!(self, _b => (true, "in-process broker".to_string()), _b.health().await)
    }
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
    fn from_wit(o: &QueueOptions) -> Result<Self, WitError> {
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
    fn new(id: &str, m: &Outgoing, topic: Option<String>) -> Self {
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

fn timestamp(t: SystemTime) -> Timestamp {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp {
        seconds: d.as_secs(),
        nanoseconds: d.subsec_nanos(),
    }
}

fn delivery_of(m: &Message, receipt: &str) -> Delivery {
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

fn dead_letter_of(d: &memory::Dead) -> DeadLetter {
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

/// Checks a topic or queue name; `what` says which in the error.
fn check_name(what: &str, name: &str) -> Result<(), WitError> {
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
fn check_message(at: &str, m: &Outgoing) -> Result<(), WitError> {
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

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl CallState {
    /// The tenant's broker, or `denied` when the binding has no messaging backend.
    fn broker(&self) -> Result<Broker, WitError> {
        self.native.messaging.clone().ok_or_else(|| {
            error(
                ErrorKind::Denied,
                "this binding has no host messaging backend (set `backend` in its configuration)",
            )
        })
    }
}

impl Host for CallState {
    async fn declare_queue(
        &mut self,
        queue: String,
        options: QueueOptions,
    ) -> Result<QueueInfo, WitError> {
        check_name("queue", &queue)?;
        let options = Options::from_wit(&options)?;
        self.broker()?.declare_queue(&queue, options).await
    }

    async fn delete_queue(&mut self, queue: String) -> Result<(), WitError> {
        check_name("queue", &queue)?;
        self.broker()?.delete_queue(&queue).await
    }

    async fn describe_queue(&mut self, queue: String) -> Result<QueueInfo, WitError> {
        check_name("queue", &queue)?;
        self.broker()?.describe_queue(&queue).await
    }

    async fn queues(&mut self) -> Result<Vec<QueueInfo>, WitError> {
        self.broker()?.queues().await
    }

    async fn subscribe(&mut self, topic: String, queue: String) -> Result<(), WitError> {
        check_name("topic", &topic)?;
        check_name("queue", &queue)?;
        self.broker()?.subscribe(&topic, &queue, true).await
    }

    async fn unsubscribe(&mut self, topic: String, queue: String) -> Result<(), WitError> {
        check_name("topic", &topic)?;
        check_name("queue", &queue)?;
        self.broker()?.subscribe(&topic, &queue, false).await
    }

    async fn publish(&mut self, topic: String, message: Outgoing) -> Result<Published, WitError> {
        check_name("topic", &topic)?;
        check_message("message", &message)?;
        let broker = self.broker()?;
        let mut results = broker.publish(&topic, vec![Ok(&message)]).await?;
        results
            .pop()
            .unwrap_or_else(|| Err(error(ErrorKind::Unavailable, "the broker answered nothing")))
    }

    async fn publish_batch(
        &mut self,
        topic: String,
        messages: Vec<Outgoing>,
    ) -> Result<Vec<Result<Published, WitError>>, WitError> {
        check_name("topic", &topic)?;
        check_batch(messages.len())?;
        let broker = self.broker()?;
        let checked = messages
            .iter()
            .enumerate()
            .map(|(i, m)| check_message(&format!("messages[{i}]"), m).map(|_| m))
            .collect();
        broker.publish(&topic, checked).await
    }

    async fn send(&mut self, queue: String, message: Outgoing) -> Result<String, WitError> {
        check_name("queue", &queue)?;
        check_message("message", &message)?;
        let broker = self.broker()?;
        let mut results = broker.send(&queue, vec![Ok(&message)]).await?;
        results
            .pop()
            .unwrap_or_else(|| Err(error(ErrorKind::Unavailable, "the broker answered nothing")))
    }

    async fn send_batch(
        &mut self,
        queue: String,
        messages: Vec<Outgoing>,
    ) -> Result<Vec<Result<String, WitError>>, WitError> {
        check_name("queue", &queue)?;
        check_batch(messages.len())?;
        let broker = self.broker()?;
        broker.describe_queue(&queue).await?;
        let checked = messages
            .iter()
            .enumerate()
            .map(|(i, m)| check_message(&format!("messages[{i}]"), m).map(|_| m))
            .collect();
        broker.send(&queue, checked).await
    }

    async fn receive(
        &mut self,
        queue: String,
        max: u32,
        wait_ms: Option<u32>,
        visibility_ms: Option<u64>,
    ) -> Result<Vec<Delivery>, WitError> {
        check_name("queue", &queue)?;
        if max == 0 || max > MAX_RECEIVE {
            return Err(error(
                ErrorKind::InvalidInput,
                format!("max must be 1 to {MAX_RECEIVE}, not {max}"),
            ));
        }
        let wait_ms = wait_ms.unwrap_or(0);
        if wait_ms > MAX_WAIT_MS {
            return Err(error(
                ErrorKind::InvalidInput,
                format!("wait-ms must be at most {MAX_WAIT_MS}, not {wait_ms}"),
            ));
        }
        if let Some(v) = visibility_ms.filter(|v| *v == 0 || *v > MAX_VISIBILITY_MS) {
            return Err(error(
                ErrorKind::InvalidInput,
                format!("visibility-ms must be 1 to {MAX_VISIBILITY_MS}, not {v}"),
            ));
        }
        // Wait no longer than the call's own deadline allows.
        let left = self
            .deadline
            .saturating_duration_since(std::time::Instant::now())
            .saturating_sub(WAIT_MARGIN);
        let wait = Duration::from_millis(wait_ms.into()).min(left);
        self.broker()?
            .receive(&queue, max, wait, visibility_ms)
            .await
    }

    async fn ack(&mut self, queue: String, receipt: String) -> Result<(), WitError> {
        check_name("queue", &queue)?;
        self.broker()?.ack(&queue, &receipt).await
    }

    async fn nack(
        &mut self,
        queue: String,
        receipt: String,
        reason: String,
        retry_in_ms: Option<u64>,
    ) -> Result<NackOutcome, WitError> {
        check_name("queue", &queue)?;
        if let Some(d) = retry_in_ms.filter(|d| *d > MAX_DELAY_MS) {
            return Err(error(
                ErrorKind::InvalidInput,
                format!("retry-in-ms is {d}; the most is {MAX_DELAY_MS} (7 days)"),
            ));
        }
        let reason = if reason.trim().is_empty() {
            "no reason given".to_string()
        } else {
            reason.chars().take(4096).collect()
        };
        self.broker()?
            .nack(&queue, &receipt, &reason, retry_in_ms)
            .await
    }

    async fn extend(
        &mut self,
        queue: String,
        receipt: String,
        visibility_ms: u64,
    ) -> Result<(), WitError> {
        check_name("queue", &queue)?;
        if visibility_ms == 0 || visibility_ms > MAX_VISIBILITY_MS {
            return Err(error(
                ErrorKind::InvalidInput,
                format!("visibility-ms must be 1 to {MAX_VISIBILITY_MS}, not {visibility_ms}"),
            ));
        }
        self.broker()?.extend(&queue, &receipt, visibility_ms).await
    }

    async fn dead_letters(
        &mut self,
        queue: String,
        page: PageRequest,
    ) -> Result<DeadLetterPage, WitError> {
        check_name("queue", &queue)?;
        let offset = match &page.cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| {
                error(
                    ErrorKind::InvalidInput,
                    format!("page.cursor {c:?} is not a cursor this queue gave"),
                )
            })?,
        };
        let limit = page.limit.unwrap_or(10).clamp(1, 100) as usize;
        let (items, total) = self.broker()?.dead_letters(&queue, offset, limit).await?;
        let next = offset + items.len();
        Ok(DeadLetterPage {
            items,
            page: PageInfo {
                next_cursor: (next < total).then(|| next.to_string()),
                total: Some(total as u64),
            },
        })
    }

    async fn replay(&mut self, queue: String, ids: Vec<String>) -> Result<u32, WitError> {
        check_name("queue", &queue)?;
        self.broker()?.replay(&queue, &ids).await
    }

    async fn purge(&mut self, queue: String) -> Result<u64, WitError> {
        check_name("queue", &queue)?;
        self.broker()?.purge(&queue).await
    }

    async fn health(&mut self) -> HealthStatus {
        match self.broker() {
            Ok(b) => {
                let (ok, detail) = b.health().await;
                HealthStatus { ok, detail }
            }
            Err(e) => HealthStatus {
                ok: false,
                detail: e.message,
            },
        }
    }
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

fn check_batch(n: usize) -> Result<(), WitError> {
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
