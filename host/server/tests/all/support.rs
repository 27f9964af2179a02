//! Shared helpers: component paths, configuration files, an in-process server with clients.

use std::path::{Path, PathBuf};

use serde_json::Value;
use switchyard_host::{Runtime, ShutdownReport};
use switchyard_server::client::{Client, ClientResponse};
use switchyard_server::{serve, ServeOptions, ServerError, ServerSettings};
use switchyard_tests::mock::posthog::MockPostHog;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The PostHog project key the mocks expect.
pub const API_KEY: &str = "phc_test";

/// The admin token of servers started with the admin API on.
pub const TOKEN: &str = "admin-token-for-tests";

/// The path of a component built by `make adapters`.
pub fn component(name: &str) -> PathBuf {
    let dir = std::env::var_os("SWITCHYARD_COMPONENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/components")
        });
    let path = dir.join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "component {} is missing: run `make adapters` first",
        path.display()
    );
    path
}

/// The TOML of a PostHog analytics binding of `tenant`, pointed at `mock`.
pub fn posthog_binding(tenant: &str, mock: &MockPostHog) -> String {
    format!(
        r#"
[tenants.{tenant}.analytics]
component = "{component}"
allow = ["{url}"]
config = {{ host = "{url}", flush_at = 100, flush_interval_ms = 600000, retry_base_ms = 20, retry_max_ms = 200 }}
credentials = [
  {{ host = "{url}", inject = "json-body", field = "api_key", secret = {{ value = "{API_KEY}" }} }},
]
"#,
        component = component("analytics-posthog").display(),
        url = mock.base_url(),
    )
}

/// A configuration: a small runtime, and tenant `acme` bound to PostHog at `mock`.
pub fn config_text(mock: &MockPostHog) -> String {
    format!(
        "[runtime]\npooling = false\ntick_interval_ms = 50\n{}",
        posthog_binding("acme", mock)
    )
}

/// A server running in-process on `127.0.0.1:0`.
pub struct TestServer {
    /// A client without a token.
    pub client: Client,
    /// The server's base URL.
    pub url: String,
    /// The admin listener's base URL, when started with one.
    pub admin_url: Option<String>,
    /// The configuration file.
    pub config: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<ShutdownReport, ServerError>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Writes the default configuration for `mock` and serves it, with the admin API on when
    /// `admin_token` is given.
    pub async fn start(mock: &MockPostHog, admin_token: Option<&str>) -> TestServer {
        Self::start_with(&config_text(mock), admin_token, true).await
    }

    /// Serves the configuration `text` (its `[server]` section too: limits, keys);
    /// `with_path` tells the server the file's path (reload).
    pub async fn start_with(text: &str, admin_token: Option<&str>, with_path: bool) -> TestServer {
        Self::launch(text, admin_token, with_path, false).await
    }

    /// As [`TestServer::start_with`], with an admin listener on another port when
    /// `admin_listener` is set.
    pub async fn launch(
        text: &str,
        admin_token: Option<&str>,
        with_path: bool,
        admin_listener: bool,
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("switchyard.toml");
        std::fs::write(&config, text).expect("write config");
        let settings = match ServerSettings::load(&config) {
            Ok(settings) => settings,
            Err(e) => panic!("the [server] section does not load: {e}"),
        };
        let runtime = Runtime::builder()
            .config_file(&config)
            .expect("valid config")
            .build()
            .await
            .expect("runtime builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let mut opts = ServeOptions::from_settings(&settings, with_path.then(|| config.clone()));
        if let Some(token) = admin_token {
            opts.admin_token = Some(token.to_string());
        }
        let mut admin_url = None;
        if admin_listener {
            let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            admin_url = Some(format!("http://{}", admin.local_addr().expect("addr")));
            opts.admin_listener = Some(admin);
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(runtime, listener, opts, async {
            let _ = stopped.await;
        }));
        TestServer {
            client: Client::new(&url, None).expect("client"),
            url,
            admin_url,
            config,
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    /// `host:port` of the gateway's listener.
    pub fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    /// A client presenting `token`.
    pub fn with_token(&self, token: &str) -> Client {
        Client::new(&self.url, Some(token.to_string())).expect("client")
    }

    /// A client of the admin listener presenting `token`.
    pub fn admin_client(&self, token: Option<&str>) -> Client {
        let url = self
            .admin_url
            .as_deref()
            .expect("started with an admin listener");
        Client::new(url, token.map(str::to_string)).expect("client")
    }

    /// `POST /v1/tenants/{tenant}/{service}/{function}` with `args` and `key`.
    pub async fn call_with(
        &self,
        key: Option<&str>,
        tenant: &str,
        service: &str,
        function: &str,
        args: &Value,
    ) -> ClientResponse {
        Client::new(&self.url, key.map(str::to_string))
            .expect("client")
            .post_json(&format!("/v1/tenants/{tenant}/{service}/{function}"), args)
            .await
            .expect("request")
    }

    /// `POST /v1/tenants/{tenant}/analytics/{function}` with `args`.
    pub async fn call(&self, tenant: &str, function: &str, args: &Value) -> ClientResponse {
        self.client
            .post_json(&format!("/v1/tenants/{tenant}/analytics/{function}"), args)
            .await
            .expect("request")
    }

    /// Resolves the shutdown future and waits for `serve` to return.
    pub async fn shutdown(mut self) -> ShutdownReport {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task)
            .await
            .expect("server task")
            .expect("serve returns a report")
    }
}

/// The error code of an error answer.
pub fn code(response: &ClientResponse) -> String {
    response.json()["error"]["code"]
        .as_str()
        .unwrap_or("<none>")
        .to_string()
}

/// The `/metrics` text of a server (through `client`).
pub async fn metrics(client: &Client) -> String {
    let r = client.get("/metrics").await.expect("GET /metrics");
    assert_eq!(r.status, 200, "{:?}", r.json());
    String::from_utf8_lossy(&r.body).into_owned()
}

/// Sends `request` on a new connection to `addr` and reads until the server closes it (or
/// `wait` passes: then `None`). Answers what was read, lossily as text; a reset counts as
/// closed.
pub async fn exchange(addr: &str, request: &[u8], wait: std::time::Duration) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&answer).into_owned())
}

/// Writes `text` as a file in `dir`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}
