//! How an index's settings become a tantivy schema, and a JSON document a tantivy document.
//!
//! The schema is derived from the settings:
//! - `_id` (the document id, indexed as one term) and `_source` (the body as stored);
//! - `t<i>` per searchable field, tokenised (words, lower-cased, accents folded), or a single
//!   `_all` holding every string of the document when no field is listed;
//! - `k<j>` (exact text, fast) and `n<j>` (numbers, indexed and fast) per field that can be
//!   faceted, filtered or sorted on.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{Score, TantivyDocument};

use crate::bindings::search::switchyard::search::types::IndexSettings;

/// (path, text) pairs.
type Texts = Vec<(String, String)>;

/// The tokenizer of searchable fields.
pub(super) const TOKENIZER: &str = "switchyard";
/// The longest word indexed, in bytes; longer ones are skipped.
const MAX_WORD: usize = 64;
/// The longest text value kept for facets, filters and sorting, in bytes.
pub use switchyard_rules::search::MAX_KEYWORD;

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

    pub(super) fn to_wit(&self) -> IndexSettings {
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

/// The schema fields of one generation.
pub(super) struct Fields {
    pub(super) id: Field,
    pub(super) source: Field,
    /// (path, field, weight) per searchable field; empty when `all` is used.
    pub(super) text: Vec<(String, Field, Score)>,
    /// Every string of the document, when no searchable field is listed.
    pub(super) all: Option<Field>,
    /// path -> (exact text field name, field; number field name, field).
    pub(super) keyword: HashMap<String, Keyword>,
}

/// The exact-value fields of one path.
pub(super) struct Keyword {
    pub(super) text_name: String,
    pub(super) text: Field,
    pub(super) number_name: String,
    pub(super) number: Field,
}

/// The analyzer of searchable text: words, at most [`MAX_WORD`] bytes, lower-cased, accents
/// folded.
pub(super) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The schema the settings give, and its fields.
pub(super) fn schema_of(settings: &Settings) -> (Schema, Fields) {
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
pub(super) fn searchable_texts(fields: &Fields, body: &Value) -> Vec<(Field, Score, Texts)> {
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
pub(super) fn to_document(
    fields: &Fields,
    id: &str,
    body: &Value,
    source: &str,
) -> TantivyDocument {
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
