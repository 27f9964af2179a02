#![doc = include_str!("../README.md")]
#![allow(missing_docs, clippy::all)]

switchyard_bindings_base::host_bridge! {
    world: "switchyard:messaging/host-bridge@0.1.0",
    contract: "../../wit/messaging",
    types: "switchyard:messaging/types@0.1.0",
}

use bindings::exports::switchyard::messaging::messaging::Guest as Messaging;
use bindings::switchyard::messaging::messaging as host;
use bindings::switchyard::messaging::types::*;
use switchyard_bindings_base::switchyard::types::types::{Error, HealthStatus, PageRequest};

impl Messaging for Bridge {
    fn declare_queue(queue: String, options: QueueOptions) -> Result<QueueInfo, Error> {
        host::declare_queue(&queue, options)
    }
    fn delete_queue(queue: String) -> Result<(), Error> {
        host::delete_queue(&queue)
    }
    fn describe_queue(queue: String) -> Result<QueueInfo, Error> {
        host::describe_queue(&queue)
    }
    fn queues() -> Result<Vec<QueueInfo>, Error> {
        host::queues()
    }
    fn subscribe(topic: String, queue: String) -> Result<(), Error> {
        host::subscribe(&topic, &queue)
    }
    fn unsubscribe(topic: String, queue: String) -> Result<(), Error> {
        host::unsubscribe(&topic, &queue)
    }
    fn publish(topic: String, message: Outgoing) -> Result<Published, Error> {
        host::publish(&topic, &message)
    }
    fn publish_batch(
        topic: String,
        messages: Vec<Outgoing>,
    ) -> Result<Vec<Result<Published, Error>>, Error> {
        host::publish_batch(&topic, &messages)
    }
    fn send(queue: String, message: Outgoing) -> Result<String, Error> {
        host::send(&queue, &message)
    }
    fn send_batch(
        queue: String,
        messages: Vec<Outgoing>,
    ) -> Result<Vec<Result<String, Error>>, Error> {
        host::send_batch(&queue, &messages)
    }
    fn receive(
        queue: String,
        max: u32,
        wait_ms: Option<u32>,
        visibility_ms: Option<u64>,
    ) -> Result<Vec<Delivery>, Error> {
        host::receive(&queue, max, wait_ms, visibility_ms)
    }
    fn ack(queue: String, receipt: String) -> Result<(), Error> {
        host::ack(&queue, &receipt)
    }
    fn nack(
        queue: String,
        receipt: String,
        reason: String,
        retry_in_ms: Option<u64>,
    ) -> Result<NackOutcome, Error> {
        host::nack(&queue, &receipt, &reason, retry_in_ms)
    }
    fn extend(queue: String, receipt: String, visibility_ms: u64) -> Result<(), Error> {
        host::extend(&queue, &receipt, visibility_ms)
    }
    fn dead_letters(queue: String, page: PageRequest) -> Result<DeadLetterPage, Error> {
        host::dead_letters(&queue, &page)
    }
    fn replay(queue: String, ids: Vec<String>) -> Result<u32, Error> {
        host::replay(&queue, &ids)
    }
    fn purge(queue: String) -> Result<u64, Error> {
        host::purge(&queue)
    }
    fn health() -> HealthStatus {
        host::health()
    }
}
