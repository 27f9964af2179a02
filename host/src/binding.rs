//! A binding — (tenant, service) -> the component generation serving it — and hot swap.
//!
//! A [`Generation`] is one component with the configuration, outbound rules, limits and
//! host-held buffer it serves with. Calls enter the binding's current generation and hold it
//! until they end; a swap makes a new generation current, so new calls go to it while calls
//! in flight finish on the old one, and the old one is drained (its buffer delivered by its
//! own component) once idle. A generation whose drain fails stays in `retiring` and is
//! drained again on every tick until its buffer is empty: nothing accepted is dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderName;
use tokio::sync::Notify;

use crate::buffer::Buffer;
use crate::config::binding::guest_dir;
use crate::config::{BindingSpec, ComponentSource};
use crate::limits::Limits;
use crate::log_limit::LogLimiter;
use crate::metrics::Registry;
use crate::native::{Backend, BackendSettings, Grant};
use crate::outbound::egress::LazyEgress;
use crate::outbound::{OutboundProxy, OutboundRules};
use crate::runtime::warm::WarmPool;
use crate::service::Service;
use crate::signature::Signatures;
use crate::signing::Signer;
use crate::state::{CallState, Grants};

/// A compiled component, validated against its contract, ready to instantiate.
pub(crate) struct Loaded {
    /// sha256 of the component bytes, hex.
    pub digest: String,
    /// The compiled component, for its types.
    pub component: wasmtime::component::Component,
    /// The component linked and checked against its contract, ready to instantiate.
    pub pre: wasmtime::component::InstancePre<CallState>,
    /// Its contract's and lifecycle's functions, read once.
    pub signatures: Signatures,
}

/// The modification stamp of a component file, to notice changes cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    pub len: u64,
    pub modified: Option<SystemTime>,
}

impl FileStamp {
    pub fn of(path: &std::path::Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

/// `dir` with links and `..` resolved, or as written when it cannot be (it does not exist).
pub(crate) fn real_path(dir: &std::path::Path) -> std::path::PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

/// The lifecycle backoff of a generation with buffered work.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    /// Ticks in a row that failed and delivered nothing.
    pub fruitless: u32,
    /// No tick before this.
    pub next: Option<std::time::Instant>,
}

impl Backoff {
    /// The longest wait between ticks that deliver nothing.
    pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

    /// Whether a tick may run at `now`.
    pub fn ready(&self, now: std::time::Instant) -> bool {
        self.next.is_none_or(|next| now >= next)
    }

    /// Records a tick's outcome: progress resets the wait, none doubles it (from `every`,
    /// up to [`Backoff::MAX_WAIT`]).
    pub fn record(&mut self, progress: bool, every: std::time::Duration, now: std::time::Instant) {
        if progress {
            *self = Backoff::default();
            return;
        }
        self.fruitless = self.fruitless.saturating_add(1);
        let wait = every
            .saturating_mul(1u32 << self.fruitless.min(16))
            .min(Self::MAX_WAIT);
        self.next = Some(now + wait);
    }
}

/// One component serving a binding, with everything it serves with.
pub(crate) struct Generation {
    pub loaded: Arc<Loaded>,
    pub source: ComponentSource,
    pub adapter: Arc<str>,
    pub rules: Arc<OutboundRules>,
    pub forbidden: Arc<[HeaderName]>,
    /// The generation's pooled outbound connections (made on its first request).
    pub egress: Arc<LazyEgress>,
    /// Its idle instances, kept warm for its next calls.
    pub warm: WarmPool,
    pub limits: Limits,
    pub files: Option<std::path::PathBuf>,
    /// `files` resolved (links and `..` followed) once, when the generation is made, for
    /// comparing bindings' directories.
    pub files_real: Option<std::path::PathBuf>,
    pub backend: Option<Backend>,
    /// The backend's settings: the host's, never in `grants.config`.
    pub backend_config: BackendSettings,
    /// What every call of this generation is granted: configuration, host-native backends,
    /// the log rate limit, the signer and the host's metrics.
    pub grants: Arc<Grants>,
    pub buffer: Arc<Buffer>,
    pub loaded_at: SystemTime,
    /// The component file's stamp when last looked at (for watching).
    pub stamp: Mutex<Option<FileStamp>>,
    /// Held by a tick or drain, so the two never overlap.
    pub work: Arc<tokio::sync::Mutex<()>>,
    /// The binding's own queue, when `limits.max_concurrent` sets one.
    pub queue: Option<Arc<tokio::sync::Semaphore>>,
    /// When the next tick or drain may run: pushed back after each one that fails having
    /// delivered nothing, so an item that never delivers costs less and less.
    pub backoff: Mutex<Backoff>,
    inflight: AtomicUsize,
    idle: Notify,
}

impl Generation {
    pub fn new(
        loaded: Arc<Loaded>,
        spec: &BindingSpec,
        native: Grant,
        signer: Arc<Signer>,
        metrics: Arc<Registry>,
        proxy: &OutboundProxy,
    ) -> Self {
        let rules = OutboundRules::new(spec.allow.clone(), spec.credentials.clone());
        let forbidden: Arc<[HeaderName]> = rules.forbidden_headers().into();
        let stamp = match &spec.component {
            ComponentSource::Path(p) => FileStamp::of(p),
            ComponentSource::Bytes { .. } => None,
        };
        Generation {
            loaded,
            adapter: spec.component.name().into(),
            source: spec.component.clone(),
            rules: Arc::new(rules),
            forbidden,
            egress: Arc::new(LazyEgress::new(
                spec.limits,
                spec.trusted_ca.clone(),
                proxy.clone(),
            )),
            warm: WarmPool::default(),
            limits: spec.limits,
            files: spec.files.clone(),
            files_real: spec.files.as_deref().map(real_path),
            backend: spec.backend,
            backend_config: spec.backend_config.clone(),
            grants: Arc::new(Grants {
                config: spec.config.clone(),
                native,
                log_limit: LogLimiter::new(spec.limits.log_rate, spec.limits.log_burst),
                signer,
                metrics,
            }),
            buffer: Arc::new(Buffer::new(
                spec.limits.buffer_items,
                spec.limits.buffer_mib.saturating_mul(1024 * 1024),
            )),
            loaded_at: SystemTime::now(),
            stamp: Mutex::new(stamp),
            work: Arc::new(tokio::sync::Mutex::new(())),
            backoff: Mutex::new(Backoff::default()),
            queue: (spec.limits.max_concurrent > 0).then(|| {
                Arc::new(tokio::sync::Semaphore::new(
                    spec.limits.max_concurrent as usize,
                ))
            }),
            inflight: AtomicUsize::new(0),
            idle: Notify::new(),
        }
    }

    /// The directory the component sees as `/data`, if any.
    pub fn guest_files(&self) -> Option<&std::path::Path> {
        guest_dir(self.files.as_deref(), self.backend)
    }

    /// The same binding with another component: configuration, rules and limits carried over.
    pub fn spec(&self) -> BindingSpec {
        BindingSpec {
            component: self.source.clone(),
            config: self.grants.config.clone(),
            allow: self.rules.allow.clone(),
            credentials: self.rules.credentials.clone(),
            trusted_ca: self.egress.trusted().clone(),
            limits: self.limits,
            files: self.files.clone(),
            backend: self.backend,
            backend_config: self.backend_config.clone(),
        }
    }

    /// Marks a call in flight until the guard drops.
    pub fn enter(self: &Arc<Self>) -> InFlight {
        self.inflight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Waits until no call is in flight.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.inflight.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Calls in flight now.
    pub fn inflight(&self) -> usize {
        self.inflight.load(Ordering::SeqCst)
    }

    /// Seconds since the Unix epoch at load.
    pub fn loaded_at_unix(&self) -> u64 {
        self.loaded_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// A call's hold on a generation.
pub(crate) struct InFlight(pub Arc<Generation>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.inflight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// (tenant, service) and the generations serving it.
pub(crate) struct Binding {
    pub tenant: Arc<str>,
    pub service: Service,
    current: RwLock<Arc<Generation>>,
    retiring: Mutex<Vec<Arc<Generation>>>,
    /// One swap at a time per binding.
    pub swap_lock: tokio::sync::Mutex<()>,
}

impl Binding {
    pub fn new(tenant: &str, service: Service, generation: Generation) -> Self {
        Binding {
            tenant: tenant.into(),
            service,
            current: RwLock::new(Arc::new(generation)),
            retiring: Mutex::new(Vec::new()),
            swap_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Enters the current generation for one call.
    pub fn enter(&self) -> InFlight {
        // Entering under the read lock means a swap (write lock) can never miss a call that
        // picked the old generation.
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current.enter()
    }

    /// The current generation.
    pub fn current(&self) -> Arc<Generation> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Makes `next` current; returns the generation it replaced.
    pub fn replace(&self, next: Generation) -> Arc<Generation> {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        let old = std::mem::replace(&mut *current, Arc::new(next));
        drop(current);
        // Its calls in flight finish on their own instances; none is kept after them.
        old.warm.retire();
        old
    }

    /// Generations replaced but not yet fully drained.
    pub fn retiring(&self) -> Vec<Arc<Generation>> {
        self.retiring
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Keeps `generation` to be drained again later.
    pub fn retire(&self, generation: Arc<Generation>) {
        self.retiring
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(generation);
    }

    /// Forgets retiring generations that are empty and idle.
    pub fn forget_drained(&self) {
        self.retiring
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|g| !(g.buffer.is_empty() && g.inflight() == 0));
    }
}
