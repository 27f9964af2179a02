//! A contract message checked and turned into Twilio's create form, and Twilio's Message
//! resource turned into the contract's `message-status`.

use serde_json::Value;
pub use switchyard_sdk::notification::channel_name;
use switchyard_sdk::notification::{Channel, DeliveryStatus, Message, MessageStatus, Priority};
use switchyard_sdk::rules::notification as rule;
use switchyard_sdk::types::{Error, Timestamp};

use crate::config::{is_sid, Config};

/// The earliest `send-at`: Twilio schedules at least 15 minutes ahead.
pub const MIN_SCHEDULE_SECS: u64 = 15 * 60;
/// The latest `send-at`: Twilio schedules at most 35 days ahead (the contract's
/// `MAX_SCHEDULE_MS`).
pub const MAX_SCHEDULE_SECS: u64 = rule::MAX_SCHEDULE_MS / 1000;

/// What a `send` posts, and what the contract's answer keeps that Twilio does not return.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The create form, in order: `To`, `Body`, `From` and/or `MessagingServiceSid`,
    /// `ScheduleType` + `SendAt`, `StatusCallback`.
    pub form: Vec<(String, String)>,
    /// The priority given (Twilio has none; it is not sent).
    pub priority: Priority,
    /// The send time, to the second, when scheduled (Twilio's Message resource has no
    /// field for it).
    pub send_at: Option<Timestamp>,
}

/// The WIT name of a delivery status.
pub fn status_name(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Scheduled => "scheduled",
        DeliveryStatus::Queued => "queued",
        DeliveryStatus::Sent => "sent",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Undelivered => "undelivered",
        DeliveryStatus::Failed => "failed",
        DeliveryStatus::Canceled => "canceled",
    }
}

/// Checks `m` and builds the create form; `now` is the host's wall clock. Errors name the
/// field: `unsupported` for what Twilio cannot carry (a channel other than `sms`, `data`,
/// `metadata`, `idempotency-key`, scheduling without a Messaging Service), `invalid-input`
/// or `too-large` for bad values.
pub fn prepare(m: &Message, config: &Config, now: &Timestamp) -> Result<Outgoing, Error> {
    if m.channel != Channel::Sms {
        return Err(Error::unsupported(format!(
            "channel {}: Twilio Programmable Messaging sends sms only; the {} channel is not \
             supported by this adapter",
            channel_name(m.channel),
            channel_name(m.channel)
        )));
    }
    check_to(&m.to)?;
    if let Some(sender) = &m.sender {
        rule::sender(sender)?;
        if sender.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "sender must be a phone number, an alphanumeric sender id or a Messaging \
                 Service SID (MG...)",
            ));
        }
    }
    rule::body(&m.body)?;
    rule::sms_body(&m.body)?;
    if m.data.is_some() {
        return Err(Error::unsupported(
            "data: an SMS carries no data object; leave `data` out for the sms channel",
        ));
    }
    if m.metadata.as_ref().is_some_and(|pairs| !pairs.is_empty()) {
        return Err(Error::unsupported(
            "metadata: Twilio keeps no free-form pairs with a message, so they could not be \
             returned with its status; leave `metadata` out",
        ));
    }
    if let Some(key) = &m.idempotency_key {
        rule::idempotency_key(key)?;
        return Err(Error::unsupported(
            "idempotency-key: Twilio's Messages API cannot deduplicate sends, so a key could \
             not be honoured; leave it out",
        ));
    }
    let send_at = match &m.send_at {
        None => None,
        Some(ts) => Some(check_send_at(ts, now)?),
    };

    let mut form = vec![
        ("To".to_string(), m.to.clone()),
        ("Body".to_string(), m.body.clone()),
    ];
    let given = m.sender.as_ref().map(|s| s.trim().to_string());
    let given_service = given.as_ref().filter(|s| is_sid(s, "MG")).cloned();
    let given_from = given.filter(|s| !is_sid(s, "MG"));
    if let Some(at) = &send_at {
        let service = given_service
            .or_else(|| config.messaging_service_sid.clone())
            .ok_or_else(|| {
                Error::unsupported(
                    "send-at: Twilio schedules only messages sent through a Messaging \
                     Service; set the config key `messaging_service_sid` or give an MG... \
                     sender",
                )
            })?;
        if let Some(from) = given_from {
            form.push(("From".into(), from));
        }
        form.push(("MessagingServiceSid".into(), service));
        form.push(("ScheduleType".into(), "fixed".into()));
        form.push(("SendAt".into(), iso8601(at)));
    } else if let Some(from) = given_from {
        form.push(("From".into(), from));
    } else if let Some(service) = given_service {
        form.push(("MessagingServiceSid".into(), service));
    } else if let Some(from) = &config.from {
        form.push(("From".into(), from.clone()));
    } else if let Some(service) = &config.messaging_service_sid {
        form.push(("MessagingServiceSid".into(), service.clone()));
    } else {
        return Err(Error::invalid_input(
            "sender: none given, and the binding sets neither config key `from` nor \
             `messaging_service_sid`",
        ));
    }
    if let Some(url) = &config.status_callback {
        form.push(("StatusCallback".into(), url.clone()));
    }
    Ok(Outgoing {
        form,
        priority: m.priority.unwrap_or(Priority::Normal),
        send_at,
    })
}

/// Checks an SMS recipient: E.164, `+` and 2 to 15 digits, not starting with 0.
pub fn check_to(to: &str) -> Result<(), Error> {
    rule::to(to)?;
    Ok(rule::phone_number(to)?)
}

/// Checks `send-at` against Twilio's window (15 minutes to 35 days from `now`); answers it
/// to the second, as Twilio schedules.
pub fn check_send_at(ts: &Timestamp, now: &Timestamp) -> Result<Timestamp, Error> {
    let now_ms = switchyard_sdk::time::unix_millis(now);
    // To the second: Twilio drops the fraction.
    let at_ms = rule::send_at_ms(ts.seconds, ts.nanoseconds)? / 1000 * 1000;
    rule::schedule(at_ms, now_ms)?;
    let ahead = at_ms - now_ms;
    if ahead < MIN_SCHEDULE_SECS * 1000 {
        return Err(Error::invalid_input(format!(
            "send-at is {} s ahead; Twilio schedules messages at least {MIN_SCHEDULE_SECS} s \
             (15 minutes) ahead",
            ahead / 1000
        )));
    }
    Ok(Timestamp {
        seconds: ts.seconds,
        nanoseconds: 0,
    })
}

/// `2021-11-30T20:36:27Z`: ISO 8601 in UTC to the second, as Twilio's `SendAt` takes it.
pub fn iso8601(ts: &Timestamp) -> String {
    let seconds = i64::try_from(ts.seconds).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Parses Twilio's dates (RFC 2822, `Fri, 13 Aug 2010 01:16:24 +0000`).
pub fn parse_date(text: &str) -> Option<Timestamp> {
    let dt = chrono::DateTime::parse_from_rfc2822(text.trim()).ok()?;
    Some(Timestamp {
        seconds: u64::try_from(dt.timestamp()).ok()?,
        nanoseconds: dt.timestamp_subsec_nanos(),
    })
}

/// Twilio's message status as the contract's: `accepted`, `queued` and `sending` are
/// `queued` (not yet handed to the carrier); `read` (WhatsApp) and `received` are
/// `delivered`; `partially_delivered` is `delivered`. `None` for a status Twilio may add
/// later.
pub fn map_status(twilio: &str) -> Option<DeliveryStatus> {
    Some(match twilio {
        "scheduled" => DeliveryStatus::Scheduled,
        "accepted" | "queued" | "sending" => DeliveryStatus::Queued,
        "sent" => DeliveryStatus::Sent,
        "delivered" | "read" | "receiving" | "received" | "partially_delivered" => {
            DeliveryStatus::Delivered
        }
        "undelivered" => DeliveryStatus::Undelivered,
        "failed" => DeliveryStatus::Failed,
        "canceled" => DeliveryStatus::Canceled,
        _ => return None,
    })
}

/// What Twilio's error codes mean, for a failed or undelivered message whose
/// `error_message` Twilio left null.
fn known_reason(code: &str) -> Option<&'static str> {
    Some(match code {
        "30001" => "queue overflow: too many messages were queued for the sender",
        "30002" => "the account is suspended",
        "30003" => "unreachable destination handset",
        "30004" => "message blocked by the recipient or the carrier",
        "30005" => "unknown destination handset",
        "30006" => "landline or unreachable carrier",
        "30007" => "message filtered by the carrier",
        "30008" => "unknown error",
        "30034" => "message from an unregistered number (US A2P 10DLC)",
        _ => return None,
    })
}

/// Whether a Twilio message is one the account received rather than sent.
pub fn is_inbound(resource: &Value) -> bool {
    resource
        .get("direction")
        .and_then(Value::as_str)
        .is_some_and(|d| d.starts_with("inbound"))
}

/// Twilio's Message resource as the contract's `message-status`. `sent` is what the send
/// that created it knew and Twilio does not keep (priority, send time); `now` stands in for
/// a date Twilio left out.
pub fn to_status(
    resource: &Value,
    sent: Option<&Outgoing>,
    now: &Timestamp,
) -> Result<MessageStatus, Error> {
    let text = |k: &str| resource.get(k).and_then(Value::as_str);
    let id = text("sid")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::internal("Twilio answered a message without a `sid`"))?
        .to_string();
    let twilio_status = text("status").unwrap_or("");
    let status = map_status(twilio_status).ok_or_else(|| {
        Error::internal(format!(
            "Twilio answered message {id} with the unknown status {twilio_status:?}"
        ))
    })?;
    let provider_code = match resource.get("error_code") {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let failed = matches!(status, DeliveryStatus::Failed | DeliveryStatus::Undelivered);
    let reason = if failed {
        Some(
            text("error_message")
                .filter(|s| !s.trim().is_empty())
                .map(str::to_string)
                .or_else(|| {
                    provider_code
                        .as_deref()
                        .and_then(known_reason)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| match &provider_code {
                    Some(code) => format!("Twilio error {code}"),
                    None => format!("Twilio reports the message {twilio_status}"),
                }),
        )
    } else {
        None
    };
    let created_at = text("date_created").and_then(parse_date).unwrap_or(*now);
    let updated_at = text("date_updated")
        .and_then(parse_date)
        .unwrap_or(created_at);
    let sent_at = text("date_sent").and_then(parse_date).filter(|_| {
        !matches!(
            status,
            DeliveryStatus::Scheduled | DeliveryStatus::Queued | DeliveryStatus::Canceled
        )
    });
    Ok(MessageStatus {
        id,
        channel: Channel::Sms,
        to: text("to").unwrap_or("").to_string(),
        priority: sent.map(|o| o.priority).unwrap_or(Priority::Normal),
        status,
        reason,
        provider_code: provider_code.filter(|_| failed),
        created_at,
        send_at: sent.and_then(|o| o.send_at),
        sent_at,
        updated_at,
        metadata: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchyard_sdk::types::ErrorKind;

    const AC: &str = "AC0123456789abcdef0123456789abcdef";
    const MG: &str = "MG0123456789abcdef0123456789abcdef";
    const NOW: Timestamp = Timestamp {
        seconds: 1_710_513_000,
        nanoseconds: 0,
    };

    fn config(from: Option<&str>, mg: Option<&str>) -> Config {
        Config::from_values(
            AC.into(),
            "https://api.twilio.com".into(),
            from.map(String::from),
            mg.map(String::from),
            None,
            (3, 500, 10_000),
        )
        .unwrap()
    }

    fn sms(to: &str) -> Message {
        Message {
            channel: Channel::Sms,
            to: to.into(),
            sender: None,
            subject: Some("ignored".into()),
            body: "hello".into(),
            data: None,
            priority: Some(Priority::Urgent),
            send_at: None,
            metadata: None,
            idempotency_key: None,
        }
    }

    fn field<'a>(o: &'a Outgoing, k: &str) -> Option<&'a str> {
        o.form
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn builds_the_form() {
        let o = prepare(
            &sms("+15558675310"),
            &config(Some("+15005550006"), None),
            &NOW,
        )
        .unwrap();
        assert_eq!(field(&o, "To"), Some("+15558675310"));
        assert_eq!(field(&o, "From"), Some("+15005550006"));
        assert_eq!(field(&o, "Body"), Some("hello"));
        assert_eq!(o.priority, Priority::Urgent);
        assert!(o
            .form
            .iter()
            .all(|(k, _)| k != "Priority" && k != "Subject"));

        let o = prepare(&sms("+15558675310"), &config(None, Some(MG)), &NOW).unwrap();
        assert_eq!(field(&o, "MessagingServiceSid"), Some(MG));
        assert_eq!(field(&o, "From"), None);

        let mut m = sms("+15558675310");
        m.send_at = Some(Timestamp {
            seconds: NOW.seconds + 3600,
            nanoseconds: 5,
        });
        let o = prepare(&m, &config(Some("+15005550006"), Some(MG)), &NOW).unwrap();
        assert_eq!(field(&o, "MessagingServiceSid"), Some(MG));
        assert_eq!(field(&o, "ScheduleType"), Some("fixed"));
        assert_eq!(field(&o, "SendAt"), Some("2024-03-15T15:30:00Z"));
        assert_eq!(field(&o, "From"), None);
        assert_eq!(o.send_at.unwrap().seconds, NOW.seconds + 3600);

        let err = prepare(&m, &config(Some("+15005550006"), None), &NOW).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
        assert!(err.message.contains("send-at"));
    }

    #[test]
    fn refuses_what_twilio_cannot_carry() {
        let c = config(Some("+15005550006"), Some(MG));
        let mut m = sms("+15558675310");
        m.channel = Channel::Email;
        m.to = "ada@example.com".into();
        let err = prepare(&m, &c, &NOW).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
        assert!(err.message.contains("email"));

        let mut m = sms("+15558675310");
        m.data = Some("{}".into());
        assert!(prepare(&m, &c, &NOW).unwrap_err().message.contains("data"));
        let mut m = sms("+15558675310");
        m.metadata = Some(vec![("k".into(), "v".into())]);
        assert_eq!(
            prepare(&m, &c, &NOW).unwrap_err().kind,
            ErrorKind::Unsupported
        );
        m.metadata = Some(vec![]);
        assert!(prepare(&m, &c, &NOW).is_ok());

        let mut m = sms("+15558675310");
        m.idempotency_key = Some(String::new());
        assert_eq!(
            prepare(&m, &c, &NOW).unwrap_err().kind,
            ErrorKind::InvalidInput
        );
        m.idempotency_key = Some("k".into());
        let err = prepare(&m, &c, &NOW).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unsupported);
        assert!(err.message.contains("idempotency-key"));

        for bad in ["", "5558675310", "+1 555", "+0123", "+1555abc"] {
            let err = prepare(&sms(bad), &c, &NOW).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidInput, "{bad}");
            assert!(err.message.starts_with("to "), "{bad}: {}", err.message);
        }
        let mut m = sms("+15558675310");
        m.body = "x".repeat(1601);
        assert_eq!(prepare(&m, &c, &NOW).unwrap_err().kind, ErrorKind::TooLarge);
        m.body = "é".repeat(1600);
        assert!(prepare(&m, &c, &NOW).is_ok());
    }

    #[test]
    fn send_at_window() {
        let at = |s: u64| Timestamp {
            seconds: NOW.seconds + s,
            nanoseconds: 0,
        };
        assert!(check_send_at(&at(0), &NOW).is_err());
        assert!(check_send_at(&at(899), &NOW)
            .unwrap_err()
            .message
            .contains("send-at"));
        assert!(check_send_at(&at(900), &NOW).is_ok());
        assert!(check_send_at(&at(MAX_SCHEDULE_SECS), &NOW).is_ok());
        assert!(check_send_at(&at(MAX_SCHEDULE_SECS + 1), &NOW).is_err());
    }

    #[test]
    fn maps_the_resource() {
        let r = json!({
            "sid": "SM0123456789abcdef0123456789abcdef", "to": "+15005550005",
            "status": "undelivered", "error_code": 30003, "error_message": null,
            "date_created": "Fri, 15 Mar 2024 14:30:00 +0000",
            "date_updated": "Fri, 15 Mar 2024 14:30:05 +0000",
            "date_sent": "Fri, 15 Mar 2024 14:30:01 +0000",
            "direction": "outbound-api"
        });
        let s = to_status(&r, None, &NOW).unwrap();
        assert_eq!(s.status, DeliveryStatus::Undelivered);
        assert_eq!(s.provider_code.as_deref(), Some("30003"));
        assert_eq!(s.reason.as_deref(), Some("unreachable destination handset"));
        assert_eq!(s.created_at.seconds, 1_710_513_000);
        assert_eq!(s.sent_at.unwrap().seconds, 1_710_513_001);
        assert_eq!(s.updated_at.seconds, 1_710_513_005);
        assert_eq!(s.priority, Priority::Normal);
        assert!(!is_inbound(&r));

        for (t, c) in [
            ("accepted", DeliveryStatus::Queued),
            ("sending", DeliveryStatus::Queued),
            ("scheduled", DeliveryStatus::Scheduled),
            ("read", DeliveryStatus::Delivered),
            ("canceled", DeliveryStatus::Canceled),
        ] {
            assert_eq!(map_status(t), Some(c));
        }
        assert!(map_status("mystery").is_none());
        let queued = json!({"sid": "SM1", "status": "queued", "error_code": null,
                            "date_sent": null, "date_created": "bogus"});
        let s = to_status(&queued, None, &NOW).unwrap();
        assert_eq!(s.reason, None);
        assert_eq!(s.created_at.seconds, NOW.seconds);
    }
}
