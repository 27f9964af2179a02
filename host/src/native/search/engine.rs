//! The embedded full-text index behind host-native search: one tenant's indexes, each a
//! tantivy index on disk.
//!
//! Layout, under the binding's `files` directory: `search/<index>/settings.json` (the
//! settings and the current generation) and `search/<index>/data-<generation>/` (the tantivy
//! index). The schema is derived from the settings:
//! - `_id` (the document id, indexed as one term) and `_source` (the body as stored);
//! - `t<i>` per searchable field, tokenised (words, lower-cased, accents folded), or a single
//!   `_all` holding every string of the document when no field is listed;
//! - `k<j>` (exact text, fast) and `n<j>` (numbers, indexed and fast) per field that can be
//!   faceted, filtered or sorted on.
//!
//! Changing the settings writes a new generation from every `_source`, then switches
//! `settings.json` to it (written to a temporary file and renamed, so a crash leaves either
//! generation whole) and deletes the old one. Every write commits before it returns, so its
//! documents are searchable and on disk; each write opens its own single-threaded writer,
//! which holds tantivy's directory lock only for that call.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tantivy::collector::{Collector, Count, DocSetCollector, SegmentCollector, TopDocs};
use tantivy::columnar::StrColumn;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value as _, FAST, INDEXED,
    STORED, STRING,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentReader,
    TantivyDocument, Term,
};

use crate::bindings::base::switchyard::types::types::{self, ErrorKind, PageInfo};
use crate::bindings::search::switchyard::search::types::{
    FacetCount, FilterOp, Hit, IndexInfo, IndexSettings, Scalar, SearchResult, SortOrder,
};
use crate::native::error;

type WitError = types::Error;
/// (path, text) pairs.
type Texts = Vec<(String, String)>;
/// Every index by name, once read from disk.
type Catalog = Option<BTreeMap<String, Arc<SearchIndex>>>;
/// Per facet field: value -> hits.
type FacetFruit = Vec<HashMap<String, u64>>;
/// A checked partial update (id, changes), or why it was refused.
pub type Update = Result<(String, Map<String, Value>), WitError>;

/// The tokenizer of searchable fields.
const TOKENIZER: &str = "switchyard";
/// The longest word indexed, in bytes; longer ones are skipped.
const MAX_WORD: usize = 64;
/// The longest text value kept for facets, filters and sorting, in bytes.
pub const MAX_KEYWORD: usize = 1024;
/// How far paging reaches into a result.
pub const MAX_WINDOW: usize = 10_000;
/// The indexing memory of one write, in bytes (tantivy's minimum for one thread).
const WRITER_MEMORY: usize = 15_000_000;
/// The settings file of an index directory.
const SETTINGS_FILE: &str = "settings.json";

fn internal(what: &str, e: impl std::fmt::Display) -> WitError {
    error(ErrorKind::Internal, format!("search index: {what}: {e}"))
}

/// An index's settings as kept on disk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub searchable: Vec<String>,
    pub facets: Vec<String>,
    pub filterable: Vec<String>,
    pub sortable: Vec<String>,
}

impl Settings {
    pub fn from_wit(s: &IndexSettings) -> Self {
        Settings {
            searchable: s.searchable.clone(),
            facets: s.facets.clone(),
            filterable: s.filterable.clone(),
            sortable: s.sortable.clone(),
        }
    }

    fn to_wit(&self) -> IndexSettings {
        IndexSettings {
            searchable: self.searchable.clone(),
            facets: self.facets.clone(),
            filterable: self.filterable.clone(),
            sortable: self.sortable.clone(),
        }
    }

    /// Every field with exact values (facets, filters, sorting), each once, in order.
    fn keyword_fields(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in self
            .facets
            .iter()
            .chain(&self.filterable)
            .chain(&self.sortable)
        {
            if !out.contains(f) {
                out.push(f.clone());
            }
        }
        out
    }

    /// Whether `field` can be filtered on.
    pub fn filterable(&self, field: &str) -> bool {
        self.facets
            .iter()
            .chain(&self.filterable)
            .any(|f| f == field)
    }
}

/// `settings.json`.
#[derive(Serialize, Deserialize)]
struct SettingsFile {
    generation: u64,
    settings: Settings,
}

/// The schema fields of one generation.
struct Fields {
    id: Field,
    source: Field,
    /// (path, field, weight) per searchable field; empty when `all` is used.
    text: Vec<(String, Field, Score)>,
    /// Every string of the document, when no searchable field is listed.
    all: Option<Field>,
    /// path -> (exact text field name, field; number field name, field).
    keyword: HashMap<String, Keyword>,
}

struct Keyword {
    text_name: String,
    text: Field,
    number_name: String,
    number: Field,
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

fn schema_of(settings: &Settings) -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("_id", STRING | STORED);
    let source = b.add_text_field("_source", STORED);
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let n = settings.searchable.len();
    let text = settings
        .searchable
        .iter()
        .enumerate()
        .map(|(i, path)| {
            // Each field weighs eight times as much as the next, so that a match in an
            // earlier field outranks one in a later field whatever the word counts.
            let weight = (8.0 as Score).powi((n - 1 - i).min(12) as i32);
            (
                path.clone(),
                b.add_text_field(&format!("t{i}"), words.clone()),
                weight,
            )
        })
        .collect();
    let all = (n == 0).then(|| b.add_text_field("_all", words.clone()));
    let keyword = settings
        .keyword_fields()
        .into_iter()
        .enumerate()
        .map(|(j, path)| {
            let text_name = format!("k{j}");
            let number_name = format!("n{j}");
            let text = b.add_text_field(&text_name, STRING | FAST);
            let number = b.add_f64_field(&number_name, INDEXED | FAST);
            (
                path,
                Keyword {
                    text_name,
                    text,
                    number_name,
                    number,
                },
            )
        })
        .collect();
    (
        b.build(),
        Fields {
            id,
            source,
            text,
            all,
            keyword,
        },
    )
}

/// The values at a dotted path, arrays looked through at every step.
fn values_at<'a>(v: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match (v, path.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|i| values_at(i, path, out)),
        (_, None) => out.push(v),
        (Value::Object(o), Some((first, rest))) => {
            if let Some(next) = o.get(*first) {
                values_at(next, rest, out);
            }
        }
        _ => {}
    }
}

fn at<'a>(body: &'a Value, path: &str) -> Vec<&'a Value> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    values_at(body, &parts, &mut out);
    out
}

/// The searchable text of a value: every string and number in it, with its path.
fn texts(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((path.to_string(), s.clone())),
        Value::Number(n) => out.push((path.to_string(), n.to_string())),
        Value::Array(items) => items.iter().for_each(|i| texts(i, path, out)),
        Value::Object(o) => {
            for (k, v) in o {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                texts(v, &p, out);
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// The searchable (path, text) pairs of a document, per text field: the listed fields in
/// order, or every string of the document.
fn searchable_texts(fields: &Fields, body: &Value) -> Vec<(Field, Score, Texts)> {
    if let Some(all) = fields.all {
        let mut out = Vec::new();
        texts(body, "", &mut out);
        return vec![(all, 1.0, out)];
    }
    fields
        .text
        .iter()
        .map(|(path, field, weight)| {
            let mut out = Vec::new();
            for v in at(body, path) {
                texts(v, path, &mut out);
            }
            (*field, *weight, out)
        })
        .collect()
}

/// A number in the form facet values and facet filters use: as JSON writes it.
fn number_text(n: &serde_json::Number) -> String {
    n.to_string()
}

/// The tantivy document of `body`, whose text as given is `source`.
fn to_document(fields: &Fields, id: &str, body: &Value, source: &str) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(fields.id, id);
    doc.add_text(fields.source, source);
    for (field, _, values) in searchable_texts(fields, body) {
        for (_, text) in values {
            doc.add_text(field, text);
        }
    }
    for (path, k) in &fields.keyword {
        let mut seen_text = HashSet::new();
        let mut seen_number = Vec::new();
        for v in at(body, path) {
            let (text, number) = match v {
                Value::String(s) => (s.clone(), None),
                Value::Number(n) => (number_text(n), n.as_f64()),
                Value::Bool(b) => (b.to_string(), None),
                _ => continue,
            };
            if text.len() <= MAX_KEYWORD && seen_text.insert(text.clone()) {
                doc.add_text(k.text, text);
            }
            if let Some(n) = number.filter(|n| n.is_finite()) {
                if !seen_number.contains(&n) {
                    seen_number.push(n);
                    doc.add_f64(k.number, n);
                }
            }
        }
    }
    doc
}

/// One generation of an index: its settings, schema and reader.
struct Live {
    settings: Settings,
    generation: u64,
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl Live {
    fn open(
        dir: &Path,
        settings: Settings,
        generation: u64,
        create: bool,
    ) -> tantivy::Result<Live> {
        let data = dir.join(format!("data-{generation}"));
        let (schema, fields) = schema_of(&settings);
        let index = if create {
            std::fs::create_dir_all(&data)?;
            Index::create_in_dir(&data, schema)?
        } else {
            Index::open_in_dir(&data)?
        };
        index.tokenizers().register(TOKENIZER, analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        // An index opened from disk must have the schema its settings give.
        if !create && index.schema() != schema_of(&settings).0 {
            return Err(tantivy::TantivyError::SchemaError(format!(
                "{} does not match {SETTINGS_FILE}",
                data.display()
            )));
        }
        Ok(Live {
            settings,
            generation,
            index,
            reader,
            fields,
        })
    }

    fn writer(&self) -> Result<IndexWriter, WitError> {
        self.index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => {
                    let mut e = error(
                        ErrorKind::Unavailable,
                        "search index: another process is writing to this index; retry",
                    );
                    e.retry_after_ms = Some(100);
                    e
                }
                other => internal("opening a writer", other),
            })
    }

    /// Commits, waits for merges, and makes the changes visible to searches.
    fn commit(&self, mut writer: IndexWriter) -> Result<(), WitError> {
        writer.commit().map_err(|e| internal("commit", e))?;
        writer
            .wait_merging_threads()
            .map_err(|e| internal("merging segments", e))?;
        self.reader.reload().map_err(|e| internal("reload", e))
    }

    /// The stored body of the document `id`, if any.
    /// The stored text of the document `id`, if any.
    fn get(&self, id: &str) -> Result<Option<String>, WitError> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            IndexRecordOption::Basic,
        );
        let top = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(|e| internal("lookup", e))?;
        match top.first() {
            None => Ok(None),
            Some((_, addr)) => self.source(&searcher, *addr).map(|(_, text)| Some(text)),
        }
    }

    /// The id and body of a stored document.
    /// The id and stored text of a document.
    fn source(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
    ) -> Result<(String, String), WitError> {
        let doc: TantivyDocument = searcher.doc(addr).map_err(|e| internal("read", e))?;
        let text = |f: Field| {
            doc.get_first(f)
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        Ok((text(self.fields.id), text(self.fields.source)))
    }

    fn documents(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

/// One index: its current generation, and a lock that orders its writes.
pub struct SearchIndex {
    name: String,
    dir: PathBuf,
    writing: Mutex<()>,
    live: RwLock<Arc<Live>>,
}

impl SearchIndex {
    fn live(&self) -> Arc<Live> {
        self.live.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn write_lock(&self) -> MutexGuard<'_, ()> {
        self.writing.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn info(&self) -> IndexInfo {
        let live = self.live();
        IndexInfo {
            name: self.name.clone(),
            settings: live.settings.to_wit(),
            documents: live.documents(),
        }
    }
}

fn write_settings(dir: &Path, generation: u64, settings: &Settings) -> Result<(), WitError> {
    let text = serde_json::to_vec_pretty(&SettingsFile {
        generation,
        settings: settings.clone(),
    })
    .map_err(|e| internal("settings", e))?;
    let tmp = dir.join(format!("{SETTINGS_FILE}.tmp"));
    std::fs::write(&tmp, text).map_err(|e| internal("writing settings", e))?;
    std::fs::rename(&tmp, dir.join(SETTINGS_FILE)).map_err(|e| internal("writing settings", e))
}

/// A document to add or replace, already checked.
pub struct NewDocument {
    pub id: String,
    pub body: Value,
    /// The body's text as given, kept as the stored document.
    pub source: String,
}

/// A checked search.
pub struct Search {
    /// Analysed query words (empty: every document).
    pub query: String,
    pub filters: Vec<(String, FilterOp, Scalar)>,
    pub facet_filters: Vec<Vec<(String, String)>>,
    pub facets: Vec<String>,
    pub max_facet_values: usize,
    /// (pre, post, max chars).
    pub highlight: Option<(String, String, Option<usize>)>,
    pub sort: Option<(String, SortOrder)>,
    pub offset: usize,
    pub limit: usize,
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
            if name.starts_with(".trash-") {
                let _ = std::fs::remove_dir_all(&dir);
                continue;
            }
            if !dir.is_dir() || name.starts_with('.') {
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

    pub fn search(&self, name: &str, s: &Search) -> Result<SearchResult, WitError> {
        let started = Instant::now();
        let index = self.index(name)?;
        let live = index.live();
        let fields = &live.fields;
        let invalid = |m: String| error(ErrorKind::InvalidInput, m);
        let keyword = |field: &str, what: &str| {
            fields.keyword.get(field).ok_or_else(|| {
                invalid(format!(
                    "{what} field {field:?} is not in the settings of index {name:?}"
                ))
            })
        };

        // The words: each must be found in some searchable field.
        let words = query_words(&s.query);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let text_fields: Vec<(Field, Score)> = match fields.all {
            Some(all) => vec![(all, 1.0)],
            None => fields.text.iter().map(|(_, f, w)| (*f, *w)).collect(),
        };
        if words.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        } else if text_fields.is_empty() {
            clauses.push((Occur::Must, Box::new(tantivy::query::EmptyQuery)));
        } else {
            for word in &words {
                let any: Vec<(Occur, Box<dyn Query>)> = text_fields
                    .iter()
                    .map(|(f, w)| {
                        let q: Box<dyn Query> = Box::new(TermQuery::new(
                            Term::from_field_text(*f, word),
                            IndexRecordOption::WithFreqs,
                        ));
                        let q: Box<dyn Query> = if *w == 1.0 {
                            q
                        } else {
                            Box::new(BoostQuery::new(q, *w))
                        };
                        (Occur::Should, q)
                    })
                    .collect();
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
            }
        }
        // Filters and facet filters: conditions that do not change the score.
        let unscored =
            |q: Box<dyn Query>| -> Box<dyn Query> { Box::new(ConstScoreQuery::new(q, 0.0)) };
        for (field, op, value) in &s.filters {
            let k = keyword(field, "filter")?;
            let term = match value {
                Scalar::Text(t) => Term::from_field_text(k.text, t),
                Scalar::Boolean(b) => {
                    Term::from_field_text(k.text, if *b { "true" } else { "false" })
                }
                Scalar::Number(n) => Term::from_field_f64(k.number, *n),
            };
            let q: Box<dyn Query> = match op {
                FilterOp::Eq | FilterOp::Ne => {
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
                }
                FilterOp::Gt => Box::new(RangeQuery::new(Bound::Excluded(term), Bound::Unbounded)),
                FilterOp::Gte => Box::new(RangeQuery::new(Bound::Included(term), Bound::Unbounded)),
                FilterOp::Lt => Box::new(RangeQuery::new(Bound::Unbounded, Bound::Excluded(term))),
                FilterOp::Lte => Box::new(RangeQuery::new(Bound::Unbounded, Bound::Included(term))),
            };
            let occur = if matches!(op, FilterOp::Ne) {
                Occur::MustNot
            } else {
                Occur::Must
            };
            clauses.push((occur, unscored(q)));
        }
        for group in &s.facet_filters {
            let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (field, value) in group {
                let k = keyword(field, "facet filter")?;
                any.push((
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(k.text, value),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
            clauses.push((Occur::Must, unscored(Box::new(BooleanQuery::new(any)))));
        }
        let query = BooleanQuery::new(clauses);

        let facet_fields = s
            .facets
            .iter()
            .map(|f| keyword(f, "facet").map(|k| k.text_name.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let facets = FacetCollector {
            fields: facet_fields,
        };
        let searcher = live.reader.searcher();
        let window = TopDocs::with_limit(s.limit).and_offset(s.offset);
        let run = |e: tantivy::TantivyError| internal("search", e);
        let (top, total, counts): (Vec<(Score, DocAddress)>, usize, FacetFruit) = match &s.sort {
            None => searcher
                .search(&query, &(window.order_by_score(), Count, facets))
                .map_err(run)?,
            Some((field, order)) => {
                let k = keyword(field, "sort")?;
                let sorter = Sorter {
                    text: k.text_name.clone(),
                    number: k.number_name.clone(),
                    ascending: matches!(order, SortOrder::Ascending),
                };
                let (top, total, counts) = searcher
                    .search(
                        &query,
                        &(
                            window.tweak_score(move |r: &SegmentReader| sorter.for_segment(r)),
                            Count,
                            facets,
                        ),
                    )
                    .map_err(run)?;
                (
                    top.into_iter().map(|(k, a)| (k.score, a)).collect(),
                    total,
                    counts,
                )
            }
        };

        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in &top {
            let (id, text) = live.source(&searcher, *addr)?;
            let highlights = match &s.highlight {
                Some((pre, post, max)) => {
                    highlight(fields, &parse(&text)?, &words, pre, post, *max)
                }
                None => Vec::new(),
            };
            hits.push(Hit {
                id,
                document: text,
                score: *score,
                highlights,
            });
        }
        let facets = s
            .facets
            .iter()
            .zip(counts)
            .map(|(field, counts)| {
                let mut values: Vec<(String, u64)> = counts.into_iter().collect();
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                values.truncate(s.max_facet_values);
                FacetCount {
                    field: field.clone(),
                    values,
                }
            })
            .collect();
        let next = s.offset + hits.len();
        Ok(SearchResult {
            total: total as u64,
            exhaustive: true,
            hits,
            facets,
            page: PageInfo {
                next_cursor: (next < total && next < MAX_WINDOW && !top.is_empty())
                    .then(|| next.to_string()),
                total: Some(total as u64),
            },
            processing_ms: started.elapsed().as_millis() as u64,
        })
    }
}

/// A stored document's body.
fn parse(text: &str) -> Result<Value, WitError> {
    serde_json::from_str(text).map_err(|e| internal("stored document", e))
}

fn not_found(name: &str) -> WitError {
    error(ErrorKind::NotFound, format!("index {name:?} not found"))
}

/// Opens the index in `dir`; none when it has no settings file (its creation never finished).
fn open_index(dir: &Path, name: &str) -> Result<Option<SearchIndex>, String> {
    let text = match std::fs::read(dir.join(SETTINGS_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{SETTINGS_FILE}: {e}")),
    };
    let file: SettingsFile =
        serde_json::from_slice(&text).map_err(|e| format!("{SETTINGS_FILE}: {e}"))?;
    let live = Live::open(dir, file.settings, file.generation, false).map_err(|e| e.to_string())?;
    // Generations other than the current one are leftovers of an interrupted change.
    if let Ok(entries) = std::fs::read_dir(dir) {
        let current = format!("data-{}", file.generation);
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with("data-") && n != current {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(Some(SearchIndex {
        name: name.to_string(),
        dir: dir.to_path_buf(),
        writing: Mutex::new(()),
        live: RwLock::new(Arc::new(live)),
    }))
}

/// The words of a query as the index holds them, each once, in order.
pub fn query_words(query: &str) -> Vec<String> {
    let mut a = analyzer();
    let mut stream = a.token_stream(query);
    let mut out: Vec<String> = Vec::new();
    while let Some(t) = stream.next() {
        if !out.contains(&t.text) {
            out.push(t.text.clone());
        }
    }
    out
}

/// (field, marked text) for each searchable value of `body` that contains a query word.
fn highlight(
    fields: &Fields,
    body: &Value,
    words: &[String],
    pre: &str,
    post: &str,
    max: Option<usize>,
) -> Vec<(String, String)> {
    if words.is_empty() {
        return Vec::new();
    }
    let terms: BTreeMap<String, Score> = words.iter().map(|w| (w.clone(), 1.0)).collect();
    let mut out = Vec::new();
    for (field, _, values) in searchable_texts(fields, body) {
        let generator =
            SnippetGenerator::new(terms.clone(), analyzer(), field, max.unwrap_or(usize::MAX));
        for (path, text) in values {
            let snippet = generator.snippet(&text);
            if snippet.is_empty() {
                continue;
            }
            // The whole value, or the best fragment; the ranges are the fragment's.
            let base = match max {
                None => text.as_str(),
                Some(_) => snippet.fragment(),
            };
            let offset = match max {
                None => snippet.fragment_range().start,
                Some(_) => 0,
            };
            let mut marked = String::with_capacity(base.len() + 16);
            let mut from = 0;
            for r in tantivy::snippet::collapse_overlapped_ranges(snippet.highlighted()) {
                let (start, end) = (r.start + offset, r.end + offset);
                marked.push_str(&base[from..start]);
                marked.push_str(pre);
                marked.push_str(&base[start..end]);
                marked.push_str(post);
                from = end;
            }
            marked.push_str(&base[from..]);
            out.push((path, marked));
        }
    }
    out
}

/// Counts the exact values of fields over every hit.
struct FacetCollector {
    /// The `k<j>` fast fields.
    fields: Vec<String>,
}

struct FacetSegment {
    columns: Vec<Option<StrColumn>>,
    counts: Vec<Vec<u64>>,
}

impl Collector for FacetCollector {
    type Fruit = FacetFruit;
    type Child = FacetSegment;

    fn for_segment(&self, _ord: u32, reader: &SegmentReader) -> tantivy::Result<FacetSegment> {
        let columns = self
            .fields
            .iter()
            .map(|f| reader.fast_fields().str(f))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let counts = columns
            .iter()
            .map(|c| vec![0; c.as_ref().map_or(0, |c| c.num_terms())])
            .collect();
        Ok(FacetSegment { columns, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut out = vec![HashMap::new(); self.fields.len()];
        for fruit in fruits {
            for (total, counts) in out.iter_mut().zip(fruit) {
                for (value, n) in counts {
                    *total.entry(value).or_insert(0) += n;
                }
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = FacetFruit;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, counts) in self.columns.iter().zip(&mut self.counts) {
            if let Some(column) = column {
                for ord in column.term_ords(doc) {
                    if let Some(c) = counts.get_mut(ord as usize) {
                        *c += 1;
                    }
                }
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.columns
            .iter()
            .zip(self.counts)
            .map(|(column, counts)| {
                let mut out = HashMap::new();
                let Some(column) = column else {
                    return out;
                };
                for (ord, n) in counts.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                    let mut value = String::new();
                    if let Ok(true) = column.ord_to_str(ord as u64, &mut value) {
                        out.insert(value, n);
                    }
                }
                out
            })
            .collect()
    }
}

/// How a sort reads a document's value: numbers first, then text, then none.
#[derive(Clone)]
struct Sorter {
    text: String,
    number: String,
    ascending: bool,
}

/// A sort key: compared as the sort asks, then by relevance.
#[derive(Debug, Clone)]
struct SortKey {
    /// 2: a number, 1: text only, 0: no value.
    rank: u8,
    number: f64,
    text: String,
    ascending: bool,
    score: Score,
}

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.partial_cmp(other) == Some(std::cmp::Ordering::Equal)
    }
}

impl PartialOrd for SortKey {
    /// Greater sorts first (TopDocs keeps the greatest).
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        use std::cmp::Ordering;
        let by_value = match self.rank.cmp(&other.rank) {
            Ordering::Equal => {
                let natural = match self.rank {
                    2 => self.number.total_cmp(&other.number),
                    1 => self.text.cmp(&other.text),
                    _ => Ordering::Equal,
                };
                if self.ascending {
                    natural.reverse()
                } else {
                    natural
                }
            }
            unequal => unequal,
        };
        Some(by_value.then_with(|| self.score.total_cmp(&other.score)))
    }
}

impl Sorter {
    fn for_segment(&self, reader: &SegmentReader) -> impl Fn(DocId, Score) -> SortKey {
        let numbers = reader.fast_fields().f64(&self.number).ok();
        let texts = reader.fast_fields().str(&self.text).ok().flatten();
        let ascending = self.ascending;
        move |doc, score| {
            if let Some(n) = numbers.as_ref().and_then(|c| c.first(doc)) {
                return SortKey {
                    rank: 2,
                    number: n,
                    text: String::new(),
                    ascending,
                    score,
                };
            }
            let mut text = String::new();
            let has_text = texts
                .as_ref()
                .and_then(|c| c.term_ords(doc).next().map(|ord| (c, ord)))
                .is_some_and(|(c, ord)| matches!(c.ord_to_str(ord, &mut text), Ok(true)));
            SortKey {
                rank: u8::from(has_text),
                number: 0.0,
                text,
                ascending,
                score,
            }
        }
    }
}
