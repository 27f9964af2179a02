//! The contract's types in Algolia's terms and back.
//!
//! - settings: `searchable` is `searchableAttributes` (in order: Algolia ranks matches in
//!   earlier attributes first); `facets` are `attributesForFaceting`, `filterable` ones as
//!   `filterOnly(field)`; each `sortable` field gets two standard replica indices,
//!   `{index}__sort__{field}__asc` and `__desc`, ranked by `asc(field)` / `desc(field)` first
//!   (exhaustive sorting);
//! - typed filters become the `filters` syntax (`price > 10`, `genre:"scifi"`,
//!   `in_stock:true`, `NOT ...` for `ne`), facet filters `facetFilters`;
//! - a hit's `_rankingInfo` gives its score, `_highlightResult` / `_snippetResult` its
//!   highlights.

use serde_json::{json, Map, Value};
use switchyard_sdk::search::{
    FacetCount, Filter, FilterOp, Hit, IndexSettings, Scalar, SearchRequest, SearchResult,
    SortOrder,
};
use switchyard_sdk::types::{Error, PageInfo};

use crate::config::Config;
use crate::validate::{self, Checked, REPLICA_MARK};

/// Algolia's default ranking, after which a sort replica's `asc()` / `desc()` comes first.
const RANKING: &[&str] = &[
    "typo",
    "geo",
    "words",
    "filters",
    "proximity",
    "attribute",
    "exact",
    "custom",
];

/// The bytes of a snippet per word asked of Algolia (`attributesToSnippet` counts words).
const BYTES_PER_WORD: u32 = 8;

/// The ellipsis Algolia puts where a snippet cuts the text.
const ELLIPSIS: &str = "…";

fn order_name(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Ascending => "asc",
        SortOrder::Descending => "desc",
    }
}

/// The replica index that sorts `full` by `field`.
pub fn replica(full: &str, field: &str, order: SortOrder) -> String {
    format!("{full}{REPLICA_MARK}{field}__{}", order_name(order))
}

/// Every replica index of `full` for `sortable`, in order.
pub fn replicas(full: &str, sortable: &[String]) -> Vec<String> {
    sortable
        .iter()
        .flat_map(|f| {
            [
                replica(full, f, SortOrder::Ascending),
                replica(full, f, SortOrder::Descending),
            ]
        })
        .collect()
}

/// The settings of a primary index.
pub fn primary_settings(full: &str, s: &IndexSettings) -> Value {
    json!({
        "searchableAttributes": s.searchable,
        "attributesForFaceting": faceting(s),
        "replicas": replicas(full, &s.sortable),
    })
}

fn faceting(s: &IndexSettings) -> Vec<String> {
    s.facets
        .iter()
        .cloned()
        .chain(
            s.filterable
                .iter()
                .filter(|f| !s.facets.contains(f))
                .map(|f| format!("filterOnly({f})")),
        )
        .collect()
}

/// The settings of the replica sorting by `field` in `order`.
pub fn replica_settings(s: &IndexSettings, field: &str, order: SortOrder) -> Value {
    let mut ranking = vec![format!("{}({field})", order_name(order))];
    ranking.extend(RANKING.iter().map(|c| c.to_string()));
    json!({
        "searchableAttributes": s.searchable,
        "attributesForFaceting": faceting(s),
        "ranking": ranking,
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn unwrap<'a>(s: &'a str, modifier: &str) -> Option<&'a str> {
    s.strip_prefix(modifier)?
        .strip_prefix('(')?
        .strip_suffix(')')
}

/// The replica names listed in `settings` (without `virtual(...)`).
pub fn replica_names(settings: &Value) -> Vec<String> {
    strings(settings.get("replicas"))
        .into_iter()
        .map(|r| unwrap(&r, "virtual").unwrap_or(&r).to_string())
        .collect()
}

/// The contract's settings of Algolia index `full` from its Algolia settings.
pub fn from_algolia(full: &str, settings: &Value) -> IndexSettings {
    let mut searchable = Vec::new();
    for entry in strings(settings.get("searchableAttributes")) {
        for part in entry.split(',') {
            let part = part.trim();
            let name = unwrap(part, "unordered").unwrap_or(part).to_string();
            if !name.is_empty() && !searchable.contains(&name) {
                searchable.push(name);
            }
        }
    }
    let mut facets = Vec::new();
    let mut filterable = Vec::new();
    for entry in strings(settings.get("attributesForFaceting")) {
        if let Some(f) = unwrap(&entry, "filterOnly") {
            filterable.push(f.to_string());
        } else {
            facets.push(unwrap(&entry, "searchable").unwrap_or(&entry).to_string());
        }
    }
    let mut sortable: Vec<String> = Vec::new();
    let head = format!("{full}{REPLICA_MARK}");
    for r in replica_names(settings) {
        let field = r.strip_prefix(head.as_str()).and_then(|rest| {
            rest.strip_suffix("__asc")
                .or_else(|| rest.strip_suffix("__desc"))
        });
        if let Some(f) = field {
            if !sortable.iter().any(|s| s == f) {
                sortable.push(f.to_string());
            }
        }
    }
    IndexSettings {
        searchable,
        facets,
        filterable,
        sortable,
    }
}

fn escape_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn number(n: f64) -> String {
    // Rust prints 49.0 as "49" and 15.99 as "15.99": the way Algolia reads numbers.
    format!("{n}")
}

/// One typed filter in Algolia's `filters` syntax (validated: text and booleans only with
/// eq / ne).
fn filter(f: &Filter) -> String {
    let positive = match (&f.value, f.op) {
        (Scalar::Number(n), FilterOp::Eq | FilterOp::Ne) => format!("{} = {}", f.field, number(*n)),
        (Scalar::Number(n), op) => {
            let sym = match op {
                FilterOp::Gt => ">",
                FilterOp::Gte => ">=",
                FilterOp::Lt => "<",
                _ => "<=",
            };
            format!("{} {sym} {}", f.field, number(*n))
        }
        (Scalar::Text(t), _) => format!("{}:{}", f.field, escape_quoted(t)),
        (Scalar::Boolean(b), _) => format!("{}:{b}", f.field),
    };
    if f.op == FilterOp::Ne {
        format!("NOT {positive}")
    } else {
        positive
    }
}

/// A `facetFilters` value `field:value`, a leading `-` escaped (it would negate).
fn facet_filter(field: &str, value: &str) -> String {
    if value.starts_with('-') {
        format!("{field}:\\{value}")
    } else {
        format!("{field}:{value}")
    }
}

/// The JSON parameters of a search.
pub fn query_params(
    cfg: &Config,
    settings: &IndexSettings,
    r: &SearchRequest,
    checked: &Checked,
) -> Value {
    let mut p = Map::new();
    p.insert("query".into(), json!(r.query));
    if !r.filters.is_empty() {
        let joined: Vec<String> = r.filters.iter().map(filter).collect();
        p.insert("filters".into(), json!(joined.join(" AND ")));
    }
    if !r.facet_filters.is_empty() {
        let groups: Vec<Vec<String>> = r
            .facet_filters
            .iter()
            .map(|g| g.iter().map(|(f, v)| facet_filter(f, v)).collect())
            .collect();
        p.insert("facetFilters".into(), json!(groups));
    }
    if !r.facets.is_empty() {
        p.insert("facets".into(), json!(r.facets));
        p.insert("maxValuesPerFacet".into(), json!(checked.max_facet_values));
    }
    if checked.offset.is_multiple_of(checked.limit) {
        p.insert("page".into(), json!(checked.offset / checked.limit));
        p.insert("hitsPerPage".into(), json!(checked.limit));
    } else {
        p.insert("offset".into(), json!(checked.offset));
        p.insert("length".into(), json!(checked.limit));
    }
    let fields: Vec<String> = if settings.searchable.is_empty() {
        vec!["*".into()]
    } else {
        settings.searchable.clone()
    };
    match &r.highlight {
        None => {
            p.insert("attributesToHighlight".into(), json!([]));
        }
        Some(h) => {
            p.insert("highlightPreTag".into(), json!(h.pre_tag));
            p.insert("highlightPostTag".into(), json!(h.post_tag));
            match h.max_chars {
                None => {
                    p.insert("attributesToHighlight".into(), json!(fields));
                }
                Some(n) => {
                    let words = (n / BYTES_PER_WORD).max(1);
                    let snippets: Vec<String> =
                        fields.iter().map(|f| format!("{f}:{words}")).collect();
                    p.insert("attributesToHighlight".into(), json!([]));
                    p.insert("attributesToSnippet".into(), json!(snippets));
                    p.insert("snippetEllipsisText".into(), json!(ELLIPSIS));
                }
            }
        }
    }
    p.insert("getRankingInfo".into(), json!(true));
    p.insert("typoTolerance".into(), json!(cfg.typo_tolerance));
    p.insert(
        "queryType".into(),
        json!(if cfg.prefix_last {
            "prefixLast"
        } else {
            "prefixNone"
        }),
    );
    Value::Object(p)
}

/// The index a search goes to: the primary, or the replica of its sort.
pub fn target(full: &str, r: &SearchRequest) -> String {
    match &r.sort {
        None => full.to_string(),
        Some(s) => replica(full, &s.field, s.order),
    }
}

/// A score from `_rankingInfo`, higher is better: Algolia's textual criteria (words
/// matched, typos, the first matching attribute, proximity, exact words) in their order of
/// importance; with an empty query every hit scores 1.
fn score(info: Option<&Value>) -> f32 {
    let Some(info) = info else { return 1.0 };
    let n = |k: &str| info.get(k).and_then(Value::as_f64).unwrap_or(0.0) as f32;
    let words = n("words");
    if words == 0.0 {
        return 1.0;
    }
    let attribute = (n("firstMatchedWord") / 1000.0).floor();
    let position = n("firstMatchedWord") % 1000.0;
    1.0 + words
        + 1.0 / (1.0 + n("nbTypos"))
        + 0.5 / (1.0 + attribute + position / 1000.0)
        + 0.1 / (1.0 + n("proximityDistance"))
        + 0.05 * n("nbExactWords") / words
}

/// The leaves of a `_highlightResult` / `_snippetResult` subtree that matched, with their
/// field paths.
fn matched_leaves(node: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(o) if o.contains_key("matchLevel") && o.contains_key("value") => {
            let matched = o.get("matchLevel").and_then(Value::as_str) != Some("none");
            if let Some(v) = o.get("value").and_then(Value::as_str).filter(|_| matched) {
                out.push((path.to_string(), v.to_string()));
            }
        }
        Value::Object(o) => {
            for (k, v) in o {
                matched_leaves(v, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| matched_leaves(i, path, out)),
        _ => {}
    }
}

fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, p| v.get(p))
}

/// The highlights of a hit, searchable fields in their order (every field of the answer,
/// by name, when the index has no searchable list).
fn highlights(tree: Option<&Value>, settings: &IndexSettings) -> Vec<(String, String)> {
    let Some(tree) = tree else { return Vec::new() };
    let mut out = Vec::new();
    if settings.searchable.is_empty() {
        if let Some(o) = tree.as_object() {
            for (k, v) in o {
                matched_leaves(v, k, &mut out);
            }
        }
    } else {
        for f in &settings.searchable {
            if let Some(node) = at_path(tree, f) {
                matched_leaves(node, f, &mut out);
            }
        }
    }
    out
}

/// Algolia's search answer in the contract's terms.
pub fn result(
    answer: &Value,
    settings: &IndexSettings,
    r: &SearchRequest,
    checked: &Checked,
    window: usize,
) -> Result<SearchResult, Error> {
    let bad =
        |what: &str| Error::internal(format!("Algolia's search answer has no valid `{what}`"));
    let total = answer
        .get("nbHits")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("nbHits"))?;
    let raw_hits = answer
        .get("hits")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("hits"))?;
    let snippet = r.highlight.as_ref().is_some_and(|h| h.max_chars.is_some());
    let mut hits = Vec::with_capacity(raw_hits.len());
    for h in raw_hits {
        let Some(o) = h.as_object() else {
            return Err(bad("hits"));
        };
        let id = o
            .get("objectID")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("hits[].objectID"))?
            .to_string();
        let document: Map<String, Value> = o
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "objectID"
                        | "_highlightResult"
                        | "_snippetResult"
                        | "_rankingInfo"
                        | "_distinctSeqID"
                )
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let tree = if snippet {
            o.get("_snippetResult")
        } else {
            o.get("_highlightResult")
        };
        hits.push(Hit {
            id,
            document: Value::Object(document).to_string(),
            score: score(o.get("_rankingInfo")),
            highlights: if r.highlight.is_some() {
                highlights(tree, settings)
            } else {
                Vec::new()
            },
        });
    }
    let flag = |new: &str, old: &str| {
        answer
            .get("exhaustive")
            .and_then(|e| e.get(new))
            .or_else(|| answer.get(old))
            .and_then(Value::as_bool)
            .unwrap_or(true)
    };
    let exhaustive = flag("nbHits", "exhaustiveNbHits")
        && (r.facets.is_empty() || flag("facetsCount", "exhaustiveFacetsCount"));
    let facets = r
        .facets
        .iter()
        .map(|field| {
            let mut values: Vec<(String, u64)> = answer
                .get("facets")
                .and_then(|f| f.get(field))
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .filter_map(|(v, c)| c.as_u64().map(|c| (v.clone(), c)))
                        .collect()
                })
                .unwrap_or_default();
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            values.truncate(checked.max_facet_values as usize);
            FacetCount {
                field: field.clone(),
                values,
            }
        })
        .collect();
    let reachable = (total as usize).min(window);
    let next = checked.offset + checked.limit;
    Ok(SearchResult {
        hits,
        total,
        exhaustive,
        facets,
        page: PageInfo {
            next_cursor: (next < reachable).then(|| next.to_string()),
            total: Some(total),
        },
        processing_ms: answer
            .get("processingTimeMS")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    })
}

/// The tenant's own primary indexes among `items`: (tenant's name, Algolia name, entries).
pub fn own<'a>(cfg: &Config, items: &'a [Value]) -> Vec<(String, &'a str, u64)> {
    let mut out: Vec<(String, &str, u64)> = items
        .iter()
        .filter(|i| i.get("primary").is_none())
        .filter_map(|i| {
            let full = i.get("name")?.as_str()?;
            let name = cfg.own_name(full)?;
            validate::index_name(name).ok()?;
            Some((
                name.to_string(),
                full,
                i.get("entries").and_then(Value::as_u64).unwrap_or(0),
            ))
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> IndexSettings {
        IndexSettings {
            searchable: vec!["title".into(), "body".into()],
            facets: vec!["genre".into()],
            filterable: vec!["price".into(), "genre".into()],
            sortable: vec!["price".into(), "a__b".into()],
        }
    }

    #[test]
    fn settings_round_trip() {
        let s = settings();
        let algolia = primary_settings("acme_books", &s);
        assert_eq!(
            algolia["attributesForFaceting"],
            json!(["genre", "filterOnly(price)"])
        );
        assert_eq!(algolia["replicas"][0], "acme_books__sort__price__asc");
        let back = from_algolia("acme_books", &algolia);
        assert_eq!(back.searchable, s.searchable);
        assert_eq!(back.sortable, s.sortable);
        assert_eq!(back.filterable, vec!["price".to_string()]);
        let r = replica_settings(&s, "price", SortOrder::Descending);
        assert_eq!(r["ranking"][0], "desc(price)");
    }

    #[test]
    fn filters_in_algolia_syntax() {
        let f = |field: &str, op, value| {
            filter(&Filter {
                field: field.into(),
                op,
                value,
            })
        };
        assert_eq!(
            f("price", FilterOp::Gte, Scalar::Number(15.99)),
            "price >= 15.99"
        );
        assert_eq!(
            f("price", FilterOp::Ne, Scalar::Number(49.0)),
            "NOT price = 49"
        );
        assert_eq!(
            f("genre", FilterOp::Eq, Scalar::Text("sci \"fi\"".into())),
            "genre:\"sci \\\"fi\\\"\""
        );
        assert_eq!(
            f("in_stock", FilterOp::Ne, Scalar::Boolean(true)),
            "NOT in_stock:true"
        );
        assert_eq!(facet_filter("tags", "-x"), "tags:\\-x");
    }

    #[test]
    fn scores_ignore_filters_and_rank_attributes() {
        let title = json!({"words": 1, "nbTypos": 0, "firstMatchedWord": 1, "proximityDistance": 0, "nbExactWords": 1, "filters": 0});
        let body = json!({"words": 1, "nbTypos": 0, "firstMatchedWord": 1003, "proximityDistance": 0, "nbExactWords": 1, "filters": 3});
        assert!(score(Some(&title)) > score(Some(&body)));
        assert_eq!(score(Some(&json!({"words": 0}))), 1.0);
    }

    #[test]
    fn highlights_follow_the_searchable_order() {
        let tree = json!({"body": {"value": "a <b>x</b>", "matchLevel": "full"}, "title": {"value": "t", "matchLevel": "none"}, "tags": [{"value": "<b>x</b>", "matchLevel": "full"}]});
        let mut s = settings();
        assert_eq!(
            highlights(Some(&tree), &s),
            vec![("body".to_string(), "a <b>x</b>".to_string())]
        );
        s.searchable.clear();
        assert_eq!(highlights(Some(&tree), &s).len(), 2);
    }
}
