//! A message as JSON on disk, and back: attachments' bytes as standard base64.
//!
//! Files read back are checked field by field: a file that is not a recorded message is an
//! `internal` error naming the file, never a panic.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use switchyard_sdk::email::{Address, Attachment, Message};
use switchyard_sdk::types::Error;

/// A message as the JSON object stored in `<id>.message.json`.
pub fn message_to_json(m: &Message) -> Value {
    let addrs = |l: &[Address]| Value::Array(l.iter().map(address_to_json).collect());
    json!({
        "from": address_to_json(&m.from),
        "to": addrs(&m.to),
        "cc": m.cc.as_deref().map(addrs),
        "bcc": m.bcc.as_deref().map(addrs),
        "reply_to": m.reply_to.as_ref().map(address_to_json),
        "subject": m.subject,
        "text": m.text,
        "html": m.html,
        "attachments": m.attachments.as_ref().map(|l| l.iter().map(|a| json!({
            "filename": a.filename,
            "content_type": a.content_type,
            "content_base64": STANDARD.encode(&a.content),
            "content_id": a.content_id,
        })).collect::<Vec<_>>()),
        "headers": m.headers.as_ref().map(|h| h.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()),
        "tags": m.tags,
        "idempotency_key": m.idempotency_key,
    })
}

fn address_to_json(a: &Address) -> Value {
    json!({"email": a.email, "name": a.name})
}

/// A message back from its JSON object; `Err` says what is wrong with it.
pub fn message_from_json(v: &Value) -> Result<Message, String> {
    let o = obj(v, "message")?;
    Ok(Message {
        from: address_from_json(field(o, "from")?, "from")?,
        to: addresses(field(o, "to")?, "to")?,
        cc: opt(o, "cc", |v| addresses(v, "cc"))?,
        bcc: opt(o, "bcc", |v| addresses(v, "bcc"))?,
        reply_to: opt(o, "reply_to", |v| address_from_json(v, "reply_to"))?,
        subject: string(field(o, "subject")?, "subject")?,
        text: opt(o, "text", |v| string(v, "text"))?,
        html: opt(o, "html", |v| string(v, "html"))?,
        attachments: opt(o, "attachments", |v| {
            array(v, "attachments")?
                .iter()
                .map(attachment_from_json)
                .collect()
        })?,
        headers: opt(o, "headers", |v| {
            array(v, "headers")?
                .iter()
                .map(|pair| match pair.as_array().map(Vec::as_slice) {
                    Some([Value::String(k), Value::String(v)]) => Ok((k.clone(), v.clone())),
                    _ => Err("headers holds something other than [name, value]".to_string()),
                })
                .collect()
        })?,
        tags: opt(o, "tags", |v| {
            array(v, "tags")?
                .iter()
                .map(|t| string(t, "tags"))
                .collect()
        })?,
        idempotency_key: opt(o, "idempotency_key", |v| string(v, "idempotency_key"))?,
    })
}

fn attachment_from_json(v: &Value) -> Result<Attachment, String> {
    let o = obj(v, "attachment")?;
    let encoded = string(field(o, "content_base64")?, "content_base64")?;
    Ok(Attachment {
        filename: string(field(o, "filename")?, "filename")?,
        content_type: string(field(o, "content_type")?, "content_type")?,
        content: STANDARD
            .decode(encoded.as_bytes())
            .map_err(|e| format!("content_base64 is not base64: {e}"))?,
        content_id: opt(o, "content_id", |v| string(v, "content_id"))?,
    })
}

fn address_from_json(v: &Value, what: &str) -> Result<Address, String> {
    let o = obj(v, what)?;
    Ok(Address {
        email: string(field(o, "email")?, what)?,
        name: opt(o, "name", |v| string(v, what))?,
    })
}

fn addresses(v: &Value, what: &str) -> Result<Vec<Address>, String> {
    array(v, what)?
        .iter()
        .map(|a| address_from_json(a, what))
        .collect()
}

/// The object in `v`.
pub fn obj<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} is not an object"))
}

/// The field `name` of `o`.
pub fn field<'a>(o: &'a Map<String, Value>, name: &str) -> Result<&'a Value, String> {
    o.get(name).ok_or_else(|| format!("{name} is missing"))
}

/// The string in `v`.
pub fn string(v: &Value, what: &str) -> Result<String, String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{what} is not a string"))
}

/// The array in `v`.
pub fn array<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{what} is not an array"))
}

fn opt<T>(
    o: &Map<String, Value>,
    name: &str,
    f: impl FnOnce(&Value) -> Result<T, String>,
) -> Result<Option<T>, String> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => f(v).map(Some),
    }
}

/// An unreadable recorded file, as an `internal` error naming it.
pub fn corrupt(file: &str, why: &str) -> Error {
    Error::internal(format!(
        "the outbox file {file} is not a recorded message: {why}"
    ))
}
