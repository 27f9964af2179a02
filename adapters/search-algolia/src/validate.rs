//! The contract's input rules, checked before any request leaves: names, field paths,
//! settings, ids, bodies, batch sizes, and searches against the index's settings. The rules
//! are the contract's (`switchyard_sdk::rules::search`, the same as the host-native
//! index's); what is Algolia's own is here: the replica-name mark, `objectID` in bodies and
//! text ranges. Errors name the field and the value.

use serde_json::{Map, Value};
use switchyard_sdk::rules::{self, search as rule};
use switchyard_sdk::search::{FilterOp, IndexSettings, Scalar, SearchRequest};
use switchyard_sdk::types::Error;

pub use rule::Checked;

/// What the adapter puts in the names of the replica indices it makes for sorting; an
/// index name must not contain it.
pub const REPLICA_MARK: &str = "__sort__";

/// Checks an index name (the tenant's, before the prefix).
pub fn index_name(name: &str) -> Result<(), Error> {
    rule::index_name(name)?;
    if name.contains(REPLICA_MARK) {
        return Err(Error::invalid_input(format!(
            "index name {name:?} is not valid: `{REPLICA_MARK}` is kept for the replica indices that sort results"
        )));
    }
    Ok(())
}

/// Checks a field path; `at` names where it was given.
pub fn field(at: &str, field: &str) -> Result<(), Error> {
    Ok(rule::field(at, field)?)
}

/// Checks index settings.
pub fn settings(s: &IndexSettings) -> Result<(), Error> {
    Ok(rule::settings(
        &s.searchable,
        &s.facets,
        &s.filterable,
        &s.sortable,
    )?)
}

/// Checks a document id; `at` names it in errors.
pub fn id(at: &str, id: &str) -> Result<(), Error> {
    Ok(rule::id(at, id)?)
}

/// Parses a JSON object of at most [`rule::MAX_BODY`] bytes; `at` names it in errors.
pub fn object(at: &str, text: &str) -> Result<Map<String, Value>, Error> {
    rule::body(at, text.len())?;
    rules::json_object(at, text)
}

/// A body must not carry an `objectID` other than the document's id: Algolia keeps the
/// id there.
pub fn no_other_object_id(at: &str, id: &str, body: &Map<String, Value>) -> Result<(), Error> {
    match body.get("objectID") {
        None => Ok(()),
        Some(Value::String(s)) if s == id => Ok(()),
        Some(_) => Err(Error::invalid_input(format!(
            "{at} has a top-level `objectID` field other than the document's id: Algolia keeps the id in `objectID`"
        ))),
    }
}

/// A merged document must stay within [`rule::MAX_BODY`].
pub fn merged(id: &str, body: &Value) -> Result<(), Error> {
    Ok(rule::merged(id, body.to_string().len())?)
}

/// Checks a batch's size.
pub fn batch(what: &str, n: usize) -> Result<(), Error> {
    Ok(rule::batch(what, n)?)
}

/// Checks a search against the index's settings (the contract's rules, then Algolia's:
/// it compares only numbers in ranges); `window` is the index's `paginationLimitedTo`
/// (the last position a page may start at).
pub fn search(
    index: &str,
    settings: &IndexSettings,
    r: &SearchRequest,
    window: usize,
) -> Result<Checked, Error> {
    let fields = rule::Fields {
        facets: &settings.facets,
        filterable: &settings.filterable,
        sortable: &settings.sortable,
    };
    let view = rule::Request {
        query: &r.query,
        filters: r
            .filters
            .iter()
            .map(|f| rule::Filter {
                field: &f.field,
                value: match &f.value {
                    Scalar::Text(t) => rule::Value::Text(t),
                    Scalar::Number(n) => rule::Value::Number(*n),
                    Scalar::Boolean(b) => rule::Value::Boolean(*b),
                },
                equality: matches!(f.op, FilterOp::Eq | FilterOp::Ne),
            })
            .collect(),
        facet_filters: &r.facet_filters,
        facets: &r.facets,
        max_facet_values: r.max_facet_values,
        highlight: r.highlight.as_ref().map(|h| rule::Highlight {
            pre_tag: &h.pre_tag,
            post_tag: &h.post_tag,
            max_chars: h.max_chars,
        }),
        sort: r.sort.as_ref().map(|s| s.field.as_str()),
        cursor: r.page.cursor.as_deref(),
        limit: r.page.limit,
    };
    let checked = rule::request(index, &fields, &view, window)?;
    for (i, f) in r.filters.iter().enumerate() {
        if matches!(f.value, Scalar::Text(_)) && !matches!(f.op, FilterOp::Eq | FilterOp::Ne) {
            return Err(Error::unsupported(format!(
                "request.filters[{i}]: Algolia compares only numbers with gt, gte, lt and lte; a text range on {:?} cannot be expressed in its filters",
                f.field
            )));
        }
    }
    Ok(checked)
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
