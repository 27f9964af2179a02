//! One index on disk: its settings file, its current generation ([`Live`]) and the lock that
//! orders its writes ([`SearchIndex`]).
//!
//! Layout, under the binding's `files` directory: `search/<index>/settings.json` (the
//! settings and the current generation) and `search/<index>/data-<generation>/` (the tantivy
//! index). Every write commits before it returns, so its documents are searchable and on
//! disk; each write opens its own single-threaded writer, which holds tantivy's directory
//! lock only for that call.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::{Field, IndexRecordOption, Value as _};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::bindings::base::switchyard::types::types::{self, ErrorKind};
use crate::bindings::search::switchyard::search::types::IndexInfo;
use crate::contract::error;

use super::schema::{analyzer, schema_of, Fields, Settings, TOKENIZER};

type WitError = types::Error;

/// The indexing memory of one write, in bytes (tantivy's minimum for one thread).
const WRITER_MEMORY: usize = 15_000_000;
/// The settings file of an index directory.
const SETTINGS_FILE: &str = "settings.json";

/// An `internal` error of the index: what failed, and why.
pub(super) fn internal(what: &str, e: impl std::fmt::Display) -> WitError {
    error(ErrorKind::Internal, format!("search index: {what}: {e}"))
}

/// `settings.json`.
#[derive(Serialize, Deserialize)]
struct SettingsFile {
    generation: u64,
    settings: Settings,
}

/// One generation of an index: its settings, schema and reader.
pub(super) struct Live {
    pub(super) settings: Settings,
    pub(super) generation: u64,
    index: Index,
    pub(super) reader: IndexReader,
    pub(super) fields: Fields,
}

impl Live {
    /// Opens generation `generation` in `dir` (creating it when `create`).
    pub(super) fn open(
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

    /// A single-threaded writer; `unavailable` while another process writes.
    pub(super) fn writer(&self) -> Result<IndexWriter, WitError> {
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
    pub(super) fn commit(&self, mut writer: IndexWriter) -> Result<(), WitError> {
        writer.commit().map_err(|e| internal("commit", e))?;
        writer
            .wait_merging_threads()
            .map_err(|e| internal("merging segments", e))?;
        self.reader.reload().map_err(|e| internal("reload", e))
    }

    /// The stored body of the document `id`, if any.
    /// The stored text of the document `id`, if any.
    pub(super) fn get(&self, id: &str) -> Result<Option<String>, WitError> {
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
    pub(super) fn source(
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
    pub(super) name: String,
    pub(super) dir: PathBuf,
    pub(super) writing: Mutex<()>,
    pub(super) live: RwLock<Arc<Live>>,
}

impl SearchIndex {
    /// The current generation.
    pub(super) fn live(&self) -> Arc<Live> {
        self.live.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Holds the index's writes until dropped.
    pub(super) fn write_lock(&self) -> MutexGuard<'_, ()> {
        self.writing.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn info(&self) -> IndexInfo {
        let live = self.live();
        IndexInfo {
            name: self.name.clone(),
            settings: live.settings.to_wit(),
            documents: live.documents(),
        }
    }
}

/// Writes `settings.json` (to a temporary file, then renamed).
pub(super) fn write_settings(
    dir: &Path,
    generation: u64,
    settings: &Settings,
) -> Result<(), WitError> {
    let text = serde_json::to_vec_pretty(&SettingsFile {
        generation,
        settings: settings.clone(),
    })
    .map_err(|e| internal("settings", e))?;
    let tmp = dir.join(format!("{SETTINGS_FILE}.tmp"));
    std::fs::write(&tmp, text).map_err(|e| internal("writing settings", e))?;
    std::fs::rename(&tmp, dir.join(SETTINGS_FILE)).map_err(|e| internal("writing settings", e))
}

/// A stored document's body.
pub(super) fn parse(text: &str) -> Result<Value, WitError> {
    serde_json::from_str(text).map_err(|e| internal("stored document", e))
}

/// Why an index on disk could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The settings file cannot be read.
    #[error("{SETTINGS_FILE}: {0}")]
    Read(std::io::Error),
    /// The settings file is not valid.
    #[error("{SETTINGS_FILE}: {0}")]
    Parse(serde_json::Error),
    /// The tantivy index of the current generation cannot be opened.
    #[error("{0}")]
    Index(tantivy::TantivyError),
}

/// Opens the index in `dir`; none when it has no settings file (its creation never finished).
pub(super) fn open_index(dir: &Path, name: &str) -> Result<Option<SearchIndex>, OpenError> {
    let text = match std::fs::read(dir.join(SETTINGS_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(OpenError::Read(e)),
    };
    let file: SettingsFile = serde_json::from_slice(&text).map_err(OpenError::Parse)?;
    let live = Live::open(dir, file.settings, file.generation, false).map_err(OpenError::Index)?;
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
