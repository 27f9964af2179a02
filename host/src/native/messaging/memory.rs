//! The in-process message broker: one per tenant, in memory, with the semantics the Redis
//! backend has (priorities, delays, visibility timeouts, retries with backoff, dead letters).
//!
//! Each queue keeps four places a message can be: `ready` (ordered by priority, then by the
//! order messages became ready), `delayed` (by due time: a delay or a retry backoff),
//! `inflight` (received, by receipt, until acked or its visibility timeout passes) and `dead`.
//! Every operation first moves what is due: delayed messages whose time came become ready,
//! and deliveries whose visibility timeout passed become ready again (or dead, after
//! `max-attempts`). Nothing leaves the broker except by `ack`, `purge` or `delete-queue`.
//! Inputs are checked by the caller (`super::view`).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Notify;

use crate::bindings::base::switchyard::types::types::ErrorKind;
use crate::bindings::messaging::switchyard::messaging::types::{
    DeadLetter, Delivery, NackOutcome, Outgoing, QueueInfo,
};
use crate::contract::error;

use super::message::{
    dead_letter_of, delivery_of, stale, unknown, Dead, Message, Options, WitError,
};

/// The most bytes of message bodies and headers one tenant's broker holds.
pub const MAX_BYTES: usize = 256 * 1024 * 1024;

/// One tenant's queues and topics.
pub struct MemoryBroker {
    state: Mutex<State>,
    /// Woken whenever a message may have become ready (receive waits on it).
    changed: Notify,
    epoch: Instant,
}

#[derive(Default)]
struct State {
    queues: BTreeMap<String, Queue>,
    /// Orders messages becoming ready.
    seq: u64,
    /// Bytes held in every queue.
    bytes: usize,
}

struct Queue {
    options: Options,
    topics: BTreeSet<String>,
    ready: BTreeMap<(u8, u64), Message>,
    delayed: BTreeMap<(u64, u64), Message>,
    inflight: HashMap<String, Leased>,
    dead: VecDeque<Dead>,
}

struct Leased {
    message: Message,
    until_ms: u64,
}

impl Queue {
    fn new(options: Options) -> Self {
        Queue {
            options,
            topics: BTreeSet::new(),
            ready: BTreeMap::new(),
            delayed: BTreeMap::new(),
            inflight: HashMap::new(),
            dead: VecDeque::new(),
        }
    }

    fn info(&self, name: &str) -> QueueInfo {
        QueueInfo {
            name: name.to_string(),
            visibility_timeout_ms: self.options.visibility_timeout_ms,
            max_attempts: self.options.max_attempts,
            retry_backoff_ms: self.options.retry_backoff_ms,
            retry_backoff_max_ms: self.options.retry_backoff_max_ms,
            topics: self.topics.iter().cloned().collect(),
            ready: self.ready.len() as u64,
            delayed: self.delayed.len() as u64,
            in_flight: self.inflight.len() as u64,
            dead: self.dead.len() as u64,
        }
    }

    fn make_ready(&mut self, seq: &mut u64, message: Message) {
        *seq += 1;
        self.ready
            .insert((u8::MAX - message.priority_rank(), *seq), message);
    }

    /// Moves due delayed messages to ready and expired deliveries back (or to dead).
    fn settle(&mut self, seq: &mut u64, now_ms: u64) {
        while let Some(entry) = self.delayed.first_entry() {
            if entry.key().0 > now_ms {
                break;
            }
            let message = entry.remove();
            self.make_ready(seq, message);
        }
        let expired: Vec<String> = self
            .inflight
            .iter()
            .filter(|(_, l)| l.until_ms <= now_ms)
            .map(|(r, _)| r.clone())
            .collect();
        for receipt in expired {
            if let Some(leased) = self.inflight.remove(&receipt) {
                let mut message = leased.message;
                let reason = "not acknowledged within its visibility timeout".to_string();
                message.last_error = Some(reason.clone());
                if message.attempts >= self.options.max_attempts {
                    self.dead.push_back(Dead {
                        message,
                        last_error: reason,
                        dead_at: SystemTime::now(),
                    });
                } else {
                    self.make_ready(seq, message);
                }
            }
        }
    }

    /// When something next becomes ready, if anything is waiting.
    fn next_due_ms(&self) -> Option<u64> {
        let delayed = self.delayed.keys().next().map(|k| k.0);
        let leased = self.inflight.values().map(|l| l.until_ms).min();
        match (delayed, leased) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn bytes(&self) -> usize {
        self.ready.values().map(Message::bytes).sum::<usize>()
            + self.delayed.values().map(Message::bytes).sum::<usize>()
            + self
                .inflight
                .values()
                .map(|l| l.message.bytes())
                .sum::<usize>()
            + self.dead.iter().map(|d| d.message.bytes()).sum::<usize>()
    }
}

impl Default for MemoryBroker {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryBroker {
    /// An empty broker.
    pub fn new() -> Self {
        MemoryBroker {
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn declare_queue(&self, name: &str, options: Options) -> QueueInfo {
        let mut state = self.lock();
        let queue = state
            .queues
            .entry(name.to_string())
            .and_modify(|q| q.options = options)
            .or_insert_with(|| Queue::new(options));
        queue.info(name)
    }

    pub(super) fn delete_queue(&self, name: &str) -> Result<(), WitError> {
        let mut state = self.lock();
        let queue = state.queues.remove(name).ok_or_else(|| unknown(name))?;
        state.bytes = state.bytes.saturating_sub(queue.bytes());
        Ok(())
    }

    pub(super) fn describe_queue(&self, name: &str) -> Result<QueueInfo, WitError> {
        let now = self.now_ms();
        let mut state = self.lock();
        let State { queues, seq, .. } = &mut *state;
        let queue = queues.get_mut(name).ok_or_else(|| unknown(name))?;
        queue.settle(seq, now);
        Ok(queue.info(name))
    }

    pub(super) fn queues(&self) -> Vec<QueueInfo> {
        let now = self.now_ms();
        let mut state = self.lock();
        let State { queues, seq, .. } = &mut *state;
        queues
            .iter_mut()
            .map(|(name, q)| {
                q.settle(seq, now);
                q.info(name)
            })
            .collect()
    }

    pub(super) fn subscribe(&self, topic: &str, queue: &str, on: bool) -> Result<(), WitError> {
        let mut state = self.lock();
        let q = state.queues.get_mut(queue).ok_or_else(|| unknown(queue))?;
        if on {
            q.topics.insert(topic.to_string());
        } else {
            q.topics.remove(topic);
        }
        Ok(())
    }

    /// Puts a copy of `message` on every queue subscribed to `topic`; answers how many.
    pub(super) fn publish(
        &self,
        topic: &str,
        id: &str,
        message: &Outgoing,
    ) -> Result<u32, WitError> {
        let now = self.now_ms();
        let mut state = self.lock();
        let targets: Vec<String> = state
            .queues
            .iter()
            .filter(|(_, q)| q.topics.contains(topic))
            .map(|(n, _)| n.clone())
            .collect();
        let copy = Message::new(id, message, Some(topic.to_string()));
        let need = copy.bytes() * targets.len();
        reserve(&mut state, need)?;
        for name in &targets {
            put(&mut state, name, copy.clone(), message.delay_ms, now);
        }
        drop(state);
        self.changed.notify_waiters();
        Ok(targets.len() as u32)
    }

    /// Puts `message` on one queue.
    pub(super) fn send(&self, queue: &str, id: &str, message: &Outgoing) -> Result<(), WitError> {
        let now = self.now_ms();
        let mut state = self.lock();
        if !state.queues.contains_key(queue) {
            return Err(unknown(queue));
        }
        let copy = Message::new(id, message, None);
        reserve(&mut state, copy.bytes())?;
        put(&mut state, queue, copy, message.delay_ms, now);
        drop(state);
        self.changed.notify_waiters();
        Ok(())
    }

    pub(super) async fn receive(
        &self,
        queue: &str,
        max: u32,
        wait: Duration,
        visibility_ms: Option<u64>,
    ) -> Result<Vec<Delivery>, WitError> {
        let give_up = Instant::now() + wait;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let next_due = {
                let now = self.now_ms();
                let mut state = self.lock();
                let State { queues, seq, .. } = &mut *state;
                let q = queues.get_mut(queue).ok_or_else(|| unknown(queue))?;
                q.settle(seq, now);
                let visibility = visibility_ms.unwrap_or(q.options.visibility_timeout_ms);
                let mut out = Vec::new();
                while out.len() < max as usize {
                    let Some(entry) = q.ready.first_entry() else {
                        break;
                    };
                    let mut message = entry.remove();
                    message.attempts += 1;
                    let receipt = format!("{}.{}.{}", message.id, message.attempts, uuid());
                    out.push(delivery_of(&message, &receipt));
                    q.inflight.insert(
                        receipt,
                        Leased {
                            message,
                            until_ms: now.saturating_add(visibility),
                        },
                    );
                }
                if !out.is_empty() || Instant::now() >= give_up {
                    return Ok(out);
                }
                q.next_due_ms().map(|due| due.saturating_sub(now))
            };
            let mut until = give_up;
            if let Some(ms) = next_due {
                until = until.min(Instant::now() + Duration::from_millis(ms));
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(until.into()) => {}
            }
        }
    }

    pub(super) fn ack(&self, queue: &str, receipt: &str) -> Result<(), WitError> {
        let now = self.now_ms();
        let mut state = self.lock();
        let State {
            queues, seq, bytes, ..
        } = &mut *state;
        let q = queues.get_mut(queue).ok_or_else(|| unknown(queue))?;
        q.settle(seq, now);
        let leased = q.inflight.remove(receipt).ok_or_else(|| stale(receipt))?;
        *bytes = bytes.saturating_sub(leased.message.bytes());
        Ok(())
    }

    pub(super) fn nack(
        &self,
        queue: &str,
        receipt: &str,
        reason: &str,
        retry_in_ms: Option<u64>,
    ) -> Result<NackOutcome, WitError> {
        let now = self.now_ms();
        let mut state = self.lock();
        let State { queues, seq, .. } = &mut *state;
        let q = queues.get_mut(queue).ok_or_else(|| unknown(queue))?;
        q.settle(seq, now);
        let mut message = q
            .inflight
            .remove(receipt)
            .ok_or_else(|| stale(receipt))?
            .message;
        message.last_error = Some(reason.to_string());
        if message.attempts >= q.options.max_attempts {
            q.dead.push_back(Dead {
                message,
                last_error: reason.to_string(),
                dead_at: SystemTime::now(),
            });
            return Ok(NackOutcome::DeadLettered);
        }
        let delay = retry_in_ms.unwrap_or_else(|| q.options.backoff(message.attempts));
        *seq += 1;
        q.delayed.insert((now.saturating_add(delay), *seq), message);
        drop(state);
        self.changed.notify_waiters();
        Ok(NackOutcome::RetryInMs(delay))
    }

    pub(super) fn extend(&self, queue: &str, receipt: &str, ms: u64) -> Result<(), WitError> {
        let now = self.now_ms();
        let mut state = self.lock();
        let State { queues, seq, .. } = &mut *state;
        let q = queues.get_mut(queue).ok_or_else(|| unknown(queue))?;
        q.settle(seq, now);
        let leased = q.inflight.get_mut(receipt).ok_or_else(|| stale(receipt))?;
        leased.until_ms = now.saturating_add(ms);
        Ok(())
    }

    /// Dead letters from `offset`, at most `limit`; and how many there are in all.
    pub(super) fn dead_letters(
        &self,
        queue: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<DeadLetter>, usize), WitError> {
        let now = self.now_ms();
        let mut state = self.lock();
        let State { queues, seq, .. } = &mut *state;
        let q = queues.get_mut(queue).ok_or_else(|| unknown(queue))?;
        q.settle(seq, now);
        let items = q
            .dead
            .iter()
            .skip(offset)
            .take(limit)
            .map(dead_letter_of)
            .collect();
        Ok((items, q.dead.len()))
    }

    pub(super) fn replay(&self, queue: &str, ids: &[String]) -> Result<u32, WitError> {
        let now = self.now_ms();
        let mut state = self.lock();
        let State { queues, seq, .. } = &mut *state;
        let q = queues.get_mut(queue).ok_or_else(|| unknown(queue))?;
        q.settle(seq, now);
        let missing: Vec<&String> = ids
            .iter()
            .filter(|id| !q.dead.iter().any(|d| &d.message.id == *id))
            .collect();
        if !missing.is_empty() {
            return Err(error(
                ErrorKind::NotFound,
                format!(
                    "no dead letter in queue '{queue}' with id {}; nothing was replayed",
                    missing
                        .iter()
                        .map(|s| format!("'{s}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let (replay, keep): (Vec<Dead>, Vec<Dead>) = q
            .dead
            .drain(..)
            .partition(|d| ids.is_empty() || ids.contains(&d.message.id));
        q.dead = keep.into();
        let moved = replay.len() as u32;
        for dead in replay {
            let mut message = dead.message;
            message.attempts = 0;
            q.make_ready(seq, message);
        }
        drop(state);
        self.changed.notify_waiters();
        Ok(moved)
    }

    pub(super) fn purge(&self, queue: &str) -> Result<u64, WitError> {
        let mut state = self.lock();
        let q = state.queues.get_mut(queue).ok_or_else(|| unknown(queue))?;
        let count = q.ready.len() + q.delayed.len() + q.inflight.len() + q.dead.len();
        let freed = q.bytes();
        q.ready.clear();
        q.delayed.clear();
        q.inflight.clear();
        q.dead.clear();
        state.bytes = state.bytes.saturating_sub(freed);
        Ok(count as u64)
    }
}

/// Makes room for `need` more bytes, or refuses.
fn reserve(state: &mut State, need: usize) -> Result<(), WitError> {
    if state.bytes.saturating_add(need) > MAX_BYTES {
        let mut e = error(
            ErrorKind::TooLarge,
            format!(
                "the tenant's in-process broker holds {} bytes and its limit is {MAX_BYTES}; \
                 acknowledge or purge messages first",
                state.bytes
            ),
        );
        e.retryable = true;
        e.retry_after_ms = Some(1000);
        return Err(e);
    }
    state.bytes += need;
    Ok(())
}

/// Puts a message on a queue, ready now or after its delay.
fn put(state: &mut State, queue: &str, message: Message, delay_ms: Option<u64>, now: u64) {
    let State { queues, seq, .. } = state;
    if let Some(q) = queues.get_mut(queue) {
        match delay_ms.filter(|d| *d > 0) {
            Some(delay) => {
                *seq += 1;
                q.delayed.insert((now.saturating_add(delay), *seq), message);
            }
            None => q.make_ready(seq, message),
        }
    }
}

fn uuid() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}
