//! The storage contract's behaviour suite, written once and run for every provider through
//! the JSON gateway (`Runtime::invoke_json`), so it also proves the JSON mapping (bodies are
//! `list<u8>`: JSON arrays of numbers both ways).
//!
//! Each check is an `async fn(&Provider)`; [`suite!`] runs every check for each [`Kind`]:
//! the embedded default (`storage-local`) and `storage-supabase` against its mock
//! (`switchyard_tests::mock::supabase`), one Supabase project per tenant. Where providers
//! genuinely differ, a check reads the capabilities of the [`Kind`] instead of being weakened
//! for everyone.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use switchyard_host::{
    BindingSpec, ComponentSource, CredentialConfig, Error, ErrorKind, Injection, ProviderError,
    Runtime, RuntimeOptions, SecretSource, Service, Signer,
};
use switchyard_tests::mock::supabase::MockSupabase;

use crate::support::{component, options};

const TENANT: &str = "acme";
const OTHER: &str = "globex";
/// What `public_base_url` is for [`TENANT`] ([`OTHER`] has none).
const PUBLIC_BASE: &str = "http://cdn.example.test/acme";
/// The server address the test runtimes sign URLs for.
const SERVER: &str = "http://switchyard.example.test:9000";
const SIGNING_KEY: &[u8] = b"storage-suite-signing-key-0123456789";
/// The service key each mock Supabase project expects and the host injects.
const SUPABASE_KEY: &str = "sb-service-role-key-for-the-storage-suite";

/// Which provider a suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The embedded default, `storage-local`, over a temporary directory per tenant.
    Local,
    /// `storage-supabase`, each tenant with its own mock Supabase project.
    Supabase,
}

impl Kind {
    /// Signed URLs are the host's (`/v1/signed/...`, checked by `verify_signed`); otherwise
    /// they are the provider's own and are checked by fetching them from the provider.
    fn host_signs_urls(self) -> bool {
        self == Kind::Local
    }

    /// `page.total` is given on every page. Supabase's listing has no count: the adapter
    /// gives it only when the whole listing fits on the first page.
    fn counts_every_page(self) -> bool {
        self == Kind::Local
    }

    /// The cache-control of an object uploaded without one (Supabase stores `no-cache`).
    fn default_cache_control(self) -> Value {
        match self {
            Kind::Local => Value::Null,
            Kind::Supabase => json!("no-cache"),
        }
    }

    /// User metadata comes back in the order given. Supabase keeps it as `jsonb`, which
    /// orders the names its own way.
    fn keeps_metadata_order(self) -> bool {
        self == Kind::Local
    }

    /// Keys may hold any UTF-8. Supabase takes S3-safe ASCII only (`InvalidKey`).
    fn takes_any_utf8_key(self) -> bool {
        self == Kind::Local
    }

    /// `public-url` needs `public_base_url`; Supabase has its own public URLs
    /// (`{url}/storage/v1/object/public/...`) and the key only overrides them.
    fn public_urls_need_config(self) -> bool {
        self == Kind::Local
    }

    /// A signed upload URL lives as long as asked. Supabase's live as long as the project's
    /// `uploadSignedUrlExpirationTime` (2 hours by default) whatever is asked.
    fn upload_url_lives_as_asked(self) -> bool {
        self == Kind::Local
    }
}

/// A runtime with [`TENANT`] and [`OTHER`] bound to a storage provider.
pub struct Provider {
    kind: Kind,
    rt: Runtime,
    backends: Backends,
}

/// What the tenants keep their data in, kept across restarts of the runtime: a directory
/// each (`storage-local`), a mock Supabase project each (`storage-supabase`).
struct Backends {
    dirs: [tempfile::TempDir; 2],
    supabase: Option<[MockSupabase; 2]>,
}

impl Backends {
    async fn new(kind: Kind) -> Backends {
        let supabase = match kind {
            Kind::Local => None,
            Kind::Supabase => Some([
                MockSupabase::start(SUPABASE_KEY).await,
                MockSupabase::start(SUPABASE_KEY).await,
            ]),
        };
        Backends {
            dirs: [
                tempfile::tempdir().expect("tempdir"),
                tempfile::tempdir().expect("tempdir"),
            ],
            supabase,
        }
    }

    /// The binding of tenant `i` (0: [`TENANT`], with a public base; 1: [`OTHER`]).
    fn spec(&self, kind: Kind, i: usize) -> BindingSpec {
        let public_base = (i == 0).then_some(PUBLIC_BASE);
        match kind {
            Kind::Local => spec(kind, self.dirs[i].path(), public_base),
            Kind::Supabase => {
                let mock = &self.supabase.as_ref().expect("Supabase mocks")[i];
                supabase_spec(mock, SUPABASE_KEY, public_base)
            }
        }
    }
}

/// The binding of `kind` for one tenant keeping its data in `dir`; `public_base` is the
/// base of public URLs, when the tenant has one.
pub fn spec(kind: Kind, dir: &Path, public_base: Option<&str>) -> BindingSpec {
    match kind {
        Kind::Local => {
            let spec =
                BindingSpec::new(ComponentSource::path(component("storage-local"))).files(dir);
            match public_base {
                Some(base) => spec.config("public_base_url", base),
                None => spec,
            }
        }
        Kind::Supabase => panic!("a Supabase binding needs its mock: use supabase_spec"),
    }
}

/// A `storage-supabase` binding pointed at `mock` with quick retries: the host injects
/// `key` as `Authorization: Bearer` and as `apikey`, for the mock's host only.
pub fn supabase_spec(mock: &MockSupabase, key: &str, public_base: Option<&str>) -> BindingSpec {
    let credential = |inject: Injection| CredentialConfig {
        host: mock.base_url(),
        secret: SecretSource::Value(key.into()),
        inject,
    };
    let spec = BindingSpec::new(ComponentSource::path(component("storage-supabase")))
        .config("url", mock.base_url())
        .config("max_retries", "3")
        .config("retry_base_ms", "20")
        .config("retry_max_ms", "200")
        .allow(&mock.base_url())
        .expect("allow")
        .credential(&credential(Injection::Bearer))
        .expect("bearer credential")
        .credential(&credential(Injection::Header {
            name: "apikey".into(),
        }))
        .expect("apikey credential");
    match public_base {
        Some(base) => spec.config("public_base_url", base),
        None => spec,
    }
}

/// A runtime over the tenants' backends (a new one over the same backends is a restart).
async fn runtime_over(kind: Kind, backends: &Backends) -> Runtime {
    Runtime::builder()
        // Room for every call of the concurrency checks at once (24 in
        // readers_never_see_half_an_object): they test atomicity, not admission.
        .options(RuntimeOptions {
            max_instances_per_tenant: 32,
            ..options()
        })
        .signer(Signer::new(SIGNING_KEY.to_vec(), SERVER))
        .binding(TENANT, Service::Storage, backends.spec(kind, 0))
        .binding(OTHER, Service::Storage, backends.spec(kind, 1))
        .build()
        .await
        .expect("runtime builds")
}

impl Provider {
    async fn new(kind: Kind) -> Provider {
        let backends = Backends::new(kind).await;
        let rt = runtime_over(kind, &backends).await;
        Provider { kind, rt, backends }
    }

    /// The mock Supabase project of tenant `i` (0: [`TENANT`], 1: [`OTHER`]).
    fn supabase(&self, i: usize) -> &MockSupabase {
        &self
            .backends
            .supabase
            .as_ref()
            .expect("a Supabase provider")[i]
    }

    async fn call_as(&self, tenant: &str, function: &str, args: Value) -> Result<Value, Error> {
        self.rt
            .invoke_json(tenant, Service::Storage, function, args)
            .await
    }

    /// The call's answer; panics with the error otherwise.
    async fn ok(&self, function: &str, args: Value) -> Value {
        match self.call_as(TENANT, function, args.clone()).await {
            Ok(v) => v,
            Err(e) => panic!("{:?}: {function}({}) failed: {e}", self.kind, short(&args)),
        }
    }

    /// The contract error of a call that must fail.
    async fn err(&self, function: &str, args: Value) -> ProviderError {
        match self.call_as(TENANT, function, args.clone()).await {
            Ok(v) => panic!(
                "{:?}: {function}({}) succeeded with {}; an error was expected",
                self.kind,
                short(&args),
                short(&v)
            ),
            Err(e) => e
                .provider()
                .unwrap_or_else(|| panic!("{:?}: not a contract error: {e}", self.kind))
                .clone(),
        }
    }

    /// Asserts the call fails with `kind` and a message naming `names`.
    async fn rejects(&self, function: &str, args: Value, kind: ErrorKind, names: &str) {
        let e = self.err(function, args.clone()).await;
        expect_error(&e, kind, names, &format!("{function}({})", short(&args)));
    }

    async fn bucket(&self, name: &str, options: Value) -> Value {
        self.ok("create-bucket", json!({"name": name, "options": options}))
            .await
    }

    async fn upload(&self, bucket: &str, key: &str, body: &[u8], options: Value) -> Value {
        self.ok("upload", upload_args(bucket, key, body, options))
            .await
    }

    /// The object's description and content.
    async fn download(&self, bucket: &str, key: &str) -> (Value, Vec<u8>) {
        let got = self
            .ok("download", json!({"bucket": bucket, "key": key}))
            .await;
        (got["info"].clone(), bytes(&got["body"]))
    }

    /// One page of a listing.
    async fn list(&self, bucket: &str, query: Value, page: Value) -> Value {
        self.ok(
            "list-objects",
            json!({"bucket": bucket, "query": query, "page": page}),
        )
        .await
    }

    /// The keys of `bucket` (first page of up to 1000).
    async fn keys(&self, bucket: &str) -> Vec<String> {
        let page = self.list(bucket, json!({}), json!({"limit": 1000})).await;
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["key"].as_str().expect("key").to_string())
            .collect()
    }
}

fn upload_args(bucket: &str, key: &str, body: &[u8], options: Value) -> Value {
    let mut options = if options.is_null() {
        json!({})
    } else {
        options
    };
    if options.get("metadata").is_none() {
        options["metadata"] = json!([]);
    }
    json!({"bucket": bucket, "key": key, "body": body, "options": options})
}

/// A `list<u8>` answered as a JSON array of numbers.
fn bytes(v: &Value) -> Vec<u8> {
    serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("not a byte array ({e}): {}", short(v)))
}

/// A value for failure messages, cut to 300 characters (bodies can be large).
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 300 {
        format!(
            "{}...",
            &s[..s.char_indices().nth(300).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

#[track_caller]
fn expect_error(e: &ProviderError, kind: ErrorKind, names: &str, call: &str) {
    assert_eq!(e.kind, kind, "{call}: {e:?}");
    assert!(
        e.message.contains(names),
        "{call}: the message should name `{names}`: {}",
        e.message
    );
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Asserts the timestamp is within `slack` seconds of now.
#[track_caller]
fn near_now(ts: &Value, slack: u64) {
    let s = ts["seconds"].as_u64().expect("seconds");
    let now = unix_now();
    assert!(
        s + slack >= now && s <= now + slack,
        "{ts} is not near {now}"
    );
}

/// Decodes `%XX` escapes of a URL path.
fn percent_decode(s: &str) -> String {
    switchyard_rules::percent::decode_strict(s).expect("well-formed UTF-8 escapes")
}

/// A decoded resource's path segments.
fn segments(resource: &str) -> Vec<&str> {
    resource.split('/').collect()
}

/// Metadata pairs in name order, for providers that do not keep the order given.
fn sorted_pairs(v: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("not pairs ({e}): {v}"));
    pairs.sort();
    pairs
}

/// Runs the futures concurrently on this task; answers their outputs in order.
async fn all<F: std::future::Future>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    futures::future::join_all(futs).await
}

// ---- the checks ------------------------------------------------------------------------

async fn health_is_ok(p: &Provider) {
    let h = p.ok("health", json!({})).await;
    assert_eq!(h["ok"], true, "{h}");
    assert!(h["detail"].as_str().is_some_and(|d| !d.is_empty()), "{h}");
}

async fn upload_and_download_round_trip(p: &Provider) {
    p.bucket("docs", json!({})).await;
    let options = json!({
        "content-type": "text/plain; charset=utf-8",
        "cache-control": "public, max-age=60",
        "metadata": [["owner", "ada"], ["dept", "r&d"], ["note", "ünïcödé ok"]],
    });
    let info = p
        .upload("docs", "reports/2024/q1.txt", b"hello, storage", options)
        .await;
    assert_eq!(info["bucket"], "docs");
    assert_eq!(info["key"], "reports/2024/q1.txt");
    assert_eq!(info["size"], 14);
    assert_eq!(info["content-type"], "text/plain; charset=utf-8");
    assert_eq!(info["cache-control"], "public, max-age=60");
    let given = json!([["owner", "ada"], ["dept", "r&d"], ["note", "ünïcödé ok"]]);
    if p.kind.keeps_metadata_order() {
        assert_eq!(info["metadata"], given);
    } else {
        assert_eq!(sorted_pairs(&info["metadata"]), sorted_pairs(&given));
    }
    assert!(
        info["etag"].as_str().is_some_and(|e| !e.is_empty()),
        "{info}"
    );
    near_now(&info["updated-at"], 30);

    let (got, body) = p.download("docs", "reports/2024/q1.txt").await;
    assert_eq!(body, b"hello, storage");
    assert_eq!(got, info, "download describes the object as upload did");

    // No options: the default content type, no cache-control, no metadata.
    let plain = p.upload("docs", "plain", b"x", json!({})).await;
    assert_eq!(plain["content-type"], "application/octet-stream");
    assert_eq!(plain["cache-control"], p.kind.default_cache_control());
    assert_eq!(plain["metadata"], json!([]));

    // The etag follows the content: same content, same etag; other content, another.
    let same = p
        .upload("docs", "copy-of-q1", b"hello, storage", json!({}))
        .await;
    assert_eq!(same["etag"], info["etag"]);
    assert_ne!(plain["etag"], info["etag"]);

    // An empty object is an object.
    let empty = p.upload("docs", "empty", b"", json!({})).await;
    assert_eq!(empty["size"], 0);
    assert_eq!(p.download("docs", "empty").await.1, Vec::<u8>::new());
}

async fn binary_content_round_trips_byte_for_byte(p: &Provider) {
    p.bucket("bin", json!({})).await;
    // Every byte value, then sequences that are not UTF-8, then 256 KiB of a pattern.
    let mut content: Vec<u8> = (0..=255u8).collect();
    content.extend_from_slice(&[
        0xff, 0xfe, 0x00, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x90, 0x28, 0xbc,
    ]);
    content.extend((0..256 * 1024).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    assert!(std::str::from_utf8(&content).is_err());
    let info = p
        .upload(
            "bin",
            "blobs/data.bin",
            &content,
            json!({"content-type": "application/octet-stream"}),
        )
        .await;
    assert_eq!(info["size"], content.len() as u64);
    let (got, body) = p.download("bin", "blobs/data.bin").await;
    assert_eq!(body.len(), content.len());
    assert!(body == content, "the content differs after a round trip");
    assert_eq!(got["etag"], info["etag"]);
}

async fn stat_describes_without_the_content(p: &Provider) {
    p.bucket("stats", json!({})).await;
    let info = p
        .upload(
            "stats",
            "a/b/c.json",
            br#"{"a":1}"#,
            json!({"content-type": "application/json", "metadata": [["v", "1"]]}),
        )
        .await;
    let stat = p
        .ok("stat", json!({"bucket": "stats", "key": "a/b/c.json"}))
        .await;
    assert_eq!(stat, info);
    assert!(stat.get("body").is_none());
    p.rejects(
        "stat",
        json!({"bucket": "stats", "key": "a/b/missing.json"}),
        ErrorKind::NotFound,
        "a/b/missing.json",
    )
    .await;
}

async fn overwrite_is_refused_unless_asked(p: &Provider) {
    p.bucket("over", json!({})).await;
    let first = p
        .upload(
            "over",
            "doc.txt",
            b"version 1",
            json!({"metadata": [["v", "1"]]}),
        )
        .await;
    p.rejects(
        "upload",
        upload_args("over", "doc.txt", b"version 2", json!({})),
        ErrorKind::Conflict,
        "doc.txt",
    )
    .await;
    p.rejects(
        "upload",
        upload_args("over", "doc.txt", b"version 2", json!({"overwrite": false})),
        ErrorKind::Conflict,
        "doc.txt",
    )
    .await;
    let (info, body) = p.download("over", "doc.txt").await;
    assert_eq!(body, b"version 1", "a refused upload changes nothing");
    assert_eq!(info, first);

    let second = p
        .upload(
            "over",
            "doc.txt",
            b"version 2, longer",
            json!({"overwrite": true, "content-type": "text/plain", "metadata": [["v", "2"]]}),
        )
        .await;
    assert_ne!(second["etag"], first["etag"]);
    let (info, body) = p.download("over", "doc.txt").await;
    assert_eq!(body, b"version 2, longer");
    assert_eq!(
        info["metadata"],
        json!([["v", "2"]]),
        "metadata is replaced, not merged"
    );
    assert_eq!(info["content-type"], "text/plain");
    assert_eq!(info["size"], 17);
    assert_eq!(p.keys("over").await, vec!["doc.txt"]);
}

async fn list_by_prefix_and_delimiter(p: &Provider) {
    p.bucket("tree", json!({})).await;
    let keys = [
        "videos/v.mp4",
        "photos/2024/z.png",
        "a.txt",
        "photos/top.png",
        "photos/2023/x.png",
        "photos/2024/y.png",
    ];
    for k in keys {
        p.upload("tree", k, k.as_bytes(), json!({})).await;
    }
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["key"].as_str().expect("key").to_string())
            .collect()
    };

    let everything = p.list("tree", json!({}), json!({})).await;
    let mut sorted: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    sorted.sort();
    assert_eq!(names(&everything), sorted, "keys in order");
    assert_eq!(everything["prefixes"], json!([]));
    assert_eq!(everything["page"]["next-cursor"], Value::Null);
    assert_eq!(everything["page"]["total"], 6);
    let first = &everything["items"][0];
    assert_eq!(first["key"], "a.txt");
    assert_eq!(first["size"], 5, "items are full descriptions: {first}");

    let photos = p
        .list("tree", json!({"prefix": "photos/"}), json!({}))
        .await;
    assert_eq!(
        names(&photos),
        [
            "photos/2023/x.png",
            "photos/2024/y.png",
            "photos/2024/z.png",
            "photos/top.png"
        ]
    );
    assert_eq!(photos["prefixes"], json!([]));

    let top = p.list("tree", json!({"delimiter": "/"}), json!({})).await;
    assert_eq!(names(&top), ["a.txt"]);
    assert_eq!(top["prefixes"], json!(["photos/", "videos/"]));

    let folders = p
        .list(
            "tree",
            json!({"prefix": "photos/", "delimiter": "/"}),
            json!({}),
        )
        .await;
    assert_eq!(names(&folders), ["photos/top.png"]);
    assert_eq!(folders["prefixes"], json!(["photos/2023/", "photos/2024/"]));

    let partial = p
        .list("tree", json!({"prefix": "photos/20"}), json!({}))
        .await;
    assert_eq!(
        names(&partial).len(),
        3,
        "a prefix need not end at a segment"
    );

    let none = p
        .list("tree", json!({"prefix": "nothing/"}), json!({}))
        .await;
    assert_eq!(none["items"], json!([]));
    assert_eq!(none["page"]["next-cursor"], Value::Null);
}

async fn pagination_visits_every_key_once_in_order(p: &Provider) {
    p.bucket("pages", json!({})).await;
    // Uploaded out of order; listed by key.
    let mut expected: Vec<String> = (0..25).map(|i| format!("k/{i:02}")).collect();
    for i in [
        7, 3, 24, 0, 11, 19, 5, 13, 1, 22, 9, 16, 2, 20, 14, 6, 23, 10, 18, 4, 12, 21, 8, 17, 15,
    ] {
        p.upload("pages", &format!("k/{i:02}"), b"x", json!({}))
            .await;
    }
    expected.sort();
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = p
            .list("pages", json!({}), json!({"limit": 10, "cursor": cursor}))
            .await;
        if p.kind.counts_every_page() {
            assert_eq!(page["page"]["total"], 25);
        } else {
            // No count from the provider, and this listing is more than one page.
            assert_eq!(page["page"]["total"], Value::Null);
        }
        let items = page["items"].as_array().expect("items");
        sizes.push(items.len());
        seen.extend(
            items
                .iter()
                .map(|i| i["key"].as_str().expect("key").to_string()),
        );
        cursor = page["page"]["next-cursor"].clone();
        if cursor.is_null() {
            break;
        }
        assert!(sizes.len() < 10, "paging does not end");
    }
    assert_eq!(sizes, vec![10, 10, 5]);
    assert_eq!(seen, expected, "every key once, in order");

    // A key added behind the cursor is not seen again; one ahead of it is.
    let page1 = p.list("pages", json!({}), json!({"limit": 10})).await;
    p.upload("pages", "k/00a", b"x", json!({})).await;
    p.upload("pages", "k/99", b"x", json!({})).await;
    let mut rest = Vec::new();
    let mut cursor = page1["page"]["next-cursor"].clone();
    while !cursor.is_null() {
        let page = p
            .list("pages", json!({}), json!({"limit": 10, "cursor": cursor}))
            .await;
        rest.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["key"].as_str().expect("key").to_string()),
        );
        cursor = page["page"]["next-cursor"].clone();
    }
    assert_eq!(rest.len(), 16, "{rest:?}");
    assert_eq!(rest.last().map(String::as_str), Some("k/99"));
    assert!(!rest.iter().any(|k| k == "k/00a"));

    // Folders page too: 12 common prefixes, 5 at a time.
    p.bucket("folders", json!({})).await;
    for i in 0..12 {
        p.upload("folders", &format!("f{i:02}/file"), b"x", json!({}))
            .await;
    }
    let mut prefixes = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = p
            .list(
                "folders",
                json!({"delimiter": "/"}),
                json!({"limit": 5, "cursor": cursor}),
            )
            .await;
        assert_eq!(page["items"], json!([]));
        prefixes.extend(
            page["prefixes"]
                .as_array()
                .expect("prefixes")
                .iter()
                .map(|v| v.as_str().expect("prefix").to_string()),
        );
        cursor = page["page"]["next-cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    let want: Vec<String> = (0..12).map(|i| format!("f{i:02}/")).collect();
    assert_eq!(prefixes, want);

    // The default page is 100 objects; a limit above 1000 is lowered, 0 is refused.
    p.bucket("many", json!({})).await;
    for chunk in 0..12 {
        let keys: Vec<String> = (0..10).map(|i| format!("m{chunk:02}{i}")).collect();
        all(keys.iter().map(|k| p.upload("many", k, b"", json!({})))).await;
    }
    let page = p.list("many", json!({}), json!({})).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(100));
    assert!(page["page"]["next-cursor"].is_string());
    let page = p.list("many", json!({}), json!({"limit": 5000})).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(120));
    p.rejects(
        "list-objects",
        json!({"bucket": "many", "query": {}, "page": {"limit": 0}}),
        ErrorKind::InvalidInput,
        "page.limit",
    )
    .await;
    p.rejects(
        "list-objects",
        json!({"bucket": "many", "query": {}, "page": {"cursor": "not-a-cursor"}}),
        ErrorKind::InvalidInput,
        "page.cursor",
    )
    .await;
}

async fn delete_and_delete_many(p: &Provider) {
    p.bucket("del", json!({})).await;
    for k in ["a", "b", "c", "keep"] {
        p.upload("del", k, k.as_bytes(), json!({})).await;
    }
    p.ok("delete", json!({"bucket": "del", "key": "a"})).await;
    p.rejects(
        "stat",
        json!({"bucket": "del", "key": "a"}),
        ErrorKind::NotFound,
        "a",
    )
    .await;
    p.rejects(
        "delete",
        json!({"bucket": "del", "key": "a"}),
        ErrorKind::NotFound,
        "'a'",
    )
    .await;

    let results = p
        .ok(
            "delete-many",
            json!({"bucket": "del", "keys": ["b", "missing", "c", "b"]}),
        )
        .await;
    assert_eq!(
        results,
        json!([
            {"key": "b", "deleted": true},
            {"key": "missing", "deleted": false},
            {"key": "c", "deleted": true},
            {"key": "b", "deleted": false},
        ])
    );
    assert_eq!(p.keys("del").await, vec!["keep"]);
    assert_eq!(
        p.ok("delete-many", json!({"bucket": "del", "keys": []}))
            .await,
        json!([])
    );

    // A bad key refuses the whole call before anything is deleted.
    p.rejects(
        "delete-many",
        json!({"bucket": "del", "keys": ["keep", "a//b"]}),
        ErrorKind::InvalidInput,
        "keys[1]",
    )
    .await;
    let too_many: Vec<String> = (0..1001).map(|i| format!("k{i}")).collect();
    p.rejects(
        "delete-many",
        json!({"bucket": "del", "keys": too_many}),
        ErrorKind::TooLarge,
        "keys",
    )
    .await;
    assert_eq!(p.keys("del").await, vec!["keep"]);
}

async fn copy_and_move(p: &Provider) {
    p.bucket("src", json!({})).await;
    p.bucket("dst", json!({})).await;
    let original = p
        .upload(
            "src",
            "in/report.pdf",
            b"%PDF-1.7 report",
            json!({"content-type": "application/pdf", "cache-control": "no-cache",
                   "metadata": [["author", "ada"]]}),
        )
        .await;

    // Copy within the bucket and to another: everything but the place is the source's.
    for (bucket, key) in [("src", "in/report-copy.pdf"), ("dst", "out/report.pdf")] {
        let copy = p
            .ok(
                "copy-object",
                json!({"bucket": "src", "key": "in/report.pdf",
                       "target-bucket": bucket, "target-key": key}),
            )
            .await;
        assert_eq!(copy["bucket"], bucket);
        assert_eq!(copy["key"], key);
        for field in ["size", "content-type", "cache-control", "metadata", "etag"] {
            assert_eq!(copy[field], original[field], "{field} is copied");
        }
        let (info, body) = p.download(bucket, key).await;
        assert_eq!(body, b"%PDF-1.7 report");
        assert_eq!(info, copy);
    }
    assert_eq!(
        p.download("src", "in/report.pdf").await.0,
        original,
        "the source stays"
    );

    // A target that exists is a conflict and stays as it was.
    p.upload("dst", "taken", b"already here", json!({})).await;
    p.rejects(
        "copy-object",
        json!({"bucket": "src", "key": "in/report.pdf", "target-bucket": "dst", "target-key": "taken"}),
        ErrorKind::Conflict,
        "taken",
    )
    .await;
    assert_eq!(p.download("dst", "taken").await.1, b"already here");
    p.rejects(
        "copy-object",
        json!({"bucket": "src", "key": "nope", "target-bucket": "dst", "target-key": "x"}),
        ErrorKind::NotFound,
        "nope",
    )
    .await;
    p.rejects(
        "copy-object",
        json!({"bucket": "src", "key": "in/report.pdf", "target-bucket": "no-such-bucket", "target-key": "x"}),
        ErrorKind::NotFound,
        "no-such-bucket",
    )
    .await;

    // Move: the target has it, the source is gone.
    let moved = p
        .ok(
            "move-object",
            json!({"bucket": "src", "key": "in/report-copy.pdf",
                   "target-bucket": "dst", "target-key": "archive/2024/report.pdf"}),
        )
        .await;
    assert_eq!(moved["key"], "archive/2024/report.pdf");
    assert_eq!(moved["etag"], original["etag"]);
    assert_eq!(
        p.download("dst", "archive/2024/report.pdf").await.1,
        b"%PDF-1.7 report"
    );
    p.rejects(
        "stat",
        json!({"bucket": "src", "key": "in/report-copy.pdf"}),
        ErrorKind::NotFound,
        "in/report-copy.pdf",
    )
    .await;
    // A move onto an existing key is refused and keeps the source.
    p.rejects(
        "move-object",
        json!({"bucket": "src", "key": "in/report.pdf", "target-bucket": "dst", "target-key": "taken"}),
        ErrorKind::Conflict,
        "taken",
    )
    .await;
    assert_eq!(p.download("src", "in/report.pdf").await.0, original);
    assert_eq!(p.download("dst", "taken").await.1, b"already here");
    // Within one bucket, renaming.
    p.ok(
        "move-object",
        json!({"bucket": "src", "key": "in/report.pdf", "target-bucket": "src", "target-key": "renamed.pdf"}),
    )
    .await;
    assert_eq!(p.keys("src").await, vec!["renamed.pdf"]);
}

async fn public_urls_for_public_buckets_only(p: &Provider) {
    p.bucket("site-assets", json!({"public": true})).await;
    p.bucket("private-docs", json!({})).await;
    p.upload(
        "site-assets",
        "img/Logo Big.png",
        b"png",
        json!({"content-type": "image/png"}),
    )
    .await;
    let url = p
        .ok(
            "public-url",
            json!({"bucket": "site-assets", "key": "img/Logo Big.png"}),
        )
        .await;
    assert_eq!(
        url,
        format!("{PUBLIC_BASE}/site-assets/img/Logo%20Big.png"),
        "the base, the bucket, the key's segments percent-encoded"
    );
    let url = p
        .ok(
            "public-url",
            json!({"bucket": "site-assets", "key": "a/é?#.txt"}),
        )
        .await;
    assert_eq!(url, format!("{PUBLIC_BASE}/site-assets/a/%C3%A9%3F%23.txt"));

    p.upload("private-docs", "secret.txt", b"s", json!({}))
        .await;
    p.rejects(
        "public-url",
        json!({"bucket": "private-docs", "key": "secret.txt"}),
        ErrorKind::Denied,
        "private-docs",
    )
    .await;
    // Made public, it has one.
    p.ok(
        "update-bucket",
        json!({"name": "private-docs", "options": {"public": true}}),
    )
    .await;
    let url = p
        .ok(
            "public-url",
            json!({"bucket": "private-docs", "key": "secret.txt"}),
        )
        .await;
    assert_eq!(url, format!("{PUBLIC_BASE}/private-docs/secret.txt"));
    p.rejects(
        "public-url",
        json!({"bucket": "missing-bucket", "key": "x"}),
        ErrorKind::NotFound,
        "missing-bucket",
    )
    .await;
}

async fn public_urls_need_a_base(p: &Provider) {
    // OTHER has no public_base_url.
    p.call_as(
        OTHER,
        "create-bucket",
        json!({"name": "open", "options": {"public": true}}),
    )
    .await
    .expect("create-bucket");
    if p.kind.public_urls_need_config() {
        let err = p
            .call_as(
                OTHER,
                "public-url",
                json!({"bucket": "open", "key": "x.png"}),
            )
            .await
            .expect_err("no base configured");
        let e = err.provider().expect("contract error");
        expect_error(e, ErrorKind::Unsupported, "public_base_url", "public-url");
        return;
    }
    // Without `public_base_url`, the provider's own public URL, which serves the object to
    // anyone, with no credentials, while the bucket is public.
    let mock = p.supabase(1);
    p.call_as(
        OTHER,
        "upload",
        upload_args(
            "open",
            "img/x y.png",
            b"public bytes",
            json!({"content-type": "image/png"}),
        ),
    )
    .await
    .expect("upload");
    let url = p
        .call_as(
            OTHER,
            "public-url",
            json!({"bucket": "open", "key": "img/x y.png"}),
        )
        .await
        .expect("public-url");
    assert_eq!(
        url,
        format!("{}/object/public/open/img/x%20y.png", mock.storage_url())
    );
    let url = url.as_str().expect("url");
    let got = reqwest::get(url).await.expect("GET public URL");
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/png")
    );
    assert_eq!(got.bytes().await.expect("body").as_ref(), b"public bytes");
    // Made private, the same URL serves nothing (Supabase: 400 with statusCode 404).
    p.call_as(
        OTHER,
        "update-bucket",
        json!({"name": "open", "options": {"public": false}}),
    )
    .await
    .expect("update-bucket");
    let refused = reqwest::get(url).await.expect("GET public URL");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("error body");
    assert_eq!(body["statusCode"], "404", "{body}");
}

/// A provider's own signed download URL for `media/clips/intro video.mp4`: its shape, the
/// content through it with a plain HTTP client and no credentials, and the provider's
/// refusal of an altered token, of the token on another object, and of no token.
async fn provider_signed_urls(p: &Provider, url: &str) {
    let storage = p.supabase(0).storage_url();
    let base = format!("{storage}/object/sign/media/clips/intro%20video.mp4?token=");
    assert!(url.starts_with(&base), "{url} does not start with {base}");
    let token = &url[base.len()..];
    let got = reqwest::get(url).await.expect("GET signed URL");
    assert_eq!(got.status(), 200);
    assert!(got.headers().contains_key("expires"), "the URL's expiry");
    assert_eq!(got.bytes().await.expect("body").as_ref(), b"mp4");

    let mut altered = token.to_string();
    let last = altered.pop().expect("a token");
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for (what, target) in [
        ("an altered token", format!("{base}{altered}")),
        (
            "the token on another object",
            format!("{storage}/object/sign/media/clips/other.mp4?token={token}"),
        ),
        (
            "no token",
            format!("{storage}/object/sign/media/clips/intro%20video.mp4"),
        ),
    ] {
        let refused = reqwest::get(&target).await.expect("GET");
        assert_eq!(refused.status(), 400, "{what}");
        let body: Value = refused.json().await.expect("error body");
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{what}: {body}"
        );
        assert_ne!(body["statusCode"], "200", "{what}");
    }
}

/// A provider's own signed upload URL for `media/uploads/new.bin`: a plain `PUT` through it
/// stores the object (no credentials), which then downloads as sent; the token does not
/// download.
async fn provider_signed_upload(p: &Provider, url: &str) {
    let storage = p.supabase(0).storage_url();
    let base = format!("{storage}/object/upload/sign/media/uploads/new.bin?token=");
    assert!(url.starts_with(&base), "{url} does not start with {base}");
    let token = &url[base.len()..];
    let client = reqwest::Client::new();
    let put = client
        .put(url)
        .header("content-type", "application/octet-stream")
        .body(b"uploaded through the URL".to_vec())
        .send()
        .await
        .expect("PUT signed upload URL");
    assert_eq!(put.status(), 200, "{:?}", put.text().await);
    let (info, body) = p.download("media", "uploads/new.bin").await;
    assert_eq!(body, b"uploaded through the URL");
    assert_eq!(info["size"], 24);
    let as_download = reqwest::get(format!(
        "{storage}/object/sign/media/uploads/new.bin?token={token}"
    ))
    .await
    .expect("GET");
    assert_eq!(
        as_download.status(),
        400,
        "an upload token does not download"
    );
}

/// Splits a signed URL into its resource (decoded) and its query, after checking its shape.
#[track_caller]
fn signed_parts(url: &str, tenant: &str) -> (String, String) {
    let base = format!("{SERVER}/v1/signed/{tenant}/storage/");
    let rest = url
        .strip_prefix(&base)
        .unwrap_or_else(|| panic!("{url} does not start with {base}"));
    let (path, query) = rest.split_once('?').expect("a query");
    assert!(
        query.contains("expires=") && query.contains("sig="),
        "{url}"
    );
    (percent_decode(path), query.to_string())
}

async fn signed_urls_for_download_and_upload(p: &Provider) {
    p.bucket("media", json!({})).await;
    p.upload(
        "media",
        "clips/intro video.mp4",
        b"mp4",
        json!({"content-type": "video/mp4"}),
    )
    .await;
    let signed = p
        .ok(
            "signed-download-url",
            json!({"bucket": "media", "key": "clips/intro video.mp4", "expires-in-s": 3600}),
        )
        .await;
    let url = signed["url"].as_str().expect("url");
    let expires_at = signed["expires-at"]["seconds"]
        .as_u64()
        .expect("expires-at");
    let now = unix_now();
    assert!(
        expires_at > now + 3500 && expires_at <= now + 3700,
        "expires-at {expires_at} is about an hour after {now}"
    );
    if !p.kind.host_signs_urls() {
        provider_signed_urls(p, url).await;
    } else {
        let (resource, query) = signed_parts(url, TENANT);
        assert_eq!(resource, "media/clips/intro video.mp4");
        assert!(query.contains(&format!("expires={expires_at}")), "{url}");
        // The host signed it: the server accepts it for GET on that resource only.
        p.rt.verify_signed(
            TENANT,
            Service::Storage,
            "GET",
            &segments(&resource),
            Some(&query),
        )
        .expect("a valid signature");
        assert!(p
            .rt
            .verify_signed(
                TENANT,
                Service::Storage,
                "PUT",
                &segments(&resource),
                Some(&query)
            )
            .is_err());
        assert!(p
            .rt
            .verify_signed(
                OTHER,
                Service::Storage,
                "GET",
                &segments(&resource),
                Some(&query)
            )
            .is_err());
        assert!(p
            .rt
            .verify_signed(
                TENANT,
                Service::Storage,
                "GET",
                &["media", "clips", "other.mp4"],
                Some(&query)
            )
            .is_err());
    }

    // An upload URL needs no object yet.
    let up = p
        .ok(
            "signed-upload-url",
            json!({"bucket": "media", "key": "uploads/new.bin", "expires-in-s": 60}),
        )
        .await;
    if p.kind.upload_url_lives_as_asked() {
        near_now(&up["expires-at"], 90);
    } else {
        // The provider's own life (the mock's default, Supabase's: 2 hours), said truly.
        let at = up["expires-at"]["seconds"].as_u64().expect("expires-at");
        let now = unix_now();
        assert!(
            at > now + 7100 && at <= now + 7300,
            "expires-at {at} is the project's 2 hours after {now}"
        );
    }
    let up_url = up["url"].as_str().expect("url");
    if p.kind.host_signs_urls() {
        let (resource, query) = signed_parts(up_url, TENANT);
        assert_eq!(resource, "media/uploads/new.bin");
        p.rt.verify_signed(
            TENANT,
            Service::Storage,
            "PUT",
            &segments(&resource),
            Some(&query),
        )
        .expect("a valid signature");
        assert!(p
            .rt
            .verify_signed(
                TENANT,
                Service::Storage,
                "GET",
                &segments(&resource),
                Some(&query)
            )
            .is_err());
    } else {
        provider_signed_upload(p, up_url).await;
    }

    // The longest life is 7 days; 0 and more are refused; a download needs the object.
    p.ok(
        "signed-download-url",
        json!({"bucket": "media", "key": "clips/intro video.mp4", "expires-in-s": 604800}),
    )
    .await;
    for (function, expires) in [
        ("signed-download-url", 0u64),
        ("signed-download-url", 604_801),
        ("signed-upload-url", 0),
        ("signed-upload-url", 10_000_000),
    ] {
        p.rejects(
            function,
            json!({"bucket": "media", "key": "clips/intro video.mp4", "expires-in-s": expires}),
            ErrorKind::InvalidInput,
            "expires-in-s",
        )
        .await;
    }
    p.rejects(
        "signed-download-url",
        json!({"bucket": "media", "key": "clips/missing.mp4", "expires-in-s": 60}),
        ErrorKind::NotFound,
        "clips/missing.mp4",
    )
    .await;
    p.rejects(
        "signed-upload-url",
        json!({"bucket": "no-such-bucket", "key": "x", "expires-in-s": 60}),
        ErrorKind::NotFound,
        "no-such-bucket",
    )
    .await;
}

async fn buckets_are_created_read_updated_and_deleted(p: &Provider) {
    let alpha = p.bucket("alpha", json!({})).await;
    assert_eq!(alpha["name"], "alpha");
    assert_eq!(alpha["public"], false);
    assert_eq!(alpha["max-object-bytes"], Value::Null);
    assert_eq!(alpha["allowed-content-types"], json!([]));
    assert_eq!(alpha["created-at"], alpha["updated-at"]);
    near_now(&alpha["created-at"], 30);
    p.rejects(
        "create-bucket",
        json!({"name": "alpha", "options": {"public": true}}),
        ErrorKind::Conflict,
        "alpha",
    )
    .await;
    assert_eq!(
        p.ok("get-bucket", json!({"name": "alpha"})).await,
        alpha,
        "unchanged by the refused create"
    );

    let beta = p
        .bucket(
            "beta.v2",
            json!({"public": true, "max-object-bytes": 1024, "allowed-content-types": ["image/*", "text/plain"]}),
        )
        .await;
    assert_eq!(beta["public"], true);
    assert_eq!(beta["max-object-bytes"], 1024);
    assert_eq!(
        beta["allowed-content-types"],
        json!(["image/*", "text/plain"])
    );
    assert_eq!(p.ok("get-bucket", json!({"name": "beta.v2"})).await, beta);
    p.bucket("0-first", json!({})).await;
    let names: Vec<Value> = p
        .ok("list-buckets", json!({}))
        .await
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["name"].clone())
        .collect();
    assert_eq!(
        names,
        vec![json!("0-first"), json!("alpha"), json!("beta.v2")]
    );

    // Update: what is given changes, the rest stays.
    let updated = p
        .ok(
            "update-bucket",
            json!({"name": "alpha", "options": {"public": true, "max-object-bytes": 10}}),
        )
        .await;
    assert_eq!(updated["public"], true);
    assert_eq!(updated["max-object-bytes"], 10);
    assert_eq!(updated["allowed-content-types"], json!([]));
    assert_eq!(updated["created-at"], alpha["created-at"]);
    let (u, c) = (&updated["updated-at"], &alpha["created-at"]);
    assert!(
        (u["seconds"].as_u64(), u["nanoseconds"].as_u64())
            > (c["seconds"].as_u64(), c["nanoseconds"].as_u64()),
        "updated-at moves: {u} after {c}"
    );
    let again = p
        .ok(
            "update-bucket",
            json!({"name": "alpha", "options": {"allowed-content-types": ["text/*"]}}),
        )
        .await;
    assert_eq!(again["public"], true);
    assert_eq!(again["max-object-bytes"], 10);
    assert_eq!(again["allowed-content-types"], json!(["text/*"]));
    let cleared = p
        .ok(
            "update-bucket",
            json!({"name": "beta.v2", "options": {"allowed-content-types": [], "public": false}}),
        )
        .await;
    assert_eq!(cleared["allowed-content-types"], json!([]));
    assert_eq!(cleared["public"], false);
    assert_eq!(cleared["max-object-bytes"], 1024);
    assert_eq!(
        p.ok("get-bucket", json!({"name": "beta.v2"})).await,
        cleared
    );
    p.rejects(
        "update-bucket",
        json!({"name": "gamma", "options": {}}),
        ErrorKind::NotFound,
        "gamma",
    )
    .await;

    // Delete: refused while it holds objects; empty-bucket answers how many it deleted.
    for k in ["x/1", "x/2", "y"] {
        p.upload("beta.v2", k, b"1", json!({"content-type": "text/plain"}))
            .await;
    }
    p.rejects(
        "delete-bucket",
        json!({"name": "beta.v2"}),
        ErrorKind::Conflict,
        "beta.v2",
    )
    .await;
    assert_eq!(
        p.keys("beta.v2").await.len(),
        3,
        "a refused delete keeps everything"
    );
    assert_eq!(p.ok("empty-bucket", json!({"name": "beta.v2"})).await, 3);
    assert_eq!(p.keys("beta.v2").await.len(), 0);
    assert_eq!(p.ok("empty-bucket", json!({"name": "beta.v2"})).await, 0);
    p.ok("delete-bucket", json!({"name": "beta.v2"})).await;
    p.rejects(
        "get-bucket",
        json!({"name": "beta.v2"}),
        ErrorKind::NotFound,
        "beta.v2",
    )
    .await;
    p.rejects(
        "delete-bucket",
        json!({"name": "beta.v2"}),
        ErrorKind::NotFound,
        "beta.v2",
    )
    .await;
    p.rejects(
        "empty-bucket",
        json!({"name": "beta.v2"}),
        ErrorKind::NotFound,
        "beta.v2",
    )
    .await;
    p.rejects(
        "upload",
        upload_args("beta.v2", "z", b"1", json!({})),
        ErrorKind::NotFound,
        "beta.v2",
    )
    .await;
    // The name is free again, and the new bucket starts empty with its own settings.
    let reborn = p.bucket("beta.v2", json!({})).await;
    assert_eq!(reborn["max-object-bytes"], Value::Null);
    assert_eq!(p.keys("beta.v2").await.len(), 0);
    let names: Vec<Value> = p
        .ok("list-buckets", json!({}))
        .await
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["name"].clone())
        .collect();
    assert_eq!(
        names,
        vec![json!("0-first"), json!("alpha"), json!("beta.v2")]
    );
}

async fn bucket_limits_are_enforced(p: &Provider) {
    p.bucket(
        "avatars",
        json!({"max-object-bytes": 100, "allowed-content-types": ["image/*", "application/pdf"]}),
    )
    .await;
    p.rejects(
        "upload",
        upload_args(
            "avatars",
            "big.png",
            &[7u8; 101],
            json!({"content-type": "image/png"}),
        ),
        ErrorKind::TooLarge,
        "100",
    )
    .await;
    p.upload(
        "avatars",
        "exact.png",
        &[7u8; 100],
        json!({"content-type": "image/png"}),
    )
    .await;
    p.upload(
        "avatars",
        "photo.jpg",
        b"jpg",
        json!({"content-type": "image/jpeg"}),
    )
    .await;
    p.upload(
        "avatars",
        "doc.pdf",
        b"pdf",
        json!({"content-type": "application/pdf"}),
    )
    .await;
    p.rejects(
        "upload",
        upload_args(
            "avatars",
            "note.txt",
            b"txt",
            json!({"content-type": "text/plain"}),
        ),
        ErrorKind::InvalidInput,
        "content-type",
    )
    .await;
    p.rejects(
        "upload",
        upload_args("avatars", "blob", b"bin", json!({})),
        ErrorKind::InvalidInput,
        "application/octet-stream",
    )
    .await;
    p.rejects(
        "upload",
        upload_args(
            "avatars",
            "fake.png",
            b"x",
            json!({"content-type": "imagex/png"}),
        ),
        ErrorKind::InvalidInput,
        "content-type",
    )
    .await;
    // Copies into the bucket obey its limits too.
    p.bucket("loose", json!({})).await;
    p.upload(
        "loose",
        "note.txt",
        b"txt",
        json!({"content-type": "text/plain"}),
    )
    .await;
    p.upload(
        "loose",
        "huge.png",
        &[1u8; 500],
        json!({"content-type": "image/png"}),
    )
    .await;
    p.rejects(
        "copy-object",
        json!({"bucket": "loose", "key": "note.txt", "target-bucket": "avatars", "target-key": "note.txt"}),
        ErrorKind::InvalidInput,
        "content-type",
    )
    .await;
    p.rejects(
        "copy-object",
        json!({"bucket": "loose", "key": "huge.png", "target-bucket": "avatars", "target-key": "huge.png"}),
        ErrorKind::TooLarge,
        "100",
    )
    .await;
    assert_eq!(
        p.keys("avatars").await,
        vec!["doc.pdf", "exact.png", "photo.jpg"],
        "nothing refused was stored"
    );
    // Limits changed later apply to later uploads; stored objects stay.
    p.ok(
        "update-bucket",
        json!({"name": "avatars", "options": {"allowed-content-types": [], "max-object-bytes": 2}}),
    )
    .await;
    p.upload(
        "avatars",
        "note.txt",
        b"ok",
        json!({"content-type": "text/plain"}),
    )
    .await;
    p.rejects(
        "upload",
        upload_args("avatars", "three.txt", b"abc", json!({})),
        ErrorKind::TooLarge,
        "body",
    )
    .await;
    assert_eq!(p.download("avatars", "exact.png").await.1, vec![7u8; 100]);
}

async fn keys_of_any_shape_are_kept_apart(p: &Provider) {
    p.bucket("shapes", json!({})).await;
    let long = format!("{}/end", "segment".repeat(145)); // 1019 bytes
    let any_utf8 = [
        "Fotos/Été 2024/IMG 1.JPG",
        "fotos/été 2024/img 1.jpg",
        "100% real",
        "+plus",
        ".hidden",
        "dir/.dotfile",
        "日本語/ファイル.txt",
        long.as_str(),
        "a",
    ];
    // Supabase takes S3-safe ASCII only: the same shapes in it (case, spaces, dots,
    // punctuation that URLs must escape), and the others refused naming the key.
    let ascii = [
        "Fotos/Summer 2024/IMG 1.JPG",
        "fotos/summer 2024/img 1.jpg",
        "100 (real) & more, ok?=yes;@:$!'*",
        "+plus",
        ".hidden",
        "dir/.dotfile",
        long.as_str(),
        "a",
    ];
    let keys: &[&str] = if p.kind.takes_any_utf8_key() {
        &any_utf8
    } else {
        for k in [
            "fotos/été 2024/img 1.jpg",
            "100% real",
            "日本語/ファイル.txt",
        ] {
            p.rejects(
                "upload",
                upload_args("shapes", k, b"x", json!({})),
                ErrorKind::InvalidInput,
                k,
            )
            .await;
        }
        &ascii
    };
    for (i, k) in keys.iter().enumerate() {
        p.upload("shapes", k, format!("body {i}").as_bytes(), json!({}))
            .await;
    }
    for (i, k) in keys.iter().enumerate() {
        let (info, body) = p.download("shapes", k).await;
        assert_eq!(info["key"], *k);
        assert_eq!(body, format!("body {i}").as_bytes(), "{k}");
    }
    let mut sorted: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    sorted.sort();
    assert_eq!(p.keys("shapes").await, sorted, "byte order of the keys");
    let max = "k".repeat(1024);
    p.upload("shapes", &max, b"max", json!({})).await;
    assert_eq!(p.download("shapes", &max).await.1, b"max");
    p.ok("delete", json!({"bucket": "shapes", "key": long}))
        .await;
    p.rejects(
        "stat",
        json!({"bucket": "shapes", "key": long}),
        ErrorKind::NotFound,
        "segment",
    )
    .await;
}

async fn bad_input_is_refused_and_nothing_is_lost(p: &Provider) {
    p.bucket("safe", json!({})).await;
    let kept = p
        .upload(
            "safe",
            "keep/me.txt",
            b"precious",
            json!({"metadata": [["k", "v"]]}),
        )
        .await;
    let long_key = "x".repeat(1025);
    let opts = json!({"metadata": []});
    let cases: Vec<(&str, Value, ErrorKind, &str)> = vec![
        (
            "create-bucket",
            json!({"name": "", "options": {}}),
            ErrorKind::InvalidInput,
            "name",
        ),
        (
            "create-bucket",
            json!({"name": "ab", "options": {}}),
            ErrorKind::InvalidInput,
            "'ab'",
        ),
        (
            "create-bucket",
            json!({"name": "Bad_Name", "options": {}}),
            ErrorKind::InvalidInput,
            "Bad_Name",
        ),
        (
            "create-bucket",
            json!({"name": "-dash-first", "options": {}}),
            ErrorKind::InvalidInput,
            "-dash-first",
        ),
        (
            "create-bucket",
            json!({"name": "dot-last.", "options": {}}),
            ErrorKind::InvalidInput,
            "dot-last.",
        ),
        (
            "create-bucket",
            json!({"name": "has space", "options": {}}),
            ErrorKind::InvalidInput,
            "has space",
        ),
        (
            "create-bucket",
            json!({"name": "a".repeat(64), "options": {}}),
            ErrorKind::InvalidInput,
            "aaaaaaaaaaaaaaaa",
        ),
        (
            "create-bucket",
            json!({"name": "safe2", "options": {"max-object-bytes": 0}}),
            ErrorKind::InvalidInput,
            "max-object-bytes",
        ),
        (
            "create-bucket",
            json!({"name": "safe2", "options": {"allowed-content-types": ["*/png"]}}),
            ErrorKind::InvalidInput,
            "allowed-content-types",
        ),
        (
            "upload",
            upload_args("", "k", b"x", opts.clone()),
            ErrorKind::InvalidInput,
            "bucket",
        ),
        (
            "upload",
            upload_args("safe", "", b"x", opts.clone()),
            ErrorKind::InvalidInput,
            "key",
        ),
        (
            "upload",
            upload_args("safe", "a//b", b"x", opts.clone()),
            ErrorKind::InvalidInput,
            "a//b",
        ),
        (
            "upload",
            upload_args("safe", "../x", b"x", opts.clone()),
            ErrorKind::InvalidInput,
            "../x",
        ),
        (
            "upload",
            upload_args("safe", "keep/../../etc/passwd", b"x", opts.clone()),
            ErrorKind::InvalidInput,
            "..",
        ),
        (
            "upload",
            upload_args("safe", "/abs", b"x", opts.clone()),
            ErrorKind::InvalidInput,
            "/abs",
        ),
        (
            "upload",
            upload_args("safe", "dir/", b"x", opts.clone()),
            ErrorKind::InvalidInput,
            "dir/",
        ),
        (
            "upload",
            upload_args("safe", "./x", b"x", opts.clone()),
            ErrorKind::InvalidInput,
            "./x",
        ),
        (
            "upload",
            upload_args("safe", "tab\there", b"x", opts.clone()),
            ErrorKind::InvalidInput,
            "key",
        ),
        (
            "upload",
            upload_args("safe", &long_key, b"x", opts.clone()),
            ErrorKind::InvalidInput,
            "1025",
        ),
        (
            "upload",
            upload_args(
                "safe",
                "keep/me.txt",
                b"x",
                json!({"content-type": "nonsense"}),
            ),
            ErrorKind::InvalidInput,
            "content-type",
        ),
        (
            "upload",
            upload_args(
                "safe",
                "keep/me.txt",
                b"x",
                json!({"metadata": [["", "v"]]}),
            ),
            ErrorKind::InvalidInput,
            "metadata",
        ),
        (
            "upload",
            upload_args("no-such-bucket", "k", b"x", opts.clone()),
            ErrorKind::NotFound,
            "no-such-bucket",
        ),
        (
            "download",
            json!({"bucket": "safe", "key": "keep/other.txt"}),
            ErrorKind::NotFound,
            "keep/other.txt",
        ),
        (
            "download",
            json!({"bucket": "no-such-bucket", "key": "k"}),
            ErrorKind::NotFound,
            "no-such-bucket",
        ),
        (
            "download",
            json!({"bucket": "safe", "key": "../keep/me.txt"}),
            ErrorKind::InvalidInput,
            "../keep/me.txt",
        ),
        (
            "stat",
            json!({"bucket": "safe", "key": "a//b"}),
            ErrorKind::InvalidInput,
            "a//b",
        ),
        (
            "delete",
            json!({"bucket": "safe", "key": "keep//me.txt"}),
            ErrorKind::InvalidInput,
            "keep//me.txt",
        ),
        (
            "delete",
            json!({"bucket": "safe", "key": "keep/missing"}),
            ErrorKind::NotFound,
            "keep/missing",
        ),
        (
            "list-objects",
            json!({"bucket": "BAD", "query": {}, "page": {}}),
            ErrorKind::InvalidInput,
            "BAD",
        ),
        (
            "list-objects",
            json!({"bucket": "safe", "query": {"delimiter": ""}, "page": {}}),
            ErrorKind::InvalidInput,
            "delimiter",
        ),
        (
            "list-objects",
            json!({"bucket": "no-such-bucket", "query": {}, "page": {}}),
            ErrorKind::NotFound,
            "no-such-bucket",
        ),
        (
            "copy-object",
            json!({"bucket": "safe", "key": "keep/me.txt", "target-bucket": "safe", "target-key": "a//b"}),
            ErrorKind::InvalidInput,
            "target-key",
        ),
        (
            "copy-object",
            json!({"bucket": "safe", "key": "keep/me.txt", "target-bucket": "No", "target-key": "x"}),
            ErrorKind::InvalidInput,
            "target-bucket",
        ),
        (
            "move-object",
            json!({"bucket": "safe", "key": "keep/me.txt", "target-bucket": "safe", "target-key": "../x"}),
            ErrorKind::InvalidInput,
            "target-key",
        ),
        (
            "move-object",
            json!({"bucket": "safe", "key": "keep/me.txt", "target-bucket": "safe", "target-key": "keep/me.txt"}),
            ErrorKind::Conflict,
            "keep/me.txt",
        ),
        (
            "get-bucket",
            json!({"name": "no-such-bucket"}),
            ErrorKind::NotFound,
            "no-such-bucket",
        ),
        (
            "get-bucket",
            json!({"name": ""}),
            ErrorKind::InvalidInput,
            "name",
        ),
        (
            "update-bucket",
            json!({"name": "safe", "options": {"max-object-bytes": 0}}),
            ErrorKind::InvalidInput,
            "max-object-bytes",
        ),
        (
            "delete-bucket",
            json!({"name": "x"}),
            ErrorKind::InvalidInput,
            "'x'",
        ),
        (
            "public-url",
            json!({"bucket": "safe", "key": "a//b"}),
            ErrorKind::InvalidInput,
            "a//b",
        ),
        (
            "signed-download-url",
            json!({"bucket": "safe", "key": "", "expires-in-s": 60}),
            ErrorKind::InvalidInput,
            "key",
        ),
    ];
    for (function, args, kind, names) in cases {
        p.rejects(function, args, kind, names).await;
    }
    // The object stored before the bad calls is intact, and nothing else appeared.
    let (info, body) = p.download("safe", "keep/me.txt").await;
    assert_eq!(body, b"precious");
    assert_eq!(info, kept);
    assert_eq!(p.keys("safe").await, vec!["keep/me.txt"]);
    let buckets = p.ok("list-buckets", json!({})).await;
    assert_eq!(buckets.as_array().map(Vec::len), Some(1), "{buckets}");
    let safe = p.ok("get-bucket", json!({"name": "safe"})).await;
    assert_eq!(
        safe["max-object-bytes"],
        Value::Null,
        "a refused update changes nothing"
    );
}

async fn concurrent_uploads_of_one_key_have_one_winner(p: &Provider) {
    p.bucket("race", json!({})).await;
    let bodies: Vec<Vec<u8>> = (0..16u8).map(|i| vec![i; 64 * 1024]).collect();
    let results = all(bodies.iter().map(|b| {
        p.call_as(
            TENANT,
            "upload",
            upload_args("race", "contested.bin", b, json!({})),
        )
    }))
    .await;
    let mut winners = Vec::new();
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(info) => winners.push((i, info)),
            Err(e) => {
                let e = e.provider().expect("contract error").clone();
                expect_error(
                    &e,
                    ErrorKind::Conflict,
                    "contested.bin",
                    "concurrent upload",
                );
            }
        }
    }
    assert_eq!(winners.len(), 1, "exactly one upload wins: {winners:?}");
    let (i, info) = &winners[0];
    let (got, body) = p.download("race", "contested.bin").await;
    assert!(body == bodies[*i], "the winner's content, whole");
    assert_eq!(&got, info);
}

async fn readers_never_see_half_an_object(p: &Provider) {
    p.bucket("atomic", json!({})).await;
    // Larger than any one write, read or HTTP frame on the way (so a torn object would
    // show), small enough that 24 calls at once fit their deadlines in a debug build on a
    // loaded 2-core machine (each byte is a JSON number through `invoke_json`).
    let size = 192 * 1024;
    p.upload("atomic", "hot.bin", &vec![0u8; size], json!({}))
        .await;
    // Writers replace the object with bodies of one repeated byte while readers read it:
    // every read is one body, whole, and its description matches it. Each writer and
    // reader is a task of its own, as a server runs its requests: calls multiplexed on one
    // task would share one thread and spend their deadlines waiting for each other.
    let kind = p.kind;
    let writers: Vec<_> = (1..=12u8)
        .map(|i| {
            let rt = p.rt.clone();
            tokio::spawn(async move {
                let body = vec![i; size + usize::from(i)];
                let options = json!({"overwrite": true, "metadata": [["fill", i.to_string()]]});
                let args = upload_args("atomic", "hot.bin", &body, options);
                if let Err(e) = rt
                    .invoke_json(TENANT, Service::Storage, "upload", args)
                    .await
                {
                    panic!("{kind:?}: upload of fill {i} failed: {e}");
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..12)
        .map(|_| {
            let rt = p.rt.clone();
            tokio::spawn(async move {
                let mut seen = BTreeSet::new();
                for _ in 0..4 {
                    let args = json!({"bucket": "atomic", "key": "hot.bin"});
                    let got = match rt
                        .invoke_json(TENANT, Service::Storage, "download", args)
                        .await
                    {
                        Ok(got) => got,
                        Err(e) => panic!("{kind:?}: download failed: {e}"),
                    };
                    let (info, body) = (&got["info"], bytes(&got["body"]));
                    let fill = body[0];
                    assert!(body.iter().all(|b| *b == fill), "a torn object");
                    assert_eq!(body.len(), size + usize::from(fill), "size of fill {fill}");
                    assert_eq!(info["size"], body.len() as u64);
                    if fill > 0 {
                        assert_eq!(info["metadata"], json!([["fill", fill.to_string()]]));
                    }
                    seen.insert(fill);
                }
                seen
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("a writer");
    }
    for reader in readers {
        assert!(!reader.await.expect("a reader").is_empty());
    }
    let (_, body) = p.download("atomic", "hot.bin").await;
    assert!(body[0] >= 1 && body.iter().all(|b| *b == body[0]));
}

async fn concurrent_creates_of_one_bucket_have_one_winner(p: &Provider) {
    let results = all((0..8).map(|i| {
        p.call_as(
            TENANT,
            "create-bucket",
            json!({"name": "contested", "options": {"max-object-bytes": 1000 + i}}),
        )
    }))
    .await;
    let ok: Vec<&Value> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok.len(), 1, "exactly one create wins");
    for r in &results {
        if let Err(e) = r {
            let e = e.provider().expect("contract error");
            expect_error(
                e,
                ErrorKind::Conflict,
                "contested",
                "concurrent create-bucket",
            );
        }
    }
    assert_eq!(
        &p.ok("get-bucket", json!({"name": "contested"})).await,
        ok[0]
    );
}

async fn tenants_are_isolated(p: &Provider) {
    p.bucket("shared-name", json!({"public": true})).await;
    p.upload("shared-name", "acme-only.txt", b"acme", json!({}))
        .await;
    let other = |f: &'static str, args: Value| p.call_as(OTHER, f, args);

    let e = other("get-bucket", json!({"name": "shared-name"}))
        .await
        .expect_err("globex does not see acme's bucket");
    assert_eq!(e.provider().map(|e| e.kind), Some(ErrorKind::NotFound));
    let e = other(
        "download",
        json!({"bucket": "shared-name", "key": "acme-only.txt"}),
    )
    .await
    .expect_err("nor its objects");
    assert_eq!(e.provider().map(|e| e.kind), Some(ErrorKind::NotFound));
    assert_eq!(
        other("list-buckets", json!({})).await.expect("list"),
        json!([])
    );

    // globex makes a bucket of the same name: its own, empty.
    other(
        "create-bucket",
        json!({"name": "shared-name", "options": {}}),
    )
    .await
    .expect("globex creates its own bucket");
    let listed = other(
        "list-objects",
        json!({"bucket": "shared-name", "query": {}, "page": {}}),
    )
    .await
    .expect("list");
    assert_eq!(listed["items"], json!([]));
    other(
        "upload",
        upload_args("shared-name", "acme-only.txt", b"globex", json!({})),
    )
    .await
    .expect("no conflict with acme's object");
    assert_eq!(p.download("shared-name", "acme-only.txt").await.1, b"acme");
    let got = other(
        "download",
        json!({"bucket": "shared-name", "key": "acme-only.txt"}),
    )
    .await
    .expect("download");
    assert_eq!(bytes(&got["body"]), b"globex");
    other("delete-bucket", json!({"name": "shared-name"}))
        .await
        .expect_err("not empty");
    other("empty-bucket", json!({"name": "shared-name"}))
        .await
        .expect("empty");
    other("delete-bucket", json!({"name": "shared-name"}))
        .await
        .expect("delete");
    assert_eq!(p.download("shared-name", "acme-only.txt").await.1, b"acme");
    assert_eq!(
        p.ok("get-bucket", json!({"name": "shared-name"})).await["public"],
        true
    );
}

async fn data_persists_across_a_restart(p: &Provider) {
    p.bucket("durable", json!({"public": true, "max-object-bytes": 4096}))
        .await;
    let info = p
        .upload(
            "durable",
            "keep/this.bin",
            &[0xde, 0xad, 0xbe, 0xef],
            json!({"content-type": "application/x-test", "metadata": [["a", "b"]]}),
        )
        .await;
    p.upload("durable", "keep/that.txt", b"that", json!({}))
        .await;
    let bucket = p.ok("get-bucket", json!({"name": "durable"})).await;
    p.rt.shutdown().await;

    let rt = runtime_over(p.kind, &p.backends).await;
    let call = |f: &'static str, args: Value| rt.invoke_json(TENANT, Service::Storage, f, args);
    let got = call(
        "download",
        json!({"bucket": "durable", "key": "keep/this.bin"}),
    )
    .await
    .expect("download after the restart");
    assert_eq!(bytes(&got["body"]), [0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(got["info"], info);
    assert_eq!(
        call("get-bucket", json!({"name": "durable"}))
            .await
            .expect("get-bucket"),
        bucket
    );
    let page = call(
        "list-objects",
        json!({"bucket": "durable", "query": {}, "page": {}}),
    )
    .await
    .expect("list");
    assert_eq!(page["page"]["total"], 2);
    // Still a conflict: the object is there.
    let e = call(
        "upload",
        upload_args("durable", "keep/that.txt", b"new", json!({})),
    )
    .await
    .expect_err("exists");
    assert_eq!(e.provider().map(|e| e.kind), Some(ErrorKind::Conflict));
    rt.shutdown().await;
}

/// Runs every check against each provider: `suite!(module_name => Kind::X, ...)`.
macro_rules! suite {
    ($($module:ident => $kind:expr),* $(,)?) => {$(
        mod $module {
            use super::*;
            suite!(@checks $kind;
                health_is_ok,
                upload_and_download_round_trip,
                binary_content_round_trips_byte_for_byte,
                stat_describes_without_the_content,
                overwrite_is_refused_unless_asked,
                list_by_prefix_and_delimiter,
                pagination_visits_every_key_once_in_order,
                delete_and_delete_many,
                copy_and_move,
                public_urls_for_public_buckets_only,
                public_urls_need_a_base,
                signed_urls_for_download_and_upload,
                buckets_are_created_read_updated_and_deleted,
                bucket_limits_are_enforced,
                keys_of_any_shape_are_kept_apart,
                bad_input_is_refused_and_nothing_is_lost,
                concurrent_uploads_of_one_key_have_one_winner,
                readers_never_see_half_an_object,
                concurrent_creates_of_one_bucket_have_one_winner,
                tenants_are_isolated,
                data_persists_across_a_restart,
            );
        }
    )*};
    (@checks $kind:expr; $($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $check() {
            super::$check(&Provider::new($kind).await).await;
        }
    )*};
}

suite!(local => Kind::Local, supabase => Kind::Supabase);

/// Without a `files` directory the embedded default refuses every call, and says why.
#[tokio::test]
async fn local_without_files_is_denied() {
    let spec = BindingSpec::new(ComponentSource::path(component("storage-local")));
    let rt = Runtime::builder()
        .options(options())
        .binding(TENANT, Service::Storage, spec)
        .build()
        .await
        .expect("runtime builds");
    let err = rt
        .invoke_json(
            TENANT,
            Service::Storage,
            "create-bucket",
            json!({"name": "abc", "options": {}}),
        )
        .await
        .expect_err("no files directory");
    let e = err.provider().expect("contract error");
    expect_error(e, ErrorKind::Denied, "files", "create-bucket");
    let h = rt
        .invoke_json(TENANT, Service::Storage, "health", json!({}))
        .await
        .expect("health answers");
    assert_eq!(h["ok"], false, "{h}");
    rt.shutdown().await;
}

/// `storage-supabase` on the wire, against its mock: what only the cloud adapter does
/// (requests as Supabase expects them, the host's two credentials, retries, Supabase's
/// errors mapped with their code). The suite above covers the contract.
mod supabase_wire {
    use std::time::{Duration, Instant};

    use super::*;

    async fn supabase() -> (Provider, MockSupabase) {
        let p = Provider::new(Kind::Supabase).await;
        let mock = p.supabase(0).clone();
        (p, mock)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn requests_carry_the_hosts_credentials_and_supabases_headers() {
        let (p, mock) = supabase().await;
        p.bucket("wire", json!({"max-object-bytes": 1000})).await;
        p.upload(
            "wire",
            "dir/a b.txt",
            b"hello",
            json!({"content-type": "text/plain", "cache-control": "max-age=60",
                   "metadata": [["owner", "ada"]]}),
        )
        .await;
        let created = mock.requests_to("POST", "/bucket");
        assert_eq!(created.len(), 1);
        let body = created[0].body_json().expect("JSON body");
        assert_eq!(body["name"], "wire");
        assert_eq!(body["file_size_limit"], 1000);
        let uploads = mock.requests_to("POST", "/object/wire/");
        assert_eq!(uploads.len(), 1);
        let up = &uploads[0];
        assert_eq!(up.path, "/storage/v1/object/wire/dir/a%20b.txt");
        assert_eq!(up.header("content-type"), Some("text/plain"));
        assert_eq!(up.header("cache-control"), Some("max-age=60"));
        assert_eq!(up.header("x-upsert"), Some("false"));
        assert!(
            up.header("x-metadata").is_some(),
            "user metadata as x-metadata"
        );
        let stored = mock.object("wire", "dir/a b.txt").expect("stored");
        assert_eq!(stored.user_metadata, Some(json!({"owner": "ada"})));
        assert_eq!(stored.body, b"hello");
        let bearer = format!("Bearer {SUPABASE_KEY}");
        for r in mock.requests() {
            assert_eq!(
                r.header("authorization"),
                Some(bearer.as_str()),
                "{}",
                r.path
            );
            assert_eq!(r.header("apikey"), Some(SUPABASE_KEY), "{}", r.path);
        }
        // The other tenant's project saw nothing, and never this project's key for it.
        assert!(p.supabase(1).requests().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn unavailable_answers_are_retried() {
        let (p, mock) = supabase().await;
        p.bucket("retry", json!({})).await;
        mock.clear_requests();
        mock.fail_next_unavailable(2);
        p.upload("retry", "k", b"after two 503s", json!({})).await;
        let statuses: Vec<u16> = mock
            .requests_to("POST", "/object/retry/")
            .iter()
            .map(|r| r.status)
            .collect();
        assert_eq!(statuses, [503, 503, 200]);
        assert_eq!(
            mock.object("retry", "k").expect("stored").body,
            b"after two 503s"
        );
        // Past the retries (1 + max_retries 3): unavailable and retryable, for the caller.
        mock.clear_requests();
        mock.fail_next_unavailable(4);
        let e = p.err("stat", json!({"bucket": "retry", "key": "k"})).await;
        assert_eq!(e.kind, ErrorKind::Unavailable, "{e:?}");
        assert!(e.retryable);
        assert_eq!(mock.requests_to("GET", "/object/info/").len(), 4);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn rate_limits_are_retried_after_retry_after() {
        let (p, mock) = supabase().await;
        p.bucket("slow", json!({})).await;
        mock.fail_next_rate_limited(1, Some(1));
        let start = Instant::now();
        p.upload("slow", "k", b"x", json!({})).await;
        assert!(
            start.elapsed() >= Duration::from_millis(950),
            "Retry-After: 1 was not waited for: {:?}",
            start.elapsed()
        );
        let statuses: Vec<u16> = mock
            .requests_to("POST", "/object/slow/")
            .iter()
            .map(|r| r.status)
            .collect();
        assert_eq!(statuses, [429, 200]);

        mock.fail_next_rate_limited(4, None);
        let e = p.err("stat", json!({"bucket": "slow", "key": "k"})).await;
        assert_eq!(e.kind, ErrorKind::RateLimited, "{e:?}");
        assert!(e.retryable);
        assert_eq!(e.provider_code.as_deref(), Some("SlowDown"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn errors_keep_supabases_code_and_message() {
        let (p, _mock) = supabase().await;
        p.bucket("errs", json!({"max-object-bytes": 3})).await;
        let e = p
            .err("stat", json!({"bucket": "errs", "key": "nope"}))
            .await;
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.provider_code.as_deref(), Some("NoSuchKey"));
        assert_eq!(e.provider_message.as_deref(), Some("Object not found"));
        assert!(!e.retryable);
        let e = p
            .err("upload", upload_args("errs", "big", b"four", json!({})))
            .await;
        assert_eq!(e.kind, ErrorKind::TooLarge);
        assert_eq!(e.provider_code.as_deref(), Some("EntityTooLarge"));
        assert!(e.message.contains('3'), "{}", e.message);
        let e = p.err("delete-bucket", json!({"name": "missing"})).await;
        assert_eq!(e.provider_code.as_deref(), Some("NoSuchBucket"));
        p.upload("errs", "x", b"x", json!({})).await;
        let e = p.err("delete-bucket", json!({"name": "errs"})).await;
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(e.provider_code.as_deref(), Some("ResourceNotEmpty"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_refused_key_is_unauthorized_and_health_says_so() {
        let mock = MockSupabase::start(SUPABASE_KEY).await;
        let rt = Runtime::builder()
            .options(options())
            .binding(
                TENANT,
                Service::Storage,
                supabase_spec(&mock, "not-the-service-key", None),
            )
            .build()
            .await
            .expect("runtime builds");
        let h = rt
            .invoke_json(TENANT, Service::Storage, "health", json!({}))
            .await
            .expect("health answers");
        assert_eq!(h["ok"], false, "{h}");
        assert!(
            h["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("unauthorized"),
            "{h}"
        );
        mock.clear_requests();
        let e = rt
            .invoke_json(TENANT, Service::Storage, "list-buckets", json!({}))
            .await
            .expect_err("refused");
        let e = e.provider().expect("contract error").clone();
        assert_eq!(e.kind, ErrorKind::Unauthorized, "{e:?}");
        assert!(!e.retryable);
        assert_eq!(mock.requests().len(), 1, "not retried");
        rt.shutdown().await;
    }
}
