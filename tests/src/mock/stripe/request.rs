//! Stripe's request side: its error answers, the parameter readers with Stripe's checks and
//! messages (unknown and missing parameters, integers, booleans, enums, string lengths,
//! metadata limits, emails, `expand[]`), and list paging.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::form;

/// Params as parsed from the form body or the query string.
pub(super) type Params = Map<String, Value>;

/// A Stripe error answer: `{"error": {type, code, decline_code, message, param, ...}}`.
#[derive(Debug, Clone)]
pub(super) struct ApiError {
    pub status: u16,
    pub kind: &'static str,
    pub code: Option<String>,
    pub message: String,
    pub param: Option<String>,
    /// More fields of the error object (`decline_code`, `payment_intent`, `charge`...).
    pub extra: Map<String, Value>,
    /// Whether an idempotency key keeps this answer. Stripe keeps every answer of a request that
    /// started executing, and none of a request that failed validation.
    pub saved: bool,
    /// The `Stripe-Should-Retry` header, when Stripe sends one.
    pub should_retry: Option<bool>,
}

impl ApiError {
    /// A 400 `invalid_request_error` from validation (not kept by idempotency keys).
    pub fn invalid(message: impl Into<String>, param: Option<&str>) -> ApiError {
        ApiError {
            status: 400,
            kind: "invalid_request_error",
            code: None,
            message: message.into(),
            param: param.map(str::to_string),
            extra: Map::new(),
            saved: false,
            should_retry: None,
        }
    }

    pub fn code(mut self, code: &str) -> ApiError {
        self.code = Some(code.to_string());
        self
    }

    pub fn status(mut self, status: u16) -> ApiError {
        self.status = status;
        self
    }

    pub fn kind(mut self, kind: &'static str) -> ApiError {
        self.kind = kind;
        self
    }

    /// Marks the error as an outcome of execution, kept and replayed by idempotency keys.
    pub fn saved(mut self) -> ApiError {
        self.saved = true;
        self
    }

    pub fn with(mut self, field: &str, value: Value) -> ApiError {
        self.extra.insert(field.to_string(), value);
        self
    }

    pub fn should_retry(mut self, retry: bool) -> ApiError {
        self.should_retry = Some(retry);
        self
    }

    /// `Missing required param: {param}.`
    pub fn missing_param(param: &str) -> ApiError {
        ApiError::invalid(format!("Missing required param: {param}."), Some(param))
            .code("parameter_missing")
    }

    /// `Received unknown parameter: {param}`
    pub fn unknown_param(param: &str) -> ApiError {
        ApiError::invalid(format!("Received unknown parameter: {param}"), Some(param))
            .code("parameter_unknown")
    }

    /// `No such {what}: '{id}'` (`resource_missing`).
    pub fn no_such(what: &str, id: &str, param: &str, status: u16) -> ApiError {
        ApiError::invalid(format!("No such {what}: '{id}'"), Some(param))
            .code("resource_missing")
            .status(status)
    }

    /// The body Stripe answers.
    pub fn to_json(&self) -> Value {
        let mut error = Map::new();
        if let Some(code) = &self.code {
            error.insert("code".into(), json!(code));
            error.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        error.insert("message".into(), json!(self.message));
        if let Some(param) = &self.param {
            error.insert("param".into(), json!(param));
        }
        error.insert("type".into(), json!(self.kind));
        for (k, v) in &self.extra {
            error.insert(k.clone(), v.clone());
        }
        json!({ "error": error })
    }
}

/// Keeps only the params an endpoint knows; Stripe refuses any other.
pub(super) fn allow(params: &Params, known: &[&str]) -> Result<(), ApiError> {
    match params.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(ApiError::unknown_param(unknown)),
        None => Ok(()),
    }
}

/// A plain string parameter.
pub(super) fn string(params: &Params, name: &str) -> Result<Option<String>, ApiError> {
    match params.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid(
            format!("Invalid string: {name} must be a string, not a hash or an array"),
            Some(name),
        )),
    }
}

/// A string of at most `max` characters.
pub(super) fn bounded(params: &Params, name: &str, max: usize) -> Result<Option<String>, ApiError> {
    let value = string(params, name)?;
    if let Some(v) = &value {
        if v.chars().count() > max {
            let head: String = v.chars().take(10).collect();
            return Err(ApiError::invalid(
                format!("Invalid string: {head}...; must be at most {max} characters"),
                Some(name),
            ));
        }
    }
    Ok(value)
}

pub(super) fn integer(params: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    match string(params, name)? {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::invalid(format!("Invalid integer: {v}"), Some(name))),
    }
}

pub(super) fn positive(params: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    match integer(params, name)? {
        Some(n) if n <= 0 => Err(ApiError::invalid(
            format!("Invalid positive integer: {n}"),
            Some(name),
        )),
        other => Ok(other),
    }
}

pub(super) fn boolean(params: &Params, name: &str) -> Result<Option<bool>, ApiError> {
    match string(params, name)?.as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(ApiError::invalid(
            format!("Invalid boolean: {other}"),
            Some(name),
        )),
    }
}

pub(super) fn one_of(
    params: &Params,
    name: &str,
    allowed: &[&str],
) -> Result<Option<String>, ApiError> {
    match string(params, name)? {
        Some(v) if !allowed.contains(&v.as_str()) => {
            let list = match allowed.split_last() {
                Some((last, rest)) if !rest.is_empty() => {
                    format!("{}, or {last}", rest.join(", "))
                }
                _ => allowed.join(", "),
            };
            Err(ApiError::invalid(
                format!("Invalid {name}: must be one of {list}"),
                Some(name),
            ))
        }
        other => Ok(other),
    }
}

/// Metadata changes: `metadata=` clears every key; `metadata[k]=` removes `k`.
pub(super) enum MetadataChange {
    ClearAll,
    Set(Vec<(String, String)>),
}

pub(super) fn metadata(params: &Params) -> Result<Option<MetadataChange>, ApiError> {
    let pairs = match params.get("metadata") {
        None => return Ok(None),
        Some(Value::String(s)) if s.is_empty() => return Ok(Some(MetadataChange::ClearAll)),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(ApiError::invalid("Invalid object", Some("metadata"))),
    };
    if pairs.len() > 50 {
        return Err(ApiError::invalid(
            format!(
                "You can have up to 50 metadata keys, but you passed in {} keys.",
                pairs.len()
            ),
            Some("metadata"),
        ));
    }
    let mut out = Vec::new();
    for (k, v) in pairs {
        let param = format!("metadata[{k}]");
        let Value::String(v) = v else {
            return Err(ApiError::invalid("Invalid string", Some(&param)));
        };
        if k.chars().count() > 40 {
            return Err(ApiError::invalid(
                format!(
                    "Metadata keys can have up to 40 characters, but you passed in a key that is {} characters long.",
                    k.chars().count()
                ),
                Some(&param),
            ));
        }
        if v.chars().count() > 500 {
            return Err(ApiError::invalid(
                format!(
                    "Metadata values can have up to 500 characters, but you passed in a value that is {} characters long.",
                    v.chars().count()
                ),
                Some(&param),
            ));
        }
        out.push((k.clone(), v.clone()));
    }
    Ok(Some(MetadataChange::Set(out)))
}

pub(super) fn apply_metadata(
    target: &mut BTreeMap<String, String>,
    change: Option<MetadataChange>,
) {
    match change {
        None => {}
        Some(MetadataChange::ClearAll) => target.clear(),
        Some(MetadataChange::Set(pairs)) => {
            for (k, v) in pairs {
                if v.is_empty() {
                    target.remove(&k);
                } else {
                    target.insert(k, v);
                }
            }
        }
    }
}

/// Empty strings unset a field, as Stripe does.
pub(super) fn unset_empty(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| (!v.is_empty()).then_some(v))
}

/// An email address as Stripe checks it (`email_invalid`).
pub(super) fn check_email(email: &str) -> Result<(), ApiError> {
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(
            ApiError::invalid(format!("Invalid email address: {email}"), Some("email"))
                .code("email_invalid"),
        )
    }
}

/// The `expand[]` paths of a request; each must be one of `allowed`.
pub(super) fn expansions(params: &Params, allowed: &[&str]) -> Result<Vec<String>, ApiError> {
    let list = form::list(params, "expand")
        .map_err(|m| ApiError::invalid(m, Some("expand")))?
        .unwrap_or_default();
    for path in &list {
        if !allowed.contains(&path.as_str()) {
            return Err(ApiError::invalid(
                format!("This property cannot be expanded ({path})."),
                Some("expand"),
            ));
        }
    }
    Ok(list)
}

/// List paging parameters.
pub(super) struct Page {
    limit: usize,
    starting_after: Option<String>,
    ending_before: Option<String>,
}

pub(super) fn page(params: &Params) -> Result<Page, ApiError> {
    let limit = match integer(params, "limit")? {
        None => 10,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::invalid(
                format!("Invalid limit: must be between 1 and 100, got {n}"),
                Some("limit"),
            ))
        }
    };
    let starting_after = string(params, "starting_after")?;
    let ending_before = string(params, "ending_before")?;
    if starting_after.is_some() && ending_before.is_some() {
        return Err(ApiError::invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            Some("starting_after"),
        ));
    }
    Ok(Page {
        limit,
        starting_after,
        ending_before,
    })
}

/// One page of `items` (newest first), as Stripe's list object.
pub(super) fn list_page(
    url: &str,
    items: Vec<(String, Value)>,
    page: &Page,
    exists: impl Fn(&str) -> bool,
    what: &str,
) -> Result<Value, ApiError> {
    let check = |id: &str, param: &str| {
        if exists(id) {
            Ok(())
        } else {
            Err(ApiError::no_such(what, id, param, 400))
        }
    };
    let (data, has_more) = if let Some(after) = &page.starting_after {
        check(after, "starting_after")?;
        let start = items
            .iter()
            .position(|(id, _)| id == after)
            .map(|i| i + 1)
            .unwrap_or(items.len());
        let rest = &items[start..];
        let take = rest.len().min(page.limit);
        (rest[..take].to_vec(), rest.len() > take)
    } else if let Some(before) = &page.ending_before {
        check(before, "ending_before")?;
        let end = items.iter().position(|(id, _)| id == before).unwrap_or(0);
        let head = &items[..end];
        let start = head.len().saturating_sub(page.limit);
        (head[start..].to_vec(), start > 0)
    } else {
        let take = items.len().min(page.limit);
        (items[..take].to_vec(), items.len() > take)
    };
    Ok(json!({
        "object": "list",
        "data": data.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "has_more": has_more,
        "url": url,
    }))
}

/// The expansions that apply to each item of a list (`data.latest_charge` → `latest_charge`).
pub(super) fn item_expansions(expand: &[String]) -> Vec<String> {
    expand
        .iter()
        .filter_map(|p| p.strip_prefix("data.").map(str::to_string))
        .collect()
}
