//! The contract's input rules (the same as the host-native index's), checked before any
//! request leaves: names, field paths, settings, ids, bodies, batch sizes, and searches
//! against the index's settings. Errors name the field and the value.

use serde_json::{Map, Value};
use switchyard_sdk::search::{FilterOp, IndexSettings, Scalar, SearchRequest};
use switchyard_sdk::types::Error;

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
/// The longest query, in bytes (Algolia's limit is 512 characters of query: longer ones
/// are cut by Algolia; this is the contract's).
pub const MAX_QUERY: usize = 1024;
/// The most filters, facet-filter groups, values in a group, or facets in one search.
pub const MAX_CONDITIONS: usize = 64;
/// The longest text value of a filter.
pub const MAX_KEYWORD: usize = 1024;
/// The default and largest page.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 1000;
/// The default and largest number of values per facet.
pub const DEFAULT_FACET_VALUES: u32 = 100;
pub const MAX_FACET_VALUES: u32 = 1000;
/// The longest highlight tag, in bytes.
pub const MAX_TAG: usize = 256;
/// What the adapter puts in the names of the replica indices it makes for sorting; an
/// index name must not contain it.
pub const REPLICA_MARK: &str = "__sort__";

fn invalid(message: String) -> Error {
    Error::invalid_input(message)
}

/// Checks an index name (the tenant's, before the prefix).
pub fn index_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        return Err(invalid(format!(
            "index name {name:?} is not valid: use 1 to {MAX_NAME} characters of A-Z a-z 0-9 . _ -, not starting with ."
        )));
    }
    if name.contains(REPLICA_MARK) {
        return Err(invalid(format!(
            "index name {name:?} is not valid: `{REPLICA_MARK}` is kept for the replica indices that sort results"
        )));
    }
    Ok(())
}

/// Checks a field path; `at` names where it was given.
pub fn field(at: &str, field: &str) -> Result<(), Error> {
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

/// Checks index settings.
pub fn settings(s: &IndexSettings) -> Result<(), Error> {
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
        for (i, f) in list.iter().enumerate() {
            field(&format!("{what}[{i}]"), f)?;
            if list[..i].contains(f) {
                return Err(invalid(format!("{what} lists {f:?} twice")));
            }
        }
    }
    Ok(())
}

/// Checks a document id; `at` names it in errors.
pub fn id(at: &str, id: &str) -> Result<(), Error> {
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
pub fn object(at: &str, text: &str) -> Result<Map<String, Value>, Error> {
    if text.len() > MAX_BODY {
        return Err(Error::too_large(format!(
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

/// A body must not carry an `objectID` other than the document's id: Algolia keeps the
/// id there.
pub fn no_other_object_id(at: &str, id: &str, body: &Map<String, Value>) -> Result<(), Error> {
    match body.get("objectID") {
        None => Ok(()),
        Some(Value::String(s)) if s == id => Ok(()),
        Some(_) => Err(invalid(format!(
            "{at} has a top-level `objectID` field other than the document's id: Algolia keeps the id in `objectID`"
        ))),
    }
}

/// A merged document must stay within [`MAX_BODY`].
pub fn merged(id: &str, body: &Value) -> Result<(), Error> {
    let len = body.to_string().len();
    if len > MAX_BODY {
        return Err(Error::too_large(format!(
            "document {id:?} would be {len} bytes after the update; the most is {MAX_BODY}"
        )));
    }
    Ok(())
}

/// Checks a batch's size.
pub fn batch(what: &str, n: usize) -> Result<(), Error> {
    if n == 0 {
        return Err(invalid(format!("{what} is empty")));
    }
    if n > MAX_BATCH {
        return Err(Error::too_large(format!(
            "{what} has {n} items; the most in one batch is {MAX_BATCH}"
        )));
    }
    Ok(())
}

/// A search checked against the index's settings: the page window and the number of
/// facet values.
pub struct Checked {
    pub offset: usize,
    pub limit: usize,
    pub max_facet_values: u32,
}

/// Checks a search against the index's settings; `window` is the index's
/// `paginationLimitedTo` (the last position a page may start at).
pub fn search(
    index: &str,
    settings: &IndexSettings,
    r: &SearchRequest,
    window: usize,
) -> Result<Checked, Error> {
    let filterable = |f: &String| settings.facets.contains(f) || settings.filterable.contains(f);
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
    for (i, f) in r.filters.iter().enumerate() {
        let at = format!("request.filters[{i}]");
        field(&at, &f.field)?;
        if !filterable(&f.field) {
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
                    "{at}.value is {} bytes; the most is {MAX_KEYWORD}",
                    t.len()
                )))
            }
            (Scalar::Text(_), op) if !matches!(op, FilterOp::Eq | FilterOp::Ne) => {
                return Err(Error::unsupported(format!(
                    "{at}: Algolia compares only numbers with gt, gte, lt and lte; a text range on {:?} cannot be expressed in its filters",
                    f.field
                )))
            }
            _ => {}
        }
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
        for (j, (f, _)) in group.iter().enumerate() {
            let at = format!("{at}[{j}]");
            field(&at, f)?;
            if !filterable(f) {
                return Err(not_in(&at, f, "filterable (or facets)"));
            }
        }
    }
    if r.facets.len() > MAX_CONDITIONS {
        return Err(invalid(format!(
            "request.facets has {} fields; the most is {MAX_CONDITIONS}",
            r.facets.len()
        )));
    }
    for (i, f) in r.facets.iter().enumerate() {
        let at = format!("request.facets[{i}]");
        field(&at, f)?;
        if !settings.facets.contains(f) {
            return Err(not_in(&at, f, "facets"));
        }
    }
    let max_facet_values = r.max_facet_values.unwrap_or(DEFAULT_FACET_VALUES);
    if max_facet_values == 0 || max_facet_values > MAX_FACET_VALUES {
        return Err(invalid(format!(
            "request.max-facet-values must be 1 to {MAX_FACET_VALUES}, not {max_facet_values}"
        )));
    }
    if let Some(h) = &r.highlight {
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
    }
    if let Some(s) = &r.sort {
        field("request.sort", &s.field)?;
        if !settings.sortable.contains(&s.field) {
            return Err(not_in("request.sort", &s.field, "sortable"));
        }
    }
    let offset = match &r.page.cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|o| *o <= window)
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
    Ok(Checked {
        offset,
        limit: limit as usize,
        max_facet_values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(index_name("books-2024.v1").is_ok());
        for bad in [
            "",
            ".x",
            "a/b",
            "a*",
            "acme_*",
            "x__sort__y",
            &"x".repeat(129),
        ] {
            assert!(index_name(bad).is_err(), "{bad}");
        }
        assert!(field("f", "author.name").is_ok());
        assert!(field("f", "a..b").is_err());
    }

    #[test]
    fn bodies() {
        assert!(object("b", "{\"a\": 1}").is_ok());
        assert!(object("b", "[1]")
            .unwrap_err()
            .message
            .contains("a JSON object"));
        let body = object("b", "{\"objectID\": \"x\"}").unwrap();
        assert!(no_other_object_id("b", "x", &body).is_ok());
        assert!(no_other_object_id("b", "y", &body).is_err());
    }
}
