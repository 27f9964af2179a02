//! What a binding may reach of the host-native backends ([`Grant`]), handed out from every
//! tenant's backend state ([`Backends`]), which outlives swaps and reloads.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::bindings::logging::switchyard::logging::types::Level;
use crate::metrics::Registry;
use crate::service::Service;

use super::backend::{Backend, BackendSettings};
use super::logging::{self, TenantLog, UnknownLevel};
use super::messaging::memory::MemoryBroker;
use super::messaging::redis::{RedisBroker, RedisConfigError};
use super::messaging::Broker;
use super::monitoring::sentry::{ConfigError as SentryConfigError, Settings as SentrySettings};
use super::monitoring::TenantMonitor;
use super::search::{self, Engine, GrantError as SearchGrantError};

/// Why a binding's `backend` and configuration cannot be granted. Each message names the key.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// The backend serves other services.
    #[error("backend: '{backend}' does not serve the {service} service")]
    DoesNotServe {
        /// The backend named.
        backend: Backend,
        /// The binding's service.
        service: Service,
    },
    /// `backend_config.min_level` of a logging binding.
    #[error("backend_config.{0}")]
    Level(#[from] UnknownLevel),
    /// A Sentry key of a monitoring binding.
    #[error("{0}")]
    Sentry(#[from] SentryConfigError),
    /// A Redis messaging binding without `backend_config.url`.
    #[error(
        "backend_config.url: the redis backend needs the server's address, e.g. \
         backend_config = {{ url = {{ env = \"REDIS_URL\" }} }} or url = \"redis://127.0.0.1:6379/0\""
    )]
    NoRedisUrl,
    /// A Redis messaging binding with an empty `backend_config.key_prefix`.
    #[error("backend_config.key_prefix: must not be empty")]
    EmptyKeyPrefix,
    /// `backend_config.url` of a Redis messaging binding.
    #[error("backend_config.{0}")]
    Redis(#[from] RedisConfigError),
    /// A backend's setting in `config`, which the component can read.
    #[error(
        "config.{key}: the {backend} backend's settings go in `backend_config`, which only the \
         host reads; everything in `config` is given to the component"
    )]
    SettingInConfig {
        /// The key.
        key: String,
        /// The binding's backend.
        backend: Backend,
    },
    /// A `backend_config` key the backend does not read.
    #[error("backend_config.{key}: the {backend} backend has no such setting (it reads: {known})")]
    UnknownSetting {
        /// The key.
        key: String,
        /// The binding's backend.
        backend: Backend,
        /// The keys it reads, or `none`.
        known: String,
    },
    /// `backend_config` on a binding without a backend.
    #[error("backend_config: only a binding with a `backend` has backend settings")]
    SettingsWithoutBackend,
    /// A search binding without `files`.
    #[error(
        "files: the tantivy backend keeps its indexes in the binding's `files` directory; set `files`"
    )]
    NoFiles,
    /// A search binding's index directory.
    #[error("{0}")]
    Search(#[from] SearchGrantError),
}

/// The host-native backends one generation's calls may reach.
#[derive(Clone, Default)]
pub struct Grant {
    /// The tenant's message broker, for a messaging binding with a backend.
    pub(crate) messaging: Option<Broker>,
    /// The tenant's log, for a logging binding with a backend.
    pub(crate) logging: Option<Arc<TenantLog>>,
    /// The tenant's metrics, spans and errors, for a monitoring binding with a backend.
    pub(crate) monitoring: Option<Arc<TenantMonitor>>,
    /// The tenant's search indexes, for a search binding with a backend.
    pub(crate) search: Option<Arc<Engine>>,
}

/// Every tenant's host-native state, kept across swaps and reloads.
#[derive(Default)]
pub struct Backends {
    brokers: Mutex<HashMap<String, Arc<MemoryBroker>>>,
    redis: Mutex<HashMap<String, Arc<RedisBroker>>>,
    logs: Mutex<HashMap<String, Arc<TenantLog>>>,
    monitors: Mutex<BTreeMap<String, Arc<TenantMonitor>>>,
    search: Mutex<HashMap<String, Arc<Engine>>>,
}

impl Backends {
    /// What a binding of (tenant, service) with `backend` may reach; an error names what
    /// does not fit. `config` is what the component reads, so no backend setting may be in
    /// it; `settings` are the backend's (`backend_config`). `files` is the directory where
    /// file-backed backends (search) keep their data.
    pub fn grant(
        &self,
        tenant: &str,
        service: Service,
        backend: Option<Backend>,
        config: &BTreeMap<String, String>,
        settings: &BackendSettings,
        files: Option<&Path>,
    ) -> Result<Grant, GrantError> {
        let Some(backend) = backend else {
            if !settings.is_empty() {
                return Err(GrantError::SettingsWithoutBackend);
            }
            return Ok(Grant::default());
        };
        if !backend.serves(service) {
            return Err(GrantError::DoesNotServe { backend, service });
        }
        let known = backend.settings(service);
        if let Some(key) = config.keys().find(|k| known.contains(&k.as_str())) {
            return Err(GrantError::SettingInConfig {
                key: key.clone(),
                backend,
            });
        }
        if let Some(key) = settings.keys().find(|k| !known.contains(k)) {
            return Err(GrantError::UnknownSetting {
                key: key.to_string(),
                backend,
                known: if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
            });
        }
        let config = settings.as_map();
        let mut grant = Grant::default();
        if service == Service::Messaging && backend == Backend::Redis {
            grant.messaging = Some(self.redis_broker(tenant, config)?);
        } else if service == Service::Messaging {
            let mut brokers = self.brokers.lock().unwrap_or_else(|p| p.into_inner());
            let broker = brokers
                .entry(tenant.to_string())
                .or_insert_with(|| Arc::new(MemoryBroker::new()))
                .clone();
            grant.messaging = Some(Broker::Memory(broker));
        }
        if service == Service::Logging {
            let min_level = config
                .get("min_level")
                .map(|l| logging::parse_level(l))
                .transpose()?;
            let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
            let log = logs
                .entry(tenant.to_string())
                .or_insert_with(|| Arc::new(TenantLog::new(Level::Info)))
                .clone();
            if let Some(level) = min_level {
                log.set_min_level(level);
            }
            grant.logging = Some(log);
        }
        if service == Service::Monitoring {
            let sentry = SentrySettings::from_config(config)?;
            let mut monitors = self.monitors.lock().unwrap_or_else(|p| p.into_inner());
            let monitor = monitors.entry(tenant.to_string()).or_default().clone();
            monitor.configure_sentry(tenant, sentry);
            grant.monitoring = Some(monitor);
        }
        if service == Service::Search {
            let files = files.ok_or(GrantError::NoFiles)?;
            let mut engines = self.search.lock().unwrap_or_else(|p| p.into_inner());
            grant.search = Some(search::grant(&mut engines, tenant, files)?);
        }
        Ok(grant)
    }
}

impl Backends {
    /// The tenant's Redis broker for `config` (`url`, `key_prefix`): the one it
    /// had when nothing changed, so a swap keeps its connection.
    fn redis_broker(
        &self,
        tenant: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<Broker, GrantError> {
        let url = config.get("url").ok_or(GrantError::NoRedisUrl)?;
        let prefix = config.get("key_prefix").cloned().unwrap_or_else(|| {
            // The tenant's segment holds no `:`, so no tenant's keys can fall under
            // another's prefix whatever the names.
            let segment = tenant.replace('%', "%25").replace(':', "%3A");
            format!("switchyard:{segment}:messaging:")
        });
        if prefix.is_empty() {
            return Err(GrantError::EmptyKeyPrefix);
        }
        let mut brokers = self.redis.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = brokers.get(tenant).filter(|b| b.is(url, &prefix)) {
            return Ok(Broker::Redis(b.clone()));
        }
        let broker = Arc::new(RedisBroker::new(url, &prefix)?);
        brokers.insert(tenant.to_string(), broker.clone());
        Ok(Broker::Redis(broker))
    }

    /// The host's metrics, then every tenant's, in the Prometheus text format.
    pub fn prometheus(&self, host: &Registry) -> String {
        let monitors = self.monitors.lock().unwrap_or_else(|p| p.into_inner());
        crate::metrics::render_prometheus(
            host,
            monitors.iter().map(|(t, m)| (t.as_str(), m.metrics())),
        )
    }
}
