//! The search contract's input rules: limits, and the checks every call makes before the
//! engine sees its request (names, ids, sizes, fields against the index's settings).

use serde_json::{Map, Value};

use crate::bindings::base::switchyard::types::types::{self, ErrorKind};
use crate::bindings::search::switchyard::search::types::{
    FilterOp, IndexSettings, Scalar, SearchRequest,
};
use crate::contract::{error, invalid};

use super::query::{Search, MAX_WINDOW};
use super::schema::{Settings, MAX_KEYWORD};

type WitError = types::Error;

/// The longest index or field name.
pub const MAX_NAME: usize = 128;
/// The most fields in one settings list.
pub const MAX_FIELDS: usize = 64;
/// The longest document id, in bytes.
pub const MAX_ID: usize = 512;
/// The largest document body, in bytes.
pub const MAX_BODY: usize = 100 * 1024;
/// The most items in one batch.
pub const MAX_BATCH: usize = 1000;
/// The longest query, in bytes.
pub const MAX_QUERY: usize = 1024;
/// The most filters, facet-filter groups, values in a group, or facets in one search.
pub const MAX_CONDITIONS: usize = 64;
/// The default page.
pub const DEFAULT_LIMIT: u32 = 20;
/// The largest page.
pub const MAX_LIMIT: u32 = 1000;
/// The default number of values per facet.
pub const DEFAULT_FACET_VALUES: u32 = 100;
/// The largest number of values per facet.
pub const MAX_FACET_VALUES: u32 = 1000;
/// The longest highlight tag, in bytes.
pub const MAX_TAG: usize = 256;

/// A `too-large` error, never retryable.
fn too_large(message: String) -> WitError {
    let mut e = error(ErrorKind::TooLarge, message);
    e.retryable = false;
    e
}

/// Checks an index name.
pub(super) fn check_index_name(name: &str) -> Result<(), WitError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "index name {name:?} is not valid: use 1 to {MAX_NAME} characters of A-Z a-z 0-9 . _ -, not starting with ."
        )))
    }
}

/// Checks a field path; `at` names where it was given.
fn check_field(at: &str, field: &str) -> Result<(), WitError> {
    let ok = !field.is_empty()
        && field.len() <= MAX_NAME
        && field.split('.').all(|part| !part.is_empty())
        && field
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{at}: field {field:?} is not valid: use 1 to {MAX_NAME} characters of A-Z a-z 0-9 _ - and . between names"
        )))
    }
}

/// Checks index settings: at most [`MAX_FIELDS`] valid fields per list, none twice.
pub(super) fn check_settings(s: &IndexSettings) -> Result<Settings, WitError> {
    for (what, list) in [
        ("settings.searchable", &s.searchable),
        ("settings.facets", &s.facets),
        ("settings.filterable", &s.filterable),
        ("settings.sortable", &s.sortable),
    ] {
        if list.len() > MAX_FIELDS {
            return Err(invalid(format!(
                "{what} has {} fields; the most is {MAX_FIELDS}",
                list.len()
            )));
        }
        for (i, field) in list.iter().enumerate() {
            check_field(&format!("{what}[{i}]"), field)?;
            if list[..i].contains(field) {
                return Err(invalid(format!("{what} lists {field:?} twice")));
            }
        }
    }
    Ok(Settings::from_wit(s))
}

/// Checks a document id; `at` names it in errors.
pub(super) fn check_id(at: &str, id: &str) -> Result<(), WitError> {
    if id.is_empty() {
        return Err(invalid(format!("{at} must not be empty")));
    }
    if id.len() > MAX_ID {
        return Err(invalid(format!(
            "{at} is {} bytes; the most is {MAX_ID}",
            id.len()
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(invalid(format!("{at} {id:?} has control characters")));
    }
    Ok(())
}

/// Parses a JSON object of at most [`MAX_BODY`] bytes; `at` names it in errors.
pub(super) fn parse_object(at: &str, text: &str) -> Result<Map<String, Value>, WitError> {
    if text.len() > MAX_BODY {
        return Err(too_large(format!(
            "{at} is {} bytes; the most is {MAX_BODY}",
            text.len()
        )));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(other) => Err(invalid(format!(
            "{at} must be a JSON object, not {}",
            json_kind(&other)
        ))),
        Err(e) => Err(invalid(format!("{at} is not valid JSON: {e}"))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A merged document must stay within [`MAX_BODY`].
pub(super) fn check_merged(id: &str, body: &Value) -> Result<(), WitError> {
    let len = body.to_string().len();
    if len > MAX_BODY {
        return Err(too_large(format!(
            "document {id:?} would be {len} bytes after the update; the most is {MAX_BODY}"
        )));
    }
    Ok(())
}

/// Checks the size of a batch; `what` names it in errors.
pub(super) fn check_batch(what: &str, n: usize) -> Result<(), WitError> {
    if n == 0 {
        return Err(invalid(format!("{what} is empty")));
    }
    if n > MAX_BATCH {
        return Err(too_large(format!(
            "{what} has {n} items; the most in one batch is {MAX_BATCH}"
        )));
    }
    Ok(())
}

/// Checks a search against the index's settings and turns it into the engine's form.
pub(super) fn check_search(
    index: &str,
    settings: &Settings,
    r: &SearchRequest,
) -> Result<Search, WitError> {
    let not_in = |what: &str, field: &str, list: &str| {
        invalid(format!(
            "{what}: field {field:?} is not in settings.{list} of index {index:?}; add it with update-settings"
        ))
    };
    if r.query.len() > MAX_QUERY {
        return Err(invalid(format!(
            "request.query is {} bytes; the most is {MAX_QUERY}",
            r.query.len()
        )));
    }
    if r.filters.len() > MAX_CONDITIONS {
        return Err(invalid(format!(
            "request.filters has {} filters; the most is {MAX_CONDITIONS}",
            r.filters.len()
        )));
    }
    let mut filters = Vec::with_capacity(r.filters.len());
    for (i, f) in r.filters.iter().enumerate() {
        let at = format!("request.filters[{i}]");
        check_field(&at, &f.field)?;
        if !settings.filterable(&f.field) {
            return Err(not_in(&at, &f.field, "filterable (or facets)"));
        }
        match (&f.value, f.op) {
            (Scalar::Number(n), _) if !n.is_finite() => {
                return Err(invalid(format!("{at}.value must be a finite number")))
            }
            (Scalar::Boolean(_), op) if !matches!(op, FilterOp::Eq | FilterOp::Ne) => {
                return Err(invalid(format!(
                    "{at}: a boolean value takes only eq and ne"
                )))
            }
            (Scalar::Text(t), _) if t.len() > MAX_KEYWORD => {
                return Err(invalid(format!(
                    "{at}.value is {} bytes; the most is {}",
                    t.len(),
                    MAX_KEYWORD
                )))
            }
            _ => {}
        }
        filters.push((f.field.clone(), f.op, f.value.clone()));
    }
    if r.facet_filters.len() > MAX_CONDITIONS {
        return Err(invalid(format!(
            "request.facet-filters has {} groups; the most is {MAX_CONDITIONS}",
            r.facet_filters.len()
        )));
    }
    for (i, group) in r.facet_filters.iter().enumerate() {
        let at = format!("request.facet-filters[{i}]");
        if group.is_empty() {
            return Err(invalid(format!(
                "{at} is empty: each group needs at least one (field, value)"
            )));
        }
        if group.len() > MAX_CONDITIONS {
            return Err(invalid(format!(
                "{at} has {} values; the most is {MAX_CONDITIONS}",
                group.len()
            )));
        }
        for (j, (field, _)) in group.iter().enumerate() {
            let at = format!("{at}[{j}]");
            check_field(&at, field)?;
            if !settings.filterable(field) {
                return Err(not_in(&at, field, "filterable (or facets)"));
            }
        }
    }
    if r.facets.len() > MAX_CONDITIONS {
        return Err(invalid(format!(
            "request.facets has {} fields; the most is {MAX_CONDITIONS}",
            r.facets.len()
        )));
    }
    for (i, field) in r.facets.iter().enumerate() {
        let at = format!("request.facets[{i}]");
        check_field(&at, field)?;
        if !settings.facets.contains(field) {
            return Err(not_in(&at, field, "facets"));
        }
    }
    let max_facet_values = r.max_facet_values.unwrap_or(DEFAULT_FACET_VALUES);
    if max_facet_values == 0 || max_facet_values > MAX_FACET_VALUES {
        return Err(invalid(format!(
            "request.max-facet-values must be 1 to {MAX_FACET_VALUES}, not {max_facet_values}"
        )));
    }
    let highlight = match &r.highlight {
        None => None,
        Some(h) => {
            for (what, tag) in [("pre-tag", &h.pre_tag), ("post-tag", &h.post_tag)] {
                if tag.len() > MAX_TAG {
                    return Err(invalid(format!(
                        "request.highlight.{what} is {} bytes; the most is {MAX_TAG}",
                        tag.len()
                    )));
                }
            }
            if let Some(m) = h.max_chars.filter(|m| !(16..=10_000).contains(m)) {
                return Err(invalid(format!(
                    "request.highlight.max-chars must be 16 to 10000, not {m}"
                )));
            }
            Some((
                h.pre_tag.clone(),
                h.post_tag.clone(),
                h.max_chars.map(|m| m as usize),
            ))
        }
    };
    let sort = match &r.sort {
        None => None,
        Some(s) => {
            check_field("request.sort", &s.field)?;
            if !settings.sortable.contains(&s.field) {
                return Err(not_in("request.sort", &s.field, "sortable"));
            }
            Some((s.field.clone(), s.order))
        }
    };
    let offset = match &r.page.cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|o| *o < MAX_WINDOW)
            .ok_or_else(|| {
                invalid(format!(
                    "request.page.cursor {c:?} is not a cursor this index gave"
                ))
            })?,
    };
    let limit = r.page.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(invalid(format!(
            "request.page.limit must be 1 to {MAX_LIMIT}, not {limit}"
        )));
    }
    Ok(Search {
        query: r.query.clone(),
        filters,
        facet_filters: r.facet_filters.clone(),
        facets: r.facets.clone(),
        max_facet_values: max_facet_values as usize,
        highlight,
        sort,
        offset,
        limit: (limit as usize).min(MAX_WINDOW - offset),
    })
}
