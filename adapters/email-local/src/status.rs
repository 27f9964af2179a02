//! The simulated delivery: a message is `queued`, then `sent` after `sent_after_ms`, then
//! final after `delivered_after_ms`, each recipient's final status set by test-mode magic
//! addresses.

use serde_json::Value;
use switchyard_sdk::config;
use switchyard_sdk::email::{DeliveryStatus, RecipientStatus};
use switchyard_sdk::types::{Error, Timestamp};

use crate::{
    accepted_ms, from_ms, meta_recipients, now_ms, DEFAULT_DELIVERED_AFTER_MS,
    DEFAULT_SENT_AFTER_MS,
};

/// The simulated delivery timing, from config.
pub(crate) struct Timing {
    sent_after_ms: u64,
    delivered_after_ms: u64,
}

impl Timing {
    pub(crate) fn from_config() -> Result<Self, Error> {
        let sent_after_ms = config::parse("sent_after_ms", DEFAULT_SENT_AFTER_MS)?;
        let delivered_after_ms = config::parse("delivered_after_ms", DEFAULT_DELIVERED_AFTER_MS)?;
        if delivered_after_ms < sent_after_ms {
            return Err(Error::invalid_input(format!(
                "config delivered_after_ms ({delivered_after_ms}) is less than sent_after_ms \
                 ({sent_after_ms})"
            )));
        }
        Ok(Timing {
            sent_after_ms,
            delivered_after_ms,
        })
    }

    /// The message's status now: overall, per recipient, and when it last changed.
    pub(crate) fn status(
        &self,
        meta: &Value,
    ) -> Result<(DeliveryStatus, Vec<RecipientStatus>, Timestamp), Error> {
        let accepted = accepted_ms(meta)?;
        let elapsed = now_ms().saturating_sub(accepted);
        let recipients = meta_recipients(meta)?;
        let (phase, changed) = if elapsed < self.sent_after_ms {
            (Some(DeliveryStatus::Queued), accepted)
        } else if elapsed < self.delivered_after_ms {
            (Some(DeliveryStatus::Sent), accepted + self.sent_after_ms)
        } else {
            (None, accepted + self.delivered_after_ms)
        };
        let list: Vec<RecipientStatus> = recipients
            .into_iter()
            .map(|email| {
                let (status, detail) = match phase {
                    Some(s) => (s, None),
                    None => outcome(&email),
                };
                RecipientStatus {
                    email,
                    status,
                    detail,
                }
            })
            .collect();
        let overall = match phase {
            Some(s) => s,
            None => list
                .iter()
                .map(|r| r.status)
                .min_by_key(|s| rank(*s))
                .unwrap_or(DeliveryStatus::Delivered),
        };
        Ok((overall, list, from_ms(changed)))
    }
}

/// The final status of a recipient: test-mode magic addresses, by local part (before any
/// `+tag`): `bounce@` bounced, `complaint@` complained, `defer@` deferred, `fail@` failed;
/// every other address is delivered.
fn outcome(email: &str) -> (DeliveryStatus, Option<String>) {
    let local = email
        .rsplit_once('@')
        .map_or(email, |(l, _)| l)
        .split('+')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match local.as_str() {
        "bounce" => (
            DeliveryStatus::Bounced,
            Some("test address bounce@: 550 5.1.1 mailbox unavailable (simulated)".into()),
        ),
        "complaint" => (
            DeliveryStatus::Complained,
            Some("test address complaint@: reported as spam (simulated)".into()),
        ),
        "defer" => (
            DeliveryStatus::Deferred,
            Some("test address defer@: 421 4.7.0 try again later (simulated)".into()),
        ),
        "fail" => (
            DeliveryStatus::Failed,
            Some("test address fail@: dropped by the provider (simulated)".into()),
        ),
        _ => (DeliveryStatus::Delivered, None),
    }
}

/// Lower is less successful.
fn rank(s: DeliveryStatus) -> u8 {
    match s {
        DeliveryStatus::Failed => 0,
        DeliveryStatus::Bounced => 1,
        DeliveryStatus::Deferred => 2,
        DeliveryStatus::Complained => 3,
        DeliveryStatus::Queued => 4,
        DeliveryStatus::Sent => 5,
        DeliveryStatus::Delivered => 6,
    }
}
