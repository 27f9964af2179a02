//! Host-native services: contracts the host implements itself, behind the same WIT as any
//! adapter.
//!
//! A host-native binding is served by a *bridge* component (`adapters/<service>-host`) whose
//! world imports its contract interface and exports it again: each export calls the import
//! of the same name, which the host implements here with the backend the binding's
//! `backend` key names. Binding, swap, limits, the JSON gateway and the behaviour suites
//! therefore treat a host-native provider exactly as they treat a Wasm adapter, and a
//! third-party Wasm adapter of the same contract can replace it with a swap.
//!
//! Backends keep their state per tenant in the [`Backends`] registry, outside any binding,
//! so a swap or reload of the bridge loses nothing.

pub mod logging;
pub mod messaging;
pub mod monitoring;
pub mod search;
pub mod sentry;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use crate::bindings::base::switchyard::types::types;
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

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "memory" => Ok(Backend::Memory),
            "tracing" => Ok(Backend::Tracing),
            "tantivy" => Ok(Backend::Tantivy),
            "redis" => Ok(Backend::Redis),
            other => Err(format!(
                "unknown backend '{other}' (known: memory, tracing, tantivy, redis)"
            )),
        }
    }
}

/// The host-native backends one generation's calls may reach.
#[derive(Clone, Default)]
pub struct Grant {
    /// The tenant's message broker, for a messaging binding with a backend.
    pub(crate) messaging: Option<messaging::Broker>,
    /// The tenant's log, for a logging binding with a backend.
    pub(crate) logging: Option<Arc<logging::TenantLog>>,
    /// The tenant's metrics, spans and errors, for a monitoring binding with a backend.
    pub(crate) monitoring: Option<Arc<monitoring::TenantMonitor>>,
    /// The tenant's search indexes, for a search binding with a backend.
    pub(crate) search: Option<Arc<search::engine::Engine>>,
}

/// Every tenant's host-native state, kept across swaps and reloads.
#[derive(Default)]
pub(crate) struct Backends {
    brokers: Mutex<HashMap<String, Arc<messaging::memory::MemoryBroker>>>,
    redis: Mutex<HashMap<String, Arc<messaging::redis::RedisBroker>>>,
    logs: Mutex<HashMap<String, Arc<logging::TenantLog>>>,
    monitors: Mutex<std::collections::BTreeMap<String, Arc<monitoring::TenantMonitor>>>,
    search: Mutex<HashMap<String, Arc<search::engine::Engine>>>,
}

impl Backends {
    /// What a binding of (tenant, service) with `backend` may reach; an error names what
    /// does not fit. `files` is the binding's `files` directory, where file-backed backends
    /// (search) keep their data.
    pub fn grant(
        &self,
        tenant: &str,
        service: Service,
        backend: Option<Backend>,
        config: &std::collections::BTreeMap<String, String>,
        files: Option<&std::path::Path>,
    ) -> Result<Grant, String> {
        let Some(backend) = backend else {
            return Ok(Grant::default());
        };
        if !backend.serves(service) {
            return Err(format!(
                "backend: '{backend}' does not serve the {service} service"
            ));
        }
        let mut grant = Grant::default();
        if service == Service::Messaging && backend == Backend::Redis {
            grant.messaging = Some(self.redis_broker(tenant, config)?);
        } else if service == Service::Messaging {
            let mut brokers = self.brokers.lock().unwrap_or_else(|p| p.into_inner());
            let broker = brokers
                .entry(tenant.to_string())
                .or_insert_with(|| Arc::new(messaging::memory::MemoryBroker::new()))
                .clone();
            grant.messaging = Some(messaging::Broker::Memory(broker));
        }
        if service == Service::Logging {
            let min_level = config
                .get("min_level")
                .map(|l| logging::parse_level(l).map_err(|m| format!("config.{m}")))
                .transpose()?;
            let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
            let log = logs
                .entry(tenant.to_string())
                .or_insert_with(|| {
                    Arc::new(logging::TenantLog::new(
                        crate::bindings::logging::switchyard::logging::types::Level::Info,
                    ))
                })
                .clone();
            if let Some(level) = min_level {
                log.set_min_level(level);
            }
            grant.logging = Some(log);
        }
        if service == Service::Monitoring {
            let sentry = self::sentry::Settings::from_config(config).map_err(|e| e.to_string())?;
            let mut monitors = self.monitors.lock().unwrap_or_else(|p| p.into_inner());
            let monitor = monitors.entry(tenant.to_string()).or_default().clone();
            self::sentry::configure(&monitor, tenant, sentry);
            grant.monitoring = Some(monitor);
        }
        if service == Service::Search {
            let files = files.ok_or_else(|| {
                "files: the tantivy backend keeps its indexes in the binding's `files` \
                 directory; set `files`"
                    .to_string()
            })?;
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
        config: &std::collections::BTreeMap<String, String>,
    ) -> Result<messaging::Broker, String> {
        let url = config.get("url").ok_or_else(|| {
            "config.url: the redis backend needs the server's address, e.g. \
             url = \"redis://127.0.0.1:6379/0\" (or \"${REDIS_URL}\" to read it from the environment)"
                .to_string()
        })?;
        let prefix = config.get("key_prefix").cloned().unwrap_or_else(|| {
            // The tenant's segment holds no `:`, so no tenant's keys can fall under
            // another's prefix whatever the names.
            let segment = tenant.replace('%', "%25").replace(':', "%3A");
            format!("switchyard:{segment}:messaging:")
        });
        if prefix.is_empty() {
            return Err("config.key_prefix: must not be empty".into());
        }
        let mut brokers = self.redis.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = brokers.get(tenant).filter(|b| b.is(url, &prefix)) {
            return Ok(messaging::Broker::Redis(b.clone()));
        }
        let broker = Arc::new(
            messaging::redis::RedisBroker::new(url, &prefix).map_err(|m| format!("config.{m}"))?,
        );
        brokers.insert(tenant.to_string(), broker.clone());
        Ok(messaging::Broker::Redis(broker))
    }

    /// The host's metrics, then every tenant's, in the Prometheus text format.
    pub fn prometheus(&self, host: &monitoring::TenantMonitor) -> String {
        let monitors = self.monitors.lock().unwrap_or_else(|p| p.into_inner());
        monitoring::render_prometheus(host, monitors.iter().map(|(t, m)| (t.as_str(), &**m)))
    }
}

/// Checks that a component imports a host-native contract only when its binding has a
/// backend for it, so that a bridge is never bound without one.
pub(crate) fn check_imports(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
    service: Service,
    backend: Option<Backend>,
) -> Result<(), String> {
    let ty = component.component_type();
    for (name, _) in ty.imports(engine) {
        if let Some(imported) = Service::ALL.into_iter().find(|s| name == s.interface()) {
            if imported != service {
                return Err(format!(
                    "it imports the {imported} contract ({name}), which a {service} binding cannot grant"
                ));
            }
            if backend.is_none() {
                return Err(format!(
                    "it is a host bridge (it imports {name}) but the binding names no backend; \
                     set `backend` (for example backend = \"memory\")"
                ));
            }
        }
    }
    Ok(())
}

/// Links the host side of the host-native contracts (bridges import them), of the storage
/// contract's types and of URL signing.
pub(crate) fn add_to_linker(
    linker: &mut wasmtime::component::Linker<crate::state::CallState>,
) -> wasmtime::Result<()> {
    use crate::bindings::{messaging, messaging_bridge};
    use crate::state::CallState;
    use wasmtime::component::HasSelf;
    crate::bindings::storage::switchyard::storage::types::add_to_linker::<_, HasSelf<CallState>>(
        linker,
        |s| s,
    )?;
    crate::bindings::signing::switchyard::adapter::signing::add_to_linker::<_, HasSelf<CallState>>(
        linker,
        |s| s,
    )?;
    messaging::switchyard::messaging::types::add_to_linker::<_, HasSelf<CallState>>(linker, |s| s)?;
    use crate::bindings::{search, search_bridge};
    search::switchyard::search::types::add_to_linker::<_, HasSelf<CallState>>(linker, |s| s)?;
    search_bridge::switchyard::search::search::add_to_linker::<_, HasSelf<CallState>>(
        linker,
        |s| s,
    )?;
    messaging_bridge::switchyard::messaging::messaging::add_to_linker::<_, HasSelf<CallState>>(
        linker,
        |s| s,
    )?;
    use crate::bindings::{logging, logging_bridge, monitoring, monitoring_bridge};
    logging::switchyard::logging::types::add_to_linker::<_, HasSelf<CallState>>(linker, |s| s)?;
    logging_bridge::switchyard::logging::logging::add_to_linker::<_, HasSelf<CallState>>(
        linker,
        |s| s,
    )?;
    monitoring::switchyard::monitoring::types::add_to_linker::<_, HasSelf<CallState>>(
        linker,
        |s| s,
    )?;
    monitoring_bridge::switchyard::monitoring::monitoring::add_to_linker::<_, HasSelf<CallState>>(
        linker,
        |s| s,
    )?;
    Ok(())
}

/// An error of the shared contract type.
pub(crate) fn error(kind: types::ErrorKind, message: impl Into<String>) -> types::Error {
    types::Error {
        kind,
        retryable: matches!(
            kind,
            types::ErrorKind::Unavailable
                | types::ErrorKind::RateLimited
                | types::ErrorKind::Timeout
        ),
        message: message.into(),
        provider_code: None,
        provider_message: None,
        retry_after_ms: None,
    }
}
