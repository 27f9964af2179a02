//! The configuration file as the host reads it: `[runtime]`, `[tenants]`, and the signing
//! keys of `[server]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::credentials::SecretSource;
use crate::error::{Error, Result};
use crate::service::{Service, UnknownService};

use super::binding::{BindingConfig, BindingSpec};
use super::env::expand_env;

/// A whole configuration file, as the host reads it: `[runtime]`, `[tenants]` and the signing
/// keys of `[server]`. The other sections (`[logging]`, the rest of `[server]`) belong to the
/// application embedding the host; the `switchyard` server parses them itself with
/// [`parse_toml`], and an embedder can check [`FileConfig::sections`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FileConfig {
    /// Runtime-wide options.
    #[serde(default)]
    pub runtime: RuntimeOptions,
    /// Tenant name -> service name -> binding.
    #[serde(default)]
    pub tenants: BTreeMap<String, BTreeMap<String, BindingConfig>>,
    /// The signed-URL keys of `[server]`.
    #[serde(default, rename = "server")]
    pub signing: SigningOptions,
    /// Every section the host does not read, by name, for the embedding application.
    #[serde(flatten)]
    pub sections: BTreeMap<String, toml::Value>,
}

/// Parses TOML text into `T`; an error names `origin`, the line and the key, as the host's
/// own configuration errors do.
pub fn parse_toml<T: serde::de::DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| Error::Config {
        origin: origin.to_string(),
        message: e.to_string(),
    })
}

/// Runtime-wide options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeOptions {
    /// Use wasmtime's pooling instance allocator (faster instantiation, memory reserved up front).
    pub pooling: bool,
    /// How many instances may run at once (with pooling, the pool's size).
    pub max_instances: u32,
    /// How many of them one tenant's calls may hold at once; 0: a quarter of
    /// `max_instances` (at least one).
    pub max_instances_per_tenant: u32,
    /// How long a call waits in line for its binding's, its tenant's or the pool's place
    /// before it is refused as busy (retryable), in milliseconds.
    pub queue_ms: u64,
    /// How many of one tenant's calls may compute (run guest code for more than an epoch
    /// tick) at once; 0 (the default): no cap, every guest yields at each tick and the
    /// executor runs them in turn.
    pub max_computing_per_tenant: u32,
    /// The largest `limits.memory_mib` a binding may ask for.
    pub max_memory_mib: u64,
    /// Watch component files and hot-swap a binding when its file changes.
    pub watch: bool,
    /// How often component files are checked, in milliseconds.
    pub watch_interval_ms: u64,
    /// How often bindings with buffered work get a `lifecycle.tick`, in milliseconds.
    pub tick_interval_ms: u64,
    /// A directory for compiled components (none: compile every component at every start).
    /// Keyed by each component's digest, the wasmtime version and the engine's settings, so
    /// a restart loads what it has already compiled instead of compiling it again; an entry
    /// of another version or setting, or one that does not load, is compiled afresh. In a
    /// file, relative to the file. It holds native code the host runs: it must belong to the
    /// host's user and be writable by no one else (see [`crate::compile_cache`]).
    pub compile_cache: Option<PathBuf>,
    /// The most idle instances kept warm across all bindings (see `limits.instance_reuse`);
    /// the pooling allocator has room for them on top of `max_instances`. 0: none (every
    /// call gets a fresh instance).
    pub max_warm_instances: u32,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            pooling: true,
            max_instances: 1000,
            max_instances_per_tenant: 0,
            queue_ms: 2000,
            max_computing_per_tenant: 0,
            max_memory_mib: 256,
            watch: false,
            watch_interval_ms: 500,
            tick_interval_ms: 250,
            compile_cache: None,
            max_warm_instances: 256,
        }
    }
}

impl RuntimeOptions {
    /// How many instances one tenant may hold at once (see `max_instances_per_tenant`).
    pub fn tenant_share(&self) -> u32 {
        match self.max_instances_per_tenant {
            0 => self.max_instances.div_ceil(4).max(1),
            n => n.min(self.max_instances.max(1)),
        }
    }

    /// How many of one tenant's calls may compute at once, if that is capped (see
    /// `max_computing_per_tenant`).
    pub fn computing_share(&self) -> Option<u32> {
        match self.max_computing_per_tenant {
            0 => None,
            n => Some(n),
        }
    }

    /// How long a call waits in line.
    pub fn queue_wait(&self) -> Duration {
        Duration::from_millis(self.queue_ms)
    }

    /// The tick interval as a duration.
    pub fn tick_interval(&self) -> Duration {
        Duration::from_millis(self.tick_interval_ms.max(10))
    }

    /// The watch interval as a duration.
    pub fn watch_interval(&self) -> Duration {
        Duration::from_millis(self.watch_interval_ms.max(50))
    }
}

/// The signed-URL keys of the `[server]` section, which the host reads (signed URLs are the
/// host's); the server owns the section and checks all of it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SigningOptions {
    /// The server's listen address; signed URLs start with `http://` + it by default.
    pub listen: String,
    /// The server's address as clients reach it, for the URLs it signs (default
    /// `http://` + `listen`).
    pub public_url: Option<String>,
    /// The key signed URLs are signed with; a random key per process when none (signed URLs
    /// then stop working at restart).
    pub signing_key: Option<SecretSource>,
}

impl Default for SigningOptions {
    fn default() -> Self {
        SigningOptions {
            listen: DEFAULT_LISTEN.into(),
            public_url: None,
            signing_key: None,
        }
    }
}

/// Where the server listens when `[server] listen` is not set.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl SigningOptions {
    /// The URL signer these options describe; `origin` names the file in errors.
    pub fn signer(&self, origin: &str) -> Result<crate::signing::Signer> {
        let public_url = match &self.public_url {
            Some(url) => expand_env(url, "server.public_url").map_err(|m| Error::Config {
                origin: origin.to_string(),
                message: m.to_string(),
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
}

impl FileConfig {
    /// Parses a configuration from TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let cfg: FileConfig = parse_toml(text, origin)?;
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
                let svc: Service = service.parse().map_err(|m: UnknownService| Error::Config {
                    origin: origin.into(),
                    message: m.to_string(),
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
