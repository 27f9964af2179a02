//! A contract message as a SendGrid v3 Mail Send body, and SendGrid's error fields as the
//! contract's field names.
//!
//! One message is one request with one personalization:
//!
//! ```json
//! {"personalizations": [{"to": [{"email": "ada@example.com", "name": "Ada"}],
//!                        "cc": [...], "bcc": [...]}],
//!  "from": {"email": "noreply@example.com", "name": "App"},
//!  "reply_to": {"email": "support@example.com"},
//!  "subject": "Your invoice",
//!  "content": [{"type": "text/plain", "value": "..."}, {"type": "text/html", "value": "..."}],
//!  "attachments": [{"content": "<base64>", "filename": "invoice.pdf", "type": "application/pdf",
//!                   "disposition": "attachment"}],
//!  "headers": {"X-Campaign": "spring"},
//!  "categories": ["invoice"],
//!  "custom_args": {"app": "billing"}}
//! ```
//!
//! The body is serialised straight from the message: attachments are base64-encoded while
//! the JSON is written, without an intermediate copy.

use base64::display::Base64Display;
use base64::engine::general_purpose::STANDARD;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value};
use switchyard_sdk::email::{Address, Attachment, Message};
use switchyard_sdk::types::Error;

/// Headers SendGrid reserves beyond those the contract already refuses
/// (`switchyard_sdk::email::validate::RESERVED_HEADERS`).
pub const SENDGRID_RESERVED_HEADERS: &[&str] = &["x-sg-id", "x-sg-eid"];

/// Where the parts of a message went in the body, to name SendGrid's error fields in the
/// contract's terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// The contract field of each `content` block: `text` then `html`, as present.
    pub content: Vec<&'static str>,
    /// The index in `tags` of each `categories` entry (duplicates are sent once).
    pub categories: Vec<usize>,
}

/// A message ready to send: the JSON body and its layout.
#[derive(Clone, Debug)]
pub struct Built {
    /// The JSON body.
    pub body: Vec<u8>,
    /// Where the message's parts went in it.
    pub layout: Layout,
}

/// Checks the rules SendGrid adds to the contract's (run after `validate::message`) and
/// serialises the body. `invalid-input` names the field, as `validate` does.
pub fn build(m: &Message, custom_args: Option<&Map<String, Value>>) -> Result<Built, Error> {
    check(m)?;
    let mut layout = Layout::default();
    let mut content = Vec::with_capacity(2);
    if let Some(text) = m.text.as_deref().filter(|t| !t.is_empty()) {
        content.push(Content {
            r#type: "text/plain",
            value: text,
        });
        layout.content.push("text");
    }
    if let Some(html) = m.html.as_deref().filter(|h| !h.is_empty()) {
        content.push(Content {
            r#type: "text/html",
            value: html,
        });
        layout.content.push("html");
    }
    let mut categories: Vec<&str> = Vec::new();
    for (i, tag) in m.tags.iter().flatten().enumerate() {
        if !categories.contains(&tag.as_str()) {
            categories.push(tag);
            layout.categories.push(i);
        }
    }
    let body = Body {
        personalizations: [Personalization {
            to: m.to.iter().map(Addr::from).collect(),
            cc: m.cc.iter().flatten().map(Addr::from).collect(),
            bcc: m.bcc.iter().flatten().map(Addr::from).collect(),
        }],
        from: Addr::from(&m.from),
        reply_to: m.reply_to.as_ref().map(Addr::from),
        subject: &m.subject,
        content,
        attachments: m.attachments.iter().flatten().map(Attach::from).collect(),
        headers: m.headers.as_deref().filter(|h| !h.is_empty()).map(Headers),
        categories,
        custom_args,
    };
    let body = serde_json::to_vec(&body)
        .map_err(|err| Error::internal(format!("serialising the SendGrid body failed: {err}")))?;
    Ok(Built { body, layout })
}

/// SendGrid's own rules that the contract's validation does not cover.
fn check(m: &Message) -> Result<(), Error> {
    for (i, tag) in m.tags.iter().flatten().enumerate() {
        if !tag.is_ascii() {
            return Err(Error::invalid_input(format!(
                "tags[{i}] '{}' has non-ASCII characters: SendGrid categories are ASCII only",
                tag.escape_debug()
            )));
        }
    }
    let headers = m.headers.as_deref().unwrap_or(&[]);
    for (i, (name, _)) in headers.iter().enumerate() {
        if SENDGRID_RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(Error::invalid_input(format!(
                "headers[{i}] '{name}' is reserved by SendGrid"
            )));
        }
        if let Some(j) = headers[..i]
            .iter()
            .position(|(other, _)| other.eq_ignore_ascii_case(name))
        {
            return Err(Error::invalid_input(format!(
                "headers[{i}] '{name}' repeats headers[{j}]: SendGrid takes each header once"
            )));
        }
    }
    Ok(())
}

/// The MIME type SendGrid takes for an attachment: without parameters (SendGrid refuses
/// `;` in `type`), e.g. `text/plain; charset=utf-8` is sent as `text/plain`.
pub fn attachment_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// Names a SendGrid error `field` (`personalizations.0.to.1.email`) as the contract does
/// (`to[1].email`).
pub fn contract_field(field: &str, layout: &Layout) -> String {
    let parts: Vec<&str> = field.split('.').collect();
    let rest = |from: usize| -> String {
        parts[from.min(parts.len())..]
            .iter()
            .map(|p| format!(".{p}"))
            .collect()
    };
    let index = |s: &str| s.parse::<usize>().ok();
    match parts.as_slice() {
        ["personalizations", _, list @ ("to" | "cc" | "bcc"), n, ..] if index(n).is_some() => {
            format!("{list}[{n}]{}", rest(4))
        }
        ["personalizations", _, list @ ("to" | "cc" | "bcc"), ..] => list.to_string(),
        ["personalizations", ..] => "to, cc and bcc".into(),
        ["from", ..] => format!("from{}", rest(1)),
        ["reply_to", ..] => format!("reply-to{}", rest(1)),
        ["subject", ..] => "subject".into(),
        ["content", n, ..] => match index(n).and_then(|n| layout.content.get(n)) {
            Some(name) => name.to_string(),
            None => "text and html".into(),
        },
        ["content"] => "text and html".into(),
        ["attachments", n, leaf, ..] if index(n).is_some() => {
            let leaf = match *leaf {
                "type" => "content-type",
                "content_id" | "disposition" => "content-id",
                other => other,
            };
            format!("attachments[{n}].{leaf}")
        }
        ["attachments", n] if index(n).is_some() => format!("attachments[{n}]"),
        ["attachments"] => "attachments".into(),
        ["categories", n, ..] => match index(n).and_then(|n| layout.categories.get(n)) {
            Some(i) => format!("tags[{i}]"),
            None => "tags".into(),
        },
        ["categories"] => "tags".into(),
        ["headers", ..] => "headers".into(),
        ["custom_args", ..] => "custom_args (config key)".into(),
        _ => field.to_string(),
    }
}

#[derive(Serialize)]
struct Body<'a> {
    personalizations: [Personalization<'a>; 1],
    from: Addr<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<Addr<'a>>,
    subject: &'a str,
    content: Vec<Content<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attach<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<Headers<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    categories: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_args: Option<&'a Map<String, Value>>,
}

#[derive(Serialize)]
struct Personalization<'a> {
    to: Vec<Addr<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cc: Vec<Addr<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    bcc: Vec<Addr<'a>>,
}

#[derive(Serialize)]
struct Addr<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

impl<'a> From<&'a Address> for Addr<'a> {
    fn from(a: &'a Address) -> Self {
        Addr {
            email: &a.email,
            name: a.name.as_deref().filter(|n| !n.is_empty()),
        }
    }
}

#[derive(Serialize)]
struct Content<'a> {
    r#type: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
struct Attach<'a> {
    content: Base64<'a>,
    filename: &'a str,
    r#type: &'a str,
    disposition: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_id: Option<&'a str>,
}

impl<'a> From<&'a Attachment> for Attach<'a> {
    fn from(a: &'a Attachment) -> Self {
        Attach {
            content: Base64(&a.content),
            filename: &a.filename,
            r#type: attachment_type(&a.content_type),
            disposition: if a.content_id.is_some() {
                "inline"
            } else {
                "attachment"
            },
            content_id: a.content_id.as_deref(),
        }
    }
}

/// Bytes written as a standard base64 JSON string, encoded while serialising.
struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&Base64Display::new(self.0, &STANDARD))
    }
}

/// The message's headers as a JSON object, in the message's order.
struct Headers<'a>(&'a [(String, String)]);

impl Serialize for Headers<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_sdk::types::ErrorKind;

    fn addr(email: &str, name: Option<&str>) -> Address {
        Address {
            email: email.into(),
            name: name.map(str::to_string),
        }
    }

    fn message() -> Message {
        Message {
            from: addr("noreply@example.com", Some("App")),
            to: vec![
                addr("ada@example.com", Some("Ada")),
                addr("bob@example.org", None),
            ],
            cc: Some(vec![addr("carol@example.net", None)]),
            bcc: None,
            reply_to: Some(addr("support@example.com", None)),
            subject: "Hi ✓".into(),
            text: Some("Hello".into()),
            html: Some("<p>Hello</p>".into()),
            attachments: Some(vec![
                Attachment {
                    filename: "a.bin".into(),
                    content_type: "application/octet-stream".into(),
                    content: vec![0xff, 0x00, 0xfe],
                    content_id: None,
                },
                Attachment {
                    filename: "logo.png".into(),
                    content_type: "image/png; name=logo.png".into(),
                    content: b"png".to_vec(),
                    content_id: Some("logo1".into()),
                },
            ]),
            headers: Some(vec![("X-Campaign".into(), "spring".into())]),
            tags: Some(vec!["invoice".into(), "billing".into(), "invoice".into()]),
            idempotency_key: None,
        }
    }

    fn body(m: &Message, args: Option<&Map<String, Value>>) -> (Value, Layout) {
        let built = build(m, args).unwrap();
        (serde_json::from_slice(&built.body).unwrap(), built.layout)
    }

    #[test]
    fn body_shape() {
        let mut args = Map::new();
        args.insert("app".into(), "billing".into());
        let (b, layout) = body(&message(), Some(&args));
        let p = &b["personalizations"][0];
        assert_eq!(
            p["to"],
            serde_json::json!([{"email": "ada@example.com", "name": "Ada"}, {"email": "bob@example.org"}])
        );
        assert_eq!(p["cc"][0]["email"], "carol@example.net");
        assert!(p.get("bcc").is_none());
        assert_eq!(
            b["from"],
            serde_json::json!({"email": "noreply@example.com", "name": "App"})
        );
        assert_eq!(b["reply_to"]["email"], "support@example.com");
        assert_eq!(b["subject"], "Hi ✓");
        assert_eq!(
            b["content"],
            serde_json::json!([{"type": "text/plain", "value": "Hello"}, {"type": "text/html", "value": "<p>Hello</p>"}])
        );
        assert_eq!(b["attachments"][0]["content"], "/wD+");
        assert_eq!(b["attachments"][0]["disposition"], "attachment");
        assert!(b["attachments"][0].get("content_id").is_none());
        assert_eq!(b["attachments"][1]["type"], "image/png");
        assert_eq!(b["attachments"][1]["disposition"], "inline");
        assert_eq!(b["attachments"][1]["content_id"], "logo1");
        assert_eq!(b["headers"], serde_json::json!({"X-Campaign": "spring"}));
        assert_eq!(b["categories"], serde_json::json!(["invoice", "billing"]));
        assert_eq!(b["custom_args"]["app"], "billing");
        assert_eq!(layout.content, vec!["text", "html"]);
        assert_eq!(layout.categories, vec![0, 1]);
    }

    #[test]
    fn html_only_and_nothing_optional() {
        let mut m = message();
        m.text = Some(String::new());
        m.cc = None;
        m.reply_to = None;
        m.attachments = None;
        m.headers = Some(vec![]);
        m.tags = None;
        let (b, layout) = body(&m, None);
        assert_eq!(
            b["content"],
            serde_json::json!([{"type": "text/html", "value": "<p>Hello</p>"}])
        );
        for absent in [
            "reply_to",
            "attachments",
            "headers",
            "categories",
            "custom_args",
        ] {
            assert!(b.get(absent).is_none(), "{absent}");
        }
        assert!(b["personalizations"][0].get("cc").is_none());
        assert_eq!(layout.content, vec!["html"]);
    }

    #[test]
    fn sendgrid_rules() {
        let mut m = message();
        m.tags = Some(vec!["ok".into(), "grüße".into()]);
        let err = build(&m, None).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.message.contains("tags[1]"), "{}", err.message);
        let mut m = message();
        m.headers = Some(vec![("X-A".into(), "1".into()), ("x-a".into(), "2".into())]);
        assert!(build(&m, None).unwrap_err().message.contains("headers[1]"));
        let mut m = message();
        m.headers = Some(vec![("X-SG-EID".into(), "1".into())]);
        assert!(build(&m, None).unwrap_err().message.contains("headers[0]"));
    }

    #[test]
    fn fields_in_contract_terms() {
        let layout = Layout {
            content: vec!["html"],
            categories: vec![0, 2],
        };
        for (sg, contract) in [
            ("personalizations.0.to.1.email", "to[1].email"),
            ("personalizations.0.bcc.0", "bcc[0]"),
            ("personalizations.0.cc", "cc"),
            ("personalizations.0", "to, cc and bcc"),
            ("from.email", "from.email"),
            ("from", "from"),
            ("reply_to.email", "reply-to.email"),
            ("content.0.value", "html"),
            ("content", "text and html"),
            ("attachments.1.content", "attachments[1].content"),
            ("attachments.0.type", "attachments[0].content-type"),
            ("attachments.0.content_id", "attachments[0].content-id"),
            ("categories.1", "tags[2]"),
            ("categories", "tags"),
            ("headers", "headers"),
            ("subject", "subject"),
            ("template_id", "template_id"),
        ] {
            assert_eq!(contract_field(sg, &layout), contract, "{sg}");
        }
    }
}
