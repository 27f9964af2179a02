//! The runtime: one wasmtime engine, the bindings of every tenant, and the call path.
//!
//! Every call instantiates the binding's component afresh in its own store (with the pooling
//! allocator this costs tens of microseconds) and drops it afterwards. A store runs one call
//! at a time and is unusable after a trap, so a fresh instance per call gives concurrency,
//! isolation between calls and tenants, and a clean slate after a trap for free; state that
//! must outlive a call lives in the host-held buffer (see `buffer`).
//!
//! Background tasks: an epoch ticker (deadlines), a tick driver (`lifecycle.tick` for
//! generations with buffered work, re-drain of retiring ones) and, when asked, a watcher that
//! hot-swaps a binding when its component file changes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};

use sha2::{Digest, Sha256};
use tracing::Instrument;
use wasmtime::component::{Component, HasSelf, Instance, Linker, Val};
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wasi_http::WasiHttpCtx;

use crate::binding::{Binding, FileStamp, Generation, InFlight, Loaded};
use crate::bindings::base;
use crate::bindings::monitoring::switchyard::monitoring::types::MetricKind;
use crate::buffer::Lease;
use crate::config::{BindingSpec, ComponentSource, FileConfig, RuntimeOptions, FILES_GUEST_PATH};
use crate::error::{Error, Result};
use crate::limits::{MemoryLimiter, EPOCH_TICK};
use crate::outbound::{CallIdentity, OutboundPolicy};
use crate::service::Service;
use crate::signing::Signer;
use crate::state::CallState;

/// Where signed URLs point when nothing else is configured.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The Switchyard host runtime. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<CallState>,
    options: RuntimeOptions,
    bindings: RwLock<BTreeMap<(String, Service), Arc<Binding>>>,
    compiled: std::sync::Mutex<BTreeMap<(Service, String), Weak<Loaded>>>,
    /// Bindings removed by a reload whose buffers were not yet delivered.
    orphans: std::sync::Mutex<Vec<Arc<Binding>>>,
    next_call: AtomicU64,
    stopping: AtomicBool,
    /// Host-native backends' state, per tenant.
    native: crate::native::Backends,
    /// Signs and verifies server URLs.
    signer: Arc<crate::signing::Signer>,
    /// The host's own metrics (calls, latency, outcomes, denials), served at `/metrics`.
    metrics: Arc<crate::native::monitoring::TenantMonitor>,
}

/// What a binding looks like now, for listings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BindingInfo {
    /// The tenant.
    pub tenant: String,
    /// The service.
    pub service: String,
    /// The adapter (component file stem or upload name).
    pub adapter: String,
    /// sha256 of the component, hex.
    pub digest: String,
    /// When the component was loaded, seconds since the Unix epoch.
    pub loaded_at: u64,
    /// Items in the current generation's buffer.
    pub pending: u32,
    /// Replaced generations still delivering their buffer.
    pub retiring: usize,
}

/// What a binding answered to its contract's `health` call.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BindingHealth {
    /// The tenant.
    pub tenant: String,
    /// The service.
    pub service: String,
    /// The adapter serving it.
    pub adapter: String,
    /// Whether it answered that it is healthy.
    pub ok: bool,
    /// Its detail, or why the health call failed.
    pub detail: String,
}

/// The outcome of a hot swap.
#[derive(Debug, Clone)]
pub struct SwapReport {
    /// Digest of the component replaced.
    pub old_digest: String,
    /// Digest of the component now serving.
    pub new_digest: String,
    /// Whether the old component delivered everything it held; when not, it stays retiring
    /// and is drained again on every tick.
    pub drained: std::result::Result<(), String>,
}

/// What a reload changed; entries are `tenant/service`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReloadReport {
    /// Bindings that were not there before.
    pub added: Vec<String>,
    /// Bindings whose component, configuration, rules or limits changed.
    pub replaced: Vec<String>,
    /// Bindings no longer in the file.
    pub removed: Vec<String>,
    /// Bindings left as they were.
    pub unchanged: Vec<String>,
}

/// What shutdown left undelivered, per binding.
#[derive(Debug, Clone, Default)]
pub struct ShutdownReport {
    /// (tenant, service, items left, error) for every binding that could not drain.
    pub undelivered: Vec<(String, Service, u32, String)>,
}

/// Builds a [`Runtime`].
#[derive(Default)]
pub struct RuntimeBuilder {
    options: RuntimeOptions,
    bindings: Vec<(String, Service, BindingSpec)>,
    signer: Option<Signer>,
}

impl RuntimeBuilder {
    /// Sets runtime-wide options.
    pub fn options(mut self, options: RuntimeOptions) -> Self {
        self.options = options;
        self
    }

    /// Adds a binding.
    pub fn binding(mut self, tenant: &str, service: Service, spec: BindingSpec) -> Self {
        self.bindings.push((tenant.to_string(), service, spec));
        self
    }

    /// Loads options and bindings from a TOML file (component paths relative to it).
    pub fn config_file(mut self, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let cfg = FileConfig::load(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        self.options = cfg.runtime;
        self.signer = Some(cfg.server.signer(&path.display().to_string())?);
        self.bindings
            .extend(cfg.bindings(base, &path.display().to_string())?);
        Ok(self)
    }

    /// Signs server URLs with `signer` (default: a random key, `http://127.0.0.1:8080`).
    pub fn signer(mut self, signer: Signer) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Builds the runtime, compiling every binding's component. Needs a tokio runtime.
    pub async fn build(self) -> Result<Runtime> {
        let signer = self
            .signer
            .unwrap_or_else(|| Signer::random(DEFAULT_PUBLIC_URL));
        let rt = Runtime::with_signer(self.options, signer)?;
        for (tenant, service, spec) in self.bindings {
            rt.add_binding(&tenant, service, spec).await?;
        }
        Ok(rt)
    }
}

fn engine(options: &RuntimeOptions) -> Result<Engine> {
    let mut cfg = wasmtime::Config::new();
    cfg.wasm_component_model(true);
    cfg.epoch_interruption(true);
    if options.pooling {
        let n = options.max_instances.max(1);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(n);
        pool.total_core_instances(n.saturating_mul(8));
        pool.total_memories(n.saturating_mul(2));
        pool.total_tables(n.saturating_mul(8));
        pool.max_memory_size((options.max_memory_mib as usize).saturating_mul(1024 * 1024));
        cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&cfg).map_err(|e| Error::Wasmtime(format!("{e:?}")))
}

fn linker(engine: &Engine) -> Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    let wasm = |e: wasmtime::Error| Error::Wasmtime(format!("{e:?}"));
    // Full WASI p2 so components built for wasm32-wasip2 instantiate; the context grants nothing.
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(wasm)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(wasm)?;
    base::switchyard::types::types::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)
        .map_err(wasm)?;
    base::switchyard::adapter::log::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)
        .map_err(wasm)?;
    base::switchyard::adapter::config::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)
        .map_err(wasm)?;
    base::switchyard::adapter::buffer::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)
        .map_err(wasm)?;
    // The host-native contracts, for bridge components (see `native`).
    crate::native::add_to_linker(&mut linker).map_err(wasm)?;
    Ok(linker)
}

impl Runtime {
    /// A builder.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// A runtime with no bindings. Needs a tokio runtime (it starts background tasks).
    /// Signed URLs use a random key and `http://127.0.0.1:8080` (see [`Runtime::with_signer`]).
    pub fn new(options: RuntimeOptions) -> Result<Self> {
        Self::with_signer(options, Signer::random(DEFAULT_PUBLIC_URL))
    }

    /// A runtime with no bindings whose signed URLs `signer` makes and verifies.
    pub fn with_signer(options: RuntimeOptions, signer: Signer) -> Result<Self> {
        let engine = engine(&options)?;
        let linker = linker(&engine)?;
        let rt = Runtime {
            inner: Arc::new(Inner {
                engine,
                linker,
                options,
                bindings: RwLock::new(BTreeMap::new()),
                compiled: std::sync::Mutex::new(BTreeMap::new()),
                orphans: std::sync::Mutex::new(Vec::new()),
                next_call: AtomicU64::new(1),
                stopping: AtomicBool::new(false),
                native: Default::default(),
                signer: Arc::new(signer),
                metrics: Default::default(),
            }),
        };
        rt.start_background();
        Ok(rt)
    }

    /// Checks a signed URL of (tenant, service) for `method` on `resource` (decoded), with
    /// the request's query string.
    pub fn verify_signed(
        &self,
        tenant: &str,
        service: Service,
        method: &str,
        resource: &str,
        query: Option<&str>,
    ) -> std::result::Result<(), crate::signing::SignatureError> {
        self.inner
            .signer
            .verify(tenant, service.as_str(), method, resource, query)
    }

    /// Every tenant's monitoring metrics in the Prometheus text format (for `/metrics`).
    pub fn prometheus_metrics(&self) -> String {
        self.inner.native.prometheus(&self.inner.metrics)
    }

    /// Calls every binding's `health` function, all at once, each within its own deadline.
    pub async fn health_report(&self) -> Vec<BindingHealth> {
        let bindings = self.all_bindings();
        let checks = bindings.iter().map(|b| async move {
            let adapter = b.current().adapter.to_string();
            let answer = self
                .invoke_json(&b.tenant, b.service, "health", serde_json::json!({}))
                .await;
            let (ok, detail) = match answer {
                Ok(v) => (
                    v["ok"].as_bool().unwrap_or(false),
                    v["detail"].as_str().unwrap_or("").to_string(),
                ),
                Err(e) => (false, format!("health call failed: {e}")),
            };
            BindingHealth {
                tenant: b.tenant.to_string(),
                service: b.service.to_string(),
                adapter,
                ok,
                detail,
            }
        });
        futures::future::join_all(checks).await
    }

    /// The host's own metrics registry.
    pub(crate) fn host_metrics(&self) -> &crate::native::monitoring::TenantMonitor {
        &self.inner.metrics
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Some loaded component of `service`, for its types.
    pub(crate) fn any_loaded(&self, service: Service) -> Option<Arc<Loaded>> {
        self.all_bindings()
            .into_iter()
            .find(|b| b.service == service)
            .map(|b| b.current().loaded.clone())
    }

    /// The runtime's options.
    pub fn options(&self) -> &RuntimeOptions {
        &self.inner.options
    }

    fn start_background(&self) {
        // Epoch ticker: a plain thread, so deadlines hold even when tokio's threads are busy.
        let weak = Arc::downgrade(&self.inner);
        std::thread::Builder::new()
            .name("switchyard-epoch".into())
            .spawn(move || loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(inner) if !inner.stopping.load(Ordering::SeqCst) => {
                        inner.engine.increment_epoch()
                    }
                    Some(inner) => {
                        // Keep ticking while draining at shutdown, then stop with the runtime.
                        inner.engine.increment_epoch();
                    }
                    None => return,
                }
            })
            .ok();
        let weak = Arc::downgrade(&self.inner);
        let every = self.inner.options.tick_interval();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                if inner.stopping.load(Ordering::SeqCst) {
                    return;
                }
                Runtime { inner }.tick_all();
            }
        });
        if self.inner.options.watch {
            let weak = Arc::downgrade(&self.inner);
            let every = self.inner.options.watch_interval();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let Some(inner) = weak.upgrade() else { return };
                    if inner.stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    Runtime { inner }.check_files().await;
                }
            });
        }
    }

    /// Compiles and validates a component for `service`, reusing an identical one already loaded.
    async fn load(&self, service: Service, source: &ComponentSource) -> Result<Arc<Loaded>> {
        let refuse = |message: String| Error::InvalidComponent {
            component: source.name(),
            service: service.to_string(),
            message,
        };
        let bytes = source.read()?;
        let digest = hex::encode(Sha256::digest(&bytes));
        let key = (service, digest.clone());
        if let Some(loaded) = self.compiled_get(&key) {
            return Ok(loaded);
        }
        let engine = self.inner.engine.clone();
        let component = tokio::task::spawn_blocking(move || Component::new(&engine, &bytes))
            .await
            .map_err(|e| refuse(format!("compilation task failed: {e}")))?
            .map_err(|e| refuse(format!("not a valid Wasm component: {}", e.root_cause())))?;
        let pre = self.inner.linker.instantiate_pre(&component).map_err(|e| {
            refuse(format!(
                "it imports something Switchyard does not provide: {e:#}"
            ))
        })?;
        crate::bindings::validate(service, &pre).map_err(refuse)?;
        let loaded = Arc::new(Loaded {
            digest,
            component,
            pre,
        });
        self.inner
            .compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, Arc::downgrade(&loaded));
        Ok(loaded)
    }

    /// A generation of (tenant, service) serving `loaded` with `spec`, its host-native
    /// backends granted; refused when the component and the binding's `backend` do not fit.
    fn generation(
        &self,
        tenant: &str,
        service: Service,
        loaded: Arc<Loaded>,
        spec: &BindingSpec,
    ) -> Result<Generation> {
        let refuse = |message: String| Error::Config {
            origin: format!("binding {tenant}/{service}"),
            message,
        };
        crate::native::check_imports(&self.inner.engine, &loaded.component, service, spec.backend)
            .map_err(refuse)?;
        let grant = self
            .inner
            .native
            .grant(
                tenant,
                service,
                spec.backend,
                &spec.config,
                spec.files.as_deref(),
            )
            .map_err(refuse)?;
        Ok(Generation::new(loaded, spec, grant))
    }

    fn compiled_get(&self, key: &(Service, String)) -> Option<Arc<Loaded>> {
        let mut cache = self
            .inner
            .compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, w| w.strong_count() > 0);
        cache.get(key).and_then(Weak::upgrade)
    }

    fn check_limits(&self, spec: &BindingSpec) -> Result<()> {
        spec.limits.validate().map_err(Error::config)?;
        if let Some(dir) = &spec.files {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::config(format!("files: cannot create {}: {e}", dir.display()))
            })?;
        }
        if self.inner.options.pooling && spec.limits.memory_mib > self.inner.options.max_memory_mib
        {
            return Err(Error::config(format!(
                "limits.memory_mib = {} exceeds runtime.max_memory_mib = {}",
                spec.limits.memory_mib, self.inner.options.max_memory_mib
            )));
        }
        Ok(())
    }

    /// Adds a binding; fails if (tenant, service) is bound already (use [`Runtime::rebind`]).
    pub async fn add_binding(
        &self,
        tenant: &str,
        service: Service,
        spec: BindingSpec,
    ) -> Result<()> {
        if tenant.is_empty() {
            return Err(Error::config("tenant name must not be empty"));
        }
        self.check_limits(&spec)?;
        let loaded = self.load(service, &spec.component).await?;
        let generation = self.generation(tenant, service, loaded, &spec)?;
        let binding = Arc::new(Binding::new(tenant, service, generation));
        let mut map = self
            .inner
            .bindings
            .write()
            .unwrap_or_else(|p| p.into_inner());
        let key = (tenant.to_string(), service);
        if map.contains_key(&key) {
            return Err(Error::config(format!(
                "tenant '{tenant}' already has a '{service}' binding"
            )));
        }
        map.insert(key, binding);
        tracing::info!(tenant, %service, adapter = %spec.component.name(), "binding added");
        Ok(())
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

    fn all_bindings(&self) -> Vec<Arc<Binding>> {
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

    /// Hot-swaps the component of (tenant, service), keeping its configuration, rules and limits.
    pub async fn swap(
        &self,
        tenant: &str,
        service: Service,
        component: ComponentSource,
    ) -> Result<SwapReport> {
        let binding = self.binding(tenant, service)?;
        let mut spec = binding.current().spec();
        spec.component = component;
        self.replace(&binding, spec).await
    }

    /// Replaces the whole binding of (tenant, service) (component, configuration, rules,
    /// limits) at runtime, with the same guarantees as [`Runtime::swap`].
    pub async fn rebind(
        &self,
        tenant: &str,
        service: Service,
        spec: BindingSpec,
    ) -> Result<SwapReport> {
        let binding = self.binding(tenant, service)?;
        self.replace(&binding, spec).await
    }

    async fn replace(&self, binding: &Arc<Binding>, spec: BindingSpec) -> Result<SwapReport> {
        if self.inner.stopping.load(Ordering::SeqCst) {
            return Err(Error::ShuttingDown);
        }
        self.check_limits(&spec)?;
        let _one_at_a_time = binding.swap_lock.lock().await;
        // Load first: a component that fails to compile or to implement the contract is
        // refused here and the old one keeps serving.
        let loaded = self.load(binding.service, &spec.component).await?;
        let generation = self.generation(&binding.tenant, binding.service, loaded, &spec)?;
        let old = binding.replace(generation);
        let new_digest = binding.current().loaded.digest.clone();
        tracing::info!(
            tenant = %binding.tenant, service = %binding.service,
            old = %old.loaded.digest, new = %new_digest, adapter = %spec.component.name(),
            "component swapped; draining the old one"
        );
        old.wait_idle().await;
        let drained = self.drain(binding, &old).await.map_err(|e| e.to_string());
        if let Err(e) = &drained {
            tracing::warn!(
                tenant = %binding.tenant, service = %binding.service, error = %e,
                pending = old.buffer.stats().pending,
                "old component could not deliver everything; it stays retiring and is retried"
            );
        }
        if !old.buffer.is_empty() {
            binding.retire(old.clone());
        }
        Ok(SwapReport {
            old_digest: old.loaded.digest.clone(),
            new_digest,
            drained,
        })
    }

    /// `lifecycle.drain` on one generation, then checks nothing is left.
    async fn drain(&self, binding: &Binding, generation: &Arc<Generation>) -> Result<()> {
        let _work = generation.work.lock().await;
        if generation.buffer.is_empty() {
            return Ok(());
        }
        let hold = generation.enter();
        self.lifecycle(binding, &hold, Lifecycle::Drain).await?;
        let left = generation.buffer.stats().pending;
        if left > 0 {
            return Err(Error::Trap {
                tenant: binding.tenant.to_string(),
                service: binding.service.to_string(),
                function: "drain".into(),
                message: format!("drain returned ok but {left} items are still buffered"),
            });
        }
        Ok(())
    }

    fn tick_all(&self) {
        let mut bindings = self.all_bindings();
        {
            let mut orphans = self.inner.orphans.lock().unwrap_or_else(|p| p.into_inner());
            orphans.retain(|b| {
                b.forget_drained();
                !b.retiring().is_empty()
            });
            bindings.extend(orphans.iter().cloned());
        }
        for binding in bindings {
            binding.forget_drained();
            let current = binding.current();
            let mut work = vec![(current, Lifecycle::Tick)];
            work.extend(
                binding
                    .retiring()
                    .into_iter()
                    .map(|g| (g, Lifecycle::Drain)),
            );
            for (generation, which) in work {
                if generation.buffer.stats().pending == 0 {
                    continue;
                }
                let Ok(guard) = generation.work.clone().try_lock_owned() else {
                    continue;
                };
                let rt = self.clone();
                let binding = binding.clone();
                tokio::spawn(async move {
                    let _guard = guard;
                    let hold = generation.enter();
                    if let Err(e) = rt.lifecycle(&binding, &hold, which).await {
                        tracing::warn!(
                            tenant = %binding.tenant, service = %binding.service,
                            adapter = %generation.adapter, error = %e, "lifecycle {which:?} failed"
                        );
                    }
                });
            }
        }
    }

    async fn check_files(&self) {
        for binding in self.all_bindings() {
            let current = binding.current();
            let ComponentSource::Path(path) = &current.source else {
                continue;
            };
            let now = FileStamp::of(path);
            {
                let mut seen = current.stamp.lock().unwrap_or_else(|p| p.into_inner());
                if now.is_none() || *seen == now {
                    continue;
                }
                *seen = now;
            }
            let Ok(bytes) = std::fs::read(path) else {
                continue;
            };
            if hex::encode(Sha256::digest(&bytes)) == current.loaded.digest {
                continue;
            }
            tracing::info!(tenant = %binding.tenant, service = %binding.service, file = %path.display(), "component file changed; swapping");
            let mut spec = current.spec();
            spec.component = ComponentSource::Path(path.clone());
            if let Err(e) = self.replace(&binding, spec).await {
                tracing::error!(
                    tenant = %binding.tenant, service = %binding.service, file = %path.display(),
                    error = %e, "changed component refused; the old one keeps serving"
                );
            }
        }
    }

    async fn lifecycle(&self, binding: &Binding, hold: &InFlight, which: Lifecycle) -> Result<()> {
        let name = match which {
            Lifecycle::Tick => "tick",
            Lifecycle::Drain => "drain",
        };
        self.call_in(binding, hold, name, async |store, instance| {
            let missing = || wasmtime::Error::msg(format!("component exports no lifecycle.{name}"));
            let iface = instance
                .get_export_index(&mut *store, None, LIFECYCLE)
                .ok_or_else(missing)?;
            let index = instance
                .get_export_index(&mut *store, Some(&iface), name)
                .ok_or_else(missing)?;
            let func = instance.get_func(&mut *store, index).ok_or_else(missing)?;
            let mut results = [Val::Bool(false)];
            func.call_async(&mut *store, &[], &mut results).await?;
            Ok(match results {
                [Val::Result(Err(Some(e)))] => Err(crate::gateway::contract_error(&e)),
                _ => Ok(()),
            })
        })
        .await?
    }

    /// Calls into the current component of (tenant, service).
    pub(crate) async fn call<R>(
        &self,
        binding: &Binding,
        function: &str,
        f: impl AsyncFnOnce(&mut Store<CallState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R> {
        if self.inner.stopping.load(Ordering::SeqCst) {
            return Err(Error::ShuttingDown);
        }
        let hold = binding.enter();
        self.call_in(binding, &hold, function, f).await
    }

    async fn call_in<R>(
        &self,
        binding: &Binding,
        hold: &InFlight,
        function: &str,
        f: impl AsyncFnOnce(&mut Store<CallState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R> {
        let generation = &hold.0;
        let call_id = self.inner.next_call.fetch_add(1, Ordering::Relaxed);
        let who = CallIdentity {
            tenant: binding.tenant.clone(),
            service: binding.service.as_str().into(),
            adapter: generation.adapter.clone(),
            call_id,
        };
        let span = tracing::info_span!(
            "adapter_call",
            tenant = %who.tenant, service = %who.service, adapter = %who.adapter,
            call_id, function, digest = %&generation.loaded.digest[..12],
        );
        let limits = generation.limits;
        let mut wasi = WasiCtxBuilder::new();
        if let Some(dir) = &generation.files {
            wasi.preopened_dir(dir, FILES_GUEST_PATH, FsPerms::ReadWrite)
                .map_err(|e| Error::Config {
                    origin: format!("binding {}/{}", binding.tenant, binding.service),
                    message: format!("files: cannot open {}: {e}", dir.display()),
                })?;
        }
        let wasi = wasi.build();
        let mut store = Store::new(
            &self.inner.engine,
            CallState {
                wasi,
                http: WasiHttpCtx::new(),
                table: wasmtime::component::ResourceTable::new(),
                hooks: OutboundPolicy::new(
                    generation.rules.clone(),
                    generation.forbidden.clone(),
                    who.clone(),
                    self.inner.metrics.clone(),
                ),
                config: generation.config.clone(),
                lease: Lease::new(generation.buffer.clone(), call_id),
                limiter: MemoryLimiter::new(limits.memory_bytes()),
                who,
                native: generation.native.clone(),
                signer: self.inner.signer.clone(),
                log_limit: generation.log_limit.clone(),
                deadline: std::time::Instant::now() + limits.deadline(),
            },
        );
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(limits.deadline_ticks());
        store.epoch_deadline_trap();
        let pre = &generation.loaded.pre;
        let run = async {
            let instance = pre.instantiate_async(&mut store).await?;
            f(&mut store, &instance).await
        };
        let started = std::time::Instant::now();
        let outcome = tokio::time::timeout(limits.deadline(), run)
            .instrument(span.clone())
            .await;
        let _entered = span.enter();
        // A trap is the adapter's bug: an error. A deadline or the memory cap is a limit
        // doing its job: a warning.
        let fail = |kind: &str| {
            if kind == "trap" {
                tracing::error!(outcome = kind, "adapter call failed");
            } else {
                tracing::warn!(outcome = kind, "adapter call failed");
            }
        };
        let result = match outcome {
            Ok(Ok(value)) => Ok(value),
            Err(_elapsed) => {
                fail("deadline");
                Err(Error::Deadline {
                    tenant: binding.tenant.to_string(),
                    service: binding.service.to_string(),
                    function: function.into(),
                    deadline: limits.deadline(),
                })
            }
            Ok(Err(e)) => {
                let (tenant, service, function) = (
                    binding.tenant.to_string(),
                    binding.service.to_string(),
                    function.to_string(),
                );
                if store.data().limiter.hit() {
                    fail("memory");
                    Err(Error::MemoryLimit {
                        tenant,
                        service,
                        function,
                        cap_bytes: store.data().limiter.cap(),
                    })
                } else if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
                    fail("deadline");
                    Err(Error::Deadline {
                        tenant,
                        service,
                        function,
                        deadline: limits.deadline(),
                    })
                } else {
                    fail("trap");
                    Err(Error::Trap {
                        tenant,
                        service,
                        function,
                        message: format!("{:#}", e.root_cause()),
                    })
                }
            }
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(Error::Deadline { .. }) => "deadline",
            Err(Error::MemoryLimit { .. }) => "memory",
            Err(_) => "trap",
        };
        let labels = [
            ("tenant", &*binding.tenant),
            ("service", binding.service.as_str()),
            ("adapter", &*generation.adapter),
        ];
        let metrics = &self.inner.metrics;
        let with_outcome = [labels[0], labels[1], labels[2], ("outcome", outcome)];
        metrics.record_host(
            "switchyard_calls_total",
            MetricKind::Counter,
            1.0,
            &with_outcome,
        );
        metrics.record_host(
            "switchyard_call_duration_seconds",
            MetricKind::Histogram,
            started.elapsed().as_secs_f64(),
            &labels,
        );
        result
    }

    /// Removes the binding of (tenant, service): new calls fail, calls in flight finish, and its
    /// buffer is drained; what cannot be delivered now keeps being retried on every tick.
    pub async fn remove_binding(&self, tenant: &str, service: Service) -> Result<()> {
        let binding = {
            let mut map = self
                .inner
                .bindings
                .write()
                .unwrap_or_else(|p| p.into_inner());
            map.remove(&(tenant.to_string(), service))
                .ok_or_else(|| Error::UnknownBinding {
                    tenant: tenant.to_string(),
                    service: service.to_string(),
                })?
        };
        let _one_at_a_time = binding.swap_lock.lock().await;
        let current = binding.current();
        current.wait_idle().await;
        if let Err(e) = self.drain(&binding, &current).await {
            tracing::warn!(tenant, %service, error = %e, "removed binding could not deliver everything yet");
        }
        if !current.buffer.is_empty() {
            binding.retire(current);
        }
        drop(_one_at_a_time);
        if !binding.retiring().is_empty() {
            self.inner
                .orphans
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(binding);
        }
        tracing::info!(tenant, %service, "binding removed");
        Ok(())
    }

    /// Applies a configuration file to the running runtime: new bindings are added, changed
    /// ones rebound (hot swap semantics), missing ones removed. The whole file is read and
    /// every component compiled before anything changes, so a bad file changes nothing.
    pub async fn reload(&self, path: &Path) -> Result<ReloadReport> {
        let cfg = FileConfig::load(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let specs = cfg.bindings(base, &path.display().to_string())?;
        let mut loaded = Vec::new();
        for (tenant, service, spec) in specs {
            self.check_limits(&spec)?;
            let l = self.load(service, &spec.component).await?;
            loaded.push((tenant, service, spec, l));
        }
        let mut report = ReloadReport::default();
        let wanted: Vec<(String, Service)> =
            loaded.iter().map(|(t, s, _, _)| (t.clone(), *s)).collect();
        for (tenant, service, spec, l) in loaded {
            let name = format!("{tenant}/{service}");
            match self.binding(&tenant, service) {
                Ok(binding) => {
                    let current = binding.current();
                    if current.loaded.digest == l.digest && current.spec().same_as(&spec) {
                        report.unchanged.push(name);
                    } else {
                        self.replace(&binding, spec).await?;
                        report.replaced.push(name);
                    }
                }
                Err(_) => {
                    self.add_binding(&tenant, service, spec).await?;
                    report.added.push(name);
                }
            }
        }
        let existing: Vec<(String, Service)> = self
            .all_bindings()
            .iter()
            .map(|b| (b.tenant.to_string(), b.service))
            .collect();
        for (tenant, service) in existing {
            if !wanted.contains(&(tenant.clone(), service)) {
                self.remove_binding(&tenant, service).await?;
                report.removed.push(format!("{tenant}/{service}"));
            }
        }
        tracing::info!(?report, file = %path.display(), "configuration reloaded");
        Ok(report)
    }

    /// Stops taking calls, lets calls in flight finish, and drains every binding's buffer
    /// through its own component. Reports what could not be delivered.
    pub async fn shutdown(&self) -> ShutdownReport {
        self.inner.stopping.store(true, Ordering::SeqCst);
        let mut report = ShutdownReport::default();
        let mut bindings = self.all_bindings();
        bindings.extend(
            self.inner
                .orphans
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .cloned(),
        );
        for binding in bindings {
            let mut generations = binding.retiring();
            generations.push(binding.current());
            for generation in generations {
                generation.wait_idle().await;
                if let Err(e) = self.drain(&binding, &generation).await {
                    let left = generation.buffer.stats();
                    report.undelivered.push((
                        binding.tenant.to_string(),
                        binding.service,
                        left.pending + left.in_flight,
                        e.to_string(),
                    ));
                }
            }
        }
        if report.undelivered.is_empty() {
            tracing::info!("shutdown: every binding drained");
        } else {
            tracing::error!(undelivered = ?report.undelivered, "shutdown: some buffered work could not be delivered");
        }
        report
    }
}

/// The lifecycle interface every adapter exports.
const LIFECYCLE: &str = "switchyard:adapter/lifecycle@0.1.0";

#[derive(Debug, Clone, Copy)]
enum Lifecycle {
    Tick,
    Drain,
}
