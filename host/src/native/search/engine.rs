//! The embedded full-text index behind host-native search: one tenant's indexes
//! ([`Engine`]), each a tantivy index on disk, and the operations on them.
//!
//! Changing the settings writes a new generation from every `_source`, then switches
//! `settings.json` to it (written to a temporary file and renamed, so a crash leaves either
//! generation whole) and deletes the old one.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use serde_json::{Map, Value};
use tantivy::collector::DocSetCollector;
use tantivy::query::AllQuery;
use tantivy::{DocAddress, Term};

use crate::bindings::base::switchyard::types::types::{self, ErrorKind};
use crate::bindings::search::switchyard::search::types::{IndexInfo, SearchResult};
use crate::contract::error;

use super::index::{internal, open_index, parse, write_settings, Live, SearchIndex};
use super::query::{self, Search};
use super::schema::{to_document, Settings};

type WitError = types::Error;
/// Every index by name, once read from disk.
type Catalog = Option<BTreeMap<String, Arc<SearchIndex>>>;
/// A checked partial update (id, changes), or why it was refused.
pub type Update = Result<(String, Map<String, Value>), WitError>;

/// A document to add or replace, already checked.
pub struct NewDocument {
    pub id: String,
    pub body: Value,
    /// The body's text as given, kept as the stored document.
    pub source: String,
}

/// One tenant's indexes.
pub struct Engine {
    root: PathBuf,
    catalog: Mutex<Catalog>,
}

impl Engine {
    /// The indexes kept under `root` (opened on first use).
    pub fn new(root: PathBuf) -> Self {
        Engine {
            root,
            catalog: Mutex::new(None),
        }
    }

    /// Where the indexes are kept.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The catalog, read from disk the first time.
    fn catalog(&self) -> Result<MutexGuard<'_, Catalog>, WitError> {
        let mut guard = self.catalog.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(self.load()?);
        }
        Ok(guard)
    }

    fn load(&self) -> Result<BTreeMap<String, Arc<SearchIndex>>, WitError> {
        std::fs::create_dir_all(&self.root)
            .map_err(|e| internal(&format!("creating {}", self.root.display()), e))?;
        let mut out = BTreeMap::new();
        let entries = std::fs::read_dir(&self.root)
            .map_err(|e| internal(&format!("reading {}", self.root.display()), e))?;
        for entry in entries.flatten() {
            let dir = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            // The entry itself, not what a link points to: the host follows no link it did
            // not make, so a link planted here can never open another directory's index.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_symlink() {
                tracing::warn!(
                    target: "switchyard::search",
                    entry = %dir.display(),
                    "a symbolic link among the search indexes is ignored (the host never makes one)"
                );
                continue;
            }
            if name.starts_with(".trash-") {
                let _ = std::fs::remove_dir_all(&dir);
                continue;
            }
            if !kind.is_dir() || name.starts_with('.') {
                continue;
            }
            if let Some(link) = first_link(&dir) {
                tracing::warn!(
                    target: "switchyard::search",
                    index = %name, link = %link.display(),
                    "search index not opened: it holds a symbolic link (the host never makes one)"
                );
                continue;
            }
            match open_index(&dir, &name) {
                Ok(Some(index)) => {
                    out.insert(name, Arc::new(index));
                }
                // Never finished being created: nothing was ever written to it.
                Ok(None) => {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                Err(e) => tracing::warn!(
                    target: "switchyard::search",
                    index = %name, dir = %dir.display(), "search index not opened: {e}"
                ),
            }
        }
        Ok(out)
    }

    fn index(&self, name: &str) -> Result<Arc<SearchIndex>, WitError> {
        let catalog = self.catalog()?;
        catalog
            .as_ref()
            .and_then(|c| c.get(name).cloned())
            .ok_or_else(|| not_found(name))
    }

    pub fn create_index(&self, name: &str, settings: Settings) -> Result<IndexInfo, WitError> {
        let mut guard = self.catalog()?;
        let catalog = guard.as_mut().expect("catalog loaded");
        if catalog.contains_key(name) {
            return Err(error(
                ErrorKind::Conflict,
                format!("index {name:?} already exists"),
            ));
        }
        let dir = self.root.join(name);
        if dir.exists() {
            // A leftover of a creation that never finished.
            std::fs::remove_dir_all(&dir).map_err(|e| internal("clearing a leftover", e))?;
        }
        let live = Live::open(&dir, settings.clone(), 1, true)
            .map_err(|e| internal("creating the index", e))?;
        write_settings(&dir, 1, &settings)?;
        let index = Arc::new(SearchIndex {
            name: name.to_string(),
            dir,
            writing: Mutex::new(()),
            live: RwLock::new(Arc::new(live)),
        });
        catalog.insert(name.to_string(), index.clone());
        Ok(index.info())
    }

    pub fn get_index(&self, name: &str) -> Result<IndexInfo, WitError> {
        Ok(self.index(name)?.info())
    }

    pub fn list_indexes(&self) -> Result<Vec<IndexInfo>, WitError> {
        let indexes: Vec<Arc<SearchIndex>> = self
            .catalog()?
            .as_ref()
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default();
        Ok(indexes.iter().map(|i| i.info()).collect())
    }

    pub fn delete_index(&self, name: &str) -> Result<(), WitError> {
        let mut guard = self.catalog()?;
        let catalog = guard.as_mut().expect("catalog loaded");
        let index = catalog.remove(name).ok_or_else(|| not_found(name))?;
        // Wait for a write in progress; searches holding the old generation finish on it.
        let _writing = index.write_lock();
        let trash = self
            .root
            .join(format!(".trash-{}", uuid::Uuid::new_v4().simple()));
        std::fs::rename(&index.dir, &trash).map_err(|e| {
            catalog.insert(name.to_string(), index.clone());
            internal("deleting the index", e)
        })?;
        let _ = std::fs::remove_dir_all(&trash);
        Ok(())
    }

    /// Indexes every document again under new settings (nothing to do when unchanged).
    pub fn update_settings(&self, name: &str, settings: Settings) -> Result<IndexInfo, WitError> {
        let index = self.index(name)?;
        let _writing = index.write_lock();
        let old = index.live();
        if old.settings == settings {
            return Ok(index.info());
        }
        let generation = old.generation + 1;
        let stale = index.dir.join(format!("data-{generation}"));
        if stale.exists() {
            std::fs::remove_dir_all(&stale).map_err(|e| internal("clearing a leftover", e))?;
        }
        let new = Live::open(&index.dir, settings.clone(), generation, true)
            .map_err(|e| internal("creating the new generation", e))?;
        let writer = new.writer()?;
        let searcher = old.reader.searcher();
        let all = searcher
            .search(&AllQuery, &DocSetCollector)
            .map_err(|e| internal("reading documents", e))?;
        let mut addrs: Vec<DocAddress> = all.into_iter().collect();
        addrs.sort();
        for addr in addrs {
            let (id, text) = old.source(&searcher, addr)?;
            writer
                .add_document(to_document(&new.fields, &id, &parse(&text)?, &text))
                .map_err(|e| internal("indexing", e))?;
        }
        new.commit(writer)?;
        write_settings(&index.dir, generation, &settings)?;
        *index.live.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(new);
        let _ = std::fs::remove_dir_all(index.dir.join(format!("data-{}", old.generation)));
        Ok(index.info())
    }

    /// Adds or replaces documents (the caller has checked them).
    pub fn index_documents(&self, name: &str, docs: Vec<NewDocument>) -> Result<(), WitError> {
        let index = self.index(name)?;
        if docs.is_empty() {
            return Ok(());
        }
        let _writing = index.write_lock();
        let live = index.live();
        let writer = live.writer()?;
        for d in &docs {
            writer.delete_term(Term::from_field_text(live.fields.id, &d.id));
            writer
                .add_document(to_document(&live.fields, &d.id, &d.body, &d.source))
                .map_err(|e| internal("indexing", e))?;
        }
        live.commit(writer)
    }

    /// Merges changes into stored documents; per item, the merged body or why not. `check`
    /// refuses a merged body (too large).
    pub fn update_documents(
        &self,
        name: &str,
        updates: Vec<Update>,
        check: impl Fn(&str, &Value) -> Result<(), WitError>,
    ) -> Result<Vec<Result<String, WitError>>, WitError> {
        let index = self.index(name)?;
        let _writing = index.write_lock();
        let live = index.live();
        let mut merged: HashMap<String, Value> = HashMap::new();
        let mut results = Vec::with_capacity(updates.len());
        let mut order = Vec::new();
        for update in updates {
            let (id, changes) = match update {
                Ok(u) => u,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let current = match merged.get(&id) {
                Some(v) => Some(v.clone()),
                None => live.get(&id)?.map(|t| parse(&t)).transpose()?,
            };
            let Some(Value::Object(mut body)) = current else {
                results.push(Err(error(
                    ErrorKind::NotFound,
                    format!("document {id:?} not found in index {name:?}"),
                )));
                continue;
            };
            for (k, v) in changes {
                body.insert(k, v);
            }
            let body = Value::Object(body);
            if let Err(e) = check(&id, &body) {
                results.push(Err(e));
                continue;
            }
            if !merged.contains_key(&id) {
                order.push(id.clone());
            }
            merged.insert(id.clone(), body);
            results.push(Ok(id));
        }
        if !order.is_empty() {
            let writer = live.writer()?;
            for id in order {
                let body = &merged[&id];
                writer.delete_term(Term::from_field_text(live.fields.id, &id));
                writer
                    .add_document(to_document(&live.fields, &id, body, &body.to_string()))
                    .map_err(|e| internal("indexing", e))?;
            }
            live.commit(writer)?;
        }
        Ok(results)
    }

    pub fn delete_documents(&self, name: &str, ids: &[String]) -> Result<(), WitError> {
        let index = self.index(name)?;
        if ids.is_empty() {
            return Ok(());
        }
        let _writing = index.write_lock();
        let live = index.live();
        let writer = live.writer()?;
        for id in ids {
            writer.delete_term(Term::from_field_text(live.fields.id, id));
        }
        live.commit(writer)
    }

    /// The stored text of a document.
    pub fn get_document(&self, name: &str, id: &str) -> Result<String, WitError> {
        let index = self.index(name)?;
        index.live().get(id)?.ok_or_else(|| {
            error(
                ErrorKind::NotFound,
                format!("document {id:?} not found in index {name:?}"),
            )
        })
    }

    /// The settings of an index, for checking a request against them.
    pub fn settings(&self, name: &str) -> Result<Settings, WitError> {
        Ok(self.index(name)?.live().settings.clone())
    }

    /// Runs a checked search on an index.
    pub fn search(&self, name: &str, s: &Search) -> Result<SearchResult, WitError> {
        let started = Instant::now();
        let index = self.index(name)?;
        query::run(&index.live(), name, s, started)
    }
}

/// A symbolic link anywhere under `dir`, if there is one.
fn first_link(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        let kind = entry.file_type().ok()?;
        if kind.is_symlink() {
            return Some(entry.path());
        }
        if kind.is_dir() {
            if let Some(link) = first_link(&entry.path()) {
                return Some(link);
            }
        }
    }
    None
}

fn not_found(name: &str) -> WitError {
    error(ErrorKind::NotFound, format!("index {name:?} not found"))
}
