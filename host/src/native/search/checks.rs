//! The search contract's input rules on the host side: the rules themselves are
//! `switchyard_rules::search` (shared with the SDK and adapters); here they are applied to the
//! contract's WIT types, and a checked search is turned into the engine's form.

use serde_json::{Map, Value};
use switchyard_rules::search as rules;

use crate::bindings::base::switchyard::types::types;
use crate::bindings::search::switchyard::search::types::{
    FilterOp, IndexSettings, Scalar, SearchRequest,
};
use crate::contract::rule_error;
use crate::json;

use super::query::{Search, MAX_WINDOW};
use super::schema::Settings;

pub use rules::{
    DEFAULT_FACET_VALUES, DEFAULT_LIMIT, MAX_BATCH, MAX_BODY, MAX_CONDITIONS, MAX_FACET_VALUES,
    MAX_FIELDS, MAX_ID, MAX_LIMIT, MAX_NAME, MAX_QUERY, MAX_TAG,
};

type WitError = types::Error;

/// Checks an index name.
pub(super) fn check_index_name(name: &str) -> Result<(), WitError> {
    rules::index_name(name).map_err(rule_error)
}

/// Checks index settings: at most [`MAX_FIELDS`] valid fields per list, none twice.
pub(super) fn check_settings(s: &IndexSettings) -> Result<Settings, WitError> {
    rules::settings(&s.searchable, &s.facets, &s.filterable, &s.sortable).map_err(rule_error)?;
    Ok(Settings::from_wit(s))
}

/// Checks a document id; `at` names it in errors.
pub(super) fn check_id(at: &str, id: &str) -> Result<(), WitError> {
    rules::id(at, id).map_err(rule_error)
}

/// Parses a JSON object of at most [`MAX_BODY`] bytes; `at` names it in errors.
pub(super) fn parse_object(at: &str, text: &str) -> Result<Map<String, Value>, WitError> {
    rules::body(at, text.len()).map_err(rule_error)?;
    json::parse_object(at, text).map_err(rule_error)
}

/// A merged document must stay within [`MAX_BODY`].
pub(super) fn check_merged(id: &str, body: &Value) -> Result<(), WitError> {
    rules::merged(id, body.to_string().len()).map_err(rule_error)
}

/// Checks the size of a batch; `what` names it in errors.
pub(super) fn check_batch(what: &str, n: usize) -> Result<(), WitError> {
    rules::batch(what, n).map_err(rule_error)
}

/// Checks a search against the index's settings and turns it into the engine's form.
pub(super) fn check_search(
    index: &str,
    settings: &Settings,
    r: &SearchRequest,
) -> Result<Search, WitError> {
    let fields = rules::Fields {
        facets: &settings.facets,
        filterable: &settings.filterable,
        sortable: &settings.sortable,
    };
    let request = rules::Request {
        query: &r.query,
        filters: r
            .filters
            .iter()
            .map(|f| rules::Filter {
                field: &f.field,
                value: match &f.value {
                    Scalar::Text(t) => rules::Value::Text(t),
                    Scalar::Number(n) => rules::Value::Number(*n),
                    Scalar::Boolean(b) => rules::Value::Boolean(*b),
                },
                equality: matches!(f.op, FilterOp::Eq | FilterOp::Ne),
            })
            .collect(),
        facet_filters: &r.facet_filters,
        facets: &r.facets,
        max_facet_values: r.max_facet_values,
        highlight: r.highlight.as_ref().map(|h| rules::Highlight {
            pre_tag: &h.pre_tag,
            post_tag: &h.post_tag,
            max_chars: h.max_chars,
        }),
        sort: r.sort.as_ref().map(|s| s.field.as_str()),
        cursor: r.page.cursor.as_deref(),
        limit: r.page.limit,
    };
    let checked = rules::request(index, &fields, &request, MAX_WINDOW - 1).map_err(rule_error)?;
    Ok(Search {
        query: r.query.clone(),
        filters: r
            .filters
            .iter()
            .map(|f| (f.field.clone(), f.op, f.value.clone()))
            .collect(),
        facet_filters: r.facet_filters.clone(),
        facets: r.facets.clone(),
        max_facet_values: checked.max_facet_values as usize,
        highlight: r.highlight.as_ref().map(|h| {
            (
                h.pre_tag.clone(),
                h.post_tag.clone(),
                h.max_chars.map(|m| m as usize),
            )
        }),
        sort: r.sort.as_ref().map(|s| (s.field.clone(), s.order)),
        offset: checked.offset,
        limit: checked.limit.min(MAX_WINDOW - checked.offset),
    })
}
