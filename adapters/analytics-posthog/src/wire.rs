//! Builds PostHog messages exactly as posthog-node sends them in a `/batch/` request:
//!
//! ```json
//! {"event": "signed_up", "distinct_id": "user_42",
//!  "properties": {"plan": "pro", "$session_id": "…", "$lib": "switchyard-posthog",
//!                 "$lib_version": "0.1.0", "$geoip_disable": true},
//!  "timestamp": "2024-03-15T14:30:00.000Z", "uuid": "0190…",
//!  "type": "capture", "library": "switchyard-posthog", "library_version": "0.1.0"}
//! ```
//!
//! The project api key is not here: the host adds it to the request body.

use serde_json::{json, Value};
use switchyard_sdk::analytics::events::{self, CanonicalEvent};
use switchyard_sdk::analytics::{Event, Identity, PageView};
use switchyard_sdk::time;
use switchyard_sdk::types::Error;

pub use switchyard_sdk::analytics::events::Stamp;

/// The `$lib` / `library` name this adapter reports.
pub const LIB: &str = "switchyard-posthog";
/// The `$lib_version` / `library_version` it reports.
pub const LIB_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The largest single event accepted, as posthog-python's `MAX_MSG_SIZE`: 900 KiB.
pub const MAX_EVENT_BYTES: usize = 900 * 1024;

/// A `track` call as a PostHog message.
pub fn track(event: &Event, stamp: &Stamp) -> Result<Value, Error> {
    Ok(message(&events::track(event, stamp)?))
}

/// A `page` call as a `$pageview` message.
pub fn page(view: &PageView, stamp: &Stamp) -> Result<Value, Error> {
    Ok(message(&events::page(view, stamp)?))
}

/// An `identify` call as an `$identify` message.
pub fn identify(identity: &Identity, stamp: &Stamp) -> Result<Value, Error> {
    Ok(message(&events::identify(identity, stamp)?))
}

/// An `alias` call as a `$create_alias` message.
pub fn alias(distinct_id: &str, alias: &str, stamp: &Stamp) -> Result<Value, Error> {
    Ok(message(&events::alias(distinct_id, alias, stamp)?))
}

/// Serialises a message for the buffer; `too-large` over [`MAX_EVENT_BYTES`].
pub fn encode(message: &Value) -> Result<Vec<u8>, Error> {
    let bytes = serde_json::to_vec(message)
        .map_err(|err| Error::internal(format!("serialising the event failed: {err}")))?;
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(Error::too_large(format!(
            "the event is {} bytes; PostHog takes at most {MAX_EVENT_BYTES} bytes per event",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// The canonical event as a PostHog message: `$session_id` and `category` go into the
/// properties, with the library's `$lib`, `$lib_version` and `$geoip_disable`.
fn message(event: &CanonicalEvent) -> Value {
    let mut properties = event.recorded_properties();
    properties.insert("$lib".into(), json!(LIB));
    properties.insert("$lib_version".into(), json!(LIB_VERSION));
    properties.insert("$geoip_disable".into(), json!(true));
    json!({
        "event": event.name,
        "distinct_id": event.distinct_id,
        "properties": properties,
        "timestamp": time::to_rfc3339_millis(&event.timestamp),
        "uuid": event.uuid,
        "type": "capture",
        "library": LIB,
        "library_version": LIB_VERSION,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_sdk::types::{ErrorKind, Timestamp};

    fn stamp() -> Stamp {
        Stamp {
            now: Timestamp {
                seconds: 1_710_513_001,
                nanoseconds: 500_000_000,
            },
            random: [1; 10],
        }
    }

    fn event(name: &str) -> Event {
        Event {
            name: name.into(),
            distinct_id: "user_42".into(),
            category: Some("billing".into()),
            properties: Some(r#"{"plan":"pro"}"#.into()),
            session_id: Some("s1".into()),
            timestamp: Some(Timestamp {
                seconds: 1_710_513_000,
                nanoseconds: 0,
            }),
            uuid: Some("0190c0de-0000-7000-8000-000000000000".into()),
        }
    }

    #[test]
    fn track_shape() {
        let m = track(&event("signed_up"), &stamp()).unwrap();
        assert_eq!(m["event"], "signed_up");
        assert_eq!(m["distinct_id"], "user_42");
        assert_eq!(m["timestamp"], "2024-03-15T14:30:00.000Z");
        assert_eq!(m["uuid"], "0190c0de-0000-7000-8000-000000000000");
        assert_eq!(m["type"], "capture");
        assert_eq!(m["library"], LIB);
        let p = &m["properties"];
        assert_eq!(p["plan"], "pro");
        assert_eq!(p["$session_id"], "s1");
        assert_eq!(p["category"], "billing");
        assert_eq!(p["$lib"], LIB);
        assert_eq!(p["$geoip_disable"], true);
        assert!(m.get("api_key").is_none());
    }

    #[test]
    fn validation_names_fields() {
        let e = track(&event(""), &stamp()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains("`name`"));
        let mut bad = event("x");
        bad.properties = Some("[1]".into());
        assert!(track(&bad, &stamp())
            .unwrap_err()
            .message
            .contains("`properties`"));
        let e = alias("a", "", &stamp()).unwrap_err();
        assert!(e.message.contains("`alias`"));
        let id = Identity {
            distinct_id: "u".into(),
            set: Some("3".into()),
            set_once: None,
            anonymous_id: None,
        };
        assert!(identify(&id, &stamp())
            .unwrap_err()
            .message
            .contains("`set`"));
    }

    #[test]
    fn special_events() {
        let m = alias("u1", "a1", &stamp()).unwrap();
        assert_eq!(m["event"], "$create_alias");
        assert_eq!(m["properties"]["alias"], "a1");
        assert_eq!(m["properties"]["distinct_id"], "u1");
        let id = Identity {
            distinct_id: "u".into(),
            set: Some(r#"{"email":"a@b"}"#.into()),
            set_once: Some(r#"{"first":"x"}"#.into()),
            anonymous_id: Some("anon".into()),
        };
        let m = identify(&id, &stamp()).unwrap();
        assert_eq!(m["event"], "$identify");
        assert_eq!(m["properties"]["$set"]["email"], "a@b");
        assert_eq!(m["properties"]["$set_once"]["first"], "x");
        assert_eq!(m["properties"]["$anon_distinct_id"], "anon");
        assert_eq!(m["timestamp"], "2024-03-15T14:30:01.500Z");
        assert!(m["uuid"].as_str().unwrap().starts_with("018e4285-"));
    }

    #[test]
    fn too_large() {
        let big = Value::String("x".repeat(MAX_EVENT_BYTES));
        assert_eq!(encode(&big).unwrap_err().kind, ErrorKind::TooLarge);
    }
}
