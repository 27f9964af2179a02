//! The search contract's rules (`switchyard:search`): the limits, names and checks that
//! the host-native index (`host/src/native/search`) and every search adapter
//! (`adapters/search-algolia`) apply before any work.
//!
//! Errors name the field and the value, e.g. ``request.page.limit must be 1 to 1000, not
//! 0``. What stays with each provider: its own limits beyond these (Algolia's replica-name
//! mark, its text ranges), and parsing a body into its JSON type (this crate has no JSON;
//! check the size with [`body`] first, then answer [`crate::not_object`] /
//! [`crate::not_json`]).
//!
//! A search request is checked whole by [`request`], over a borrowed view of it
//! ([`Request`]) and of the index's settings ([`Fields`]); the smaller checks it runs are
//! public for callers that need one alone.

use crate::RuleError;

/// The longest index or field name, in bytes.
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
/// The longest text value of a filter, in bytes.
pub const MAX_KEYWORD: usize = 1024;
/// The page size when the request gives none.
pub const DEFAULT_LIMIT: u32 = 20;
/// The largest page.
pub const MAX_LIMIT: u32 = 1000;
/// The number of values per facet when the request gives none.
pub const DEFAULT_FACET_VALUES: u32 = 100;
/// The most values per facet.
pub const MAX_FACET_VALUES: u32 = 1000;
/// The longest highlight tag, in bytes.
pub const MAX_TAG: usize = 256;
/// The shortest highlight snippet a request may ask for (`max-chars`), in bytes.
pub const MIN_SNIPPET: u32 = 16;
/// The longest highlight snippet a request may ask for (`max-chars`), in bytes.
pub const MAX_SNIPPET: u32 = 10_000;

/// Whether `name` is 1 to [`MAX_NAME`] bytes of `A-Z a-z 0-9 . _ -`.
fn name_chars(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Checks an index name: 1 to [`MAX_NAME`] characters of `A-Z a-z 0-9 . _ -`, not starting
/// with `.`.
pub fn index_name(name: &str) -> Result<(), RuleError> {
    if name_chars(name) && !name.starts_with('.') {
        Ok(())
    } else {
        Err(RuleError::invalid_input(format!(
            "index name {name:?} is not valid: use 1 to {MAX_NAME} characters of A-Z a-z 0-9 . _ -, not starting with ."
        )))
    }
}

/// Checks a field path (`author.name`): 1 to [`MAX_NAME`] characters of `A-Z a-z 0-9 _ -`
/// and `.` between non-empty names; `at` names where it was given.
pub fn field(at: &str, field: &str) -> Result<(), RuleError> {
    if name_chars(field) && field.split('.').all(|part| !part.is_empty()) {
        Ok(())
    } else {
        Err(RuleError::invalid_input(format!(
            "{at}: field {field:?} is not valid: use 1 to {MAX_NAME} characters of A-Z a-z 0-9 _ - and . between names"
        )))
    }
}

/// Checks one settings list (`what` is e.g. `settings.facets`): at most [`MAX_FIELDS`]
/// fields, each valid ([`field`]), none twice.
pub fn field_list(what: &str, list: &[String]) -> Result<(), RuleError> {
    if list.len() > MAX_FIELDS {
        return Err(RuleError::invalid_input(format!(
            "{what} has {} fields; the most is {MAX_FIELDS}",
            list.len()
        )));
    }
    for (i, f) in list.iter().enumerate() {
        field(&format!("{what}[{i}]"), f)?;
        if list[..i].contains(f) {
            return Err(RuleError::invalid_input(format!(
                "{what} lists {f:?} twice"
            )));
        }
    }
    Ok(())
}

/// Checks an index's settings, list by list in the contract's order ([`field_list`]).
pub fn settings(
    searchable: &[String],
    facets: &[String],
    filterable: &[String],
    sortable: &[String],
) -> Result<(), RuleError> {
    field_list("settings.searchable", searchable)?;
    field_list("settings.facets", facets)?;
    field_list("settings.filterable", filterable)?;
    field_list("settings.sortable", sortable)
}

/// Checks a document id: not empty, at most [`MAX_ID`] bytes, no control characters; `at`
/// names it in errors (`documents[3].id`).
pub fn id(at: &str, id: &str) -> Result<(), RuleError> {
    if id.is_empty() {
        return Err(RuleError::invalid_input(format!("{at} must not be empty")));
    }
    if id.len() > MAX_ID {
        return Err(RuleError::invalid_input(format!(
            "{at} is {} bytes; the most is {MAX_ID}",
            id.len()
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(RuleError::invalid_input(format!(
            "{at} {id:?} has control characters"
        )));
    }
    Ok(())
}

/// Checks a document body's size, `len` bytes, before parsing it: `too-large` above
/// [`MAX_BODY`]; `at` names it (`documents[3].body`).
pub fn body(at: &str, len: usize) -> Result<(), RuleError> {
    if len > MAX_BODY {
        return Err(RuleError::too_large(format!(
            "{at} is {len} bytes; the most is {MAX_BODY}"
        )));
    }
    Ok(())
}

/// Checks a document after a partial update merged into it, `len` bytes of JSON: `too-large`
/// above [`MAX_BODY`].
pub fn merged(id: &str, len: usize) -> Result<(), RuleError> {
    if len > MAX_BODY {
        return Err(RuleError::too_large(format!(
            "document {id:?} would be {len} bytes after the update; the most is {MAX_BODY}"
        )));
    }
    Ok(())
}

/// Checks a batch of `n` items (`what` is `documents`, `updates` or `ids`): `invalid-input`
/// when empty, `too-large` above [`MAX_BATCH`].
pub fn batch(what: &str, n: usize) -> Result<(), RuleError> {
    if n == 0 {
        return Err(RuleError::invalid_input(format!("{what} is empty")));
    }
    if n > MAX_BATCH {
        return Err(RuleError::too_large(format!(
            "{what} has {n} items; the most in one batch is {MAX_BATCH}"
        )));
    }
    Ok(())
}

/// `invalid-input`: `field`, given at `at`, is not in the index's `settings.<list>`.
pub fn not_in_settings(index: &str, at: &str, field: &str, list: &str) -> RuleError {
    RuleError::invalid_input(format!(
        "{at}: field {field:?} is not in settings.{list} of index {index:?}; add it with update-settings"
    ))
}

/// Checks a query's length: at most [`MAX_QUERY`] bytes.
pub fn query(query: &str) -> Result<(), RuleError> {
    if query.len() > MAX_QUERY {
        return Err(RuleError::invalid_input(format!(
            "request.query is {} bytes; the most is {MAX_QUERY}",
            query.len()
        )));
    }
    Ok(())
}

/// Checks the number of filters: at most [`MAX_CONDITIONS`].
pub fn filter_count(n: usize) -> Result<(), RuleError> {
    if n > MAX_CONDITIONS {
        return Err(RuleError::invalid_input(format!(
            "request.filters has {n} filters; the most is {MAX_CONDITIONS}"
        )));
    }
    Ok(())
}

/// The value a filter compares with, borrowed from the caller's `scalar`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// A text value.
    Text(&'a str),
    /// A number.
    Number(f64),
    /// A boolean.
    Boolean(bool),
}

/// Checks a filter's value against its operator; `equality` is whether the operator is
/// `eq` or `ne`. A number must be finite, a boolean takes only `eq` and `ne`, a text is at
/// most [`MAX_KEYWORD`] bytes. `at` names the filter (`request.filters[2]`).
pub fn filter_value(at: &str, value: Value<'_>, equality: bool) -> Result<(), RuleError> {
    match value {
        Value::Number(n) if !n.is_finite() => Err(RuleError::invalid_input(format!(
            "{at}.value must be a finite number"
        ))),
        Value::Boolean(_) if !equality => Err(RuleError::invalid_input(format!(
            "{at}: a boolean value takes only eq and ne"
        ))),
        Value::Text(t) if t.len() > MAX_KEYWORD => Err(RuleError::invalid_input(format!(
            "{at}.value is {} bytes; the most is {MAX_KEYWORD}",
            t.len()
        ))),
        _ => Ok(()),
    }
}

/// Checks the number of facet-filter groups: at most [`MAX_CONDITIONS`].
pub fn facet_filter_count(n: usize) -> Result<(), RuleError> {
    if n > MAX_CONDITIONS {
        return Err(RuleError::invalid_input(format!(
            "request.facet-filters has {n} groups; the most is {MAX_CONDITIONS}"
        )));
    }
    Ok(())
}

/// Checks the size of one facet-filter group of `n` (field, value) pairs: 1 to
/// [`MAX_CONDITIONS`]; `at` names it (`request.facet-filters[0]`).
pub fn facet_group(at: &str, n: usize) -> Result<(), RuleError> {
    if n == 0 {
        return Err(RuleError::invalid_input(format!(
            "{at} is empty: each group needs at least one (field, value)"
        )));
    }
    if n > MAX_CONDITIONS {
        return Err(RuleError::invalid_input(format!(
            "{at} has {n} values; the most is {MAX_CONDITIONS}"
        )));
    }
    Ok(())
}

/// Checks the number of facets asked for: at most [`MAX_CONDITIONS`].
pub fn facet_count(n: usize) -> Result<(), RuleError> {
    if n > MAX_CONDITIONS {
        return Err(RuleError::invalid_input(format!(
            "request.facets has {n} fields; the most is {MAX_CONDITIONS}"
        )));
    }
    Ok(())
}

/// Checks `max-facet-values` and answers it, [`DEFAULT_FACET_VALUES`] when none: 1 to
/// [`MAX_FACET_VALUES`].
pub fn max_facet_values(given: Option<u32>) -> Result<u32, RuleError> {
    let n = given.unwrap_or(DEFAULT_FACET_VALUES);
    if n == 0 || n > MAX_FACET_VALUES {
        return Err(RuleError::invalid_input(format!(
            "request.max-facet-values must be 1 to {MAX_FACET_VALUES}, not {n}"
        )));
    }
    Ok(n)
}

/// Checks a highlight: each tag at most [`MAX_TAG`] bytes, `max-chars` (when given)
/// [`MIN_SNIPPET`] to [`MAX_SNIPPET`].
pub fn highlight(pre_tag: &str, post_tag: &str, max_chars: Option<u32>) -> Result<(), RuleError> {
    for (what, tag) in [("pre-tag", pre_tag), ("post-tag", post_tag)] {
        if tag.len() > MAX_TAG {
            return Err(RuleError::invalid_input(format!(
                "request.highlight.{what} is {} bytes; the most is {MAX_TAG}",
                tag.len()
            )));
        }
    }
    if let Some(m) = max_chars.filter(|m| !(MIN_SNIPPET..=MAX_SNIPPET).contains(m)) {
        return Err(RuleError::invalid_input(format!(
            "request.highlight.max-chars must be {MIN_SNIPPET} to {MAX_SNIPPET}, not {m}"
        )));
    }
    Ok(())
}

/// Checks a page cursor and answers the offset it stands for (0 when none). A cursor is
/// the decimal offset of the page's first hit, at most `max_offset` (the provider's last
/// reachable position: the embedded index's window less one, Algolia's
/// `paginationLimitedTo`).
pub fn cursor(cursor: Option<&str>, max_offset: usize) -> Result<usize, RuleError> {
    match cursor {
        None => Ok(0),
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|o| *o <= max_offset)
            .ok_or_else(|| {
                RuleError::invalid_input(format!(
                    "request.page.cursor {c:?} is not a cursor this index gave"
                ))
            }),
    }
}

/// Checks a page's `limit` and answers it, [`DEFAULT_LIMIT`] when none: 1 to
/// [`MAX_LIMIT`].
pub fn limit(given: Option<u32>) -> Result<u32, RuleError> {
    let n = given.unwrap_or(DEFAULT_LIMIT);
    if n == 0 || n > MAX_LIMIT {
        return Err(RuleError::invalid_input(format!(
            "request.page.limit must be 1 to {MAX_LIMIT}, not {n}"
        )));
    }
    Ok(n)
}

/// The index's settings that a search is checked against, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    /// `settings.facets`: fields that can be counted and filtered on.
    pub facets: &'a [String],
    /// `settings.filterable`: more fields that can be filtered on.
    pub filterable: &'a [String],
    /// `settings.sortable`: fields a search may sort by.
    pub sortable: &'a [String],
}

impl Fields<'_> {
    /// Whether `field` can be filtered on: listed in `facets` or `filterable`.
    pub fn filterable(&self, field: &str) -> bool {
        self.facets
            .iter()
            .chain(self.filterable)
            .any(|f| f == field)
    }
}

/// One filter of a search, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Filter<'a> {
    /// The field compared.
    pub field: &'a str,
    /// The value compared with.
    pub value: Value<'a>,
    /// Whether the operator is `eq` or `ne` (not a range).
    pub equality: bool,
}

/// The highlight of a search, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Highlight<'a> {
    /// Put before each matched word.
    pub pre_tag: &'a str,
    /// Put after each matched word.
    pub post_tag: &'a str,
    /// The snippet length asked for, if any.
    pub max_chars: Option<u32>,
}

/// A search request, borrowed from the caller's WIT `search-request`.
#[derive(Debug, Clone, PartialEq)]
pub struct Request<'a> {
    /// `query`.
    pub query: &'a str,
    /// `filters`, each mapped to a [`Filter`].
    pub filters: Vec<Filter<'a>>,
    /// `facet-filters`: groups of (field, value).
    pub facet_filters: &'a [Vec<(String, String)>],
    /// `facets`.
    pub facets: &'a [String],
    /// `max-facet-values`.
    pub max_facet_values: Option<u32>,
    /// `highlight`.
    pub highlight: Option<Highlight<'a>>,
    /// The field of `sort`, if any.
    pub sort: Option<&'a str>,
    /// `page.cursor`.
    pub cursor: Option<&'a str>,
    /// `page.limit`.
    pub limit: Option<u32>,
}

/// What a checked search resolved: where its page starts, its size and the values per
/// facet, defaults applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// The offset of the page's first hit (from the cursor; 0 without one).
    pub offset: usize,
    /// The page size.
    pub limit: usize,
    /// The most values per facet.
    pub max_facet_values: u32,
}

/// Checks a search against the settings of `index`, in the contract's order: query,
/// filters (count, each field valid and filterable, each value), facet filters (count, each
/// group's size, each field valid and filterable), facets (count, each valid and in
/// `facets`), `max-facet-values`, highlight, sort (valid and sortable), cursor (at most
/// `max_offset`, see [`cursor`]) and limit.
pub fn request(
    index: &str,
    fields: &Fields<'_>,
    r: &Request<'_>,
    max_offset: usize,
) -> Result<Checked, RuleError> {
    query(r.query)?;
    filter_count(r.filters.len())?;
    for (i, f) in r.filters.iter().enumerate() {
        let at = format!("request.filters[{i}]");
        field(&at, f.field)?;
        if !fields.filterable(f.field) {
            return Err(not_in_settings(
                index,
                &at,
                f.field,
                "filterable (or facets)",
            ));
        }
        filter_value(&at, f.value, f.equality)?;
    }
    facet_filter_count(r.facet_filters.len())?;
    for (i, group) in r.facet_filters.iter().enumerate() {
        let at = format!("request.facet-filters[{i}]");
        facet_group(&at, group.len())?;
        for (j, (f, _)) in group.iter().enumerate() {
            let at = format!("{at}[{j}]");
            field(&at, f)?;
            if !fields.filterable(f) {
                return Err(not_in_settings(index, &at, f, "filterable (or facets)"));
            }
        }
    }
    facet_count(r.facets.len())?;
    for (i, f) in r.facets.iter().enumerate() {
        let at = format!("request.facets[{i}]");
        field(&at, f)?;
        if !fields.facets.contains(f) {
            return Err(not_in_settings(index, &at, f, "facets"));
        }
    }
    let max_facet_values = max_facet_values(r.max_facet_values)?;
    if let Some(h) = &r.highlight {
        highlight(h.pre_tag, h.post_tag, h.max_chars)?;
    }
    if let Some(s) = r.sort {
        field("request.sort", s)?;
        if !fields.sortable.iter().any(|f| f == s) {
            return Err(not_in_settings(index, "request.sort", s, "sortable"));
        }
    }
    let offset = cursor(r.cursor, max_offset)?;
    let limit = limit(r.limit)?;
    Ok(Checked {
        offset,
        limit: limit as usize,
        max_facet_values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn invalid<T: std::fmt::Debug>(r: Result<T, RuleError>, names: &str) {
        let e = r.expect_err(names);
        assert_eq!(e.kind, Kind::InvalidInput, "{e}");
        assert!(e.message.contains(names), "{names}: {e}");
    }

    fn too_large<T: std::fmt::Debug>(r: Result<T, RuleError>, names: &str) {
        let e = r.expect_err(names);
        assert_eq!(e.kind, Kind::TooLarge, "{e}");
        assert!(e.message.contains(names), "{names}: {e}");
    }

    #[test]
    fn index_names() {
        assert!(index_name("books-2024.v1").is_ok());
        assert!(index_name(&"x".repeat(MAX_NAME - 1)).is_ok());
        assert!(index_name(&"x".repeat(MAX_NAME)).is_ok());
        invalid(index_name(&"x".repeat(MAX_NAME + 1)), "1 to 128");
        for bad in ["", ".x", "a/b", "a*", "a b", "é"] {
            invalid(index_name(bad), &format!("{bad:?}"));
        }
        assert_eq!(
            index_name("bad/name").unwrap_err().message,
            "index name \"bad/name\" is not valid: use 1 to 128 characters of A-Z a-z 0-9 . _ -, not starting with ."
        );
    }

    #[test]
    fn field_paths() {
        assert!(field("f", "author.name").is_ok());
        assert!(field("f", "_x-1").is_ok());
        assert!(field("f", &"x".repeat(MAX_NAME)).is_ok());
        invalid(field("f", &"x".repeat(MAX_NAME + 1)), "f: field");
        for bad in ["", "a..b", ".a", "a.", "a b", "a/b"] {
            invalid(field("settings.facets[0]", bad), "settings.facets[0]");
        }
    }

    #[test]
    fn settings_lists() {
        let ok = strings(&["title", "body"]);
        assert!(settings(&ok, &[], &ok, &[]).is_ok());
        let at_most: Vec<String> = (0..MAX_FIELDS).map(|i| format!("f{i}")).collect();
        assert!(field_list("settings.facets", &at_most).is_ok());
        let over: Vec<String> = (0..=MAX_FIELDS).map(|i| format!("f{i}")).collect();
        invalid(field_list("settings.facets", &over), "65 fields");
        invalid(settings(&[], &strings(&["x", "x"]), &[], &[]), "twice");
        invalid(
            settings(&[], &[], &strings(&[""]), &[]),
            "settings.filterable[0]",
        );
        invalid(settings(&strings(&["a..b"]), &[], &[], &[]), "a..b");
        invalid(
            settings(&[], &[], &[], &strings(&["ok", "a b"])),
            "settings.sortable[1]",
        );
    }

    #[test]
    fn ids() {
        assert!(id("id", "1").is_ok());
        assert!(id("id", &"x".repeat(MAX_ID)).is_ok());
        invalid(
            id("documents[0].id", ""),
            "documents[0].id must not be empty",
        );
        invalid(id("id", &"x".repeat(MAX_ID + 1)), "513 bytes");
        invalid(id("ids[2]", "a\nb"), "control characters");
    }

    #[test]
    fn bodies_and_batches() {
        assert!(body("b", MAX_BODY - 1).is_ok());
        assert!(body("b", MAX_BODY).is_ok());
        too_large(body("documents[3].body", MAX_BODY + 1), "documents[3].body");
        assert!(merged("x", MAX_BODY).is_ok());
        too_large(merged("x", MAX_BODY + 1), "after the update");
        invalid(batch("ids", 0), "ids is empty");
        assert!(batch("ids", 1).is_ok());
        assert!(batch("ids", MAX_BATCH).is_ok());
        too_large(batch("documents", MAX_BATCH + 1), "1000");
    }

    #[test]
    fn counts() {
        assert!(query(&"q".repeat(MAX_QUERY)).is_ok());
        invalid(query(&"q".repeat(MAX_QUERY + 1)), "request.query");
        for check in [filter_count, facet_filter_count, facet_count] {
            assert!(check(MAX_CONDITIONS).is_ok());
            invalid(check(MAX_CONDITIONS + 1), "the most is 64");
        }
        invalid(
            facet_group("request.facet-filters[0]", 0),
            "facet-filters[0] is empty",
        );
        assert!(facet_group("g", 1).is_ok());
        assert!(facet_group("g", MAX_CONDITIONS).is_ok());
        invalid(facet_group("g", MAX_CONDITIONS + 1), "65 values");
    }

    #[test]
    fn filter_values() {
        assert!(filter_value("f", Value::Number(1.5), false).is_ok());
        invalid(filter_value("f", Value::Number(f64::NAN), true), "finite");
        invalid(
            filter_value("f", Value::Number(f64::INFINITY), true),
            "finite",
        );
        assert!(filter_value("f", Value::Boolean(true), true).is_ok());
        invalid(filter_value("f", Value::Boolean(true), false), "boolean");
        let at_most = "k".repeat(MAX_KEYWORD);
        assert!(filter_value("f", Value::Text(&at_most), false).is_ok());
        let over = "k".repeat(MAX_KEYWORD + 1);
        invalid(
            filter_value("f", Value::Text(&over), true),
            "f.value is 1025 bytes",
        );
    }

    #[test]
    fn facet_values_highlight_cursor_limit() {
        assert_eq!(max_facet_values(None), Ok(DEFAULT_FACET_VALUES));
        assert_eq!(max_facet_values(Some(1)), Ok(1));
        assert_eq!(
            max_facet_values(Some(MAX_FACET_VALUES)),
            Ok(MAX_FACET_VALUES)
        );
        invalid(max_facet_values(Some(0)), "max-facet-values");
        invalid(max_facet_values(Some(MAX_FACET_VALUES + 1)), "not 1001");

        assert!(highlight("<em>", "</em>", None).is_ok());
        assert!(highlight(&"<".repeat(MAX_TAG), ">", Some(MIN_SNIPPET)).is_ok());
        invalid(highlight(&"<".repeat(MAX_TAG + 1), ">", None), "pre-tag");
        invalid(highlight("<", &">".repeat(MAX_TAG + 1), None), "post-tag");
        invalid(highlight("<", ">", Some(MIN_SNIPPET - 1)), "not 15");
        assert!(highlight("<", ">", Some(MAX_SNIPPET)).is_ok());
        invalid(highlight("<", ">", Some(MAX_SNIPPET + 1)), "16 to 10000");

        assert_eq!(cursor(None, 10), Ok(0));
        assert_eq!(cursor(Some("9"), 10), Ok(9));
        assert_eq!(cursor(Some("10"), 10), Ok(10));
        invalid(cursor(Some("11"), 10), "cursor \"11\"");
        invalid(cursor(Some("not-a-cursor"), 10), "cursor");
        invalid(cursor(Some("-1"), 10), "cursor");

        assert_eq!(limit(None), Ok(DEFAULT_LIMIT));
        assert_eq!(limit(Some(1)), Ok(1));
        assert_eq!(limit(Some(MAX_LIMIT)), Ok(MAX_LIMIT));
        invalid(
            limit(Some(0)),
            "request.page.limit must be 1 to 1000, not 0",
        );
        invalid(limit(Some(MAX_LIMIT + 1)), "limit");
    }

    #[test]
    fn whole_requests() {
        let facets = strings(&["genre"]);
        let filterable = strings(&["price"]);
        let sortable = strings(&["price"]);
        let fields = Fields {
            facets: &facets,
            filterable: &filterable,
            sortable: &sortable,
        };
        let empty = Request {
            query: "",
            filters: vec![],
            facet_filters: &[],
            facets: &[],
            max_facet_values: None,
            highlight: None,
            sort: None,
            cursor: None,
            limit: None,
        };
        assert_eq!(
            request("books", &fields, &empty, 100),
            Ok(Checked {
                offset: 0,
                limit: 20,
                max_facet_values: 100
            })
        );
        let groups = vec![vec![("genre".to_string(), "scifi".to_string())]];
        let full = Request {
            query: "dune",
            filters: vec![
                Filter {
                    field: "price",
                    value: Value::Number(10.0),
                    equality: false,
                },
                Filter {
                    field: "genre",
                    value: Value::Text("scifi"),
                    equality: true,
                },
            ],
            facet_filters: &groups,
            facets: &facets,
            max_facet_values: Some(5),
            highlight: Some(Highlight {
                pre_tag: "<",
                post_tag: ">",
                max_chars: Some(80),
            }),
            sort: Some("price"),
            cursor: Some("40"),
            limit: Some(10),
        };
        assert_eq!(
            request("books", &fields, &full, 100),
            Ok(Checked {
                offset: 40,
                limit: 10,
                max_facet_values: 5
            })
        );
        let title = Request {
            filters: vec![Filter {
                field: "title",
                value: Value::Text("Dune"),
                equality: true,
            }],
            ..empty.clone()
        };
        assert_eq!(
            request("books", &fields, &title, 100).unwrap_err().message,
            "request.filters[0]: field \"title\" is not in settings.filterable (or facets) of index \"books\"; add it with update-settings"
        );
        let body_groups = vec![vec![("body".to_string(), "x".to_string())]];
        let body = Request {
            facet_filters: &body_groups,
            ..empty.clone()
        };
        invalid(request("books", &fields, &body, 100), "facet-filters[0][0]");
        let price = strings(&["price"]);
        let facet = Request {
            facets: &price,
            ..empty.clone()
        };
        invalid(request("books", &fields, &facet, 100), "settings.facets");
        let genre_sort = Request {
            sort: Some("genre"),
            ..empty.clone()
        };
        invalid(request("books", &fields, &genre_sort, 100), "sortable");
        let far = Request {
            cursor: Some("101"),
            ..empty
        };
        invalid(request("books", &fields, &far, 100), "cursor");
    }
}
