//! The monitoring contract's input rules: metric and tag names, events, breadcrumbs, pages.

use crate::bindings::base::switchyard::types::types::{self, ErrorKind, PageRequest};
use crate::bindings::monitoring::switchyard::monitoring::types::{Breadcrumb, ErrorEvent};
use crate::contract::{error, invalid};

type WitError = types::Error;
/// A series' or span's tags.
pub type Tags = Vec<(String, String)>;

/// Tags per series or span.
pub const MAX_TAGS: usize = 16;

/// The prefix of the host's own metrics, which tenants' metric names may not use.
pub const HOST_PREFIX: &str = "switchyard_";

/// Checks a metric name against the Prometheus rule.
pub fn check_name(name: &str) -> Result<(), WitError> {
    if name.starts_with(HOST_PREFIX) {
        return Err(invalid(format!(
            "metric name {name:?} is not valid: the `{HOST_PREFIX}` prefix is the host's own"
        )));
    }
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok
        && name.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    {
        Ok(())
    } else {
        Err(invalid(format!(
            "metric name {name:?} is not valid: use 1 to 128 characters of [a-zA-Z_:][a-zA-Z0-9_:]*"
        )))
    }
}

/// Checks tags and sorts them by name; `at` names them in errors.
pub fn check_tags(at: &str, tags: &Tags) -> Result<Tags, WitError> {
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!(
            "{at} has {} entries; the most is {MAX_TAGS}",
            tags.len()
        )));
    }
    let mut sorted = tags.clone();
    sorted.sort();
    for (i, (k, v)) in sorted.iter().enumerate() {
        let mut chars = k.chars();
        let ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !k.starts_with("__")
            && k != "tenant";
        if !ok {
            return Err(invalid(format!(
                "{at}: tag name {k:?} is not valid: use [a-zA-Z_][a-zA-Z0-9_]*, not starting with __, and not `tenant` (the host adds it)"
            )));
        }
        if v.len() > 1024 {
            return Err(invalid(format!(
                "{at}: tag {k:?} is longer than 1024 bytes"
            )));
        }
        if i > 0 && sorted[i - 1].0 == *k {
            return Err(invalid(format!("{at}: tag {k:?} is given twice")));
        }
    }
    Ok(sorted)
}

/// Checks that `text`, when given, is a JSON object; `what` names it in the error.
pub fn check_json_object(what: &str, text: Option<&str>) -> Result<(), WitError> {
    match text {
        None => Ok(()),
        Some(t) => match serde_json::from_str::<serde_json::Value>(t) {
            Ok(serde_json::Value::Object(_)) => Ok(()),
            _ => Err(invalid(format!("{what} must be a JSON object"))),
        },
    }
}

/// Checks a captured error event: kind, message size, tags, extra and breadcrumbs.
pub fn check_event(event: &ErrorEvent) -> Result<(), WitError> {
    if event.kind.trim().is_empty() {
        return Err(invalid("event.kind is empty"));
    }
    if event.message.len() > 64 * 1024 {
        return Err(error(
            ErrorKind::TooLarge,
            "event.message is longer than 64 KiB",
        ));
    }
    check_tags("event.tags", &event.tags)?;
    check_json_object("event.extra", event.extra.as_deref())?;
    for (i, b) in event.breadcrumbs.iter().enumerate() {
        check_breadcrumb(&format!("event.breadcrumbs[{i}]"), b)?;
    }
    Ok(())
}

/// Checks a breadcrumb; `at` names it in errors.
pub fn check_breadcrumb(at: &str, b: &Breadcrumb) -> Result<(), WitError> {
    if b.category.is_empty() {
        return Err(invalid(format!("{at}.category is empty")));
    }
    check_json_object(&format!("{at}.data"), b.data.as_deref())
}

/// The offset and size of a page of captured errors.
pub fn page_bounds(page: &PageRequest) -> Result<(usize, usize), WitError> {
    let offset = match &page.cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .map_err(|_| invalid(format!("page.cursor {c:?} is not a cursor this gave")))?,
    };
    Ok((offset, page.limit.unwrap_or(20).clamp(1, 100) as usize))
}
