//! Validation of a message, its record in the outbox, and its status computed from the
//! record's times.

use serde::{Deserialize, Serialize};
pub use switchyard_sdk::notification::channel_name;
use switchyard_sdk::notification::{Channel, DeliveryStatus, Message, MessageStatus, Priority};
use switchyard_sdk::rules::{self, notification as rule};
use switchyard_sdk::types::{Error, Timestamp};

/// The largest body, subject, data or metadata of other channels, in bytes.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// When the lifecycle moves on, from the binding's config.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Timing {
    /// From release (creation, or `send-at`) to `sent`.
    pub sent_after_ms: u64,
    /// From release to `delivered` (never before `sent`).
    pub delivered_after_ms: u64,
}

/// How a magic test recipient ends.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Sent, then delivered.
    Delivered,
    /// Failed when it would have been sent.
    Failed,
    /// Sent, then undelivered.
    Undelivered,
}

/// A message as the outbox records it in `messages/<id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// The message id (`msg_...`), also the file's name.
    pub id: String,
    /// The channel's WIT name (`sms`, `push`, `in-app`, `email`).
    pub channel: String,
    /// The recipient.
    pub to: String,
    /// The sender, when given.
    pub sender: Option<String>,
    /// The subject or title, when given.
    pub subject: Option<String>,
    /// The text.
    pub body: String,
    /// The data object, when given.
    pub data: Option<serde_json::Value>,
    /// The priority's WIT name.
    pub priority: String,
    /// The metadata pairs.
    pub metadata: Vec<(String, String)>,
    /// The idempotency key, when given.
    pub idempotency_key: Option<String>,
    /// When it was accepted, in Unix milliseconds.
    pub created_ms: u64,
    /// When it is to be sent, in Unix milliseconds, when scheduled.
    pub send_at_ms: Option<u64>,
    /// The binding's timing when it was accepted.
    pub timing: Timing,
    /// How it ends (a magic recipient fails).
    pub outcome: Outcome,
    /// Why it fails, for a magic recipient.
    pub reason: Option<String>,
    /// The provider code of that failure.
    pub provider_code: Option<String>,
    /// When it was canceled, in Unix milliseconds.
    pub canceled_ms: Option<u64>,
}

fn channel_from(s: &str) -> Option<Channel> {
    Some(match s {
        "sms" => Channel::Sms,
        "push" => Channel::Push,
        "in-app" => Channel::InApp,
        "email" => Channel::Email,
        _ => return None,
    })
}

fn priority_name(p: Priority) -> &'static str {
    match p {
        Priority::Low => "low",
        Priority::Normal => "normal",
        Priority::High => "high",
        Priority::Urgent => "urgent",
    }
}

fn priority_from(s: &str) -> Option<Priority> {
    Some(match s {
        "low" => Priority::Low,
        "normal" => Priority::Normal,
        "high" => Priority::High,
        "urgent" => Priority::Urgent,
        _ => return None,
    })
}

/// Checks `m` and builds its record; `invalid-input` or `too-large` naming the field.
pub fn validate(m: &Message, id: String, now_ms: u64, timing: Timing) -> Result<Record, Error> {
    check_to(m.channel, &m.to)?;
    if let Some(sender) = &m.sender {
        rule::sender(sender)?;
    }
    rule::body(&m.body)?;
    if m.channel == Channel::Sms {
        rule::sms_body(&m.body)?;
    } else if m.body.len() > MAX_FIELD_BYTES {
        return Err(Error::too_large(format!(
            "body is {} bytes; at most {MAX_FIELD_BYTES} are taken",
            m.body.len()
        )));
    }
    if let Some(subject) = &m.subject {
        if subject.len() > 998 {
            return Err(Error::too_large(format!(
                "subject is {} bytes; at most 998 are taken",
                subject.len()
            )));
        }
    }
    let data = match &m.data {
        None => None,
        Some(d) if d.len() > MAX_FIELD_BYTES => {
            return Err(Error::too_large(format!(
                "data is {} bytes; at most {MAX_FIELD_BYTES} are taken",
                d.len()
            )))
        }
        Some(d) => Some(serde_json::Value::Object(rules::json_object("data", d)?)),
    };
    let metadata = m.metadata.clone().unwrap_or_default();
    let meta_bytes: usize = metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
    if meta_bytes > MAX_FIELD_BYTES {
        return Err(Error::too_large(format!(
            "metadata is {meta_bytes} bytes; at most {MAX_FIELD_BYTES} are taken"
        )));
    }
    if metadata.iter().any(|(k, _)| k.is_empty()) {
        return Err(Error::invalid_input("metadata keys must not be empty"));
    }
    if let Some(key) = &m.idempotency_key {
        rule::idempotency_key(key)?;
    }
    let send_at_ms = match &m.send_at {
        None => None,
        Some(ts) => Some(rule::send_at(ts.seconds, ts.nanoseconds, now_ms)?),
    };
    let (outcome, reason, code) = magic(m.channel, &m.to);
    Ok(Record {
        id,
        channel: channel_name(m.channel).into(),
        to: m.to.clone(),
        sender: m.sender.clone(),
        subject: m.subject.clone(),
        body: m.body.clone(),
        data,
        priority: priority_name(m.priority.unwrap_or(Priority::Normal)).into(),
        metadata,
        idempotency_key: m.idempotency_key.clone(),
        created_ms: now_ms,
        send_at_ms,
        timing,
        outcome,
        reason: reason.map(String::from),
        provider_code: code.map(String::from),
        canceled_ms: None,
    })
}

/// Checks the recipient's format for its channel.
pub fn check_to(channel: Channel, to: &str) -> Result<(), Error> {
    rule::to(to)?;
    match channel {
        Channel::Sms => rule::phone_number(to)?,
        Channel::Email => rule::email_address(to)?,
        Channel::Push => rule::token(to, "device token")?,
        Channel::InApp => rule::token(to, "user or inbox id")?,
    }
    Ok(())
}

/// The test-mode magic recipients and how they end (documented in the README).
pub fn magic(channel: Channel, to: &str) -> (Outcome, Option<&'static str>, Option<&'static str>) {
    match (channel, to) {
        (Channel::Sms, "+15005550001") => (
            Outcome::Failed,
            Some("the 'To' number is not a valid phone number"),
            Some("21211"),
        ),
        (Channel::Sms, "+15005550002") => (
            Outcome::Failed,
            Some("the 'To' number cannot be routed to"),
            Some("21612"),
        ),
        (Channel::Sms, "+15005550004") => (
            Outcome::Failed,
            Some("the recipient unsubscribed (replied STOP)"),
            Some("21610"),
        ),
        (Channel::Sms, "+15005550009") => (
            Outcome::Failed,
            Some("the 'To' number cannot receive SMS"),
            Some("21614"),
        ),
        (Channel::Sms, "+15005550005") => (
            Outcome::Undelivered,
            Some("the carrier could not reach the handset"),
            Some("30003"),
        ),
        (Channel::Email, t) if t.ends_with("@fail.invalid") => (
            Outcome::Failed,
            Some("the mail server refused the address"),
            Some("550"),
        ),
        (Channel::Email, t) if t.ends_with("@bounce.invalid") => (
            Outcome::Undelivered,
            Some("the message bounced"),
            Some("bounce"),
        ),
        (Channel::Push | Channel::InApp, "invalid-token") => (
            Outcome::Failed,
            Some("the device token or inbox is not registered"),
            Some("unregistered"),
        ),
        (Channel::Push | Channel::InApp, "undeliverable-token") => (
            Outcome::Undelivered,
            Some("the device did not take the message"),
            Some("undelivered"),
        ),
        _ => (Outcome::Delivered, None, None),
    }
}

fn ts(ms: u64) -> Timestamp {
    Timestamp {
        seconds: ms / 1000,
        nanoseconds: u32::try_from(ms % 1000).unwrap_or(0) * 1_000_000,
    }
}

impl Record {
    /// The status at `now_ms`, computed from the recorded times.
    pub fn status(&self, now_ms: u64) -> Result<MessageStatus, Error> {
        let channel = channel_from(&self.channel).ok_or_else(|| {
            Error::internal(format!(
                "message {} has an unknown channel {:?} in its record",
                self.id, self.channel
            ))
        })?;
        let priority = priority_from(&self.priority).ok_or_else(|| {
            Error::internal(format!(
                "message {} has an unknown priority {:?} in its record",
                self.id, self.priority
            ))
        })?;
        let release = self.send_at_ms.unwrap_or(self.created_ms);
        let sent = release.saturating_add(self.timing.sent_after_ms);
        let done = release.saturating_add(
            self.timing
                .delivered_after_ms
                .max(self.timing.sent_after_ms),
        );
        let mut reason = None;
        let mut sent_at = None;
        let (status, updated) = if let Some(c) = self.canceled_ms {
            (DeliveryStatus::Canceled, c)
        } else if now_ms < release {
            (DeliveryStatus::Scheduled, self.created_ms)
        } else if now_ms < sent {
            (DeliveryStatus::Queued, release)
        } else if self.outcome == Outcome::Failed {
            reason = self.reason.clone();
            (DeliveryStatus::Failed, sent)
        } else if now_ms < done {
            sent_at = Some(ts(sent));
            (DeliveryStatus::Sent, sent)
        } else {
            sent_at = Some(ts(sent));
            if self.outcome == Outcome::Undelivered {
                reason = self.reason.clone();
                (DeliveryStatus::Undelivered, done)
            } else {
                (DeliveryStatus::Delivered, done)
            }
        };
        let provider_code = reason.as_ref().and(self.provider_code.clone());
        Ok(MessageStatus {
            id: self.id.clone(),
            channel,
            to: self.to.clone(),
            priority,
            status,
            reason,
            provider_code,
            created_at: ts(self.created_ms),
            send_at: self.send_at_ms.map(ts),
            sent_at,
            updated_at: ts(updated.max(self.created_ms)),
            metadata: self.metadata.clone(),
        })
    }
}
