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

use serde_json::{json, Map, Value};
use switchyard_sdk::analytics::{Event, Identity, PageView};
use switchyard_sdk::time;
use switchyard_sdk::types::{Error, Timestamp};

/// The `$lib` / `library` name this adapter reports.
pub const LIB: &str = "switchyard-posthog";
/// The `$lib_version` / `library_version` it reports.
pub const LIB_VERSION: &str = env!("CARGO_PKG_VERSION");
/// When a message is made and the randomness its UUID gets, so building stays
/// deterministic in tests.
#[derive(Clone, Debug)]
pub struct Stamp {
    /// The time used when the call gives none.
    pub now: Timestamp,
    /// The random bits of a generated UUID v7.
    pub random: [u8; 10],
}

impl Stamp {
    /// Now, from the host's wall clock, with random bits from `wasi:random`.
    pub fn current() -> Stamp {
        let mut random = [0u8; 10];
        let bytes = switchyard_sdk::random::bytes(10);
        for (dst, src) in random.iter_mut().zip(bytes.iter()) {
            *dst = *src;
        }
        Stamp {
            now: time::now(),
            random,
        }
    }
}

/// The largest single event accepted, as posthog-python's `MAX_MSG_SIZE`: 900 KiB.
pub const MAX_EVENT_BYTES: usize = 900 * 1024;

/// A `track` call as a PostHog message.
pub fn track(event: &Event, stamp: &Stamp) -> Result<Value, Error> {
    non_empty("name", &event.name)?;
    non_empty("distinct-id", &event.distinct_id)?;
    let mut properties = object("properties", event.properties.as_deref())?;
    if let Some(session) = &event.session_id {
        properties.insert("$session_id".into(), json!(session));
    }
    if let Some(category) = &event.category {
        properties.insert("category".into(), json!(category));
    }
    if let Some(uuid) = &event.uuid {
        if uuid::Uuid::try_parse(uuid).is_err() {
            return Err(Error::invalid_input(format!(
                "`uuid` must be a UUID, not `{uuid}`"
            )));
        }
    }
    Ok(message(
        &event.name,
        &event.distinct_id,
        properties,
        event.timestamp.as_ref(),
        event.uuid.clone(),
        stamp,
    ))
}

/// A `page` call as a `$pageview` message.
pub fn page(view: &PageView, stamp: &Stamp) -> Result<Value, Error> {
    non_empty("distinct-id", &view.distinct_id)?;
    non_empty("url", &view.url)?;
    let mut properties = object("properties", view.properties.as_deref())?;
    properties.insert("$current_url".into(), json!(view.url));
    if let Some(title) = &view.title {
        properties.insert("$title".into(), json!(title));
    }
    if let Some(referrer) = &view.referrer {
        properties.insert("$referrer".into(), json!(referrer));
    }
    if let Some(session) = &view.session_id {
        properties.insert("$session_id".into(), json!(session));
    }
    Ok(message(
        "$pageview",
        &view.distinct_id,
        properties,
        view.timestamp.as_ref(),
        None,
        stamp,
    ))
}

/// An `identify` call as an `$identify` message.
pub fn identify(identity: &Identity, stamp: &Stamp) -> Result<Value, Error> {
    non_empty("distinct-id", &identity.distinct_id)?;
    let set = object("set", identity.set.as_deref())?;
    let mut properties = Map::new();
    properties.insert("$set".into(), Value::Object(set));
    if identity.set_once.is_some() {
        let set_once = object("set-once", identity.set_once.as_deref())?;
        properties.insert("$set_once".into(), Value::Object(set_once));
    }
    if let Some(anonymous) = &identity.anonymous_id {
        non_empty("anonymous-id", anonymous)?;
        properties.insert("$anon_distinct_id".into(), json!(anonymous));
    }
    Ok(message(
        "$identify",
        &identity.distinct_id,
        properties,
        None,
        None,
        stamp,
    ))
}

/// An `alias` call as a `$create_alias` message.
pub fn alias(distinct_id: &str, alias: &str, stamp: &Stamp) -> Result<Value, Error> {
    non_empty("distinct-id", distinct_id)?;
    non_empty("alias", alias)?;
    let mut properties = Map::new();
    properties.insert("distinct_id".into(), json!(distinct_id));
    properties.insert("alias".into(), json!(alias));
    Ok(message(
        "$create_alias",
        distinct_id,
        properties,
        None,
        None,
        stamp,
    ))
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

fn message(
    event: &str,
    distinct_id: &str,
    mut properties: Map<String, Value>,
    timestamp: Option<&Timestamp>,
    uuid: Option<String>,
    stamp: &Stamp,
) -> Value {
    properties.insert("$lib".into(), json!(LIB));
    properties.insert("$lib_version".into(), json!(LIB_VERSION));
    properties.insert("$geoip_disable".into(), json!(true));
    let timestamp = timestamp.unwrap_or(&stamp.now);
    let uuid =
        uuid.unwrap_or_else(|| time::uuid_v7_from(time::unix_millis(timestamp), &stamp.random));
    json!({
        "event": event,
        "distinct_id": distinct_id,
        "properties": properties,
        "timestamp": time::to_rfc3339_millis(timestamp),
        "uuid": uuid,
        "type": "capture",
        "library": LIB,
        "library_version": LIB_VERSION,
    })
}

fn non_empty(field: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        Err(Error::invalid_input(format!("`{field}` must not be empty")))
    } else {
        Ok(())
    }
}

/// Parses an optional JSON field that must be an object; none is an empty object.
fn object(field: &str, json: Option<&str>) -> Result<Map<String, Value>, Error> {
    let Some(json) = json else {
        return Ok(Map::new());
    };
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid_input(format!(
            "`{field}` must be a JSON object"
        ))),
        Err(err) => Err(Error::invalid_input(format!(
            "`{field}` is not valid JSON: {err}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_sdk::types::ErrorKind;

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
