//! A checked search ([`Search`]) run on one index: its query words, filters and facet
//! filters as a tantivy query, then hits, highlights, facets and the next page.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::Instant;

use serde_json::Value;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Score, SegmentReader, Term};

use crate::bindings::base::switchyard::types::types::{self, ErrorKind, PageInfo};
use crate::bindings::search::switchyard::search::types::{
    FacetCount, FilterOp, Hit, Scalar, SearchResult, SortOrder,
};
use crate::contract::error;

use super::collect::{FacetCollector, FacetFruit, Sorter};
use super::index::{internal, parse, Live};
use super::schema::{analyzer, searchable_texts, Fields};

type WitError = types::Error;

/// How far paging reaches into a result.
pub const MAX_WINDOW: usize = 10_000;

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

/// Runs `s` on `live`, the current generation of index `name`; `started` is when the call
/// began, for the result's `processing-ms`.
pub(super) fn run(
    live: &Live,
    name: &str,
    s: &Search,
    started: Instant,
) -> Result<SearchResult, WitError> {
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
    let unscored = |q: Box<dyn Query>| -> Box<dyn Query> { Box::new(ConstScoreQuery::new(q, 0.0)) };
    for (field, op, value) in &s.filters {
        let k = keyword(field, "filter")?;
        let term = match value {
            Scalar::Text(t) => Term::from_field_text(k.text, t),
            Scalar::Boolean(b) => Term::from_field_text(k.text, if *b { "true" } else { "false" }),
            Scalar::Number(n) => Term::from_field_f64(k.number, *n),
        };
        let q: Box<dyn Query> = match op {
            FilterOp::Eq | FilterOp::Ne => Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
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
            Some((pre, post, max)) => highlight(fields, &parse(&text)?, &words, pre, post, *max),
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
