//! The canonical form of an analytics call: validation and the special events every
//! provider shares, so adapters only map a [`CanonicalEvent`] onto their provider's format.
//!
//! - `track`: the event's name; `properties` must be a JSON object; `uuid`, when given, a UUID.
//! - `page`: `$pageview` with `$current_url`, `$title` and `$referrer` in its properties.
//! - `identify`: `$identify` with `$set` (always), `$set_once` and `$anon_distinct_id`.
//! - `alias`: `$create_alias` with `distinct_id` and `alias` in its properties.
//!
//! Empty names, ids, URLs and aliases fail with `invalid-input` naming the field (`name`,
//! `distinct-id`, `url`, `alias`, `anonymous-id`, `properties`, `set`, `set-once`, `uuid`).
//! A call without a timestamp gets the [`Stamp`]'s time; one without a uuid a UUID v7 of its
//! timestamp and the stamp's random bits.
//!
//! [`CanonicalEvent::to_json`] writes the provider-neutral JSON form:
//!
//! ```json
//! {"name": "signed_up", "distinct_id": "user_42", "properties": {"plan": "pro"},
//!  "timestamp": "2024-03-15T14:30:00.000Z", "uuid": "0190…",
//!  "category": "billing", "session_id": "s1"}
//! ```
//!
//! (`category` and `session_id` only when given) and [`CanonicalEvent::from_json`] reads it back.

use serde_json::{json, Map, Value};

use crate::analytics::{Event, Identity, PageView};
use crate::time;
use crate::types::{Error, Timestamp};

/// When an event is made and the randomness its UUID gets, so building stays deterministic
/// in tests.
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
        let bytes = crate::random::bytes(10);
        for (dst, src) in random.iter_mut().zip(bytes.iter()) {
            *dst = *src;
        }
        Stamp {
            now: time::now(),
            random,
        }
    }
}

/// A validated analytics call, ready to be mapped onto a provider's format.
#[derive(Clone, Debug)]
pub struct CanonicalEvent {
    /// The event's name (`$pageview`, `$identify`, `$create_alias` for the special ones).
    pub name: String,
    /// Who did it.
    pub distinct_id: String,
    /// The event's properties, special ones included; never `category` or `$session_id`,
    /// which are kept apart in the fields below.
    pub properties: Map<String, Value>,
    /// When it happened (the call's, or the stamp's time).
    pub timestamp: Timestamp,
    /// The call's uuid, or a UUID v7 made for it.
    pub uuid: String,
    /// The event's category (`track` only).
    pub category: Option<String>,
    /// The session the event belongs to (`track` and `page`).
    pub session_id: Option<String>,
}

impl CanonicalEvent {
    /// The properties as providers record them: [`properties`](Self::properties) plus
    /// `$session_id` and `category` when given.
    pub fn recorded_properties(&self) -> Map<String, Value> {
        let mut properties = self.properties.clone();
        if let Some(session) = &self.session_id {
            properties.insert("$session_id".into(), json!(session));
        }
        if let Some(category) = &self.category {
            properties.insert("category".into(), json!(category));
        }
        properties
    }

    /// The provider-neutral JSON object (see the module's documentation).
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("name".into(), json!(self.name));
        object.insert("distinct_id".into(), json!(self.distinct_id));
        object.insert("properties".into(), Value::Object(self.properties.clone()));
        object.insert(
            "timestamp".into(),
            json!(time::to_rfc3339_millis(&self.timestamp)),
        );
        object.insert("uuid".into(), json!(self.uuid));
        if let Some(category) = &self.category {
            object.insert("category".into(), json!(category));
        }
        if let Some(session) = &self.session_id {
            object.insert("session_id".into(), json!(session));
        }
        Value::Object(object)
    }

    /// Reads the form [`to_json`](Self::to_json) writes; the error says which field is
    /// missing or of the wrong type.
    pub fn from_json(value: &Value) -> Result<CanonicalEvent, String> {
        let Value::Object(object) = value else {
            return Err("not a JSON object".into());
        };
        let text = |field: &str| -> Result<String, String> {
            match object.get(field) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(format!("`{field}` is not a string")),
                None => Err(format!("`{field}` is missing")),
            }
        };
        let optional = |field: &str| -> Result<Option<String>, String> {
            match object.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("`{field}` is not a string")),
            }
        };
        let properties = match object.get("properties") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(_) => return Err("`properties` is not an object".into()),
        };
        let stamp = text("timestamp")?;
        let timestamp = time::parse_rfc3339(&stamp)
            .ok_or_else(|| format!("`timestamp` is not an RFC 3339 time: `{stamp}`"))?;
        Ok(CanonicalEvent {
            name: text("name")?,
            distinct_id: text("distinct_id")?,
            properties,
            timestamp,
            uuid: text("uuid")?,
            category: optional("category")?,
            session_id: optional("session_id")?,
        })
    }
}

/// A `track` call.
pub fn track(event: &Event, stamp: &Stamp) -> Result<CanonicalEvent, Error> {
    non_empty("name", &event.name)?;
    non_empty("distinct-id", &event.distinct_id)?;
    let properties = object("properties", event.properties.as_deref())?;
    if let Some(uuid) = &event.uuid {
        if uuid::Uuid::try_parse(uuid).is_err() {
            return Err(Error::invalid_input(format!(
                "`uuid` must be a UUID, not `{uuid}`"
            )));
        }
    }
    let mut canonical = build(
        &event.name,
        &event.distinct_id,
        properties,
        event.timestamp.as_ref(),
        event.uuid.clone(),
        stamp,
    );
    canonical.category = event.category.clone();
    canonical.session_id = event.session_id.clone();
    Ok(canonical)
}

/// A `page` call, as a `$pageview` event.
pub fn page(view: &PageView, stamp: &Stamp) -> Result<CanonicalEvent, Error> {
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
    let mut canonical = build(
        "$pageview",
        &view.distinct_id,
        properties,
        view.timestamp.as_ref(),
        None,
        stamp,
    );
    canonical.session_id = view.session_id.clone();
    Ok(canonical)
}

/// An `identify` call, as an `$identify` event.
pub fn identify(identity: &Identity, stamp: &Stamp) -> Result<CanonicalEvent, Error> {
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
    Ok(build(
        "$identify",
        &identity.distinct_id,
        properties,
        None,
        None,
        stamp,
    ))
}

/// An `alias` call, as a `$create_alias` event.
pub fn alias(distinct_id: &str, alias: &str, stamp: &Stamp) -> Result<CanonicalEvent, Error> {
    non_empty("distinct-id", distinct_id)?;
    non_empty("alias", alias)?;
    let mut properties = Map::new();
    properties.insert("distinct_id".into(), json!(distinct_id));
    properties.insert("alias".into(), json!(alias));
    Ok(build(
        "$create_alias",
        distinct_id,
        properties,
        None,
        None,
        stamp,
    ))
}

fn build(
    name: &str,
    distinct_id: &str,
    properties: Map<String, Value>,
    timestamp: Option<&Timestamp>,
    uuid: Option<String>,
    stamp: &Stamp,
) -> CanonicalEvent {
    let timestamp = timestamp.copied().unwrap_or(stamp.now);
    let uuid =
        uuid.unwrap_or_else(|| time::uuid_v7_from(time::unix_millis(&timestamp), &stamp.random));
    CanonicalEvent {
        name: name.into(),
        distinct_id: distinct_id.into(),
        properties,
        timestamp,
        uuid,
        category: None,
        session_id: None,
    }
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
    use crate::types::ErrorKind;

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
    fn track_round_trips_through_json() {
        let e = track(&event("signed_up"), &stamp()).unwrap();
        let j = e.to_json();
        assert_eq!(j["name"], "signed_up");
        assert_eq!(j["distinct_id"], "user_42");
        assert_eq!(j["properties"], json!({"plan": "pro"}));
        assert_eq!(j["timestamp"], "2024-03-15T14:30:00.000Z");
        assert_eq!(j["uuid"], "0190c0de-0000-7000-8000-000000000000");
        assert_eq!(j["category"], "billing");
        assert_eq!(j["session_id"], "s1");
        let back = CanonicalEvent::from_json(&j).unwrap();
        assert_eq!(back.to_json(), j);
        assert_eq!(back.timestamp.seconds, 1_710_513_000);
        let p = e.recorded_properties();
        assert_eq!(p["$session_id"], "s1");
        assert_eq!(p["category"], "billing");
    }

    #[test]
    fn optional_fields_are_left_out() {
        let e = alias("u1", "a1", &stamp()).unwrap();
        let j = e.to_json();
        assert!(j.get("category").is_none() && j.get("session_id").is_none());
        assert_eq!(j["timestamp"], "2024-03-15T14:30:01.500Z");
        assert!(j["uuid"].as_str().unwrap().starts_with("018e4285-"));
    }

    #[test]
    fn from_json_names_the_bad_field() {
        let err = CanonicalEvent::from_json(&json!({"name": "x"})).unwrap_err();
        assert!(err.contains("timestamp"), "{err}");
        let err = CanonicalEvent::from_json(&json!([1])).unwrap_err();
        assert!(err.contains("object"), "{err}");
        let mut j = track(&event("x"), &stamp()).unwrap().to_json();
        j["distinct_id"] = json!(3);
        let err = CanonicalEvent::from_json(&j).unwrap_err();
        assert!(err.contains("distinct_id"), "{err}");
    }

    #[test]
    fn validation_names_fields() {
        let e = track(&event(""), &stamp()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains("`name`"));
        let mut bad = event("x");
        bad.uuid = Some("nope".into());
        assert!(track(&bad, &stamp())
            .unwrap_err()
            .message
            .contains("`uuid`"));
        let view = PageView {
            distinct_id: "u".into(),
            url: " ".into(),
            title: None,
            referrer: None,
            properties: None,
            session_id: None,
            timestamp: None,
        };
        assert!(page(&view, &stamp()).unwrap_err().message.contains("`url`"));
        let id = Identity {
            distinct_id: "u".into(),
            set: None,
            set_once: Some("[]".into()),
            anonymous_id: None,
        };
        assert!(identify(&id, &stamp())
            .unwrap_err()
            .message
            .contains("`set-once`"));
    }

    #[test]
    fn special_events() {
        let view = PageView {
            distinct_id: "u".into(),
            url: "https://a.example/x".into(),
            title: Some("X".into()),
            referrer: Some("https://r.example".into()),
            properties: None,
            session_id: Some("s".into()),
            timestamp: None,
        };
        let p = page(&view, &stamp()).unwrap();
        assert_eq!(p.name, "$pageview");
        assert_eq!(p.properties["$current_url"], "https://a.example/x");
        assert_eq!(p.properties["$title"], "X");
        assert_eq!(p.properties["$referrer"], "https://r.example");
        assert_eq!(p.session_id.as_deref(), Some("s"));
        let id = Identity {
            distinct_id: "u".into(),
            set: None,
            set_once: None,
            anonymous_id: Some("anon".into()),
        };
        let i = identify(&id, &stamp()).unwrap();
        assert_eq!(i.name, "$identify");
        assert_eq!(i.properties["$set"], json!({}));
        assert_eq!(i.properties["$anon_distinct_id"], "anon");
        assert!(i.properties.get("$set_once").is_none());
    }
}
