//! The collectors of a search besides its hits: facet counts ([`FacetCollector`]) and the
//! sort keys of a sorted search ([`Sorter`]).

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentReader};

/// Per facet field: value -> hits.
pub(super) type FacetFruit = Vec<HashMap<String, u64>>;

/// Counts the exact values of fields over every hit.
pub(super) struct FacetCollector {
    /// The `k<j>` fast fields.
    pub(super) fields: Vec<String>,
}

/// The facet counts of one segment, by term ordinal.
pub(super) struct FacetSegment {
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
pub(super) struct Sorter {
    pub(super) text: String,
    pub(super) number: String,
    pub(super) ascending: bool,
}

/// A sort key: compared as the sort asks, then by relevance.
#[derive(Debug, Clone)]
pub(super) struct SortKey {
    /// 2: a number, 1: text only, 0: no value.
    rank: u8,
    number: f64,
    text: String,
    ascending: bool,
    pub(super) score: Score,
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
    /// The sort key of each document of a segment.
    pub(super) fn for_segment(&self, reader: &SegmentReader) -> impl Fn(DocId, Score) -> SortKey {
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
