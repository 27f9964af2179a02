//! SendGrid's v3 Mail Send wire format: validating a request body the way SendGrid does,
//! with its error messages and fields (from SendGrid's Mail Send errors reference), and
//! strict standard base64.
//!
//! SendGrid answers every validation error of a request at once:
//! `{"errors": [{"message": "...", "field": "personalizations.0.to.1.email", "help": "..."}]}`.

use serde_json::{json, Map, Value};

/// SendGrid's limits.
pub mod limit {
    /// Personalizations per request.
    pub const PERSONALIZATIONS: usize = 1000;
    /// Recipients (to + cc + bcc, all personalizations) per request.
    pub const RECIPIENTS: usize = 1000;
    /// Categories per message.
    pub const CATEGORIES: usize = 10;
    /// Characters per category.
    pub const CATEGORY_CHARS: usize = 255;
    /// Bytes of `custom_args`, serialised.
    pub const CUSTOM_ARGS_BYTES: usize = 10_000;
    /// The whole message: headers, bodies and (decoded) attachments.
    pub const MESSAGE_BYTES: usize = 30 * 1024 * 1024;
}

/// Headers SendGrid reserves (compared case-insensitively).
pub const RESERVED_HEADERS: &[&str] = &[
    "x-sg-id",
    "x-sg-eid",
    "received",
    "dkim-signature",
    "content-type",
    "content-transfer-encoding",
    "to",
    "from",
    "subject",
    "reply-to",
    "cc",
    "bcc",
];

const HELP: &str = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message";

/// One entry of SendGrid's `errors` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SgError {
    /// What was wrong, in SendGrid's words.
    pub message: String,
    /// The field, e.g. `personalizations.0.to.1.email`; `None` for the request as a whole.
    pub field: Option<String>,
    /// SendGrid's link to its errors reference.
    pub help: Option<String>,
}

impl SgError {
    /// An error about `field`, with the help link of `anchor` (`personalizations.to`...).
    pub fn at(field: impl Into<String>, anchor: &str, message: impl Into<String>) -> Self {
        SgError {
            message: message.into(),
            field: Some(field.into()),
            help: Some(format!("{HELP}.{anchor}")),
        }
    }

    /// An error about the request as a whole.
    pub fn general(message: impl Into<String>) -> Self {
        SgError {
            message: message.into(),
            field: None,
            help: None,
        }
    }
}

/// SendGrid's error body for `errors`.
pub fn errors_body(errors: &[SgError]) -> Value {
    json!({
        "errors": errors
            .iter()
            .map(|e| json!({"message": e.message, "field": e.field, "help": e.help}))
            .collect::<Vec<_>>()
    })
}

/// What a valid request holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The `from` address.
    pub from: String,
    /// The message's size as SendGrid's 30 MB limit counts it: subject, content values,
    /// header names and values, decoded attachments.
    pub size: usize,
}

/// Validates a parsed body; answers every error SendGrid would, or what the message holds.
pub fn validate(body: &Value) -> Result<Checked, Vec<SgError>> {
    let Some(o) = body.as_object() else {
        return Err(vec![SgError::general("Bad Request")]);
    };
    let mut errors = Vec::new();
    let mut size = 0usize;

    // from
    let from = match o.get("from") {
        Some(Value::Object(from)) => match from.get("email").and_then(Value::as_str) {
            Some(email) if is_email(email) => {
                check_name(from, "from", "from", &mut errors);
                email.to_string()
            }
            _ => {
                errors.push(SgError::at(
                    "from.email",
                    "from",
                    "The from email does not contain a valid address.",
                ));
                String::new()
            }
        },
        _ => {
            errors.push(SgError::at(
                "from",
                "from",
                "The from object must be provided for every email send. It is an object that \
                 requires the email parameter, but may also contain a name parameter.  e.g. \
                 {\"email\" : \"example@example.com\"}  or {\"email\" : \"example@example.com\", \
                 \"name\" : \"Example Recipient\"}.",
            ));
            String::new()
        }
    };

    // personalizations
    let template = o.get("template_id");
    if let Some(t) = template {
        if !t.is_string() {
            errors.push(SgError::at(
                "template_id",
                "template_id",
                format!("The template ID must be a string, you provided {t}."),
            ));
        }
    }
    let mut every_personalization_has_subject = true;
    match o.get("personalizations") {
        Some(Value::Array(ps)) if !ps.is_empty() => {
            if ps.len() > limit::PERSONALIZATIONS {
                errors.push(SgError::at(
                    "personalizations",
                    "personalizations",
                    format!(
                        "The personalization block is limited to 1000 personalizations per API \
                         request. You have provided {} personalizations. Please consider \
                         splitting this into multiple requests and resending your request.",
                        ps.len()
                    ),
                ));
            }
            let mut total = 0usize;
            for (i, p) in ps.iter().enumerate() {
                let Some(p) = p.as_object() else {
                    errors.push(SgError::at(
                        format!("personalizations.{i}"),
                        "personalizations",
                        "Invalid type. Expected: object, given: ".to_string() + type_name(p) + ".",
                    ));
                    continue;
                };
                if p.get("subject")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    every_personalization_has_subject = false;
                }
                total += personalization(i, p, &mut errors);
            }
            if total > limit::RECIPIENTS {
                errors.push(SgError::at(
                    "personalizations",
                    "personalizations",
                    "There is a limit of 1000 total recipients (to + cc + bcc) per request.",
                ));
            }
        }
        _ => {
            every_personalization_has_subject = false;
            errors.push(SgError::at(
                "personalizations",
                "personalizations",
                "The personalizations field is required and must have at least one \
                 personalization.",
            ))
        }
    }

    // subject
    match o.get("subject") {
        Some(Value::String(s)) if !s.is_empty() => size += s.len(),
        Some(Value::String(_)) => errors.push(SgError::at(
            "subject",
            "subject",
            "The subject of your email must be a string at least one character in length.",
        )),
        Some(other) if !other.is_null() => errors.push(SgError::at(
            "subject",
            "subject",
            "The subject of your email must be a string at least one character in length.",
        )),
        _ if template.is_some() || every_personalization_has_subject => {}
        _ => errors.push(SgError::at(
            "subject",
            "subject",
            "The subject is required. You can get around this requirement if you use a template \
             with a subject defined or if every personalization has a subject defined.",
        )),
    }

    // reply_to
    if let Some(r) = o.get("reply_to") {
        match r.as_object() {
            Some(r) if r.get("email").and_then(Value::as_str).is_some_and(is_email) => {
                check_name(r, "reply_to", "reply_to", &mut errors)
            }
            _ => errors.push(SgError::at(
                "reply_to.email",
                "reply_to",
                "The reply_to email does not contain a valid address.",
            )),
        }
    }

    // content
    match o.get("content") {
        Some(Value::Array(blocks)) if !blocks.is_empty() => {
            size += content(blocks, &mut errors);
        }
        Some(Value::Array(_)) | None | Some(Value::Null) if template.is_some() => {}
        _ => errors.push(SgError::at(
            "content",
            "content",
            "Unless a valid template_id is provided, the content parameter is required. There \
             must be at least one defined content block. We typically suggest both text/plain \
             and text/html blocks are included, but only one block is required.",
        )),
    }

    // attachments
    match o.get("attachments") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (i, a) in list.iter().enumerate() {
                size += attachment(i, a, &mut errors);
            }
        }
        Some(other) => errors.push(SgError::at(
            "attachments",
            "attachments",
            format!(
                "Invalid type. Expected: array, given: {}.",
                type_name(other)
            ),
        )),
    }

    // categories
    match o.get("categories") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => categories(list, &mut errors),
        Some(_) => errors.push(SgError::at(
            "categories",
            "categories",
            "Categories must be an array of strings.",
        )),
    }

    // headers
    if let Some(h) = o.get("headers") {
        size += headers(h, "headers", &mut errors);
    }

    // custom_args
    if let Some(c) = o.get("custom_args") {
        custom_args(c, "custom_args", &mut errors);
    }

    if errors.is_empty() {
        Ok(Checked { from, size })
    } else {
        Err(errors)
    }
}

/// Checks one personalization; answers its number of recipients.
fn personalization(i: usize, p: &Map<String, Value>, errors: &mut Vec<SgError>) -> usize {
    let mut seen: Vec<(String, &str)> = Vec::new();
    let mut count = 0;
    let mut duplicate: Option<(String, &str)> = None;
    for list in ["to", "cc", "bcc"] {
        let field = format!("personalizations.{i}.{list}");
        let anchor = format!("personalizations.{list}");
        let entries = match p.get(list) {
            None | Some(Value::Null) if list == "to" => {
                errors.push(SgError::at(
                    &field,
                    &anchor,
                    "The to array is required for all personalization objects, and must have at \
                     least one email object with a valid email address.",
                ));
                continue;
            }
            None | Some(Value::Null) => continue,
            Some(Value::Array(entries)) if !entries.is_empty() => entries,
            Some(_) => {
                errors.push(SgError::at(
                    &field,
                    &anchor,
                    format!(
                        "The {list} array, when used, must at least have an email parameter with \
                         a valid email address and it may also contain a name parameter. e.g. \
                         {{\"email\" : \"example@example.com\"}} or {{\"email\" : \
                         \"example@example.com\", \"name\" : \"Example Recipient\"}}."
                    ),
                ));
                continue;
            }
        };
        for (j, entry) in entries.iter().enumerate() {
            count += 1;
            let email = entry
                .as_object()
                .and_then(|e| e.get("email"))
                .and_then(Value::as_str);
            match email {
                Some(email) if is_email(email) => {
                    if let Some(e) = entry.as_object() {
                        check_name(e, &format!("{field}.{j}"), &anchor, errors);
                    }
                    let key = email.to_ascii_lowercase();
                    if duplicate.is_none() && seen.iter().any(|(k, _)| *k == key) {
                        duplicate = Some((email.to_string(), list));
                    }
                    seen.push((key, list));
                }
                _ => errors.push(SgError::at(
                    format!("{field}.{j}.email"),
                    &anchor,
                    "Does not contain a valid address.",
                )),
            }
        }
    }
    if let Some((email, list)) = duplicate {
        errors.push(SgError::at(
            format!("personalizations.{i}"),
            "personalizations",
            format!(
                "Each email address in the personalization block should be unique between to, cc, \
                 and bcc. We found the first duplicate instance of [{email}] in the \
                 personalizations.{i}.{list} field."
            ),
        ));
    }
    if let Some(s) = p.get("subject") {
        if s.as_str().is_none_or(str::is_empty) {
            errors.push(SgError::at(
                format!("personalizations.{i}.subject"),
                "personalizations.subject",
                "The subject of your email must be a string at least one character in length.",
            ));
        }
    }
    if let Some(h) = p.get("headers") {
        headers(h, &format!("personalizations.{i}.headers"), errors);
    }
    if let Some(c) = p.get("custom_args") {
        custom_args(c, &format!("personalizations.{i}.custom_args"), errors);
    }
    count
}

/// A `name`, when present, must be a string.
fn check_name(o: &Map<String, Value>, field: &str, anchor: &str, errors: &mut Vec<SgError>) {
    if let Some(name) = o.get("name") {
        if !name.is_string() && !name.is_null() {
            errors.push(SgError::at(
                format!("{field}.name"),
                anchor,
                format!(
                    "Invalid type. Expected: string, given: {}.",
                    type_name(name)
                ),
            ));
        }
    }
}

/// Checks the content blocks; answers the size of their values.
fn content(blocks: &[Value], errors: &mut Vec<SgError>) -> usize {
    let mut size = 0;
    let mut types = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let o = block.as_object();
        match o.and_then(|o| o.get("type")).and_then(Value::as_str) {
            None | Some("") => errors.push(SgError::at(
                format!("content.{i}.type"),
                "content.type",
                "A content type is required, this tells email clients how to display the email.",
            )),
            Some(t) if t.contains([';', '\r', '\n']) => errors.push(SgError::at(
                format!("content.{i}.type"),
                "content.type",
                "Cannot contain ';', or CRLF characters.",
            )),
            Some(t) => types.push(t.to_ascii_lowercase()),
        }
        match o.and_then(|o| o.get("value")).and_then(Value::as_str) {
            Some(v) if !v.is_empty() => size += v.len(),
            _ => errors.push(SgError::at(
                format!("content.{i}.value"),
                "content.value",
                "The content value must be a string at least one character in length.",
            )),
        }
    }
    let rank = |t: &str| match t {
        "text/plain" => 0,
        "text/html" => 1,
        _ => 2,
    };
    if types.windows(2).any(|w| rank(&w[0]) > rank(&w[1])) {
        errors.push(SgError::at(
            "content",
            "content.value",
            "Following RFC 1341, section 7.2, if either text/html or text/plain are to be sent in \
             your email: text/plain needs to be first, followed by text/html, followed by any \
             other content.",
        ));
    }
    size
}

/// Checks one attachment; answers its decoded size and the size of its name and type.
fn attachment(i: usize, a: &Value, errors: &mut Vec<SgError>) -> usize {
    let field = |leaf: &str| format!("attachments.{i}.{leaf}");
    let Some(a) = a.as_object() else {
        errors.push(SgError::at(
            format!("attachments.{i}"),
            "attachments",
            format!("Invalid type. Expected: object, given: {}.", type_name(a)),
        ));
        return 0;
    };
    let mut size = 0;
    match a.get("content").and_then(Value::as_str) {
        Some(c) if !c.is_empty() => match decode_base64(c) {
            Some(bytes) => size += bytes.len(),
            None => errors.push(SgError::at(
                field("content"),
                "attachments.content",
                "The attachment content must be base64 encoded.",
            )),
        },
        _ => errors.push(SgError::at(
            field("content"),
            "attachments.content",
            "The attachment content must be a string at least one character in length.",
        )),
    }
    match a.get("filename") {
        Some(Value::String(f)) if f.contains(['\r', '\n']) => errors.push(SgError::at(
            field("filename"),
            "attachments.filename",
            "The filename of your attachment can't contain CRLF characters.",
        )),
        Some(Value::String(f)) if !f.is_empty() => size += f.len(),
        Some(Value::String(_)) | None | Some(Value::Null) => errors.push(SgError::at(
            field("filename"),
            "attachments.filename",
            "filename is required.",
        )),
        Some(_) => errors.push(SgError::at(
            field("filename"),
            "attachments.filename",
            "The filename of your attachment must be a string.",
        )),
    }
    match a.get("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.is_empty() => errors.push(SgError::at(
            field("type"),
            "attachments.type",
            "The attachment type must be a string and at least one character in length.",
        )),
        Some(Value::String(t)) if t.contains([';', '\r', '\n']) => errors.push(SgError::at(
            field("type"),
            "attachments.type",
            "The type can't contain ';', or CRLF characters.",
        )),
        Some(Value::String(t)) => size += t.len(),
        Some(_) => errors.push(SgError::at(
            field("type"),
            "attachments.type",
            "The attachment type must be a string and at least one character in length.",
        )),
    }
    let disposition = match a.get("disposition") {
        None | Some(Value::Null) => "attachment".to_string(),
        Some(Value::String(d)) if d == "inline" || d == "attachment" => d.clone(),
        Some(other) => {
            errors.push(SgError::at(
                field("disposition"),
                "attachments.disposition",
                format!(
                    "The disposition of your attachment can be either \"inline\" or \
                     \"attachment\". You provided {other}."
                ),
            ));
            "attachment".to_string()
        }
    };
    match a.get("content_id") {
        None | Some(Value::Null) if disposition == "inline" => errors.push(SgError::at(
            field("content_id"),
            "attachments.content_id",
            "The content_id parameter is required if your attachment is inline.",
        )),
        None | Some(Value::Null) => {}
        Some(Value::String(c)) if c.contains(['\r', '\n']) => errors.push(SgError::at(
            field("content_id"),
            "attachments.content_id",
            "The content ID of your attachment can't contain CRLF characters.",
        )),
        Some(Value::String(_)) => {}
        Some(other) => errors.push(SgError::at(
            field("content_id"),
            "attachments.content_id",
            format!("The content ID of your attachment must be a string. You provided {other}."),
        )),
    }
    size
}

fn categories(list: &[Value], errors: &mut Vec<SgError>) {
    if list.len() > limit::CATEGORIES {
        errors.push(SgError::at(
            "categories",
            "categories",
            format!(
                "There is a limit of 10 categories for each email that is sent. You provided {} \
                 categories.",
                list.len()
            ),
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let field = format!("categories.{i}");
        let Some(c) = c.as_str() else {
            errors.push(SgError::at(
                field,
                "categories",
                "Categories must be an array of strings.",
            ));
            continue;
        };
        if c.chars().count() > limit::CATEGORY_CHARS {
            errors.push(SgError::at(
                &field,
                "categories",
                format!(
                    "Each category must not be longer than 255 characters. {c} exceeds this limit."
                ),
            ));
        }
        if !c.is_ascii() {
            errors.push(SgError::at(
                &field,
                "categories",
                "Categories can not contain non-ASCII characters.",
            ));
        }
        if seen.contains(&c) {
            errors.push(SgError::at(
                &field,
                "categories",
                format!(
                    "The categories must be a unique list, and you have included {c} more than \
                     once."
                ),
            ));
        }
        seen.push(c);
    }
}

/// Checks a `headers` object; answers the size of its names and values.
fn headers(h: &Value, field: &str, errors: &mut Vec<SgError>) -> usize {
    let Some(h) = h.as_object() else {
        errors.push(SgError::at(
            field,
            "headers",
            format!("Invalid type. Expected: object, given: {}.", type_name(h)),
        ));
        return 0;
    };
    let mut size = 0;
    for (name, value) in h {
        let Some(value) = value.as_str() else {
            errors.push(SgError::at(
                field,
                "headers",
                "The header values must be strings.",
            ));
            continue;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            errors.push(SgError::at(
                field,
                "headers",
                "Header keys can't contain non-ASCII characters and empty spaces.",
            ));
        } else if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            errors.push(SgError::at(
                field,
                "headers",
                "Header can not be one of the reserved keys.",
            ));
        }
        size += name.len() + value.len();
    }
    size
}

fn custom_args(c: &Value, field: &str, errors: &mut Vec<SgError>) {
    let Some(map) = c.as_object() else {
        errors.push(SgError::at(
            field,
            "custom_args",
            format!("Invalid type. Expected: object, given: {}.", type_name(c)),
        ));
        return;
    };
    if map.is_empty() {
        errors.push(SgError::at(
            field,
            "custom_args",
            "custom_args can't be empty.",
        ));
    }
    if map.values().any(|v| !v.is_string()) {
        errors.push(SgError::at(
            field,
            "custom_args",
            "All values of custom arguments object must be strings",
        ));
    }
    if c.to_string().len() > limit::CUSTOM_ARGS_BYTES {
        errors.push(SgError::at(
            field,
            "custom_args",
            "The custom_args parameter may not exceed 10,000 bytes.",
        ));
    }
}

/// The JSON type of a value as SendGrid names it: the kind without its article (`boolean`).
fn type_name(v: &Value) -> &'static str {
    let kind = switchyard_host::json::json_kind(v);
    kind.rsplit(' ').next().unwrap_or(kind)
}

/// Whether SendGrid takes `email` as an address: `local@domain.tld`, no spaces or control
/// characters, a dotted domain of letters, digits and inner hyphens.
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    if local.is_empty()
        || local.len() > 64
        || local.contains('@')
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
        || local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"(),:;<>[\\]".contains(c))
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// Decodes standard base64 (RFC 4648 alphabet, `=` padding required, no whitespace), as
/// SendGrid requires for attachment content; `None` when it is not.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.len() / 4;
    for (n, chunk) in bytes.chunks(4).enumerate() {
        let last = n + 1 == chunks;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &chunk[..4 - pad] {
            acc = (acc << 6) | value(c)?;
        }
        acc <<= 6 * pad as u32;
        let decoded = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        // Non-canonical padding bits are refused, as strict decoders do.
        match pad {
            0 => out.extend_from_slice(&decoded),
            1 if decoded[2] == 0 => out.extend_from_slice(&decoded[..2]),
            2 if decoded[1] == 0 && decoded[2] == 0 => out.push(decoded[0]),
            _ => return None,
        }
    }
    Some(out)
}

/// Encodes standard base64 with padding (for tests that build bodies by hand).
pub fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
