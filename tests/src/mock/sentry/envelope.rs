//! The Sentry envelope format, parsed for real: a header line, then items, each an item-header
//! line, a payload of `length` bytes (or up to the next newline when the header has no
//! `length`) and a newline (optional after the last item).
//!
//! Source: <https://develop.sentry.dev/sdk/foundations/transport/envelopes/>.

use bytes::Bytes;
use serde_json::{Map, Value};

/// A parsed envelope.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub headers: Map<String, Value>,
    pub items: Vec<ParsedItem>,
}

/// One parsed item.
#[derive(Debug, Clone)]
pub(crate) struct ParsedItem {
    pub headers: Map<String, Value>,
    pub item_type: String,
    pub payload: Bytes,
    pub json: Option<Value>,
}

/// Item types whose payload must be one JSON object.
const JSON_ITEMS: [&str; 6] = [
    "event",
    "transaction",
    "session",
    "sessions",
    "client_report",
    "check_in",
];

/// Parses an envelope; an error says what is wrong (the mock answers it with 400).
pub(crate) fn parse(body: &[u8]) -> Result<Parsed, String> {
    let (line, mut pos) = next_line(body, 0);
    let headers = json_object(line).map_err(|e| format!("invalid envelope header: {e}"))?;
    if let Some(id) = headers.get("event_id") {
        check_event_id(id).map_err(|e| format!("invalid envelope header: event_id {e}"))?;
    }
    let mut items = Vec::new();
    while pos < body.len() {
        let (line, after_header) = next_line(body, pos);
        if line.is_empty() && after_header >= body.len() {
            break; // a trailing newline
        }
        let n = items.len();
        let item_headers =
            json_object(line).map_err(|e| format!("invalid item header (item {n}): {e}"))?;
        let item_type = match item_headers.get("type") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            _ => return Err(format!("item {n}: the header has no `type`")),
        };
        let (payload, next) = match item_headers.get("length") {
            None | Some(Value::Null) => next_line(body, after_header),
            Some(length) => {
                let length = length
                    .as_u64()
                    .and_then(|l| usize::try_from(l).ok())
                    .ok_or_else(|| format!("item {n}: `length` is not a byte count"))?;
                let end = after_header
                    .checked_add(length)
                    .filter(|end| *end <= body.len())
                    .ok_or_else(|| {
                        format!(
                            "item {n}: `length` is {length} but only {} bytes follow",
                            body.len().saturating_sub(after_header)
                        )
                    })?;
                match body.get(end) {
                    None => (&body[after_header..end], end),
                    Some(b'\n') => (&body[after_header..end], end + 1),
                    Some(_) => {
                        return Err(format!(
                            "item {n}: no newline after its {length}-byte payload"
                        ))
                    }
                }
            }
        };
        let json = if JSON_ITEMS.contains(&item_type.as_str()) {
            let object =
                json_object(payload).map_err(|e| format!("item {n} ({item_type}): {e}"))?;
            if let Some(id) = object.get("event_id") {
                check_event_id(id).map_err(|e| format!("item {n} ({item_type}): event_id {e}"))?;
            }
            Some(Value::Object(object))
        } else {
            serde_json::from_slice(payload).ok()
        };
        items.push(ParsedItem {
            headers: item_headers,
            item_type,
            payload: Bytes::copy_from_slice(payload),
            json,
        });
        pos = next;
    }
    Ok(Parsed { headers, items })
}

/// The bytes from `pos` to the next newline (or the end), and the position after the newline.
fn next_line(body: &[u8], pos: usize) -> (&[u8], usize) {
    let rest = &body[pos.min(body.len())..];
    match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (&rest[..i], pos + i + 1),
        None => (rest, body.len()),
    }
}

fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

/// An event id is 32 hex digits, or a UUID with dashes.
fn check_event_id(id: &Value) -> Result<(), String> {
    let Some(id) = id.as_str() else {
        return Err("is not a string".into());
    };
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    let dashed_ok = id.len() == 32 || (id.len() == 36 && id.matches('-').count() == 4);
    if dashed_ok && hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!("{id:?} is not a UUID"))
    }
}
