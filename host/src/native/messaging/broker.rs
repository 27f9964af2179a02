//! [`Broker`]: the backend a messaging binding's `backend` key picks, one operation at a time
//! on either.

use std::sync::Arc;
use std::time::Duration;

use crate::bindings::messaging::switchyard::messaging::types::{
    DeadLetter, Delivery, NackOutcome, Outgoing, Published, QueueInfo,
};

use super::memory::MemoryBroker;
use super::message::{in_place, new_id, valid, Options, WitError};
use super::redis::RedisBroker;

/// The messaging backend of one tenant.
#[derive(Clone)]
pub enum Broker {
    /// In-process ([`MemoryBroker`]).
    Memory(Arc<MemoryBroker>),
    /// On a Redis server ([`RedisBroker`]).
    Redis(Arc<RedisBroker>),
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

impl Broker {
    pub(super) async fn declare_queue(
        &self,
        queue: &str,
        options: Options,
    ) -> Result<QueueInfo, WitError> {
        either!(self, b => Ok(b.declare_queue(queue, options)), b.declare_queue(queue, options).await)
    }

    pub(super) async fn delete_queue(&self, queue: &str) -> Result<(), WitError> {
        either!(self, b => b.delete_queue(queue), b.delete_queue(queue).await)
    }

    pub(super) async fn describe_queue(&self, queue: &str) -> Result<QueueInfo, WitError> {
        either!(self, b => b.describe_queue(queue), b.describe_queue(queue).await)
    }

    pub(super) async fn queues(&self) -> Result<Vec<QueueInfo>, WitError> {
        either!(self, b => Ok(b.queues()), b.queues().await)
    }

    pub(super) async fn subscribe(
        &self,
        topic: &str,
        queue: &str,
        on: bool,
    ) -> Result<(), WitError> {
        either!(self, b => b.subscribe(topic, queue, on), b.subscribe(topic, queue, on).await)
    }

    /// Publishes each valid message (`Err` holds the check's error) with a new id; a result
    /// per message. Redis gets the valid ones in one pipeline.
    pub(super) async fn publish(
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
    pub(super) async fn send(
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

    pub(super) async fn receive(
        &self,
        queue: &str,
        max: u32,
        wait: Duration,
        visibility_ms: Option<u64>,
    ) -> Result<Vec<Delivery>, WitError> {
        either!(self, b => b.receive(queue, max, wait, visibility_ms).await,
            b.receive(queue, max, wait, visibility_ms).await)
    }

    pub(super) async fn ack(&self, queue: &str, receipt: &str) -> Result<(), WitError> {
        either!(self, b => b.ack(queue, receipt), b.ack(queue, receipt).await)
    }

    pub(super) async fn nack(
        &self,
        queue: &str,
        receipt: &str,
        reason: &str,
        retry_in_ms: Option<u64>,
    ) -> Result<NackOutcome, WitError> {
        either!(self, b => b.nack(queue, receipt, reason, retry_in_ms),
            b.nack(queue, receipt, reason, retry_in_ms).await)
    }

    pub(super) async fn extend(&self, queue: &str, receipt: &str, ms: u64) -> Result<(), WitError> {
        either!(self, b => b.extend(queue, receipt, ms), b.extend(queue, receipt, ms).await)
    }

    pub(super) async fn dead_letters(
        &self,
        queue: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<DeadLetter>, usize), WitError> {
        either!(self, b => b.dead_letters(queue, offset, limit),
            b.dead_letters(queue, offset, limit).await)
    }

    pub(super) async fn replay(&self, queue: &str, ids: &[String]) -> Result<u32, WitError> {
        either!(self, b => b.replay(queue, ids), b.replay(queue, ids).await)
    }

    pub(super) async fn purge(&self, queue: &str) -> Result<u64, WitError> {
        either!(self, b => b.purge(queue), b.purge(queue).await)
    }

    pub(super) async fn health(&self) -> (bool, String) {
        either!(self, _b => (true, "in-process broker".to_string()), _b.health().await)
    }
}
