//! [`Runtime`]: the handle an application holds, what it shares (engine, linker, bindings,
//! host-native state, signer, metrics), and looking bindings up.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, RwLock, Weak};

use wasmtime::component::Linker;
use wasmtime::Engine;

use crate::binding::{Binding, Loaded};
use crate::compile_cache::{CompileCache, CompileCacheStats};
use crate::config::RuntimeOptions;
use crate::error::{Error, Result};
use crate::metrics::{self, Registry};
use crate::native::Backends;
use crate::outbound::OutboundProxy;
use crate::service::Service;
use crate::signing::{SignatureError, Signer};
use crate::state::CallState;

use super::admission::Admission;
use super::compute::Compute;
use super::engine::{engine, linker};
use super::reports::BindingInfo;
use super::warm::WarmPlaces;

/// Where signed URLs point when nothing else is configured.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The Switchyard host runtime. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Runtime {
    pub(super) inner: Arc<Inner>,
}

/// What every clone of a [`Runtime`] shares.
pub(super) struct Inner {
    pub engine: Engine,
    pub linker: Linker<CallState>,
    pub options: RuntimeOptions,
    pub bindings: RwLock<BTreeMap<(String, Service), Arc<Binding>>>,
    /// Compiled components by (service, digest), reused while any binding holds them.
    pub compiled: Mutex<BTreeMap<(Service, String), Weak<Loaded>>>,
    /// Bindings removed by a reload whose buffers were not yet delivered.
    pub orphans: Mutex<Vec<Arc<Binding>>>,
    pub next_call: AtomicU64,
    pub stopping: AtomicBool,
    /// Host-native backends' state, per tenant.
    pub native: Backends,
    /// Signs and verifies server URLs.
    pub signer: Arc<Signer>,
    /// The host's own metrics (calls, latency, outcomes, denials), served at `/metrics`.
    pub metrics: Arc<Registry>,
    /// The queues every call goes through (per binding, per tenant, the pool).
    pub admission: Admission,
    /// Each tenant's compute slots (tenant-fair CPU).
    pub compute: Compute,
    /// The forward proxy outbound requests go through, if any.
    pub proxy: OutboundProxy,
    /// Compiled components on disk (`runtime.compile_cache`), if kept.
    pub compile_cache: Option<CompileCache>,
    /// Room for idle instances kept warm (`runtime.max_warm_instances`).
    pub warm_places: WarmPlaces,
}

impl Runtime {
    /// A runtime with no bindings. Needs a tokio runtime (it starts background tasks).
    /// Signed URLs use a random key and `http://127.0.0.1:8080` (see [`Runtime::with_signer`]).
    pub fn new(options: RuntimeOptions) -> Result<Self> {
        Self::with_signer(options, Signer::random(DEFAULT_PUBLIC_URL))
    }

    /// A runtime with no bindings whose signed URLs `signer` makes and verifies.
    /// Outbound requests go through the proxy the environment names, if any (see
    /// [`OutboundProxy::from_env`]).
    pub fn with_signer(options: RuntimeOptions, signer: Signer) -> Result<Self> {
        Self::assemble(options, signer, OutboundProxy::from_env())
    }

    /// A runtime with no bindings, its signer and its outbound proxy.
    pub(super) fn assemble(
        options: RuntimeOptions,
        signer: Signer,
        proxy: OutboundProxy,
    ) -> Result<Self> {
        let compile_cache = match &options.compile_cache {
            Some(dir) => Some(CompileCache::open(dir)?),
            None => None,
        };
        let engine = engine(&options, compile_cache.as_ref())?;
        let linker = linker(&engine)?;
        let admission = Admission::new(&options);
        let compute = Compute::new(options.computing_share());
        let warm_places = WarmPlaces::new(options.max_warm_instances);
        let rt = Runtime {
            inner: Arc::new(Inner {
                engine,
                linker,
                options,
                bindings: RwLock::new(BTreeMap::new()),
                compiled: Mutex::new(BTreeMap::new()),
                orphans: Mutex::new(Vec::new()),
                next_call: AtomicU64::new(1),
                stopping: AtomicBool::new(false),
                native: Default::default(),
                signer: Arc::new(signer),
                metrics: Default::default(),
                admission,
                compute,
                proxy,
                compile_cache,
                warm_places,
            }),
        };
        rt.start_background();
        Ok(rt)
    }

    /// Checks a signed URL of (tenant, service) for `method` on the resource whose path
    /// segments (after the service, each decoded on its own) are `segments`, with the
    /// request's query string.
    pub fn verify_signed(
        &self,
        tenant: &str,
        service: Service,
        method: &str,
        segments: &[&str],
        query: Option<&str>,
    ) -> std::result::Result<(), SignatureError> {
        self.inner
            .signer
            .verify(tenant, service.as_str(), method, segments, query)
    }

    /// Every tenant's monitoring metrics in the Prometheus text format (for `/metrics`).
    pub fn prometheus_metrics(&self) -> String {
        if let Some(cache) = &self.inner.compile_cache {
            let new = cache.unreported();
            let metrics = &self.inner.metrics;
            let counter = metrics::Kind::Counter;
            metrics.record_host(
                "switchyard_compile_cache_hits_total",
                counter,
                new.hits as f64,
                &[],
            );
            metrics.record_host(
                "switchyard_compile_cache_misses_total",
                counter,
                new.misses as f64,
                &[],
            );
        }
        self.inner.metrics.record_host(
            "switchyard_warm_instances",
            metrics::Kind::Gauge,
            f64::from(self.warm_instances()),
            &[],
        );
        self.inner.native.prometheus(&self.inner.metrics)
    }

    /// How many idle instances are kept warm now, across all bindings.
    pub fn warm_instances(&self) -> u32 {
        self.inner.warm_places.used()
    }

    /// How the compiled-component cache has served this runtime (none: no cache).
    pub fn compile_cache_stats(&self) -> Option<CompileCacheStats> {
        self.inner.compile_cache.as_ref().map(CompileCache::stats)
    }

    /// The runtime's options.
    pub fn options(&self) -> &RuntimeOptions {
        &self.inner.options
    }

    pub(crate) fn binding(&self, tenant: &str, service: Service) -> Result<Arc<Binding>> {
        let map = self
            .inner
            .bindings
            .read()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(b) = map.get(&(tenant.to_string(), service)) {
            return Ok(b.clone());
        }
        if map.keys().any(|(t, _)| t == tenant) {
            Err(Error::UnknownBinding {
                tenant: tenant.to_string(),
                service: service.to_string(),
            })
        } else {
            Err(Error::UnknownTenant(tenant.to_string()))
        }
    }

    pub(super) fn all_bindings(&self) -> Vec<Arc<Binding>> {
        let map = self
            .inner
            .bindings
            .read()
            .unwrap_or_else(|p| p.into_inner());
        map.values().cloned().collect()
    }

    /// Every binding, sorted by tenant then service.
    pub fn bindings(&self) -> Vec<BindingInfo> {
        self.all_bindings()
            .iter()
            .map(|b| {
                let g = b.current();
                BindingInfo {
                    tenant: b.tenant.to_string(),
                    service: b.service.to_string(),
                    adapter: g.adapter.to_string(),
                    digest: g.loaded.digest.clone(),
                    loaded_at: g.loaded_at_unix(),
                    pending: g.buffer.stats().pending,
                    retiring: b.retiring().len(),
                }
            })
            .collect()
    }
}
