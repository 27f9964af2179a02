//! The mock's search engine: Algolia's query semantics over an index's records.
//!
//! Every query word must be found in a searchable attribute (`searchableAttributes` in
//! order, all attributes when unset), after folding case and accents; the last word may
//! match as a prefix and long words forgive typos unless the query says otherwise
//! (`queryType`, `typoTolerance`). Hits are ranked by the index's `ranking` (Algolia's
//! tie-breaking: `typo`, `words`, `proximity`, `attribute`, `exact`, `custom`, and
//! `asc(attr)` / `desc(attr)` on replicas, records without the attribute last), then by
//! insertion order. Filters (`filters`, `facetFilters`, `numericFilters`), facet counts
//! over every hit, highlighting and snippets with the request's tags, paging by
//! `page`/`hitsPerPage` or `offset`/`length` within `paginationLimitedTo`, and
//! `_rankingInfo` follow the real API's shapes.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};

use super::filters::{self, facet_value, values_at, Expr};
use super::text::{self, Match, Matching, Word};

/// Search parameters the mock knows; any other is refused as Algolia does.
const KNOWN_PARAMS: &[&str] = &[
    "query",
    "filters",
    "facetFilters",
    "numericFilters",
    "tagFilters",
    "facets",
    "maxValuesPerFacet",
    "hitsPerPage",
    "page",
    "offset",
    "length",
    "attributesToRetrieve",
    "attributesToHighlight",
    "highlightPreTag",
    "highlightPostTag",
    "attributesToSnippet",
    "snippetEllipsisText",
    "getRankingInfo",
    "typoTolerance",
    "queryType",
    "analytics",
    "clickAnalytics",
    "userToken",
    "responseFields",
];

const DEFAULT_RANKING: &[&str] = &[
    "typo",
    "geo",
    "words",
    "filters",
    "proximity",
    "attribute",
    "exact",
    "custom",
];

/// The attributes of `attributesForFaceting`: (name, counted as a facet).
pub fn faceting(settings: &Map<String, Value>) -> Vec<(String, bool)> {
    settings
        .get("attributesForFaceting")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(|a| {
                    if let Some(inner) = unwrap_modifier(a, "filterOnly") {
                        (inner.to_string(), false)
                    } else if let Some(inner) = unwrap_modifier(a, "searchable") {
                        (inner.to_string(), true)
                    } else {
                        (a.to_string(), true)
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn unwrap_modifier<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    s.strip_prefix(name)?.strip_prefix('(')?.strip_suffix(')')
}

/// The searchable attributes in priority order: (priority, path).
fn searchable(settings: &Map<String, Value>, record: &Value) -> Vec<(usize, String)> {
    let configured: Vec<&str> = settings
        .get("searchableAttributes")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if configured.is_empty() {
        return record
            .as_object()
            .map(|o| {
                o.keys()
                    .filter(|k| k.as_str() != "objectID")
                    .enumerate()
                    .map(|(i, k)| (i, k.clone()))
                    .collect()
            })
            .unwrap_or_default();
    }
    let mut out = Vec::new();
    for (p, entry) in configured.iter().enumerate() {
        for part in entry.split(',') {
            let part = part.trim();
            let name = unwrap_modifier(part, "unordered").unwrap_or(part);
            out.push((p, name.to_string()));
        }
    }
    out
}

/// The texts of the leaves under a path: strings, and numbers as written.
fn texts(record: &Value, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for v in values_at(record, path) {
        leaf_texts(v, &mut out);
    }
    out
}

fn leaf_texts(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|i| leaf_texts(i, out)),
        Value::Object(o) => o.values().for_each(|i| leaf_texts(i, out)),
        _ => {}
    }
}

/// A query parsed from the request's JSON parameters.
struct Params<'a> {
    p: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    fn str(&self, k: &str) -> Result<Option<&'a str>, String> {
        match self.p.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!(
                "Invalid value for parameter {k}: expected a string"
            )),
        }
    }

    fn uint(&self, k: &str) -> Result<Option<u64>, String> {
        match self.p.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .map(Some)
                .ok_or_else(|| format!("Invalid value for parameter {k}: expected an integer")),
        }
    }

    fn bool(&self, k: &str) -> Result<Option<bool>, String> {
        match self.p.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
            Some(_) => Err(format!(
                "Invalid value for parameter {k}: expected a boolean"
            )),
        }
    }

    fn list(&self, k: &str) -> Result<Option<Vec<String>>, String> {
        match self.p.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect(),
            )),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("Invalid value for parameter {k}: expected strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(format!(
                "Invalid value for parameter {k}: expected an array"
            )),
        }
    }
}

/// How one record matched the query.
#[derive(Debug, Clone, Default)]
struct Rank {
    typos: u32,
    words: u32,
    proximity: u32,
    first_matched: u32,
    exact: u32,
}

/// Matches a record against the query words; `None` when a word is missing.
fn rank(
    record: &Value,
    settings: &Map<String, Value>,
    query: &[String],
    m: &Matching,
) -> Option<Rank> {
    if query.is_empty() {
        return Some(Rank::default());
    }
    // Every word of every searchable attribute: (priority, attribute, position, folded).
    let mut words: Vec<(usize, usize, u32, String)> = Vec::new();
    for (a, (p, path)) in searchable(settings, record).into_iter().enumerate() {
        let mut pos = 0u32;
        for t in texts(record, &path) {
            for w in text::words(&t) {
                words.push((p, a, pos, w.folded));
                pos += 1;
            }
            pos += 8;
        }
    }
    let mut chosen = Vec::with_capacity(query.len());
    let mut r = Rank {
        words: query.len() as u32,
        first_matched: u32::MAX,
        ..Rank::default()
    };
    for (i, q) in query.iter().enumerate() {
        let last = i + 1 == query.len();
        let best = words
            .iter()
            .filter_map(|(p, a, pos, w)| {
                m.matches(q, w, last).map(|how| {
                    let typos = match how {
                        Match::Typo(d) => d,
                        _ => 0,
                    };
                    (typos, *p, *pos, *a, how)
                })
            })
            .min_by_key(|(typos, p, pos, _, _)| (*typos, *p, *pos))?;
        r.typos += best.0;
        if best.4 == Match::Exact {
            r.exact += 1;
        }
        r.first_matched = r.first_matched.min(best.1 as u32 * 1000 + best.2.min(999));
        chosen.push((best.3, best.2));
    }
    for pair in chosen.windows(2) {
        let ((a1, p1), (a2, p2)) = (pair[0], pair[1]);
        r.proximity += if a1 == a2 { p1.abs_diff(p2).min(8) } else { 8 };
    }
    Some(r)
}

/// The numeric or boolean value a record sorts by (`asc(attr)`), if it has one.
fn sort_value(record: &Value, attr: &str) -> Option<f64> {
    values_at(record, attr).into_iter().find_map(|v| match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    })
}

fn by_attribute(a: &Value, b: &Value, attr: &str, asc: bool) -> Ordering {
    match (sort_value(a, attr), sort_value(b, attr)) {
        (Some(x), Some(y)) => {
            let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
            if asc {
                o
            } else {
                o.reverse()
            }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn compare(
    ranking: &[String],
    custom: &[String],
    (ra, a): (&Rank, &Value),
    (rb, b): (&Rank, &Value),
) -> Ordering {
    for criterion in ranking {
        let o = match criterion.as_str() {
            "typo" => ra.typos.cmp(&rb.typos),
            "words" => rb.words.cmp(&ra.words),
            "proximity" => ra.proximity.cmp(&rb.proximity),
            "attribute" => ra.first_matched.cmp(&rb.first_matched),
            "exact" => rb.exact.cmp(&ra.exact),
            "custom" => custom
                .iter()
                .map(|c| sort_criterion(c, a, b))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal),
            other => sort_criterion(other, a, b),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn sort_criterion(c: &str, a: &Value, b: &Value) -> Ordering {
    if let Some(attr) = unwrap_modifier(c, "asc") {
        by_attribute(a, b, attr, true)
    } else if let Some(attr) = unwrap_modifier(c, "desc") {
        by_attribute(a, b, attr, false)
    } else {
        Ordering::Equal
    }
}

/// Marks the words of `text` that match a query word; answers the marked text and the
/// query words matched.
fn mark(
    text: &str,
    query: &[String],
    m: &Matching,
    tags: (&str, &str),
    window: Option<(usize, &str)>,
) -> (String, Vec<String>, bool) {
    let words = text::words(text);
    let matched_at = |w: &Word| {
        query
            .iter()
            .enumerate()
            .find(|(i, q)| m.matches(q, &w.folded, i + 1 == query.len()).is_some())
            .map(|(i, _)| i)
    };
    let hits: Vec<Option<usize>> = words.iter().map(matched_at).collect();
    let mut matched: Vec<String> = Vec::new();
    for i in hits.iter().flatten() {
        if !matched.contains(&query[*i]) {
            matched.push(query[*i].clone());
        }
    }
    let (from, to, before, after) = match window {
        None => (0, words.len(), false, false),
        Some((n, _)) => {
            let n = n.max(1);
            let first = hits.iter().position(Option::is_some).unwrap_or(0);
            let start = first
                .saturating_sub((n - 1) / 2)
                .min(words.len().saturating_sub(n));
            let end = (start + n).min(words.len());
            (start, end, start > 0, end < words.len())
        }
    };
    let fully = !words.is_empty() && hits.iter().all(Option::is_some);
    let mut out = String::new();
    let (text_start, text_end) = match window {
        None => (0, text.len()),
        Some(_) if words.is_empty() => (0, text.len()),
        Some(_) => (words[from].start, words[to.max(from + 1) - 1].end),
    };
    if before {
        out.push_str(window.map(|w| w.1).unwrap_or(""));
    }
    let mut at = text_start;
    for (w, hit) in words[from..to].iter().zip(&hits[from..to]) {
        if hit.is_some() {
            out.push_str(&text[at..w.start]);
            out.push_str(tags.0);
            out.push_str(&text[w.start..w.end]);
            out.push_str(tags.1);
            at = w.end;
        }
    }
    out.push_str(&text[at..text_end]);
    if after {
        out.push_str(window.map(|w| w.1).unwrap_or(""));
    }
    (out, matched, fully)
}

/// The `_highlightResult` / `_snippetResult` tree of one value.
fn highlight_tree(
    v: &Value,
    query: &[String],
    m: &Matching,
    tags: (&str, &str),
    window: Option<(usize, &str)>,
) -> Option<Value> {
    let leaf = |text: &str| {
        let (value, matched, fully) = mark(text, query, m, tags, window);
        let level = if matched.is_empty() {
            "none"
        } else if matched.len() == query.len() {
            "full"
        } else {
            "partial"
        };
        let mut out = json!({"value": value, "matchLevel": level});
        if window.is_none() {
            out["matchedWords"] = json!(matched);
            out["fullyHighlighted"] = json!(fully && !matched.is_empty());
        }
        out
    };
    match v {
        Value::String(s) => Some(leaf(s)),
        Value::Number(n) => Some(leaf(&n.to_string())),
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .filter_map(|i| highlight_tree(i, query, m, tags, window))
                .collect(),
        )),
        Value::Object(o) => Some(Value::Object(
            o.iter()
                .filter_map(|(k, v)| {
                    highlight_tree(v, query, m, tags, window).map(|t| (k.clone(), t))
                })
                .collect(),
        )),
        _ => None,
    }
}

/// Puts `tree` at a dotted `path` of `out`.
fn put_at(out: &mut Map<String, Value>, path: &str, tree: Value) {
    match path.split_once('.') {
        None => {
            out.insert(path.to_string(), tree);
        }
        Some((head, rest)) => {
            let entry = out
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                put_at(inner, rest, tree);
            }
        }
    }
}

fn get_path<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(record, |v, part| v.get(part))
}

/// Highlights (or snippets) the attributes `attrs` (`*`: every attribute) of a record.
fn highlights(
    record: &Value,
    attrs: &[(String, Option<usize>)],
    query: &[String],
    m: &Matching,
    tags: (&str, &str),
    ellipsis: &str,
    snippet: bool,
) -> Value {
    let mut out = Map::new();
    let expanded: Vec<(String, Option<usize>)> = attrs
        .iter()
        .flat_map(|(a, n)| {
            if a == "*" {
                record
                    .as_object()
                    .map(|o| {
                        o.keys()
                            .filter(|k| k.as_str() != "objectID")
                            .map(|k| (k.clone(), *n))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            } else {
                vec![(a.clone(), *n)]
            }
        })
        .collect();
    for (attr, n) in expanded {
        let Some(v) = get_path(record, &attr) else {
            continue;
        };
        let window = snippet.then(|| (n.unwrap_or(10), ellipsis));
        if let Some(tree) = highlight_tree(v, query, m, tags, window) {
            put_at(&mut out, &attr, tree);
        }
    }
    Value::Object(out)
}

/// Runs a query over `records` (in insertion order) under `settings` (the index's, or a
/// replica's with its own `ranking`). `Err` is the message of a 400 answer.
pub fn search(
    index: &str,
    records: &[(String, Value)],
    settings: &Map<String, Value>,
    params: &Map<String, Value>,
) -> Result<Value, String> {
    if let Some(unknown) = params.keys().find(|k| !KNOWN_PARAMS.contains(&k.as_str())) {
        return Err(format!("Unknown parameter: {unknown}"));
    }
    let p = Params { p: params };
    let query_text = p.str("query")?.unwrap_or("").to_string();
    let query: Vec<String> = text::words(&query_text)
        .into_iter()
        .map(|w| w.folded)
        .collect();
    let mut matching = Matching::default();
    match p
        .str("queryType")?
        .or_else(|| settings.get("queryType").and_then(Value::as_str))
    {
        None | Some("prefixLast") => {}
        Some("prefixAll") => matching.prefix_all = true,
        Some("prefixNone") => matching.prefix_last = false,
        Some(other) => return Err(format!("Invalid value for queryType: {other}")),
    }
    let typo = params
        .get("typoTolerance")
        .or_else(|| settings.get("typoTolerance"));
    match typo {
        None | Some(Value::Null) | Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => matching.typos = false,
        Some(Value::String(s)) if s == "true" || s == "min" || s == "strict" => {}
        Some(Value::String(s)) if s == "false" => matching.typos = false,
        Some(other) => return Err(format!("Invalid value for typoTolerance: {other}")),
    }

    let mut conditions: Vec<Expr> = Vec::new();
    if let Some(f) = filters::parse_filters(p.str("filters")?.unwrap_or(""))
        .map_err(|e| format!("filters: {e}"))?
    {
        conditions.push(f);
    }
    if let Some(f) =
        filters::parse_facet_filters(params.get("facetFilters").unwrap_or(&Value::Null))?
    {
        conditions.push(f);
    }
    if let Some(f) =
        filters::parse_numeric_filters(params.get("numericFilters").unwrap_or(&Value::Null))?
    {
        conditions.push(f);
    }
    let faceting = faceting(settings);
    let faceted: HashSet<String> = faceting.iter().map(|(a, _)| a.clone()).collect();

    let mut hits: Vec<(usize, Rank)> = Vec::new();
    for (i, (_, record)) in records.iter().enumerate() {
        if !conditions.iter().all(|c| c.matches(record, &faceted)) {
            continue;
        }
        if let Some(r) = rank(record, settings, &query, &matching) {
            hits.push((i, r));
        }
    }
    let ranking: Vec<String> = settings
        .get("ranking")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_else(|| DEFAULT_RANKING.iter().map(|s| s.to_string()).collect());
    let custom: Vec<String> = settings
        .get("customRanking")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    hits.sort_by(|(ia, ra), (ib, rb)| {
        compare(
            &ranking,
            &custom,
            (ra, &records[*ia].1),
            (rb, &records[*ib].1),
        )
        .then(ia.cmp(ib))
    });

    // Facet counts over every hit.
    let mut facets_out = Map::new();
    if let Some(wanted) = p.list("facets")? {
        let max = p.uint("maxValuesPerFacet")?.unwrap_or(100).min(1000) as usize;
        let counted: Vec<&String> = faceting
            .iter()
            .filter(|(a, counted)| {
                *counted && (wanted.contains(a) || wanted.iter().any(|w| w == "*"))
            })
            .map(|(a, _)| a)
            .collect();
        for attr in counted {
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            for (i, _) in &hits {
                let mut seen = HashSet::new();
                for v in values_at(&records[*i].1, attr)
                    .into_iter()
                    .filter_map(facet_value)
                {
                    if seen.insert(v.clone()) {
                        *counts.entry(v).or_default() += 1;
                    }
                }
            }
            let mut values: Vec<(String, u64)> = counts.into_iter().collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            values.truncate(max);
            facets_out.insert(
                attr.clone(),
                Value::Object(values.into_iter().map(|(v, c)| (v, json!(c))).collect()),
            );
        }
    }

    // The window of hits answered.
    let limit = settings
        .get("paginationLimitedTo")
        .and_then(Value::as_u64)
        .unwrap_or(1000) as usize;
    let default_hpp = settings
        .get("hitsPerPage")
        .and_then(Value::as_u64)
        .unwrap_or(20);
    let hits_per_page = p.uint("hitsPerPage")?.unwrap_or(default_hpp);
    if hits_per_page > 1000 {
        return Err("hitsPerPage must be between 0 and 1000".into());
    }
    let page = p.uint("page")?.unwrap_or(0);
    let offset = p.uint("offset")?;
    let length = p.uint("length")?;
    if length.is_some_and(|l| l > 1000) {
        return Err("length must be between 0 and 1000".into());
    }
    let (start, count) = match offset {
        Some(o) => (o as usize, length.unwrap_or(hits_per_page) as usize),
        None => ((page * hits_per_page) as usize, hits_per_page as usize),
    };
    let reachable = hits.len().min(limit);
    let window: Vec<&(usize, Rank)> = hits
        .iter()
        .take(reachable)
        .skip(start)
        .take(count)
        .collect();

    let retrieve = p
        .list("attributesToRetrieve")?
        .unwrap_or_else(|| vec!["*".into()]);
    let pre = p.str("highlightPreTag")?.unwrap_or("<em>");
    let post = p.str("highlightPostTag")?.unwrap_or("</em>");
    let ellipsis = p.str("snippetEllipsisText")?.unwrap_or("…");
    let to_highlight: Vec<(String, Option<usize>)> = match p.list("attributesToHighlight")? {
        Some(list) => list.into_iter().map(|a| (a, None)).collect(),
        None => match settings
            .get("searchableAttributes")
            .and_then(Value::as_array)
        {
            Some(list) if !list.is_empty() => list
                .iter()
                .filter_map(Value::as_str)
                .flat_map(|e| e.split(','))
                .map(|a| {
                    let a = a.trim();
                    (
                        unwrap_modifier(a, "unordered").unwrap_or(a).to_string(),
                        None,
                    )
                })
                .collect(),
            _ => vec![("*".into(), None)],
        },
    };
    let to_snippet: Vec<(String, Option<usize>)> = p
        .list("attributesToSnippet")?
        .unwrap_or_default()
        .into_iter()
        .map(|a| match a.split_once(':') {
            Some((name, n)) => (name.to_string(), n.parse().ok()),
            None => (a, None),
        })
        .collect();
    let ranking_info = p.bool("getRankingInfo")?.unwrap_or(false);

    let mut out_hits = Vec::with_capacity(window.len());
    for (i, r) in window {
        let (id, record) = &records[*i];
        let mut hit = Map::new();
        if let Some(o) = record.as_object() {
            for (k, v) in o {
                if retrieve.iter().any(|a| a == "*" || a == k) {
                    hit.insert(k.clone(), v.clone());
                }
            }
        }
        hit.insert("objectID".into(), json!(id));
        if !to_highlight.is_empty() {
            hit.insert(
                "_highlightResult".into(),
                highlights(
                    record,
                    &to_highlight,
                    &query,
                    &matching,
                    (pre, post),
                    ellipsis,
                    false,
                ),
            );
        }
        if !to_snippet.is_empty() {
            hit.insert(
                "_snippetResult".into(),
                highlights(
                    record,
                    &to_snippet,
                    &query,
                    &matching,
                    (pre, post),
                    ellipsis,
                    true,
                ),
            );
        }
        if ranking_info {
            hit.insert(
                "_rankingInfo".into(),
                json!({
                    "nbTypos": r.typos,
                    "firstMatchedWord": if query.is_empty() { 0 } else { r.first_matched },
                    "proximityDistance": r.proximity,
                    "userScore": records.len() - i,
                    "geoDistance": 0,
                    "geoPrecision": 1,
                    "nbExactWords": r.exact,
                    "words": r.words,
                    "filters": 0,
                }),
            );
        }
        out_hits.push(Value::Object(hit));
    }

    let nb_hits = hits.len();
    let nb_pages = if hits_per_page == 0 {
        0
    } else {
        reachable.div_ceil(hits_per_page as usize)
    };
    let mut answer = json!({
        "hits": out_hits,
        "nbHits": nb_hits,
        "page": page,
        "nbPages": nb_pages,
        "hitsPerPage": hits_per_page,
        "exhaustiveNbHits": true,
        "exhaustiveFacetsCount": true,
        "exhaustive": {"nbHits": true, "facetsCount": true, "typo": true},
        "processingTimeMS": 1,
        "query": query_text,
        "params": serde_urlencoded_like(params),
        "index": index,
    });
    if p.list("facets")?.is_some() {
        answer["facets"] = Value::Object(facets_out);
    }
    if let Some(o) = offset {
        answer["offset"] = json!(o);
        answer["length"] = json!(count);
    }
    Ok(answer)
}

/// The request's parameters as the query string Algolia echoes in `params`.
fn serde_urlencoded_like(params: &Map<String, Value>) -> String {
    params
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{k}={}", percent(&v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    fn records() -> Vec<(String, Value)> {
        vec![
            (
                "1".into(),
                json!({"title": "Red shoe", "body": "Comfortable", "brand": "Acme", "price": 10}),
            ),
            (
                "2".into(),
                json!({"title": "Blue hat", "body": "A red ribbon", "brand": "Acme", "price": 5}),
            ),
            (
                "3".into(),
                json!({"title": "Café table", "body": "Wood", "brand": "Oak"}),
            ),
        ]
    }

    fn ids(answer: &Value) -> Vec<&str> {
        answer["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .map(|h| h["objectID"].as_str().expect("id"))
            .collect()
    }

    #[test]
    fn ranks_by_attribute_and_highlights() {
        let s = settings(
            json!({"searchableAttributes": ["title", "body"], "attributesForFaceting": ["brand", "filterOnly(price)"]}),
        );
        let got = search(
            "i",
            &records(),
            &s,
            &settings(json!({"query": "RED", "facets": ["brand", "price"], "highlightPreTag": "[", "highlightPostTag": "]", "getRankingInfo": true})),
        )
        .expect("search");
        assert_eq!(ids(&got), ["1", "2"]);
        assert_eq!(got["facets"], json!({"brand": {"Acme": 2}}));
        assert_eq!(
            got["hits"][0]["_highlightResult"]["title"]["value"],
            "[Red] shoe"
        );
        assert_eq!(
            got["hits"][0]["_highlightResult"]["body"]["matchLevel"],
            "none"
        );
        assert_eq!(got["hits"][1]["_rankingInfo"]["firstMatchedWord"], 1001);
        let cafe = search(
            "i",
            &records(),
            &s,
            &settings(json!({"query": "cafe", "typoTolerance": false, "queryType": "prefixNone"})),
        )
        .expect("search");
        assert_eq!(ids(&cafe), ["3"]);
    }

    #[test]
    fn filters_sorting_and_paging() {
        let s = settings(
            json!({"attributesForFaceting": ["brand"], "ranking": ["asc(price)", "typo"]}),
        );
        let all = search("i", &records(), &s, &Map::new()).expect("search");
        assert_eq!(ids(&all), ["2", "1", "3"], "without a price last");
        let f = search(
            "i",
            &records(),
            &s,
            &settings(json!({"filters": "brand:Acme AND price > 6"})),
        )
        .expect("search");
        assert_eq!(ids(&f), ["1"]);
        let page = search(
            "i",
            &records(),
            &s,
            &settings(json!({"hitsPerPage": 2, "page": 1})),
        )
        .expect("search");
        assert_eq!(ids(&page), ["3"]);
        assert_eq!(page["nbPages"], 2);
        let off = search(
            "i",
            &records(),
            &s,
            &settings(json!({"offset": 1, "length": 1})),
        )
        .expect("search");
        assert_eq!(ids(&off), ["1"]);
        assert!(search("i", &records(), &s, &settings(json!({"bogus": 1}))).is_err());
    }

    #[test]
    fn snippets_cut_around_the_match() {
        let long = format!(
            "{} needle {}",
            "hay ".repeat(50).trim_end(),
            "straw ".repeat(50).trim_end()
        );
        let recs = vec![("l".to_string(), json!({"body": long}))];
        let got = search("i", &recs, &Map::new(), &settings(json!({"query": "needle", "attributesToSnippet": ["body:5"], "highlightPreTag": "*", "highlightPostTag": "*"}))).expect("search");
        assert_eq!(
            got["hits"][0]["_snippetResult"]["body"]["value"],
            "…hay hay *needle* straw straw…"
        );
    }
}
