//! The host side of `switchyard:search/search`, which `adapters/search-host` forwards to:
//! each call checks its input here, then runs on the tenant's [`Engine`] on tokio's blocking
//! pool (index work is blocking: disk, fsync).

use std::sync::Arc;

use serde_json::Value;
use wasmtime::component::{HasData, Linker};

use crate::bindings::base::switchyard::types::types::{self, ErrorKind, HealthStatus};
use crate::bindings::search::switchyard::search::types::{
    self as search_types, Document, IndexInfo, IndexSettings, PartialUpdate, SearchRequest,
    SearchResult,
};
use crate::bindings::search_bridge::switchyard::search::search::{self, Host};
use crate::contract::error;

use super::checks::{
    check_batch, check_id, check_index_name, check_merged, check_search, check_settings,
    parse_object,
};
use super::engine::{Engine, NewDocument};

type WitError = types::Error;

/// What one call may reach of the search backend: the tenant's engine, when the binding has a
/// backend.
pub struct SearchView<'a> {
    /// The tenant's engine; `None` when the binding names no backend.
    pub engine: Option<&'a Arc<Engine>>,
}

/// The [`HasData`] marker linking [`SearchView`].
pub struct Search;

impl HasData for Search {
    type Data<'a> = SearchView<'a>;
}

/// Links `switchyard:search/search` and its types, reached through `view`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> SearchView<'_>,
) -> wasmtime::Result<()> {
    search_types::add_to_linker::<T, Search>(linker, view)?;
    search::add_to_linker::<T, Search>(linker, view)
}

impl search_types::Host for SearchView<'_> {}

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

impl SearchView<'_> {
    /// The tenant's search engine (to move into blocking work), or `denied` when the binding
    /// has no search backend.
    fn search_engine(&self) -> Result<Arc<Engine>, WitError> {
        self.engine.cloned().ok_or_else(|| {
            error(
                ErrorKind::Denied,
                "this binding has no host search backend (set `backend = \"tantivy\"` and `files` in its configuration)",
            )
        })
    }
}

impl Host for SearchView<'_> {
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
