//! PostHog's capture wire format: turning a request body into events and validating them the way
//! the capture server (`rust/capture/src/api.rs`) does, with its plain-text error messages.

use serde_json::{Map, Value};

/// The capture server's error messages (its `CaptureError` display strings).
pub(super) mod message {
    pub const EMPTY_BATCH: &str = "request holds no event";
    pub const MISSING_EVENT_NAME: &str = "event submitted with an empty event name";
    pub const MISSING_DISTINCT_ID: &str = "event submitted without a distinct_id";
    pub const EMPTY_DISTINCT_ID: &str = "event submitted with an empty distinct_id";
    pub const INVALID_TIMESTAMP: &str = "event submitted with invalid timestamp";
    pub const NO_TOKEN: &str = "event submitted without an api_key";
    pub const MULTIPLE_TOKENS: &str = "batch submitted with inconsistent api_key values";
    pub const UNKNOWN_TOKEN: &str = "api_key does not resolve to a known project";
    pub const INVALID_EVENT: &str = "invalid event could not be processed";
    pub const TOO_BIG: &str = "maximum event size exceeded";
}

/// Why a request is refused: the status class plus the plain-text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Rejection {
    /// 400 with this message.
    BadRequest(String),
    /// 401 with this message.
    Unauthorized(String),
}

impl Rejection {
    fn bad(message: impl Into<String>) -> Self {
        Rejection::BadRequest(message.into())
    }

    fn parse(detail: impl std::fmt::Display) -> Self {
        Rejection::BadRequest(format!("failed to parse request: {detail}"))
    }
}

/// One event taken from a valid request.
#[derive(Debug, Clone)]
pub(super) struct ParsedEvent {
    pub event: String,
    pub distinct_id: String,
    pub properties: Value,
    pub timestamp: Option<String>,
    pub uuid: Option<String>,
    pub raw: Value,
}

/// A decoded, validated request: its events and the one api key they all carry.
#[derive(Debug, Clone)]
pub(super) struct ParsedRequest {
    pub api_key: String,
    pub events: Vec<ParsedEvent>,
}

/// Decodes and validates a (decompressed) capture body, checking the api key against `expected`.
///
/// Accepts the three shapes the capture server accepts on every ingestion path: a batch object
/// `{"api_key", "batch": [...]}`, a single event object, or a bare array of events (posthog-js).
/// Order of checks follows the server: parse, empty batch, api key, then each event.
pub(super) fn parse_request(body: &[u8], expected: &str) -> Result<ParsedRequest, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(Rejection::parse)?;
    let (request_key, raw_events) = match value {
        Value::Array(events) => (None, events),
        Value::Object(mut object) if object.contains_key("batch") => {
            let key = key_field(&object)?;
            match object.remove("batch") {
                Some(Value::Array(events)) => (key, events),
                _ => return Err(Rejection::parse("`batch` must be an array of events")),
            }
        }
        Value::Object(object) => (None, vec![Value::Object(object)]),
        _ => return Err(Rejection::parse("expected a JSON object or array")),
    };
    if raw_events.is_empty() {
        return Err(Rejection::bad(message::EMPTY_BATCH));
    }
    let objects = raw_events
        .into_iter()
        .map(|raw| match raw {
            Value::Object(object) => Ok(object),
            _ => Err(Rejection::parse("each event must be a JSON object")),
        })
        .collect::<Result<Vec<_>, _>>()?;

    let api_key = check_api_key(request_key, &objects, expected)?;
    let events = objects
        .into_iter()
        .map(parse_event)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ParsedRequest { api_key, events })
}

/// The request's one api key: every event's own key, or the request's when an event has none.
fn check_api_key(
    request_key: Option<String>,
    events: &[Map<String, Value>],
    expected: &str,
) -> Result<String, Rejection> {
    let mut found: Option<String> = None;
    for event in events {
        let own = match key_field(event)? {
            Some(key) => Some(key),
            None => match event.get("properties") {
                Some(Value::Object(properties)) => {
                    key_field_named(properties, &["token", "$token"])?
                }
                _ => None,
            },
        };
        let key = own
            .or_else(|| request_key.clone())
            .filter(|key| !key.is_empty())
            .ok_or_else(|| Rejection::Unauthorized(message::NO_TOKEN.into()))?;
        match &found {
            Some(first) if *first != key => {
                return Err(Rejection::Unauthorized(message::MULTIPLE_TOKENS.into()))
            }
            Some(_) => {}
            None => found = Some(key),
        }
    }
    let key = found.ok_or_else(|| Rejection::Unauthorized(message::NO_TOKEN.into()))?;
    if key != expected {
        return Err(Rejection::Unauthorized(message::UNKNOWN_TOKEN.into()));
    }
    Ok(key)
}

/// `api_key`, or its aliases `token` and `$token`, when present.
fn key_field(object: &Map<String, Value>) -> Result<Option<String>, Rejection> {
    key_field_named(object, &["api_key", "token", "$token"])
}

fn key_field_named(
    object: &Map<String, Value>,
    names: &[&str],
) -> Result<Option<String>, Rejection> {
    for name in names {
        match object.get(*name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(key)) => return Ok(Some(key.clone())),
            Some(_) => return Err(Rejection::parse(format!("`{name}` must be a string"))),
        }
    }
    Ok(None)
}

/// Validates one event object: name, distinct id, properties, timestamp, uuid.
fn parse_event(object: Map<String, Value>) -> Result<ParsedEvent, Rejection> {
    let event = match object.get("event") {
        None | Some(Value::Null) => return Err(Rejection::bad(message::MISSING_EVENT_NAME)),
        Some(Value::String(name)) if name.is_empty() => {
            return Err(Rejection::bad(message::MISSING_EVENT_NAME))
        }
        Some(Value::String(name)) => name.clone(),
        Some(_) => return Err(Rejection::parse("`event` must be a string")),
    };
    let properties = match object.get("properties") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::Object(properties)) => Value::Object(properties.clone()),
        Some(_) => return Err(Rejection::parse("`properties` must be an object")),
    };
    let distinct_id = object
        .get("distinct_id")
        .or_else(|| object.get("$distinct_id"))
        .filter(|v| !v.is_null())
        .or_else(|| properties.get("distinct_id"));
    let distinct_id = match distinct_id {
        None | Some(Value::Null) => return Err(Rejection::bad(message::MISSING_DISTINCT_ID)),
        Some(Value::String(id)) => id.clone(),
        // The server takes numbers (and other JSON) in their JSON text form.
        Some(other) => other.to_string(),
    };
    if distinct_id.is_empty() {
        return Err(Rejection::bad(message::EMPTY_DISTINCT_ID));
    }
    let timestamp = optional_string(&object, "timestamp")?;
    if let Some(ts) = &timestamp {
        if !is_iso8601(ts) {
            return Err(Rejection::bad(message::INVALID_TIMESTAMP));
        }
    }
    let uuid = optional_string(&object, "uuid")?;
    if let Some(id) = &uuid {
        if !is_uuid(id) {
            return Err(Rejection::parse(format!("invalid uuid {id:?}")));
        }
    }
    Ok(ParsedEvent {
        event,
        distinct_id,
        properties,
        timestamp,
        uuid,
        raw: Value::Object(object),
    })
}

fn optional_string(object: &Map<String, Value>, name: &str) -> Result<Option<String>, Rejection> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Rejection::parse(format!("`{name}` must be a string"))),
    }
}

/// `8-4-4-4-12` hex digits, any version (the SDKs send v7, older ones v4).
pub(super) fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An ISO 8601 / RFC 3339 date or date-time: `YYYY-MM-DD[(T| )HH:MM[:SS[.frac]][Z|±HH[:]MM]]`.
pub(super) fn is_iso8601(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let (Some(year), Some(month), Some(day)) = (num(0, 4), num(5, 2), num(8, 2)) else {
        return false;
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&month) {
        return false;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if day == 0 || day > days[(month - 1) as usize] {
        return false;
    }
    if b.len() == 10 {
        return true;
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return false;
    }
    let (Some(hour), Some(minute)) = (num(11, 2), num(14, 2)) else {
        return false;
    };
    if b.get(13) != Some(&b':') || hour > 23 || minute > 59 {
        return false;
    }
    let mut i = 16;
    if b.get(i) == Some(&b':') {
        match num(i + 1, 2) {
            Some(second) if second <= 60 => i += 3,
            _ => return false,
        }
        if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
            let digits = b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
            if digits == 0 {
                return false;
            }
            i += 1 + digits;
        }
    }
    match &b[i..] {
        [] | [b'Z' | b'z'] => true,
        [b'+' | b'-', rest @ ..] => {
            let offset = |h: &[u8], m: &[u8]| {
                let two = |x: &[u8]| {
                    x.len() == 2 && x.iter().all(u8::is_ascii_digit) && {
                        let v = u32::from(x[0] - b'0') * 10 + u32::from(x[1] - b'0');
                        v < 60
                    }
                };
                two(h) && two(m)
            };
            match rest {
                [h1, h2] => offset(&[*h1, *h2], b"00"),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => offset(&[*h1, *h2], &[*m1, *m2]),
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps() {
        for ok in [
            "2024-03-15T14:30:00.000Z",
            "2024-03-15T14:30:00Z",
            "2024-03-15T14:30:00+02:00",
            "2024-03-15 14:30:00",
            "2024-02-29T00:00",
            "2024-03-15",
            "2024-03-15T14:30:00.123456789-0530",
        ] {
            assert!(is_iso8601(ok), "{ok} should be valid");
        }
        for bad in [
            "",
            "yesterday",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-03-15T25:00:00Z",
            "2024-03-15T14:30:00.Z",
            "2024-03-15T14:30:00ZZ",
            "1710513000",
        ] {
            assert!(!is_iso8601(bad), "{bad} should be invalid");
        }
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("0190c0de-7e57-7abc-8def-0123456789ab"));
        assert!(!is_uuid("0190c0de7e577abc8def0123456789ab"));
        assert!(!is_uuid("0190c0de-7e57-7abc-8def-0123456789ag"));
    }

    #[test]
    fn distinct_id_from_properties_and_aliases() {
        let body = json!({"token": "k", "event": "e", "properties": {"distinct_id": 42}});
        let parsed = parse_request(body.to_string().as_bytes(), "k").expect("valid");
        assert_eq!(parsed.events[0].distinct_id, "42");

        let body = json!([{"event": "e", "$distinct_id": "d", "properties": {"token": "k"}}]);
        let parsed = parse_request(body.to_string().as_bytes(), "k").expect("valid");
        assert_eq!(parsed.events[0].distinct_id, "d");
    }

    #[test]
    fn key_checks() {
        let mixed = json!({"api_key": "k", "batch": [
            {"event": "a", "distinct_id": "d"},
            {"event": "b", "distinct_id": "d", "api_key": "other"},
        ]});
        assert_eq!(
            parse_request(mixed.to_string().as_bytes(), "k").unwrap_err(),
            Rejection::Unauthorized(message::MULTIPLE_TOKENS.into())
        );
        let none = json!({"batch": [{"event": "a", "distinct_id": "d"}]});
        assert_eq!(
            parse_request(none.to_string().as_bytes(), "k").unwrap_err(),
            Rejection::Unauthorized(message::NO_TOKEN.into())
        );
    }
}
