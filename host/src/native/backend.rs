//! [`Backend`]: the host-native backends a binding's `backend` key names, which service each
//! serves and which settings it reads ([`BackendSettings`], the binding's `backend_config`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::service::Service;

/// A host-native backend, as named by a binding's `backend` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// In-process, in memory: the embedded default (messaging, monitoring).
    Memory,
    /// The host's `tracing` pipeline (logging).
    Tracing,
    /// An embedded full-text index (tantivy) in the binding's `files` directory (search).
    Tantivy,
    /// A Redis server shared by every host process (messaging; config `url`).
    Redis,
}

impl Backend {
    /// The backend's name, as in configuration.
    pub fn as_str(&self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Tracing => "tracing",
            Backend::Tantivy => "tantivy",
            Backend::Redis => "redis",
        }
    }

    /// The settings (`backend_config` keys) this backend reads when it serves `service`.
    pub fn settings(&self, service: Service) -> &'static [&'static str] {
        match (self, service) {
            (Backend::Redis, _) => &["url", "key_prefix"],
            (Backend::Tracing, _) => &["min_level"],
            (Backend::Memory, Service::Monitoring) => {
                &["sentry_dsn", "sentry_environment", "sentry_release"]
            }
            _ => &[],
        }
    }

    /// Whether `service` can be served by this backend.
    pub fn serves(&self, service: Service) -> bool {
        matches!(
            (self, service),
            (Backend::Memory, Service::Messaging | Service::Monitoring)
                | (Backend::Redis, Service::Messaging)
                | (Backend::Tracing, Service::Logging)
                | (Backend::Tantivy, Service::Search)
        )
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `backend` value that names no backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend '{0}' (known: memory, tracing, tantivy, redis)")]
pub struct UnknownBackend(pub String);

impl FromStr for Backend {
    type Err = UnknownBackend;
    fn from_str(s: &str) -> Result<Self, UnknownBackend> {
        match s {
            "memory" => Ok(Backend::Memory),
            "tracing" => Ok(Backend::Tracing),
            "tantivy" => Ok(Backend::Tantivy),
            "redis" => Ok(Backend::Redis),
            other => Err(UnknownBackend(other.to_string())),
        }
    }
}

/// A backend's settings (a binding's `backend_config`): read by the host only, never
/// given to the component. `Debug` shows the keys, not the values (they hold passwords).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct BackendSettings(BTreeMap<String, String>);

impl BackendSettings {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&String> {
        self.0.get(key)
    }

    /// Sets `key`.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }

    /// The keys set.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Every key and value.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for BackendSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}
