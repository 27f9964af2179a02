//! Configuration: the TOML file and the Rust API's [`BindingSpec`].
//!
//! Every string value may name environment variables as `${NAME}`; secrets should come from
//! `{ env = "NAME" }` or `{ file = "..." }` sources. docs/configuration.md documents every key.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"
//! admin_token = { env = "SWITCHYARD_ADMIN_TOKEN" }   # the admin API is off without it
//!
//! [runtime]
//! pooling = true            # pooling instance allocator (see RuntimeOptions)
//! watch = true              # hot-swap a binding when its component file changes
//!
//! [tenants.acme.analytics]
//! component = "../target/components/analytics-posthog.wasm"  # relative to this file
//! allow = ["https://us.i.posthog.com"]
//! config = { host = "https://us.i.posthog.com", flush_at = 20 }
//! limits = { deadline_ms = 10000, memory_mib = 64 }
//! credentials = [
//!   { host = "https://us.i.posthog.com", inject = "json-body", field = "api_key", secret = { env = "POSTHOG_API_KEY" } },
//! ]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::credentials::{Credential, CredentialConfig, SecretSource};
use crate::error::{Error, Result};
use crate::limits::Limits;
pub use crate::native::Backend;
use crate::outbound::Target;
use crate::service::Service;

/// A whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Runtime-wide options.
    #[serde(default)]
    pub runtime: RuntimeOptions,
    /// The HTTP server's options (used by the `switchyard` binary).
    #[serde(default)]
    pub server: ServerOptions,
    /// Where the `switchyard` binary's log goes and how it looks.
    #[serde(default)]
    pub logging: LoggingOptions,
    /// Tenant name -> service name -> binding.
    #[serde(default)]
    pub tenants: BTreeMap<String, BTreeMap<String, BindingConfig>>,
}

/// Runtime-wide options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeOptions {
    /// Use wasmtime's pooling instance allocator (faster instantiation, memory reserved up front).
    pub pooling: bool,
    /// How many instances may run at once with pooling.
    pub max_instances: u32,
    /// The largest `limits.memory_mib` a binding may ask for.
    pub max_memory_mib: u64,
    /// Watch component files and hot-swap a binding when its file changes.
    pub watch: bool,
    /// How often component files are checked, in milliseconds.
    pub watch_interval_ms: u64,
    /// How often bindings with buffered work get a `lifecycle.tick`, in milliseconds.
    pub tick_interval_ms: u64,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            pooling: true,
            max_instances: 1000,
            max_memory_mib: 256,
            watch: false,
            watch_interval_ms: 500,
            tick_interval_ms: 250,
        }
    }
}

impl RuntimeOptions {
    /// The tick interval as a duration.
    pub fn tick_interval(&self) -> Duration {
        Duration::from_millis(self.tick_interval_ms.max(10))
    }

    /// The watch interval as a duration.
    pub fn watch_interval(&self) -> Duration {
        Duration::from_millis(self.watch_interval_ms.max(50))
    }
}

/// The `[logging]` section: the sink of the `switchyard` binary's log (host, guest and app
/// logs alike: they share one `tracing` pipeline). An embedding application installs its own
/// `tracing` subscriber instead.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingOptions {
    /// `console` (human-readable) or `json` (one JSON object per line).
    pub format: LogFormat,
    /// Colour on the console: `auto` (when stderr is a terminal), `always` or `never`.
    pub color: ColorChoice,
    /// The filter, in `RUST_LOG` syntax (`info`, `warn,switchyard=debug`); `RUST_LOG` wins.
    pub level: String,
    /// A Sentry DSN for the host's own errors (an adapter that traps, a component refused):
    /// `error` lines become Sentry events, `warn` and `info` lines their breadcrumbs.
    /// Tenants' captured errors go to their own monitoring binding's `sentry_dsn`.
    pub sentry_dsn: Option<String>,
    /// The `environment` of those events.
    pub sentry_environment: Option<String>,
}

impl Default for LoggingOptions {
    fn default() -> Self {
        LoggingOptions {
            format: LogFormat::Console,
            color: ColorChoice::Auto,
            level: "info".into(),
            sentry_dsn: None,
            sentry_environment: None,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Console,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Whether console lines are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    /// When the output is a terminal.
    Auto,
    /// Always (e.g. under a pager that understands ANSI colours).
    Always,
    /// Never.
    Never,
}

/// The `switchyard serve` options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerOptions {
    /// The address to listen on.
    pub listen: String,
    /// The admin API's bearer token; the admin API is off without one.
    pub admin_token: Option<SecretSource>,
    /// The server's address as clients reach it, for the URLs it signs (default
    /// `http://` + `listen`).
    pub public_url: Option<String>,
    /// The key signed URLs are signed with; a random key per process when none (signed URLs
    /// then stop working at restart).
    pub signing_key: Option<SecretSource>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            listen: "127.0.0.1:8080".into(),
            admin_token: None,
            public_url: None,
            signing_key: None,
        }
    }
}

impl ServerOptions {
    /// The URL signer these options describe; `origin` names the file in errors.
    pub fn signer(&self, origin: &str) -> Result<crate::signing::Signer> {
        let public_url = match &self.public_url {
            Some(url) => expand_env(url, "server.public_url").map_err(|m| Error::Config {
                origin: origin.to_string(),
                message: m,
            })?,
            None => format!("http://{}", self.listen),
        };
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(Error::Config {
                origin: origin.to_string(),
                message: format!(
                    "server.public_url must start with http:// or https://, not {public_url:?}"
                ),
            });
        }
        match &self.signing_key {
            Some(source) => {
                let secret = source.resolve().map_err(|m| Error::Config {
                    origin: origin.to_string(),
                    message: format!("server.signing_key: {m}"),
                })?;
                if secret.expose().len() < 16 {
                    return Err(Error::Config {
                        origin: origin.to_string(),
                        message: "server.signing_key must be at least 16 bytes".into(),
                    });
                }
                Ok(crate::signing::Signer::new(
                    secret.expose().as_bytes().to_vec(),
                    &public_url,
                ))
            }
            None => Ok(crate::signing::Signer::random(&public_url)),
        }
    }

    /// Reads the admin token, if one is configured.
    pub fn resolve_admin_token(&self) -> Result<Option<String>> {
        self.admin_token
            .as_ref()
            .map(|s| {
                s.resolve()
                    .map(|secret| secret.expose().to_string())
                    .map_err(|m| Error::config(format!("server.admin_token: {m}")))
            })
            .transpose()
    }
}

/// Replaces `${NAME}` with the environment variable NAME; `key` names the place in errors.
pub fn expand_env(value: &str, key: &str) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("{key}: unterminated ${{ in {value:?}"))?;
        let name = &after[..end];
        if name.is_empty() {
            return Err(format!("{key}: empty ${{}}"));
        }
        let v = std::env::var(name)
            .map_err(|_| format!("{key}: environment variable {name} is not set"))?;
        out.push_str(&v);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One binding as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingConfig {
    /// The component file, relative to the configuration file.
    pub component: PathBuf,
    /// Outbound targets, `scheme://host[:port]`.
    #[serde(default)]
    pub allow: Vec<String>,
    /// The adapter's configuration: strings, numbers or booleans.
    #[serde(default)]
    pub config: BTreeMap<String, toml::Value>,
    /// Credentials the host injects.
    #[serde(default)]
    pub credentials: Vec<CredentialConfig>,
    /// Limits of every call.
    #[serde(default)]
    pub limits: Limits,
    /// A directory (relative to the configuration file) the adapter sees as `/data`: its own
    /// storage, for the embedded defaults. Created when missing. Give each tenant its own.
    #[serde(default)]
    pub files: Option<PathBuf>,
    /// The host-native backend a bridge component passes the calls to (`memory` for
    /// messaging); none for an ordinary adapter.
    #[serde(default)]
    pub backend: Option<String>,
}

/// Where a component comes from.
#[derive(Debug, Clone)]
pub enum ComponentSource {
    /// A `.wasm` file; watched for changes when the runtime watches.
    Path(PathBuf),
    /// Bytes in memory (an upload), with a name for logs.
    Bytes {
        /// The adapter's name in logs.
        name: String,
        /// The component.
        bytes: Arc<[u8]>,
    },
}

impl ComponentSource {
    /// A component file.
    pub fn path(p: impl Into<PathBuf>) -> Self {
        ComponentSource::Path(p.into())
    }

    /// The adapter name: the file stem, or the given name.
    pub fn name(&self) -> String {
        match self {
            ComponentSource::Path(p) => p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
            ComponentSource::Bytes { name, .. } => name.clone(),
        }
    }

    /// Reads the component's bytes.
    pub fn read(&self) -> Result<Arc<[u8]>> {
        match self {
            ComponentSource::Path(p) => {
                std::fs::read(p)
                    .map(Arc::from)
                    .map_err(|source| Error::ReadComponent {
                        path: p.clone(),
                        source,
                    })
            }
            ComponentSource::Bytes { bytes, .. } => Ok(bytes.clone()),
        }
    }
}

/// Everything a binding needs: (tenant, service) -> this.
#[derive(Debug, Clone)]
pub struct BindingSpec {
    /// The adapter component.
    pub component: ComponentSource,
    /// The adapter's configuration.
    pub config: BTreeMap<String, String>,
    /// Outbound targets the adapter may reach.
    pub allow: Vec<Target>,
    /// Credentials injected into requests to their targets.
    pub credentials: Vec<Credential>,
    /// Limits of every call.
    pub limits: Limits,
    /// A host directory the adapter sees as `/data` (read and write); none by default.
    pub files: Option<PathBuf>,
    /// The host-native backend serving a bridge component's calls; none by default.
    pub backend: Option<Backend>,
}

/// Where a binding's directory appears inside the adapter.
pub const FILES_GUEST_PATH: &str = "/data";

impl BindingSpec {
    /// A binding of `component` with no configuration, no outbound access and default limits.
    pub fn new(component: ComponentSource) -> Self {
        BindingSpec {
            component,
            config: BTreeMap::new(),
            allow: Vec::new(),
            credentials: Vec::new(),
            limits: Limits::default(),
            files: None,
            backend: None,
        }
    }

    /// Serves the bridge component's calls with a host-native backend.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Gives the adapter `dir` as `/data`.
    pub fn files(mut self, dir: impl Into<PathBuf>) -> Self {
        self.files = Some(dir.into());
        self
    }

    /// Sets one configuration key.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }

    /// Allows outbound requests to `scheme://host[:port]`.
    pub fn allow(mut self, target: &str) -> Result<Self> {
        self.allow
            .push(Target::parse(target).map_err(|m| Error::config(format!("allow: {m}")))?);
        Ok(self)
    }

    /// Adds a credential.
    pub fn credential(mut self, cfg: &CredentialConfig) -> Result<Self> {
        self.credentials.push(
            Credential::from_config(cfg).map_err(|m| Error::config(format!("credentials: {m}")))?,
        );
        Ok(self)
    }

    /// Sets the limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Builds a spec from a file's binding, resolving paths against `base_dir` and reading secrets.
    pub fn from_config(cfg: &BindingConfig, base_dir: &Path, origin: &str) -> Result<Self> {
        let err = |message: String| Error::Config {
            origin: origin.to_string(),
            message,
        };
        let component =
            PathBuf::from(expand_env(&cfg.component.to_string_lossy(), "component").map_err(err)?);
        let component = if component.is_absolute() {
            component
        } else {
            base_dir.join(component)
        };
        let mut config = BTreeMap::new();
        for (k, v) in &cfg.config {
            let s = match v {
                toml::Value::String(s) => expand_env(s, &format!("config.{k}")).map_err(err)?,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(err(format!(
                        "config.{k} must be a string, number or boolean, not {}",
                        other.type_str()
                    )))
                }
            };
            config.insert(k.clone(), s);
        }
        let allow = cfg
            .allow
            .iter()
            .map(|a| {
                let a = expand_env(a, "allow").map_err(err)?;
                Target::parse(&a).map_err(|m| err(format!("allow: {m}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let credentials = cfg
            .credentials
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.host = expand_env(&c.host, "credentials.host").map_err(err)?;
                if let crate::credentials::Injection::Basic { username } = &mut c.inject {
                    *username = expand_env(username, "credentials.username").map_err(err)?;
                }
                if let SecretSource::Value(v) = &c.secret {
                    c.secret =
                        SecretSource::Value(expand_env(v, "credentials.secret").map_err(err)?);
                }
                Credential::from_config(&c).map_err(|m| err(format!("credentials: {m}")))
            })
            .collect::<Result<Vec<_>>>()?;
        for c in &credentials {
            if !allow.iter().any(|a| a.matches(&c.target)) {
                return Err(err(format!(
                    "credentials: target {} is not in allow, so the credential could never be sent",
                    c.target
                )));
            }
        }
        cfg.limits.validate().map_err(err)?;
        let files = match &cfg.files {
            Some(dir) => {
                let dir = PathBuf::from(expand_env(&dir.to_string_lossy(), "files").map_err(err)?);
                Some(if dir.is_absolute() {
                    dir
                } else {
                    base_dir.join(dir)
                })
            }
            None => None,
        };
        let backend = match &cfg.backend {
            Some(name) => Some(
                name.parse::<Backend>()
                    .map_err(|m| err(format!("backend: {m}")))?,
            ),
            None => None,
        };
        Ok(BindingSpec {
            component: ComponentSource::Path(component),
            config,
            allow,
            credentials,
            limits: cfg.limits,
            files,
            backend,
        })
    }
}

impl BindingSpec {
    /// Whether `other` binds the same way (component source aside, which callers compare by digest).
    pub fn same_as(&self, other: &BindingSpec) -> bool {
        self.config == other.config
            && self.files == other.files
            && self.backend == other.backend
            && self.allow == other.allow
            && self.limits == other.limits
            && self.credentials.len() == other.credentials.len()
            && self
                .credentials
                .iter()
                .zip(&other.credentials)
                .all(|(a, b)| a.target == b.target && a.inject == b.inject && a.secret == b.secret)
    }
}

impl FileConfig {
    /// Parses a configuration from TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let cfg: FileConfig = toml::from_str(text).map_err(|e| Error::Config {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        for (tenant, services) in &cfg.tenants {
            if tenant.is_empty() {
                return Err(Error::Config {
                    origin: origin.into(),
                    message: "a tenant name is empty".into(),
                });
            }
            for service in services.keys() {
                service.parse::<Service>().map_err(|_| Error::Config {
                    origin: origin.to_string(),
                    message: format!(
                        "tenants.{tenant}.{service}: unknown service; expected one of {}",
                        Service::ALL.map(|s| s.as_str()).join(", ")
                    ),
                })?;
            }
        }
        Ok(cfg)
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            origin: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Every binding as a spec, resolving paths against `base_dir` and reading secrets.
    pub fn bindings(
        &self,
        base_dir: &Path,
        origin: &str,
    ) -> Result<Vec<(String, Service, BindingSpec)>> {
        let mut out = Vec::new();
        for (tenant, services) in &self.tenants {
            for (service, cfg) in services {
                let svc: Service = service.parse().map_err(|m: String| Error::Config {
                    origin: origin.into(),
                    message: m,
                })?;
                let at = format!("{origin} [tenants.{tenant}.{service}]");
                out.push((
                    tenant.clone(),
                    svc,
                    BindingSpec::from_config(cfg, base_dir, &at)?,
                ));
            }
        }
        Ok(out)
    }
}
