//! The search contract, host-native: input checks and the host side of the
//! `switchyard:search/search` import that `adapters/search-host` forwards to.
//!
//! Each tenant has one [`engine::Engine`], an embedded tantivy index per search index, kept
//! in its binding's `files` directory under `search/` (so it survives restarts) and in the
//! [`crate::native::Backends`] registry (so it survives swaps). Every function checks its
//! input here first (names, ids, sizes, fields against the index's settings), so the engine
//! sees only valid requests. Index work is blocking (disk, fsync), so it runs on tokio's
//! blocking pool.

pub mod engine;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::bindings::base::switchyard::types::types::{self, ErrorKind, HealthStatus};
use crate::bindings::search::switchyard::search::types::{
    Document, FilterOp, IndexInfo, IndexSettings, PartialUpdate, Scalar, SearchRequest,
    SearchResult,
};
use crate::bindings::search_bridge::switchyard::search::search::Host;
use crate::native::error;
use crate::state::CallState;
use engine::{Engine, NewDocument, Settings};

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
/// The default and largest page.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 1000;
/// The default and largest number of values per facet.
pub const DEFAULT_FACET_VALUES: u32 = 100;
pub const MAX_FACET_VALUES: u32 = 1000;
/// The longest highlight tag, in bytes.
pub const MAX_TAG: usize = 256;

fn invalid(message: String) -> WitError {
    error(ErrorKind::InvalidInput, message)
}

fn too_large(message: String) -> WitError {
    let mut e = error(ErrorKind::TooLarge, message);
    e.retryable = false;
    e
}

/// The engine of `tenant` for a binding whose `files` directory is `files`: the one it
/// already has (kept across swaps and reloads), or a new one. Refused when another tenant's
/// indexes live in the same directory.
pub(crate) fn grant(
    engines: &mut HashMap<String, Arc<Engine>>,
    tenant: &str,
    files: &Path,
) -> Result<Arc<Engine>, String> {
    let root = files.join("search");
    std::fs::create_dir_all(&root)
        .map_err(|e| format!("files: cannot create {}: {e}", root.display()))?;
    let root = root.canonicalize().unwrap_or(root);
    if let Some((other, _)) = engines
        .iter()
        .find(|(t, e)| t.as_str() != tenant && e.root() == root)
    {
        return Err(format!(
            "files: {} already holds tenant '{other}''s search indexes; give each tenant its own directory",
            files.display()
        ));
    }
    if let Some(engine) = engines.get(tenant).filter(|e| e.root() == root) {
        return Ok(engine.clone());
    }
    let engine = Arc::new(Engine::new(root));
    engines.insert(tenant.to_string(), engine.clone());
    Ok(engine)
}

/// Checks an index name.
fn check_index_name(name: &str) -> Result<(), WitError> {
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

fn check_settings(s: &IndexSettings) -> Result<Settings, WitError> {
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
fn check_id(at: &str, id: &str) -> Result<(), WitError> {
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
fn parse_object(at: &str, text: &str) -> Result<Map<String, Value>, WitError> {
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
fn check_merged(id: &str, body: &Value) -> Result<(), WitError> {
    let len = body.to_string().len();
    if len > MAX_BODY {
        return Err(too_large(format!(
            "document {id:?} would be {len} bytes after the update; the most is {MAX_BODY}"
        )));
    }
    Ok(())
}

fn check_batch(what: &str, n: usize) -> Result<(), WitError> {
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
fn check_search(
    index: &str,
    settings: &Settings,
    r: &SearchRequest,
) -> Result<engine::Search, WitError> {
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
            (Scalar::Text(t), _) if t.len() > engine::MAX_KEYWORD => {
                return Err(invalid(format!(
                    "{at}.value is {} bytes; the most is {}",
                    t.len(),
                    engine::MAX_KEYWORD
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
            .filter(|o| *o < engine::MAX_WINDOW)
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
    Ok(engine::Search {
        query: r.query.clone(),
        filters,
        facet_filters: r.facet_filters.clone(),
        facets: r.facets.clone(),
        max_facet_values: max_facet_values as usize,
        highlight,
        sort,
        offset,
        limit: (limit as usize).min(engine::MAX_WINDOW - offset),
    })
}

/// Runs blocking index work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WitError> + Send + 'static,
) -> Result<T, WitError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(error(
            ErrorKind::Internal,
            format!("search index: the work failed: {e}"),
        ))
    })
}

impl CallState {
    /// The tenant's search engine, or `denied` when the binding has no search backend.
    fn search_engine(&self) -> Result<Arc<Engine>, WitError> {
        self.native.search.clone().ok_or_else(|| {
            error(
                ErrorKind::Denied,
                "this binding has no host search backend (set `backend = \"tantivy\"` and `files` in its configuration)",
            )
        })
    }
}

impl Host for CallState {
    async fn create_index(
        &mut self,
        name: String,
        settings: IndexSettings,
    ) -> Result<IndexInfo, WitError> {
        check_index_name(&name)?;
        let settings = check_settings(&settings)?;
        let engine = self.search_engine()?;
        blocking(move || engine.create_index(&name, settings)).await
    }

    async fn update_settings(
        &mut self,
        name: String,
        settings: IndexSettings,
    ) -> Result<IndexInfo, WitError> {
        check_index_name(&name)?;
        let settings = check_settings(&settings)?;
        let engine = self.search_engine()?;
        blocking(move || engine.update_settings(&name, settings)).await
    }

    async fn get_index(&mut self, name: String) -> Result<IndexInfo, WitError> {
        check_index_name(&name)?;
        let engine = self.search_engine()?;
        blocking(move || engine.get_index(&name)).await
    }

    async fn list_indexes(&mut self) -> Result<Vec<IndexInfo>, WitError> {
        let engine = self.search_engine()?;
        blocking(move || engine.list_indexes()).await
    }

    async fn delete_index(&mut self, name: String) -> Result<(), WitError> {
        check_index_name(&name)?;
        let engine = self.search_engine()?;
        blocking(move || engine.delete_index(&name)).await
    }

    async fn index_documents(
        &mut self,
        index: String,
        documents: Vec<Document>,
    ) -> Result<Vec<Result<String, WitError>>, WitError> {
        check_index_name(&index)?;
        check_batch("documents", documents.len())?;
        let engine = self.search_engine()?;
        blocking(move || {
            engine.settings(&index)?;
            let mut results = Vec::with_capacity(documents.len());
            let mut accepted = Vec::new();
            for (i, d) in documents.into_iter().enumerate() {
                let checked = check_id(&format!("documents[{i}].id"), &d.id)
                    .and_then(|()| parse_object(&format!("documents[{i}].body"), &d.body));
                match checked {
                    Ok(body) => {
                        results.push(Ok(d.id.clone()));
                        accepted.push(NewDocument {
                            id: d.id,
                            body: Value::Object(body),
                            source: d.body,
                        });
                    }
                    Err(e) => results.push(Err(e)),
                }
            }
            engine.index_documents(&index, accepted)?;
            Ok(results)
        })
        .await
    }

    async fn update_documents(
        &mut self,
        index: String,
        updates: Vec<PartialUpdate>,
    ) -> Result<Vec<Result<String, WitError>>, WitError> {
        check_index_name(&index)?;
        check_batch("updates", updates.len())?;
        let engine = self.search_engine()?;
        blocking(move || {
            engine.settings(&index)?;
            let checked = updates
                .into_iter()
                .enumerate()
                .map(|(i, u)| {
                    check_id(&format!("updates[{i}].id"), &u.id)?;
                    let changes = parse_object(&format!("updates[{i}].changes"), &u.changes)?;
                    Ok((u.id, changes))
                })
                .collect();
            engine.update_documents(&index, checked, check_merged)
        })
        .await
    }

    async fn delete_documents(
        &mut self,
        index: String,
        ids: Vec<String>,
    ) -> Result<Vec<Result<String, WitError>>, WitError> {
        check_index_name(&index)?;
        check_batch("ids", ids.len())?;
        let engine = self.search_engine()?;
        blocking(move || {
            engine.settings(&index)?;
            let mut results = Vec::with_capacity(ids.len());
            let mut accepted = Vec::new();
            for (i, id) in ids.into_iter().enumerate() {
                match check_id(&format!("ids[{i}]"), &id) {
                    Ok(()) => {
                        results.push(Ok(id.clone()));
                        accepted.push(id);
                    }
                    Err(e) => results.push(Err(e)),
                }
            }
            engine.delete_documents(&index, &accepted)?;
            Ok(results)
        })
        .await
    }

    async fn get_document(&mut self, index: String, id: String) -> Result<Document, WitError> {
        check_index_name(&index)?;
        check_id("id", &id)?;
        let engine = self.search_engine()?;
        blocking(move || {
            let body = engine.get_document(&index, &id)?;
            Ok(Document { id, body })
        })
        .await
    }

    async fn search(
        &mut self,
        index: String,
        request: SearchRequest,
    ) -> Result<SearchResult, WitError> {
        check_index_name(&index)?;
        let engine = self.search_engine()?;
        blocking(move || {
            let settings = engine.settings(&index)?;
            let search = check_search(&index, &settings, &request)?;
            engine.search(&index, &search)
        })
        .await
    }

    async fn health(&mut self) -> HealthStatus {
        let engine = match self.search_engine() {
            Ok(e) => e,
            Err(e) => {
                return HealthStatus {
                    ok: false,
                    detail: e.message,
                }
            }
        };
        match blocking(move || engine.list_indexes()).await {
            Ok(indexes) => HealthStatus {
                ok: true,
                detail: format!(
                    "embedded full-text index (tantivy): {} indexes, {} documents",
                    indexes.len(),
                    indexes.iter().map(|i| i.documents).sum::<u64>()
                ),
            },
            Err(e) => HealthStatus {
                ok: false,
                detail: e.message,
            },
        }
    }
}
