//! Shared helpers: component paths, configuration files, an in-process server with clients.

use std::path::{Path, PathBuf};

use serde_json::Value;
use switchyard_host::{Runtime, ShutdownReport};
use switchyard_server::client::{Client, ClientResponse};
use switchyard_server::{serve, ServeOptions, ServerError};
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

    /// Serves the configuration `text`; `with_path` tells the server the file's path (reload).
    pub async fn start_with(text: &str, admin_token: Option<&str>, with_path: bool) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("switchyard.toml");
        std::fs::write(&config, text).expect("write config");
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
        let (stop, stopped) = oneshot::channel::<()>();
        let opts = ServeOptions {
            admin_token: admin_token.map(str::to_string),
            config_path: with_path.then(|| config.clone()),
        };
        let task = tokio::spawn(serve(runtime, listener, opts, async {
            let _ = stopped.await;
        }));
        TestServer {
            client: Client::new(&url, None).expect("client"),
            url,
            config,
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    /// A client presenting `token`.
    pub fn with_token(&self, token: &str) -> Client {
        Client::new(&self.url, Some(token.to_string())).expect("client")
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

/// Writes `text` as a file in `dir`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}
