//! The host side of `switchyard:messaging/messaging`, which `adapters/messaging-host`
//! forwards to: each call checks its input here, so backends see only valid requests.

use std::time::{Duration, Instant};

use wasmtime::component::{HasData, Linker};

use crate::bindings::base::switchyard::types::types::{
    ErrorKind, HealthStatus, PageInfo, PageRequest,
};
use crate::bindings::messaging::switchyard::messaging::types::{
    self as messaging_types, DeadLetterPage, Delivery, NackOutcome, Outgoing, Published, QueueInfo,
    QueueOptions,
};
use crate::bindings::messaging_bridge::switchyard::messaging::messaging::{self, Host};
use crate::contract::{error, no_backend};

use super::broker::Broker;
use super::message::*;

/// How long before its deadline a waiting `receive` gives up, so the call answers in time.
const WAIT_MARGIN: Duration = Duration::from_millis(250);

/// What one call may reach of the messaging backend: the tenant's broker, when the binding
/// has a backend, and the call's deadline (a waiting `receive` answers before it).
pub struct MessagingView<'a> {
    /// The tenant's broker; `None` when the binding names no backend.
    pub broker: Option<&'a Broker>,
    /// When the call's deadline passes.
    pub deadline: Instant,
}

/// The [`HasData`] marker linking [`MessagingView`].
pub struct Messaging;

impl HasData for Messaging {
    type Data<'a> = MessagingView<'a>;
}

/// Links `switchyard:messaging/messaging` and its types, reached through `view`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> MessagingView<'_>,
) -> wasmtime::Result<()> {
    messaging_types::add_to_linker::<T, Messaging>(linker, view)?;
    messaging::add_to_linker::<T, Messaging>(linker, view)
}

impl messaging_types::Host for MessagingView<'_> {}

impl<'a> MessagingView<'a> {
    /// The tenant's broker, or `denied` when the binding has no messaging backend.
    fn broker(&self) -> Result<&'a Broker, WitError> {
        self.broker.ok_or_else(|| no_backend("messaging"))
    }
}

impl Host for MessagingView<'_> {
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
            .saturating_duration_since(Instant::now())
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
