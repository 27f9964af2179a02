//! One binding: as written in the file ([`BindingConfig`]) and as the runtime takes it
//! ([`BindingSpec`], also the Rust API), and where its component comes from
//! ([`ComponentSource`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::credentials::{Credential, CredentialConfig, SecretSource};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::native::{Backend, BackendSettings};
use crate::outbound::target::Target;
use crate::outbound::TrustedCa;

use super::env::expand_env;

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
    /// A PEM file (relative to the configuration file) of CAs the binding's outbound TLS
    /// trusts besides the platform's roots: a self-hosted provider's, a corporate gateway's.
    #[serde(default)]
    pub trusted_ca: Option<PathBuf>,
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
    /// The backend's own settings (a Redis `url`, a `sentry_dsn`...): strings, numbers,
    /// booleans or secret sources (`{ env = "REDIS_URL" }`). Only the host reads them: the
    /// component never sees this table, unlike `config`.
    #[serde(default)]
    pub backend_config: BTreeMap<String, toml::Value>,
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
    /// CAs the binding's outbound TLS trusts besides the platform's roots.
    pub trusted_ca: TrustedCa,
    /// Limits of every call.
    pub limits: Limits,
    /// A host directory the adapter sees as `/data` (read and write); none by default.
    pub files: Option<PathBuf>,
    /// The host-native backend serving a bridge component's calls; none by default.
    pub backend: Option<Backend>,
    /// The backend's settings, which the component never sees.
    pub backend_config: BackendSettings,
}

/// `files` as the component gets it: only a binding without a backend gives its directory
/// to the component; one with a backend keeps it for the host.
pub(crate) fn guest_dir(files: Option<&Path>, backend: Option<Backend>) -> Option<&Path> {
    files.filter(|_| backend.is_none())
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
            trusted_ca: TrustedCa::default(),
            limits: Limits::default(),
            files: None,
            backend: None,
            backend_config: BackendSettings::default(),
        }
    }

    /// Sets one of the backend's settings (host-side only; the component never sees them).
    pub fn backend_config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.backend_config.insert(key, value);
        self
    }

    /// The directory the component sees as `/data`: `files`, for a binding without a
    /// backend. A binding with a backend keeps `files` for the backend's own state (the
    /// search indexes), which the component must never be able to write.
    pub fn guest_files(&self) -> Option<&Path> {
        guest_dir(self.files.as_deref(), self.backend)
    }

    /// The directory the host keeps the backend's state in: `files`, for a binding with a
    /// backend.
    pub fn host_files(&self) -> Option<&Path> {
        self.files.as_deref().filter(|_| self.backend.is_some())
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

    /// Trusts `ca` (besides the platform's roots) in the binding's outbound TLS.
    pub fn trusted_ca(mut self, ca: TrustedCa) -> Self {
        self.trusted_ca = ca;
        self
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
        let component = PathBuf::from(
            expand_env(&cfg.component.to_string_lossy(), "component")
                .map_err(|e| err(e.to_string()))?,
        );
        let component = if component.is_absolute() {
            component
        } else {
            base_dir.join(component)
        };
        let mut config = BTreeMap::new();
        for (k, v) in &cfg.config {
            config.insert(k.clone(), scalar(&format!("config.{k}"), v).map_err(err)?);
        }
        let mut backend_config = BackendSettings::default();
        for (k, v) in &cfg.backend_config {
            let at = format!("backend_config.{k}");
            let value = match v {
                toml::Value::Table(t) => {
                    let source: SecretSource = toml::Value::Table(t.clone())
                        .try_into()
                        .map_err(|e| err(format!("{at}: {e}")))?;
                    let source = match source {
                        SecretSource::Value(v) => SecretSource::Value(
                            expand_env(&v, &at).map_err(|e| err(e.to_string()))?,
                        ),
                        other => other,
                    };
                    let secret = source.resolve().map_err(|e| err(format!("{at}: {e}")))?;
                    secret.expose().to_string()
                }
                other => scalar(&at, other).map_err(err)?,
            };
            backend_config.insert(k.clone(), value);
        }
        let allow = cfg
            .allow
            .iter()
            .map(|a| {
                let a = expand_env(a, "allow").map_err(|e| err(e.to_string()))?;
                Target::parse(&a).map_err(|m| err(format!("allow: {m}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let credentials = cfg
            .credentials
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.host = expand_env(&c.host, "credentials.host").map_err(|e| err(e.to_string()))?;
                if let crate::credentials::Injection::Basic { username } = &mut c.inject {
                    *username = expand_env(username, "credentials.username")
                        .map_err(|e| err(e.to_string()))?;
                }
                if let SecretSource::Value(v) = &c.secret {
                    c.secret = SecretSource::Value(
                        expand_env(v, "credentials.secret").map_err(|e| err(e.to_string()))?,
                    );
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
        cfg.limits.validate().map_err(|e| err(e.to_string()))?;
        let trusted_ca = match &cfg.trusted_ca {
            Some(path) => {
                let path = PathBuf::from(
                    expand_env(&path.to_string_lossy(), "trusted_ca")
                        .map_err(|e| err(e.to_string()))?,
                );
                let path = base_dir.join(path);
                let pem = std::fs::read(&path)
                    .map_err(|e| err(format!("trusted_ca: cannot read {}: {e}", path.display())))?;
                TrustedCa::from_pem(&pem)
                    .map_err(|e| err(format!("trusted_ca: {}: {e}", path.display())))?
            }
            None => TrustedCa::default(),
        };
        let files = match &cfg.files {
            Some(dir) => {
                let dir = PathBuf::from(
                    expand_env(&dir.to_string_lossy(), "files").map_err(|e| err(e.to_string()))?,
                );
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
            trusted_ca,
            limits: cfg.limits,
            files,
            backend,
            backend_config,
        })
    }
}

/// A string (with `${VAR}`s expanded), number or boolean of the file, as a string; `at` names
/// the key in errors.
fn scalar(at: &str, v: &toml::Value) -> std::result::Result<String, String> {
    Ok(match v {
        toml::Value::String(s) => expand_env(s, at).map_err(|e| e.to_string())?,
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => {
            return Err(format!(
                "{at} must be a string, number or boolean, not {}",
                other.type_str()
            ))
        }
    })
}

impl BindingSpec {
    /// Whether `other` binds the same way (component source aside, which callers compare by digest).
    pub fn same_as(&self, other: &BindingSpec) -> bool {
        self.config == other.config
            && self.files == other.files
            && self.backend == other.backend
            && self.backend_config == other.backend_config
            && self.allow == other.allow
            && self.limits == other.limits
            && self.trusted_ca == other.trusted_ca
            && self.credentials.len() == other.credentials.len()
            && self
                .credentials
                .iter()
                .zip(&other.credentials)
                .all(|(a, b)| a.target == b.target && a.inject == b.inject && a.secret == b.secret)
    }
}
