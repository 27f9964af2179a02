//! The checks every email provider applies before sending, so every provider refuses the
//! same messages with the same errors: `invalid-input` (or `too-large`) with a message that
//! names the field, e.g. `to[2].email`.
//!
//! Limits are SendGrid's v3 mail send limits: at most [`MAX_RECIPIENTS`] recipients per
//! message, at most [`MAX_MESSAGE_BYTES`] in all, at most [`MAX_TAGS`] tags.

use crate::email::{Address, Message};
use crate::types::Error;

/// The most recipients (`to`, `cc` and `bcc` together) of one message.
pub const MAX_RECIPIENTS: usize = 1000;
/// The largest message: 30 MB of subject, bodies, attachments and headers together.
pub const MAX_MESSAGE_BYTES: usize = 30 * 1024 * 1024;
/// The most messages of one `send-bulk` call.
pub const MAX_BULK: usize = 1000;
/// The most tags of one message.
pub const MAX_TAGS: usize = 10;
/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 255;
/// The longest subject, in bytes.
pub const MAX_SUBJECT_BYTES: usize = 998;
/// The longest idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 256;

/// Headers a message sets itself, which `headers` may not set.
pub const RESERVED_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "subject",
    "date",
    "sender",
    "message-id",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
    "dkim-signature",
    "received",
    "return-path",
];

/// Checks a `send-bulk` batch as a whole (each message is checked by [`message`]).
pub fn bulk(messages: &[Message]) -> Result<(), Error> {
    if messages.is_empty() {
        return Err(Error::invalid_input(
            "messages is empty: give at least one message",
        ));
    }
    if messages.len() > MAX_BULK {
        return Err(Error::too_large(format!(
            "messages has {} messages; send-bulk takes at most {MAX_BULK}",
            messages.len()
        )));
    }
    Ok(())
}

/// Checks one message: addresses, recipients, subject, bodies, attachments, headers, tags,
/// idempotency key, size.
pub fn message(m: &Message) -> Result<(), Error> {
    // Size first, so a huge message is refused before anything else looks at it.
    let size = size(m);
    if size > MAX_MESSAGE_BYTES {
        return Err(Error::too_large(format!(
            "the message is {size} bytes (subject, bodies, attachments and headers); at most \
             30 MB ({MAX_MESSAGE_BYTES} bytes) are allowed"
        )));
    }
    address(&m.from, "from")?;
    if m.to.is_empty() {
        return Err(Error::invalid_input(
            "to is empty: give at least one recipient",
        ));
    }
    let lists: [(&str, &[Address]); 3] = [
        ("to", &m.to),
        ("cc", m.cc.as_deref().unwrap_or(&[])),
        ("bcc", m.bcc.as_deref().unwrap_or(&[])),
    ];
    let total: usize = lists.iter().map(|(_, l)| l.len()).sum();
    if total > MAX_RECIPIENTS {
        return Err(Error::invalid_input(format!(
            "the message has {total} recipients (to, cc and bcc); at most {MAX_RECIPIENTS} are allowed"
        )));
    }
    let mut seen: Vec<(String, String)> = Vec::with_capacity(total);
    for (field, list) in lists {
        for (i, a) in list.iter().enumerate() {
            let at = format!("{field}[{i}]");
            address(a, &at)?;
            let key = a.email.to_ascii_lowercase();
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                return Err(Error::invalid_input(format!(
                    "{at}.email '{}' is already a recipient ({first}): an address may appear \
                     once across to, cc and bcc",
                    a.email
                )));
            }
            seen.push((key, at));
        }
    }
    if let Some(r) = &m.reply_to {
        address(r, "reply-to")?;
    }
    if m.subject.trim().is_empty() {
        return Err(Error::invalid_input("subject is empty"));
    }
    no_line_breaks(&m.subject, "subject")?;
    if m.subject.len() > MAX_SUBJECT_BYTES {
        return Err(Error::invalid_input(format!(
            "subject is {} bytes; at most {MAX_SUBJECT_BYTES}",
            m.subject.len()
        )));
    }
    let has = |b: &Option<String>| b.as_deref().is_some_and(|s| !s.is_empty());
    if !has(&m.text) && !has(&m.html) {
        return Err(Error::invalid_input(
            "text and html are both empty: give a text body, an HTML body, or both",
        ));
    }
    for (i, a) in m.attachments.iter().flatten().enumerate() {
        let at = format!("attachments[{i}]");
        if a.filename.trim().is_empty() {
            return Err(Error::invalid_input(format!("{at}.filename is empty")));
        }
        if a.filename
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\')
        {
            return Err(Error::invalid_input(format!(
                "{at}.filename '{}' has a control character or a path separator",
                a.filename.escape_debug()
            )));
        }
        if !is_mime_type(&a.content_type) {
            return Err(Error::invalid_input(format!(
                "{at}.content-type '{}' is not a MIME type (type/subtype)",
                a.content_type.escape_debug()
            )));
        }
        if a.content.is_empty() {
            return Err(Error::invalid_input(format!("{at}.content is empty")));
        }
        if let Some(cid) = &a.content_id {
            if cid.is_empty() || !cid.chars().all(|c| c.is_ascii_graphic()) {
                return Err(Error::invalid_input(format!(
                    "{at}.content-id '{}' must be non-empty printable ASCII",
                    cid.escape_debug()
                )));
            }
        }
    }
    for (i, (name, value)) in m.headers.iter().flatten().enumerate() {
        let at = format!("headers[{i}]");
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(Error::invalid_input(format!(
                "{at} name '{}' is not a header name (printable ASCII, no spaces or colons)",
                name.escape_debug()
            )));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(Error::invalid_input(format!(
                "{at} '{name}' is set by the message itself: use the message's fields"
            )));
        }
        no_line_breaks(value, &format!("{at} ('{name}') value"))?;
    }
    let tags = m.tags.as_deref().unwrap_or(&[]);
    if tags.len() > MAX_TAGS {
        return Err(Error::invalid_input(format!(
            "tags has {} tags; at most {MAX_TAGS}",
            tags.len()
        )));
    }
    for (i, t) in tags.iter().enumerate() {
        if t.trim().is_empty() {
            return Err(Error::invalid_input(format!("tags[{i}] is empty")));
        }
        if t.chars().count() > MAX_TAG_CHARS || t.chars().any(char::is_control) {
            return Err(Error::invalid_input(format!(
                "tags[{i}] must be at most {MAX_TAG_CHARS} characters without control characters"
            )));
        }
    }
    if let Some(key) = &m.idempotency_key {
        idempotency_key(key)?;
    }
    Ok(())
}

/// Checks an idempotency key: non-empty, at most [`MAX_IDEMPOTENCY_KEY_BYTES`], no control
/// characters.
pub fn idempotency_key(key: &str) -> Result<(), Error> {
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_BYTES || key.chars().any(char::is_control)
    {
        return Err(Error::invalid_input(format!(
            "idempotency-key must be 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes without control characters"
        )));
    }
    Ok(())
}

/// Checks a message id given to `get` or `status`: non-empty.
pub fn id(id: &str) -> Result<(), Error> {
    if id.trim().is_empty() {
        return Err(Error::invalid_input("id is empty"));
    }
    Ok(())
}

/// The message's size as [`MAX_MESSAGE_BYTES`] counts it.
pub fn size(m: &Message) -> usize {
    m.subject.len()
        + m.text.as_ref().map_or(0, String::len)
        + m.html.as_ref().map_or(0, String::len)
        + m.attachments
            .iter()
            .flatten()
            .map(|a| a.content.len() + a.filename.len() + a.content_type.len())
            .sum::<usize>()
        + m.headers
            .iter()
            .flatten()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
}

/// Checks one mailbox; `field` names it in errors (`from`, `to[2]`...).
pub fn address(a: &Address, field: &str) -> Result<(), Error> {
    if let Err(why) = addr_spec(&a.email) {
        return Err(Error::invalid_input(format!(
            "{field}.email '{}' is not an email address: {why}",
            a.email.escape_debug()
        )));
    }
    if let Some(name) = &a.name {
        no_line_breaks(name, &format!("{field}.name"))?;
    }
    Ok(())
}

/// Checks an RFC 5322 addr-spec in its dot-atom form (`local@domain.tld`); answers why not.
pub fn addr_spec(email: &str) -> Result<(), &'static str> {
    if email.is_empty() {
        return Err("it is empty");
    }
    if email.len() > 254 {
        return Err("it is longer than 254 characters");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err("it has no '@'");
    };
    if local.is_empty() {
        return Err("the part before '@' is empty");
    }
    if local.len() > 64 {
        return Err("the part before '@' is longer than 64 characters");
    }
    const ATEXT: &str = "!#$%&'*+-/=?^_`{|}~";
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the part before '@' has a misplaced dot");
    }
    if !local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || ATEXT.contains(c) || !c.is_ascii())
    {
        return Err("the part before '@' has a character not allowed there");
    }
    if local
        .chars()
        .any(|c| !c.is_ascii() && (c.is_control() || c.is_whitespace()))
    {
        return Err("the part before '@' has a character not allowed there");
    }
    if domain.is_empty() {
        return Err("the domain is empty");
    }
    if domain.len() > 253 {
        return Err("the domain is longer than 253 characters");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("the domain has no dot (e.g. example.com)");
    }
    for label in &labels {
        if label.is_empty() {
            return Err("the domain has an empty label");
        }
        if label.len() > 63 {
            return Err("a domain label is longer than 63 characters");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a domain label starts or ends with '-'");
        }
        if !label.chars().all(|c| {
            c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
        }) {
            return Err("the domain has a character not allowed there");
        }
    }
    Ok(())
}

fn no_line_breaks(s: &str, field: &str) -> Result<(), Error> {
    if s.contains(['\r', '\n']) {
        return Err(Error::invalid_input(format!("{field} has a line break")));
    }
    Ok(())
}

fn is_mime_type(s: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let base = s.split(';').next().unwrap_or("").trim();
    match base.split_once('/') {
        Some((t, sub)) => token(t) && token(sub) && !s.contains(['\r', '\n']),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::addr_spec;

    #[test]
    fn addresses() {
        for ok in ["a@b.co", "first.last+tag@sub.example.com", "o'neil@x-y.org"] {
            assert_eq!(addr_spec(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "a",
            "@b.co",
            "a@",
            "a@b",
            "a..b@c.co",
            ".a@c.co",
            "a b@c.co",
            "a@-b.co",
            "a@b..co",
        ] {
            assert!(addr_spec(bad).is_err(), "{bad}");
        }
    }
}
