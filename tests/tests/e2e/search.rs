//! The search contract's behaviour suite, through the JSON gateway, for every provider: the
//! host's embedded full-text index (`search-host` with `backend = "tantivy"`), one index
//! directory per tenant, and `search-algolia` against [`MockAlgolia`], one index prefix and
//! one API key restricted to it per tenant.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchyard_host::{
    Backend, BindingSpec, ComponentSource, CredentialConfig, ErrorKind, Injection, Runtime,
    SecretSource, Service,
};
use switchyard_tests::mock::algolia::{
    ApiKey, Failure, MockAlgolia, MockAlgoliaOptions, ADMIN_KEY,
};

use crate::support::{component, expect_error, options, runtime, Contract};

const TENANT: &str = "acme";
const OTHER: &str = "globex";

/// Which provider a suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The host's embedded tantivy index behind the `search-host` bridge.
    Tantivy,
    /// `search-algolia` against [`MockAlgolia`].
    Algolia,
}

/// What each provider can do, where providers differ (adapters/search-algolia/README.md
/// says why Algolia cannot).
impl Kind {
    /// The component of its bindings.
    fn component(self) -> &'static str {
        match self {
            Kind::Tantivy => "search-host",
            Kind::Algolia => "search-algolia",
        }
    }

    /// Whether text values compare with gt/gte/lt/lte (Algolia's filters compare only
    /// numbers: the adapter answers `unsupported`).
    fn compares_text_ranges(self) -> bool {
        self != Kind::Algolia
    }

    /// Whether a text field sorts (Algolia sorts by numbers and booleans only).
    fn sorts_text(self) -> bool {
        self != Kind::Algolia
    }

    /// Whether a document's body comes back as the very text given (Algolia stores records,
    /// not their text: an equal JSON object comes back).
    fn keeps_body_text(self) -> bool {
        self != Kind::Algolia
    }

    /// Whether the provider is reached over several hosts with fallback, and gives each
    /// tenant a key of its own restricted to its indexes (Algolia).
    fn is_cloud(self) -> bool {
        self == Kind::Algolia
    }
}

/// The binding of `kind` for a tenant keeping its indexes in `dir` (tantivy).
pub fn spec(kind: Kind, dir: &Path) -> BindingSpec {
    match kind {
        Kind::Tantivy => BindingSpec::new(ComponentSource::path(component("search-host")))
            .backend(Backend::Tantivy)
            .files(dir),
        Kind::Algolia => panic!("an Algolia binding needs its mock: use algolia_spec"),
    }
}

/// The API key of each tenant, restricted to the tenant's prefix.
fn algolia_key(tenant: &str) -> String {
    format!("{tenant}_search_and_write_key")
}

/// A mock Algolia application knowing the admin key and each tenant's restricted key.
async fn algolia_mock() -> MockAlgolia {
    let mut keys = vec![ApiKey::new(ADMIN_KEY, &[])];
    for tenant in [TENANT, OTHER] {
        keys.push(ApiKey::new(&algolia_key(tenant), &[&format!("{tenant}_*")]));
    }
    MockAlgolia::start_with(MockAlgoliaOptions {
        keys,
        ..MockAlgoliaOptions::default()
    })
    .await
}

/// A `search-algolia` binding on `mock` with `prefix` and `key`: reads on hosts 0, 2, 3,
/// writes on hosts 1, 2, 3 (as `-dsn`, the write host and the `algolianet` fallbacks), both
/// Algolia headers injected by the host for every host, quick retries and task polling.
fn algolia_spec(
    mock: &MockAlgolia,
    prefix: &str,
    key: &str,
    config: &[(&str, &str)],
) -> BindingSpec {
    let hosts = mock.host_urls();
    let mut spec = BindingSpec::new(ComponentSource::path(component("search-algolia")))
        .config("app_id", mock.app_id())
        .config("index_prefix", prefix)
        .config(
            "read_hosts",
            [&hosts[0], &hosts[2], &hosts[3]]
                .map(String::as_str)
                .join(","),
        )
        .config(
            "write_hosts",
            [&hosts[1], &hosts[2], &hosts[3]]
                .map(String::as_str)
                .join(","),
        )
        .config("retry_base_ms", "20")
        .config("retry_max_ms", "200")
        .config("task_poll_ms", "10")
        .config("read_timeout_ms", "2000");
    for host in &hosts {
        spec = spec
            .allow(host)
            .expect("allow")
            .credential(&CredentialConfig {
                host: host.clone(),
                secret: SecretSource::Value(key.into()),
                inject: Injection::Header {
                    name: "x-algolia-api-key".into(),
                },
            })
            .expect("credential")
            .credential(&CredentialConfig {
                host: host.clone(),
                secret: SecretSource::Value(mock.app_id()),
                inject: Injection::Header {
                    name: "x-algolia-application-id".into(),
                },
            })
            .expect("credential");
    }
    for (k, v) in config {
        spec = spec.config(*k, *v);
    }
    spec
}

/// The binding of `tenant` to `kind`: over `dir` (tantivy), or on `mock` with the tenant's
/// prefix and key (Algolia).
fn tenant_spec(kind: Kind, tenant: &str, dir: &Path, mock: Option<&MockAlgolia>) -> BindingSpec {
    match (kind, mock) {
        (Kind::Algolia, Some(mock)) => {
            algolia_spec(mock, &format!("{tenant}_"), &algolia_key(tenant), &[])
        }
        _ => spec(kind, dir),
    }
}

/// [`TENANT`] and [`OTHER`] bound to `kind`, each over its own directory (or prefix).
struct Provider {
    kind: Kind,
    c: Contract,
    dirs: [tempfile::TempDir; 2],
    /// The mock Algolia application, for [`Kind::Algolia`].
    algolia: Option<MockAlgolia>,
}

impl std::ops::Deref for Provider {
    type Target = Contract;
    fn deref(&self) -> &Contract {
        &self.c
    }
}

/// A runtime over the tenants' directories or the mock (a new one over the same directories
/// or mock is a restart).
async fn runtime_over(
    kind: Kind,
    dirs: &[tempfile::TempDir; 2],
    mock: Option<&MockAlgolia>,
) -> Runtime {
    runtime(vec![
        (
            TENANT,
            Service::Search,
            tenant_spec(kind, TENANT, dirs[0].path(), mock),
        ),
        (
            OTHER,
            Service::Search,
            tenant_spec(kind, OTHER, dirs[1].path(), mock),
        ),
    ])
    .await
}

async fn provider(kind: Kind) -> Provider {
    let dirs = [
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    ];
    let algolia = match kind {
        Kind::Algolia => Some(algolia_mock().await),
        Kind::Tantivy => None,
    };
    let rt = runtime_over(kind, &dirs, algolia.as_ref()).await;
    Provider {
        kind,
        c: Contract {
            rt,
            service: Service::Search,
            tenant: TENANT,
        },
        dirs,
        algolia,
    }
}

/// The settings of the `books` index.
fn book_settings() -> Value {
    json!({
        "searchable": ["title", "body"],
        "facets": ["genre", "tags", "in_stock"],
        "filterable": ["price", "year"],
        "sortable": ["price", "title"],
    })
}

/// Six books: three mention rust (two in the title, one only in the body), one has no price.
fn books() -> Vec<Value> {
    vec![
        doc(
            "1",
            json!({"title": "The Rust Programming Language", "body": "A book about systems programming in Rust.", "genre": "tech", "tags": ["rust", "programming"], "price": 39.5, "year": 2018, "in_stock": true}),
        ),
        doc(
            "2",
            json!({"title": "Programming Rust", "body": "Fast, safe systems development.", "genre": "tech", "tags": ["rust"], "price": 49, "year": 2021, "in_stock": false}),
        ),
        doc(
            "3",
            json!({"title": "The Hobbit", "body": "A dragon, a ring and some rust on old swords.", "genre": "fantasy", "tags": ["classic", "dragons"], "price": 12, "year": 1937, "in_stock": true}),
        ),
        doc(
            "4",
            json!({"title": "Dune", "body": "Spice, sand and politics.", "genre": "scifi", "tags": ["classic"], "price": 15.99, "year": 1965, "in_stock": true}),
        ),
        doc(
            "5",
            json!({"title": "Neuromancer", "body": "The sky above the port was the color of television.", "genre": "scifi", "tags": ["cyberpunk", "classic"], "price": 9.99, "year": 1984, "in_stock": false}),
        ),
        doc(
            "6",
            json!({"title": "Café Society", "body": "Un livre sur les cafés de Paris.", "genre": "essay", "tags": [], "year": 2001}),
        ),
    ]
}

fn doc(id: &str, body: Value) -> Value {
    json!({"id": id, "body": body})
}

/// A search request: an empty query, nothing else, then `over`'s fields.
fn request(query: &str, over: Value) -> Value {
    let mut r = json!({
        "query": query, "filters": [], "facet-filters": [], "facets": [],
        "highlight": null, "sort": null, "page": {},
    });
    for (k, v) in over.as_object().expect("an object").clone() {
        r[k] = v;
    }
    r
}

/// Every item of a batch answer succeeded.
fn all_ok(results: &Value) {
    for r in results.as_array().expect("per-item results") {
        assert!(r.get("ok").is_some(), "an item failed: {r}");
    }
}

impl Provider {
    async fn create(&self, name: &str, settings: Value) -> Value {
        self.ok("create-index", json!({"name": name, "settings": settings}))
            .await
    }

    /// The `books` index with the six books.
    async fn books(&self) {
        self.create("books", book_settings()).await;
        let results = self
            .ok(
                "index-documents",
                json!({"index": "books", "documents": books()}),
            )
            .await;
        all_ok(&results);
    }

    async fn search(&self, index: &str, query: &str, over: Value) -> Value {
        self.ok(
            "search",
            json!({"index": index, "request": request(query, over)}),
        )
        .await
    }

    /// The ids of a search's hits, in order.
    async fn ids(&self, index: &str, query: &str, over: Value) -> Vec<String> {
        ids(&self.search(index, query, over).await)
    }

    /// The ids matching `filters`, sorted.
    async fn filtered(&self, filters: Value) -> Vec<String> {
        let mut got = self.ids("books", "", json!({"filters": filters})).await;
        got.sort();
        got
    }

    async fn get(&self, index: &str, id: &str) -> Value {
        let d = self
            .ok("get-document", json!({"index": index, "id": id}))
            .await;
        assert_eq!(d["id"], id);
        body(&d["body"])
    }
}

fn ids(result: &Value) -> Vec<String> {
    result["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_str().expect("id").to_string())
        .collect()
}

/// A `json` value (a string of JSON) parsed.
fn body(v: &Value) -> Value {
    serde_json::from_str(v.as_str().expect("a json string")).expect("valid JSON")
}

fn strs(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

async fn index_and_search_with_highlighting(p: &Provider) {
    p.books().await;
    let got = p
        .search(
            "books",
            "rust",
            json!({"highlight": {"pre-tag": "<mark>", "post-tag": "</mark>"}}),
        )
        .await;
    assert_eq!(got["total"], 3);
    assert_eq!(got["exhaustive"], true);
    let first = got["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .find(|h| h["id"] == "1")
        .expect("book 1 matches");
    assert_eq!(
        body(&first["document"])["genre"],
        "tech",
        "the document comes back whole"
    );
    assert!(first["score"].as_f64().is_some_and(|s| s > 0.0));
    assert_eq!(
        first["highlights"],
        json!([
            ["title", "The <mark>Rust</mark> Programming Language"],
            [
                "body",
                "A book about systems programming in <mark>Rust</mark>."
            ],
        ]),
        "whole values, every match marked, the text kept as written"
    );
    // Every word must match: "programming" is in books 1 and 2, not in 3.
    let mut both = p.ids("books", "Rust PROGRAMMING", json!({})).await;
    both.sort();
    assert_eq!(both, strs(&["1", "2"]));
    // Case and accents are folded, in the query and in the text.
    let cafe = p
        .search(
            "books",
            "cafe",
            json!({"highlight": {"pre-tag": "[", "post-tag": "]"}}),
        )
        .await;
    assert_eq!(ids(&cafe), strs(&["6"]));
    assert_eq!(
        cafe["hits"][0]["highlights"],
        json!([["title", "[Café] Society"]]),
        "\"cafés\" in the body is another word than \"cafe\""
    );
    // A snippet: the best part of a long value, about max-chars long.
    let long = format!(
        "{} needle {}",
        "hay ".repeat(200).trim_end(),
        "straw ".repeat(200).trim_end()
    );
    p.ok(
        "index-documents",
        json!({"index": "books", "documents": [doc("long", json!({"title": "Long", "body": long}))]}),
    )
    .await;
    let snip = p
        .search(
            "books",
            "needle",
            json!({"highlight": {"pre-tag": "*", "post-tag": "*", "max-chars": 40}}),
        )
        .await;
    let (field, text) = (
        &snip["hits"][0]["highlights"][0][0],
        snip["hits"][0]["highlights"][0][1].as_str().expect("text"),
    );
    assert_eq!(field, "body");
    assert!(text.contains("*needle*") && text.len() <= 44, "{text:?}");
    // No highlight asked: none given.
    let plain = p.search("books", "dune", json!({})).await;
    assert_eq!(plain["hits"][0]["highlights"], json!([]));
    // The index knows its documents.
    let info = p.ok("get-index", json!({"name": "books"})).await;
    assert_eq!(info["documents"], 7);
    assert_eq!(info["settings"], book_settings());
}

async fn a_title_match_outranks_a_body_match(p: &Provider) {
    p.books().await;
    let got = p.ids("books", "rust", json!({})).await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[2], "3", "book 3 has rust only in its body: {got:?}");
    // The same holds when the body mentions the word more often than the title.
    p.ok(
        "index-documents",
        json!({"index": "books", "documents": [
            doc("t", json!({"title": "Gardening with compost", "body": "Plants."})),
            doc("b", json!({"title": "Plants", "body": "compost compost compost compost"})),
        ]}),
    )
    .await;
    assert_eq!(
        p.ids("books", "compost", json!({})).await,
        strs(&["t", "b"])
    );
}

async fn filters_compare_numbers_text_and_booleans(p: &Provider) {
    p.books().await;
    let f = |field: &str, op: &str, value: Value| json!({"field": field, "op": op, "value": value});
    let cases = [
        (json!([f("year", "eq", json!({"number": 1965}))]), vec!["4"]),
        (json!([f("price", "eq", json!({"number": 49}))]), vec!["2"]),
        (
            json!([f("price", "gt", json!({"number": 15.99}))]),
            vec!["1", "2"],
        ),
        (
            json!([f("price", "gte", json!({"number": 15.99}))]),
            vec!["1", "2", "4"],
        ),
        (json!([f("price", "lt", json!({"number": 12}))]), vec!["5"]),
        (
            json!([f("price", "lte", json!({"number": 12}))]),
            vec!["3", "5"],
        ),
        (
            json!([f("genre", "eq", json!({"text": "scifi"}))]),
            vec!["4", "5"],
        ),
        (
            json!([f("genre", "ne", json!({"text": "tech"}))]),
            vec!["3", "4", "5", "6"],
        ),
        (
            json!([f("tags", "eq", json!({"text": "classic"}))]),
            vec!["3", "4", "5"],
        ),
        (
            json!([f("in_stock", "eq", json!({"boolean": true}))]),
            vec!["1", "3", "4"],
        ),
        (
            json!([f("in_stock", "ne", json!({"boolean": true}))]),
            vec!["2", "5", "6"],
        ),
        // ne also matches documents without the field (book 6 has no price).
        (
            json!([f("price", "ne", json!({"number": 49}))]),
            vec!["1", "3", "4", "5", "6"],
        ),
        // Filters are ANDed.
        (
            json!([
                f("genre", "eq", json!({"text": "scifi"})),
                f("price", "lt", json!({"number": 10}))
            ]),
            vec!["5"],
        ),
    ];
    for (filters, want) in cases {
        assert_eq!(p.filtered(filters.clone()).await, strs(&want), "{filters}");
    }
    // Text ranges compare bytes: "scifi" and "tech" are after "s".
    let ranges = [
        (
            json!([f("genre", "gt", json!({"text": "s"}))]),
            vec!["1", "2", "4", "5"],
        ),
        (json!([f("genre", "lt", json!({"text": "f"}))]), vec!["6"]),
    ];
    for (filters, want) in ranges {
        if p.kind.compares_text_ranges() {
            assert_eq!(p.filtered(filters.clone()).await, strs(&want), "{filters}");
        } else {
            let e = p
                .err(
                    "search",
                    json!({"index": "books", "request": request("", json!({"filters": filters}))}),
                )
                .await;
            expect_error(&e, ErrorKind::Unsupported, "genre");
        }
    }
    // With a query: both apply, and filters do not change the scores.
    let with_query = p
        .search(
            "books",
            "rust",
            json!({"filters": [f("genre", "eq", json!({"text": "tech"}))]}),
        )
        .await;
    let without = p.search("books", "rust", json!({})).await;
    let mut got = ids(&with_query);
    got.sort();
    assert_eq!(got, strs(&["1", "2"]));
    for hit in with_query["hits"].as_array().expect("hits") {
        let same = without["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .find(|h| h["id"] == hit["id"])
            .expect("also found without the filter");
        assert_eq!(hit["score"], same["score"]);
    }
}

async fn facet_filters_are_an_and_of_ors(p: &Provider) {
    p.books().await;
    let search = |ff: Value| async move {
        let mut got = p.ids("books", "", json!({"facet-filters": ff})).await;
        got.sort();
        got
    };
    assert_eq!(
        search(json!([
            [["genre", "scifi"], ["genre", "fantasy"]],
            [["tags", "classic"]]
        ]))
        .await,
        strs(&["3", "4", "5"])
    );
    assert_eq!(
        search(json!([[["tags", "rust"]], [["tags", "programming"]]])).await,
        strs(&["1"])
    );
    assert_eq!(
        search(json!([[["tags", "rust"], ["genre", "essay"]]])).await,
        strs(&["1", "2", "6"])
    );
    // Numbers as JSON writes them, booleans as true / false.
    assert_eq!(
        search(json!([[["price", "49"]], [["in_stock", "false"]]])).await,
        strs(&["2"])
    );
    assert_eq!(search(json!([[["price", "15.99"]]])).await, strs(&["4"]));
    assert_eq!(
        search(json!([[["genre", "nothing"]]])).await,
        Vec::<String>::new()
    );
}

async fn facet_counts_cover_every_hit(p: &Provider) {
    p.books().await;
    let got = p
        .search(
            "books",
            "",
            json!({"facets": ["genre", "tags", "in_stock"], "page": {"limit": 2}}),
        )
        .await;
    assert_eq!(got["hits"].as_array().map(Vec::len), Some(2));
    assert_eq!(got["total"], 6);
    assert_eq!(
        got["facets"],
        json!([
            {"field": "genre", "values": [["scifi", 2], ["tech", 2], ["essay", 1], ["fantasy", 1]]},
            {"field": "tags", "values": [["classic", 3], ["rust", 2], ["cyberpunk", 1], ["dragons", 1], ["programming", 1]]},
            {"field": "in_stock", "values": [["true", 3], ["false", 2]]},
        ])
    );
    let rust = p
        .search(
            "books",
            "rust",
            json!({"facets": ["genre"], "max-facet-values": 1}),
        )
        .await;
    assert_eq!(
        rust["facets"],
        json!([{"field": "genre", "values": [["tech", 2]]}]),
        "counts over the query's hits, the most frequent first"
    );
}

async fn pages_visit_every_hit_once(p: &Provider) {
    p.books().await;
    for (query, total) in [("", 6), ("rust", 3)] {
        for limit in [1, 2, 4] {
            let mut seen = Vec::new();
            let mut cursor = Value::Null;
            let mut pages = 0;
            loop {
                let got = p
                    .search(
                        "books",
                        query,
                        json!({"page": {"cursor": cursor, "limit": limit}}),
                    )
                    .await;
                assert_eq!(got["total"], total);
                assert_eq!(got["page"]["total"], total);
                let page = ids(&got);
                assert!(page.len() <= limit);
                seen.extend(page);
                pages += 1;
                cursor = got["page"]["next-cursor"].clone();
                if cursor.is_null() {
                    break;
                }
                assert!(pages <= total, "paging does not end");
            }
            assert_eq!(seen.len(), total, "{query:?} by {limit}: {seen:?}");
            assert_eq!(
                seen.iter().collect::<HashSet<_>>().len(),
                total,
                "no hit twice: {seen:?}"
            );
        }
    }
    // The default page is 20; past the end is empty.
    let all = p.search("books", "", json!({})).await;
    assert_eq!(ids(&all).len(), 6);
    let scores: HashSet<String> = all["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["score"].to_string())
        .collect();
    assert_eq!(scores.len(), 1, "an empty query scores every hit the same");
    let past = p
        .search("books", "", json!({"page": {"cursor": "6"}}))
        .await;
    assert_eq!(ids(&past), Vec::<String>::new());
    assert_eq!(past["page"]["next-cursor"], Value::Null);
}

async fn sorts_by_a_sortable_field(p: &Provider) {
    p.books().await;
    let sorted = |field: &str, order: &str| json!({"sort": {"field": field, "order": order}});
    assert_eq!(
        p.ids("books", "", sorted("price", "ascending")).await,
        strs(&["5", "3", "4", "1", "2", "6"]),
        "cheapest first, the book without a price last"
    );
    assert_eq!(
        p.ids("books", "", sorted("price", "descending")).await,
        strs(&["2", "1", "4", "3", "5", "6"]),
        "dearest first, the book without a price still last"
    );
    let by_title = p.ids("books", "", sorted("title", "ascending")).await;
    if p.kind.sorts_text() {
        assert_eq!(by_title, strs(&["6", "4", "5", "2", "3", "1"]));
    } else {
        // Not ordered, but every hit is there once.
        let mut got = by_title.clone();
        got.sort();
        assert_eq!(got, strs(&["1", "2", "3", "4", "5", "6"]), "{by_title:?}");
    }
    assert_eq!(
        p.ids("books", "rust", sorted("price", "ascending")).await,
        strs(&["3", "1", "2"]),
        "a sort orders the query's hits"
    );
    // Sorted pages still visit every hit once.
    let first = p
        .search(
            "books",
            "",
            json!({"sort": {"field": "price", "order": "descending"}, "page": {"limit": 4}}),
        )
        .await;
    let second = p
        .search("books", "", json!({"sort": {"field": "price", "order": "descending"}, "page": {"cursor": first["page"]["next-cursor"], "limit": 4}}))
        .await;
    assert_eq!(
        [ids(&first), ids(&second)].concat(),
        strs(&["2", "1", "4", "3", "5", "6"])
    );
    let e = p
        .err(
            "search",
            json!({"index": "books", "request": request("", sorted("genre", "ascending"))}),
        )
        .await;
    expect_error(&e, ErrorKind::InvalidInput, "genre");
    assert!(e.message.contains("sortable"), "{}", e.message);
}

async fn indexing_an_id_again_replaces_the_document(p: &Provider) {
    p.books().await;
    let results = p
        .ok(
            "index-documents",
            json!({"index": "books", "documents": [doc("4", json!({"title": "Dune Messiah", "body": "Twelve years later.", "genre": "scifi"}))]}),
        )
        .await;
    assert_eq!(results, json!([{"ok": "4"}]));
    let got = p.get("books", "4").await;
    assert_eq!(
        got,
        json!({"title": "Dune Messiah", "body": "Twelve years later.", "genre": "scifi"})
    );
    assert_eq!(
        p.ids("books", "spice", json!({})).await,
        Vec::<String>::new(),
        "the old text is gone"
    );
    assert_eq!(p.ids("books", "messiah", json!({})).await, strs(&["4"]));
    assert_eq!(
        p.ok("get-index", json!({"name": "books"})).await["documents"],
        6,
        "replaced, not added"
    );
    // The body comes back as it was given, keys in their order.
    let text = "{\"z\": 1, \"a\": {\"y\": 2, \"b\": 3}}";
    p.ok(
        "index-documents",
        json!({"index": "books", "documents": [{"id": "raw", "body": text}]}),
    )
    .await;
    let got = p
        .ok("get-document", json!({"index": "books", "id": "raw"}))
        .await;
    if p.kind.keeps_body_text() {
        assert_eq!(got["body"], text);
    } else {
        assert_eq!(body(&got["body"]), json!({"z": 1, "a": {"y": 2, "b": 3}}));
    }
    // The later of two items with one id wins.
    p.ok(
        "index-documents",
        json!({"index": "books", "documents": [doc("x", json!({"title": "first"})), doc("x", json!({"title": "second"}))]}),
    )
    .await;
    assert_eq!(p.get("books", "x").await, json!({"title": "second"}));
}

async fn partial_updates_merge_fields(p: &Provider) {
    p.books().await;
    let results = p
        .ok(
            "update-documents",
            json!({"index": "books", "updates": [
                {"id": "5", "changes": {"price": 19.99, "tags": ["classic", "award"]}},
                {"id": "missing", "changes": {"price": 1}},
                {"id": "6", "changes": {"title": "Café Society, revised"}},
            ]}),
        )
        .await;
    let items = results.as_array().expect("per-item results");
    assert_eq!(items[0], json!({"ok": "5"}));
    assert_eq!(items[1]["err"]["kind"], "not-found");
    assert!(items[1]["err"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("missing")));
    assert_eq!(items[2], json!({"ok": "6"}));
    let merged = p.get("books", "5").await;
    assert_eq!(merged["title"], "Neuromancer", "other fields are kept");
    assert_eq!(merged["price"], 19.99);
    assert_eq!(merged["tags"], json!(["classic", "award"]));
    // The update is searchable: filters, facets and text.
    let dear = p
        .filtered(json!([{"field": "price", "op": "gt", "value": {"number": 15}}]))
        .await;
    assert_eq!(dear, strs(&["1", "2", "4", "5"]));
    let tags = p.search("books", "", json!({"facets": ["tags"]})).await;
    assert!(tags["facets"][0]["values"]
        .as_array()
        .expect("values")
        .contains(&json!(["award", 1])));
    assert_eq!(p.ids("books", "revised", json!({})).await, strs(&["6"]));
    assert_eq!(
        p.ok("get-index", json!({"name": "books"})).await["documents"],
        6
    );
}

async fn deletes_documents(p: &Provider) {
    p.books().await;
    let results = p
        .ok(
            "delete-documents",
            json!({"index": "books", "ids": ["1", "never-there"]}),
        )
        .await;
    assert_eq!(results, json!([{"ok": "1"}, {"ok": "never-there"}]));
    let mut rust = p.ids("books", "rust", json!({})).await;
    rust.sort();
    assert_eq!(rust, strs(&["2", "3"]));
    let e = p
        .err("get-document", json!({"index": "books", "id": "1"}))
        .await;
    expect_error(&e, ErrorKind::NotFound, "\"1\"");
    assert_eq!(
        p.ok("get-index", json!({"name": "books"})).await["documents"],
        5
    );
    // Deleting the index deletes its documents.
    p.ok("delete-index", json!({"name": "books"})).await;
    let e = p.err("get-index", json!({"name": "books"})).await;
    expect_error(&e, ErrorKind::NotFound, "books");
    p.create("books", book_settings()).await;
    assert_eq!(p.search("books", "", json!({})).await["total"], 0);
}

async fn changing_settings_reindexes(p: &Provider) {
    p.create(
        "books",
        json!({"searchable": ["title"], "facets": [], "filterable": [], "sortable": []}),
    )
    .await;
    all_ok(
        &p.ok(
            "index-documents",
            json!({"index": "books", "documents": books()}),
        )
        .await,
    );
    assert_eq!(
        p.ids("books", "spice", json!({})).await,
        Vec::<String>::new(),
        "body is not searchable"
    );
    let e = p
        .err(
            "search",
            json!({"index": "books", "request": request("", json!({"facets": ["genre"]}))}),
        )
        .await;
    expect_error(&e, ErrorKind::InvalidInput, "genre");
    let info = p
        .ok(
            "update-settings",
            json!({"name": "books", "settings": book_settings()}),
        )
        .await;
    assert_eq!(info["settings"], book_settings());
    assert_eq!(info["documents"], 6);
    assert_eq!(p.ids("books", "spice", json!({})).await, strs(&["4"]));
    let facets = p.search("books", "", json!({"facets": ["genre"]})).await;
    assert_eq!(facets["facets"][0]["values"][0], json!(["scifi", 2]));
    assert_eq!(
        p.ids(
            "books",
            "",
            json!({"sort": {"field": "price", "order": "ascending"}, "page": {"limit": 1}})
        )
        .await,
        strs(&["5"])
    );
    // Settings without searchable fields make every string searchable.
    p.ok(
        "update-settings",
        json!({"name": "books", "settings": {"searchable": [], "facets": [], "filterable": [], "sortable": []}}),
    )
    .await;
    let any = p
        .search(
            "books",
            "scifi",
            json!({"highlight": {"pre-tag": "<", "post-tag": ">"}}),
        )
        .await;
    let mut got = ids(&any);
    got.sort();
    assert_eq!(got, strs(&["4", "5"]));
    assert_eq!(any["hits"][0]["highlights"], json!([["genre", "<scifi>"]]));
    assert_eq!(
        p.ok("get-index", json!({"name": "books"})).await["documents"],
        6
    );
}

async fn refuses_bad_input_and_keeps_the_data(p: &Provider) {
    p.books().await;
    let empty = json!({"searchable": [], "facets": [], "filterable": [], "sortable": []});
    for (name, names) in [
        ("", "index name"),
        ("bad/name", "bad/name"),
        (".hidden", ".hidden"),
    ] {
        let e = p
            .err("create-index", json!({"name": name, "settings": empty}))
            .await;
        expect_error(&e, ErrorKind::InvalidInput, names);
    }
    let e = p
        .err("create-index", json!({"name": "books", "settings": empty}))
        .await;
    expect_error(&e, ErrorKind::Conflict, "books");
    for (settings, names) in [
        (
            json!({"searchable": ["a..b"], "facets": [], "filterable": [], "sortable": []}),
            "a..b",
        ),
        (
            json!({"searchable": [], "facets": ["x", "x"], "filterable": [], "sortable": []}),
            "twice",
        ),
        (
            json!({"searchable": [], "facets": [], "filterable": [""], "sortable": []}),
            "settings.filterable[0]",
        ),
    ] {
        let e = p
            .err(
                "create-index",
                json!({"name": "other", "settings": settings}),
            )
            .await;
        expect_error(&e, ErrorKind::InvalidInput, names);
    }
    let e = p
        .err(
            "index-documents",
            json!({"index": "nope", "documents": [doc("a", json!({}))]}),
        )
        .await;
    expect_error(&e, ErrorKind::NotFound, "nope");
    for function in ["get-index", "delete-index"] {
        let e = p.err(function, json!({"name": "nope"})).await;
        expect_error(&e, ErrorKind::NotFound, "nope");
    }
    let e = p
        .err(
            "search",
            json!({"index": "nope", "request": request("", json!({}))}),
        )
        .await;
    expect_error(&e, ErrorKind::NotFound, "nope");
    // Per item: an empty id, a body that is not an object, a body too large.
    let results = p
        .ok(
            "index-documents",
            json!({"index": "books", "documents": [
                doc("", json!({"title": "no id"})),
                {"id": "arr", "body": "[1, 2]"},
                {"id": "bad-json", "body": "{"},
                doc("big", json!({"title": "x".repeat(100 * 1024)})),
            ]}),
        )
        .await;
    let items = results.as_array().expect("items");
    let item_error = |i: usize, kind: &str, names: &str| {
        assert_eq!(items[i]["err"]["kind"], kind, "{}", items[i]);
        let m = items[i]["err"]["message"].as_str().expect("message");
        assert!(m.contains(names), "item {i} should name {names}: {m}");
    };
    item_error(0, "invalid-input", "documents[0].id");
    item_error(
        1,
        "invalid-input",
        "documents[1].body must be a JSON object",
    );
    item_error(2, "invalid-input", "documents[2].body");
    item_error(3, "too-large", "documents[3].body");
    let results = p
        .ok("update-documents", json!({"index": "books", "updates": [{"id": "1", "changes": "[]"}, {"id": "", "changes": {}}]}))
        .await;
    assert_eq!(results[0]["err"]["kind"], "invalid-input", "{results}");
    assert!(results[0]["err"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("updates[0].changes")));
    assert!(results[1]["err"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("updates[1].id")));
    // Batches: at most 1000 items, at least one.
    let many: Vec<Value> = (0..1001)
        .map(|i| doc(&format!("d{i}"), json!({})))
        .collect();
    let e = p
        .err(
            "index-documents",
            json!({"index": "books", "documents": many}),
        )
        .await;
    expect_error(&e, ErrorKind::TooLarge, "1000");
    let e = p
        .err("delete-documents", json!({"index": "books", "ids": []}))
        .await;
    expect_error(&e, ErrorKind::InvalidInput, "ids");
    // Searches checked against the settings.
    let f =
        |field: &str, op: &str, value: Value| json!([{"field": field, "op": op, "value": value}]);
    for (over, kind, names) in [
        (
            json!({"filters": f("title", "eq", json!({"text": "Dune"}))}),
            ErrorKind::InvalidInput,
            "\"title\"",
        ),
        (
            json!({"filters": f("in_stock", "gt", json!({"boolean": true}))}),
            ErrorKind::InvalidInput,
            "boolean",
        ),
        (
            json!({"facet-filters": [[["body", "x"]]]}),
            ErrorKind::InvalidInput,
            "\"body\"",
        ),
        (
            json!({"facet-filters": [[]]}),
            ErrorKind::InvalidInput,
            "facet-filters[0]",
        ),
        (
            json!({"facets": ["price"]}),
            ErrorKind::InvalidInput,
            "\"price\"",
        ),
        (
            json!({"page": {"cursor": "not-a-cursor"}}),
            ErrorKind::InvalidInput,
            "cursor",
        ),
        (
            json!({"page": {"limit": 0}}),
            ErrorKind::InvalidInput,
            "limit",
        ),
        (
            json!({"page": {"limit": 1001}}),
            ErrorKind::InvalidInput,
            "limit",
        ),
        (
            json!({"max-facet-values": 0}),
            ErrorKind::InvalidInput,
            "max-facet-values",
        ),
        (
            json!({"highlight": {"pre-tag": "<".repeat(300), "post-tag": ">"}}),
            ErrorKind::InvalidInput,
            "pre-tag",
        ),
    ] {
        let e = p
            .err(
                "search",
                json!({"index": "books", "request": request("", over.clone())}),
            )
            .await;
        expect_error(&e, kind, names);
    }
    let e = p
        .err("get-document", json!({"index": "books", "id": ""}))
        .await;
    expect_error(&e, ErrorKind::InvalidInput, "id");
    // Nothing was lost or added.
    let info = p.ok("get-index", json!({"name": "books"})).await;
    assert_eq!(info["documents"], 6);
    assert_eq!(
        p.get("books", "1").await["title"],
        "The Rust Programming Language"
    );
    let listed = p.ok("list-indexes", json!({})).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
}

async fn a_refused_item_does_not_lose_the_others(p: &Provider) {
    p.create(
        "notes",
        json!({"searchable": ["text"], "facets": [], "filterable": [], "sortable": []}),
    )
    .await;
    let results = p
        .ok(
            "index-documents",
            json!({"index": "notes", "documents": [
                doc("a", json!({"text": "alpha"})),
                {"id": "bad", "body": "\"a string\""},
                doc("b", json!({"text": "beta alpha"})),
            ]}),
        )
        .await;
    let items = results.as_array().expect("items");
    assert_eq!(items[0], json!({"ok": "a"}));
    assert_eq!(items[1]["err"]["kind"], "invalid-input");
    assert_eq!(items[2], json!({"ok": "b"}));
    let mut got = p.ids("notes", "alpha", json!({})).await;
    got.sort();
    assert_eq!(got, strs(&["a", "b"]));
    let e = p
        .err("get-document", json!({"index": "notes", "id": "bad"}))
        .await;
    assert_eq!(e.kind, ErrorKind::NotFound);
    let deleted = p
        .ok(
            "delete-documents",
            json!({"index": "notes", "ids": ["a", ""]}),
        )
        .await;
    assert_eq!(deleted[0], json!({"ok": "a"}));
    assert_eq!(deleted[1]["err"]["kind"], "invalid-input");
    assert_eq!(p.ids("notes", "alpha", json!({})).await, strs(&["b"]));
}

async fn tenants_see_only_their_own(p: &Provider) {
    p.books().await;
    let theirs = p
        .call_as(OTHER, "list-indexes", json!({}))
        .await
        .expect("list");
    assert_eq!(theirs, json!([]), "globex sees none of acme's indexes");
    let e = p
        .call_as(
            OTHER,
            "search",
            json!({"index": "books", "request": request("rust", json!({}))}),
        )
        .await
        .expect_err("not globex's");
    assert_eq!(e.provider().map(|e| e.kind), Some(ErrorKind::NotFound));
    // globex's own index of the same name holds its own documents.
    p.call_as(
        OTHER,
        "create-index",
        json!({"name": "books", "settings": book_settings()}),
    )
    .await
    .expect("create");
    p.call_as(
        OTHER,
        "index-documents",
        json!({"index": "books", "documents": [doc("g1", json!({"title": "Rust for globex"}))]}),
    )
    .await
    .expect("index");
    let got = p
        .call_as(
            OTHER,
            "search",
            json!({"index": "books", "request": request("rust", json!({}))}),
        )
        .await
        .expect("search");
    assert_eq!(ids(&got), strs(&["g1"]));
    assert_eq!(p.search("books", "rust", json!({})).await["total"], 3);
    let e = p
        .err("get-document", json!({"index": "books", "id": "g1"}))
        .await;
    assert_eq!(e.kind, ErrorKind::NotFound);
}

async fn documents_persist_across_a_restart(p: &Provider) {
    p.books().await;
    p.ok(
        "update-documents",
        json!({"index": "books", "updates": [{"id": "2", "changes": {"price": 1}}]}),
    )
    .await;
    p.ok("delete-documents", json!({"index": "books", "ids": ["6"]}))
        .await;
    let before = p
        .search("books", "rust", json!({"facets": ["genre"]}))
        .await;
    p.rt.shutdown().await;

    let rt = runtime_over(p.kind, &p.dirs, p.algolia.as_ref()).await;
    let again = Contract {
        rt,
        service: Service::Search,
        tenant: TENANT,
    };
    let info = again.ok("get-index", json!({"name": "books"})).await;
    assert_eq!(info["documents"], 5);
    assert_eq!(info["settings"], book_settings());
    let after = again
        .ok(
            "search",
            json!({"index": "books", "request": request("rust", json!({"facets": ["genre"]}))}),
        )
        .await;
    assert_eq!(ids(&after), ids(&before));
    assert_eq!(after["facets"], before["facets"]);
    let cheap = again
        .ok("search", json!({"index": "books", "request": request("", json!({"sort": {"field": "price", "order": "ascending"}, "page": {"limit": 1}}))}))
        .await;
    assert_eq!(ids(&cheap), strs(&["2"]), "the update was kept");
    // And it can still be written.
    all_ok(
        &again
            .ok("index-documents", json!({"index": "books", "documents": [doc("7", json!({"title": "After the restart"}))]}))
            .await,
    );
    assert_eq!(
        again.ok("get-index", json!({"name": "books"})).await["documents"],
        6
    );
    again.rt.shutdown().await;
}

async fn documents_survive_a_swap(p: &Provider) {
    p.books().await;
    p.rt.swap(
        TENANT,
        Service::Search,
        ComponentSource::path(component(p.kind.component())),
    )
    .await
    .expect("swap");
    assert_eq!(p.search("books", "rust", json!({})).await["total"], 3);
}

async fn concurrent_writes_and_searches_all_land(p: &Provider) {
    p.create(
        "notes",
        json!({"searchable": ["text"], "facets": ["batch"], "filterable": [], "sortable": []}),
    )
    .await;
    let writes = (0..8).map(|b| {
        let docs: Vec<Value> = (0..25)
            .map(|i| {
                doc(
                    &format!("{b}-{i}"),
                    json!({"text": format!("note {i} of batch {b}"), "batch": b}),
                )
            })
            .collect();
        p.call_as(
            TENANT,
            "index-documents",
            json!({"index": "notes", "documents": docs}),
        )
    });
    let reads = (0..8).map(|_| {
        p.call_as(
            TENANT,
            "search",
            json!({"index": "notes", "request": request("note", json!({}))}),
        )
    });
    let (written, read) = futures::join!(
        futures::future::join_all(writes),
        futures::future::join_all(reads)
    );
    for w in written {
        all_ok(&w.expect("a concurrent batch"));
    }
    for r in read {
        r.expect("a search during the writes");
    }
    let got = p
        .search("notes", "note", json!({"facets": ["batch"]}))
        .await;
    assert_eq!(got["total"], 200);
    assert_eq!(got["facets"][0]["values"].as_array().map(Vec::len), Some(8));
}

async fn reports_processing_time_and_health(p: &Provider) {
    p.books().await;
    let got = p.search("books", "rust", json!({})).await;
    assert!(got["processing-ms"].is_u64(), "{got}");
    let health = p.ok("health", json!({})).await;
    assert_eq!(health["ok"], true);
    assert!(
        health["detail"]
            .as_str()
            .is_some_and(|d| d.contains("1 indexes")),
        "{health}"
    );
}

/// Algolia's retry strategy over its hosts: a host answering 5xx or timing out is skipped and
/// the call succeeds on the next; a 4xx fails at once on no other host; when every host
/// fails the call is `unavailable`; a 429 is retried after its `Retry-After`. (Reads go to
/// hosts 0, 2, 3 and writes to 1, 2, 3.)
async fn reads_and_writes_fall_back_to_the_next_host(p: &Provider) {
    let Some(mock) = p.algolia.as_ref().filter(|_| p.kind.is_cloud()) else {
        return;
    };
    p.books().await;
    // A short read time-out, so that a slow host is given up quickly.
    let rt = runtime(vec![(
        TENANT,
        Service::Search,
        algolia_spec(
            mock,
            "acme_",
            &algolia_key(TENANT),
            &[("read_timeout_ms", "300"), ("max_retries", "2")],
        ),
    )])
    .await;
    let c = Contract {
        rt,
        service: Service::Search,
        tenant: TENANT,
    };
    let rust = || {
        c.ok(
            "search",
            json!({"index": "books", "request": request("rust", json!({}))}),
        )
    };
    let statuses =
        |host: usize| -> Vec<u16> { mock.requests(host).iter().map(|r| r.status).collect() };

    // 5xx on the read host: marked down, the call goes on on the next host.
    mock.clear_requests();
    mock.fail_next(0, 1, Failure::status(503, "Service Unavailable"));
    assert_eq!(rust().await["total"], 3);
    assert_eq!(
        statuses(0),
        vec![503],
        "the down host is not asked again in the call"
    );
    assert!(
        statuses(2).len() >= 2 && statuses(2).iter().all(|s| *s == 200),
        "{:?}",
        statuses(2)
    );
    assert!(statuses(3).is_empty());

    // A time-out on the read host: the next host answers.
    mock.clear_requests();
    mock.fail_next(0, 1, Failure::Delay(Duration::from_secs(3)));
    let started = Instant::now();
    assert_eq!(rust().await["total"], 3);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "gave up on the slow host after its time-out: {took:?}"
    );
    assert_eq!(statuses(2).first(), Some(&200), "the next host answered");

    // 5xx on the write host: the write lands through the next one and is searchable.
    mock.clear_requests();
    mock.fail_next(1, 1, Failure::status(500, "Internal error"));
    let written = c
        .ok(
            "index-documents",
            json!({"index": "books", "documents": [doc("w", json!({"title": "Rust on a fallback host"}))]}),
        )
        .await;
    assert_eq!(written, json!([{"ok": "w"}]));
    assert_eq!(statuses(1), vec![500]);
    assert!(mock
        .requests(2)
        .iter()
        .any(|r| r.method == "POST" && r.path.ends_with("/batch") && r.status == 200));
    assert_eq!(rust().await["total"], 4);

    // A 4xx fails at once, on no other host.
    mock.clear_requests();
    mock.fail_next(0, 1, Failure::status(400, "Invalid parameters"));
    let e = c
        .err(
            "search",
            json!({"index": "books", "request": request("rust", json!({}))}),
        )
        .await;
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e:?}");
    assert_eq!(e.provider_code.as_deref(), Some("400"));
    assert_eq!(e.provider_message.as_deref(), Some("Invalid parameters"));
    assert_eq!(statuses(0), vec![400]);
    assert!(
        statuses(2).is_empty() && statuses(3).is_empty(),
        "not tried elsewhere"
    );

    // Every read host down: unavailable, after backoff and retries of the whole pass.
    mock.clear_requests();
    for host in [0, 2, 3] {
        mock.fail_next(host, 10, Failure::status(502, "Bad Gateway"));
    }
    let e = c
        .err(
            "search",
            json!({"index": "books", "request": request("rust", json!({}))}),
        )
        .await;
    mock.clear_failures();
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e:?}");
    assert!(e.retryable);
    assert!(
        e.message.contains("every Algolia read host failed"),
        "{}",
        e.message
    );
    assert_eq!(
        statuses(0).len(),
        3,
        "one try per pass, three passes (max_retries 2)"
    );
    assert_eq!(statuses(2).len(), 3);
    assert!(statuses(1).is_empty(), "reads never go to the write host");

    // 429: retried after Retry-After, on the same host.
    mock.clear_requests();
    mock.fail_next(0, 1, Failure::rate_limited(1));
    let started = Instant::now();
    assert_eq!(rust().await["total"], 4);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(statuses(0)[..2], [429, 200]);
    assert!(statuses(2).is_empty());
    c.rt.shutdown().await;
}

/// Each tenant's key is restricted to its prefix: a binding holding globex's key cannot reach
/// acme's indexes even when its adapter is configured with acme's prefix (the provider
/// refuses it), the adapter refuses names that could leave the prefix, and the provider
/// refuses the key on another tenant's index.
async fn a_key_restricted_to_one_prefix_cannot_reach_another_tenants_index(p: &Provider) {
    let Some(mock) = p.algolia.as_ref().filter(|_| p.kind.is_cloud()) else {
        return;
    };
    p.books().await;
    // A binding with acme's prefix but globex's key, as a misconfigured or bypassed adapter.
    let rt = runtime(vec![(
        "intruder",
        Service::Search,
        algolia_spec(mock, "acme_", &algolia_key(OTHER), &[]),
    )])
    .await;
    let intruder = Contract {
        rt,
        service: Service::Search,
        tenant: "intruder",
    };
    for (function, args) in [
        (
            "search",
            json!({"index": "books", "request": request("rust", json!({}))}),
        ),
        ("get-document", json!({"index": "books", "id": "1"})),
        ("delete-documents", json!({"index": "books", "ids": ["1"]})),
        ("get-index", json!({"name": "books"})),
    ] {
        let e = intruder.err(function, args).await;
        assert_eq!(e.kind, ErrorKind::Unauthorized, "{function}: {e:?}");
        assert_eq!(e.provider_code.as_deref(), Some("403"));
        assert_eq!(
            e.provider_message.as_deref(),
            Some("Index not allowed with this API key"),
            "{function}"
        );
    }
    assert_eq!(
        intruder.ok("list-indexes", json!({})).await,
        json!([]),
        "the key lists only globex's indexes"
    );
    intruder.rt.shutdown().await;
    assert_eq!(
        p.get("books", "1").await["title"],
        "The Rust Programming Language"
    );
    assert_eq!(
        p.search("books", "", json!({})).await["total"],
        6,
        "nothing was deleted"
    );

    // The provider itself, asked directly with globex's key for acme's index.
    let http = reqwest::Client::new();
    let ask = |key: String| {
        http.post(format!("{}/1/indexes/acme_books/query", mock.host_url(0)))
            .header("x-algolia-application-id", mock.app_id())
            .header("x-algolia-api-key", key)
            .json(&json!({"query": "rust"}))
            .send()
    };
    let refused = ask(algolia_key(OTHER)).await.expect("request");
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.json::<Value>().await.expect("json"),
        json!({"message": "Index not allowed with this API key", "status": 403})
    );
    let allowed = ask(algolia_key(TENANT)).await.expect("request");
    assert_eq!(allowed.status(), 200);
    let wrong = ask("not-a-key".into()).await.expect("request");
    assert_eq!(wrong.status(), 403);
    assert_eq!(
        wrong.json::<Value>().await.expect("json")["message"],
        "Invalid Application-ID or API key"
    );

    // Names that could leave the tenant's prefix are refused before any request.
    mock.clear_requests();
    for name in [
        "*",
        "globex_*",
        "../globex_books",
        "books__sort__price__asc",
    ] {
        let e = p
            .err(
                "search",
                json!({"index": name, "request": request("", json!({}))}),
            )
            .await;
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{name}: {e:?}");
    }
    assert!((0..4).all(|h| mock.requests(h).is_empty()));
    // A prefix that could start another tenant's (`acme_x_` inside `acme_`) is refused.
    for prefix in ["acme_x_", "acme", "acme*_"] {
        let rt = runtime(vec![(
            "nested",
            Service::Search,
            algolia_spec(mock, prefix, &algolia_key(TENANT), &[]),
        )])
        .await;
        let e = rt
            .invoke_json("nested", Service::Search, "list-indexes", json!({}))
            .await
            .expect_err("a bad prefix");
        let e = e.provider().expect("a contract error").clone();
        expect_error(&e, ErrorKind::InvalidInput, "index_prefix");
        rt.shutdown().await;
    }
}

#[tokio::test]
async fn a_tantivy_binding_needs_files() {
    let spec =
        BindingSpec::new(ComponentSource::path(component("search-host"))).backend(Backend::Tantivy);
    let err = Runtime::builder()
        .options(options())
        .binding(TENANT, Service::Search, spec)
        .build()
        .await
        .err()
        .expect("refused without files");
    assert!(err.to_string().contains("files"), "{err}");
    // Two tenants may not share a directory: each would see the other's indexes.
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Runtime::builder()
        .options(options())
        .binding(TENANT, Service::Search, spec_for(dir.path()))
        .binding(OTHER, Service::Search, spec_for(dir.path()))
        .build()
        .await
        .err()
        .expect("refused: a shared directory");
    assert!(err.to_string().contains("own directory"), "{err}");
}

fn spec_for(dir: &Path) -> BindingSpec {
    spec(Kind::Tantivy, dir)
}

/// Runs every check against each provider: `suite!(module_name => Kind::X, ...)`.
macro_rules! suite {
    ($($module:ident => $kind:expr),* $(,)?) => {$(
        mod $module {
            use super::*;
            suite!(@checks $kind;
                index_and_search_with_highlighting,
                a_title_match_outranks_a_body_match,
                filters_compare_numbers_text_and_booleans,
                facet_filters_are_an_and_of_ors,
                facet_counts_cover_every_hit,
                pages_visit_every_hit_once,
                sorts_by_a_sortable_field,
                indexing_an_id_again_replaces_the_document,
                partial_updates_merge_fields,
                deletes_documents,
                changing_settings_reindexes,
                refuses_bad_input_and_keeps_the_data,
                a_refused_item_does_not_lose_the_others,
                tenants_see_only_their_own,
                documents_persist_across_a_restart,
                documents_survive_a_swap,
                concurrent_writes_and_searches_all_land,
                reports_processing_time_and_health,
                reads_and_writes_fall_back_to_the_next_host,
                a_key_restricted_to_one_prefix_cannot_reach_another_tenants_index,
            );
        }
    )*};
    (@checks $kind:expr; $($check:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $check() {
            super::$check(&provider($kind).await).await;
        }
    )*};
}

suite!(tantivy => Kind::Tantivy, algolia => Kind::Algolia);
