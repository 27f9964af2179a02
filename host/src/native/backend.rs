//! [`Backend`]: the host-native backends a binding's `backend` key names, and which service
//! each serves.

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
