//! The call path: one call of a binding, in a warm instance of its generation or a fresh one,
//! within the binding's deadline and memory cap, its outcome classified (ok, deadline,
//! memory, trap), logged in the call's span and counted in the host's metrics.
//!
//! A call takes an idle instance of its generation when one is warm (see `warm`), and
//! otherwise instantiates the component in a new store (with the pooling allocator this costs
//! tens of microseconds). Either way the store's per-call state (identity, deadline, memory
//! limiter, outbound policy, buffer lease, `wasi:http` context) is the call's own. A store
//! runs one call at a time and is unusable after a trap, so only an instance whose call
//! returned normally and left no host resource behind is kept; state that must outlive a
//! call lives in the host-held buffer (see `buffer`), never in a guest.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tracing::Instrument;
use wasmtime::component::{Instance, ResourceTable};
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wasmtime_wasi_http::WasiHttpCtx;

use crate::binding::{Binding, Generation, InFlight, Loaded};
use crate::buffer::Lease;
use crate::config::{BindingSpec, FILES_GUEST_PATH};
use crate::error::{Error, Result};
use crate::identity::CallIdentity;
use crate::limits::{MemoryLimiter, MAX_RESOURCES};
use crate::metrics::Kind;
use crate::native::Grant;
use crate::outbound::OutboundPolicy;
use crate::service::Service;
use crate::state::CallState;

use super::handle::Runtime;
use super::warm::Warm;

/// The call id an idle store's buffer lease carries: no call has it (ids start at 1).
const IDLE_CALL: u64 = 0;

/// A call's `wasi:http` context: header maps bounded by the binding's memory cap.
fn http_ctx(limits: &crate::limits::Limits) -> WasiHttpCtx {
    let mut http = WasiHttpCtx::new();
    http.set_field_size_limit(limits.field_bytes());
    http
}

impl Runtime {
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

    pub(super) async fn call_in<R>(
        &self,
        binding: &Binding,
        hold: &InFlight,
        function: &str,
        f: impl AsyncFnOnce(&mut Store<CallState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R> {
        let generation = &hold.0;
        // In line for a place: the binding's, the tenant's, the pool's.
        let _admitted = self
            .inner
            .admission
            .admit(
                &binding.tenant,
                binding.service.as_str(),
                generation
                    .queue
                    .as_ref()
                    .map(|q| (q, generation.limits.max_concurrent)),
            )
            .await
            .inspect_err(|_| {
                self.inner.metrics.record_host(
                    "switchyard_busy_total",
                    Kind::Counter,
                    1.0,
                    &[
                        ("tenant", &*binding.tenant),
                        ("service", binding.service.as_str()),
                    ],
                );
            })?;
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
        let labels = [
            ("tenant", &*binding.tenant),
            ("service", binding.service.as_str()),
            ("adapter", &*generation.adapter),
        ];
        let reuse = limits.instance_reuse && self.inner.options.max_warm_instances > 0;
        let (mut store, warm, served) = match reuse.then(|| generation.warm.take()).flatten() {
            Some(w) => {
                let mut store = w.store;
                self.rearm(&mut store, generation, who);
                (store, Some(w.instance), w.calls)
            }
            None => (self.store(generation, who)?, None, 0),
        };
        self.inner.metrics.record_host(
            "switchyard_instances_total",
            Kind::Counter,
            1.0,
            &[
                labels[0],
                labels[1],
                labels[2],
                ("instance", if warm.is_some() { "warm" } else { "fresh" }),
            ],
        );
        let pre = &generation.loaded.pre;
        let run = async {
            let instance = match warm {
                Some(instance) => instance,
                None => pre.instantiate_async(&mut store).await?,
            };
            let value = f(&mut store, &instance).await?;
            Ok((value, instance))
        };
        let started = Instant::now();
        let outcome: std::result::Result<wasmtime::Result<(R, Instance)>, _> =
            tokio::time::timeout(limits.deadline(), run)
                .instrument(span.clone())
                .await;
        let outcome = match outcome {
            Ok(Ok((value, instance))) => {
                // Kept only after a normal return that left no host resource behind, below
                // the instance's call cap; a replaced generation's pool is retired, so `put`
                // refuses it there (no look at the binding's current generation needed).
                let served = served.saturating_add(1);
                if reuse && store.data().table.is_empty() && served < limits.calls_per_instance {
                    if let Some(place) = self.inner.warm_places.take() {
                        self.idle(&mut store, generation);
                        generation.warm.put(
                            Warm::new(store, instance, served, place),
                            limits.warm_instances,
                        );
                    }
                }
                Ok(Ok(value))
            }
            Ok(Err(e)) => Ok(Err((e, store))),
            Err(elapsed) => Err((elapsed, store)),
        };
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
            Err((_elapsed, _store)) => {
                fail("deadline");
                Err(Error::Deadline {
                    tenant: binding.tenant.to_string(),
                    service: binding.service.to_string(),
                    function: function.into(),
                    deadline: limits.deadline(),
                })
            }
            Ok(Err((e, store))) => {
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
        let metrics = &self.inner.metrics;
        let with_outcome = [labels[0], labels[1], labels[2], ("outcome", outcome)];
        metrics.record_host("switchyard_calls_total", Kind::Counter, 1.0, &with_outcome);
        metrics.record_host(
            "switchyard_call_duration_seconds",
            Kind::Histogram,
            started.elapsed().as_secs_f64(),
            &labels,
        );
        result
    }

    /// A store for one call of `generation`: its WASI context (the guest's `files` as
    /// `/data`), outbound rules, buffer lease, memory cap and deadline.
    fn store(&self, generation: &Generation, who: CallIdentity) -> Result<Store<CallState>> {
        let limits = generation.limits;
        let mut wasi = WasiCtxBuilder::new();
        // A binding with a backend keeps `files` for the host: never the guest's.
        if let Some(dir) = generation.guest_files() {
            wasi.preopened_dir(dir, FILES_GUEST_PATH, FsPerms::ReadWrite)
                .map_err(|e| Error::Config {
                    origin: format!("binding {}/{}", who.tenant, who.service),
                    message: format!("files: cannot open {}: {e}", dir.display()),
                })?;
        }
        let wasi = wasi.build();
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        let tenant = who.tenant.clone();
        let mut store = Store::new(
            &self.inner.engine,
            CallState {
                wasi,
                http: http_ctx(&limits),
                table,
                hooks: self.policy(generation, &who),
                lease: Lease::new(generation.buffer.clone(), who.call_id),
                limiter: MemoryLimiter::new(limits.memory_bytes()),
                who,
                deadline: Instant::now() + limits.deadline(),
                grants: generation.grants.clone(),
            },
        );
        store.limiter(|s| &mut s.limiter);
        self.arm(&mut store, &tenant);
        Ok(store)
    }

    /// Makes a warm instance's store the call's own: its identity, deadline, memory
    /// limiter, outbound policy, buffer lease and `wasi:http` context, all fresh.
    fn rearm(&self, store: &mut Store<CallState>, generation: &Generation, who: CallIdentity) {
        let limits = generation.limits;
        let tenant = who.tenant.clone();
        let hooks = self.policy(generation, &who);
        let data = store.data_mut();
        data.http = http_ctx(&limits);
        data.hooks = hooks;
        data.lease = Lease::new(generation.buffer.clone(), who.call_id);
        data.limiter = MemoryLimiter::new(limits.memory_bytes());
        data.deadline = Instant::now() + limits.deadline();
        data.who = who;
        self.arm(store, &tenant);
    }

    /// Ends the call's hold on a store about to wait idle: its buffer lease ends now, so
    /// what the call took and did not acknowledge goes back for the next delivery.
    fn idle(&self, store: &mut Store<CallState>, generation: &Generation) {
        store.data_mut().lease = Lease::new(generation.buffer.clone(), IDLE_CALL);
    }

    /// The outbound policy of one call of `generation`.
    fn policy(&self, generation: &Generation, who: &CallIdentity) -> OutboundPolicy {
        OutboundPolicy::new(
            generation.rules.clone(),
            generation.forbidden.clone(),
            generation.egress.clone(),
            who.clone(),
            self.inner.metrics.clone(),
        )
    }

    /// Sets the call's epoch deadline and what happens at each tick.
    fn arm(&self, store: &mut Store<CallState>, tenant: &str) {
        let turns = self.inner.compute.turns(tenant);
        // At every epoch tick (10 ms) of computing, the guest yields to the executor, so a
        // guest that spins never holds a worker thread longer than a tick; where the
        // operator caps computing per tenant, it also waits for one of its tenant's compute
        // slots (see `compute`), so a tenant's many spinning guests take turns at their
        // share instead of queueing ahead of everyone else's calls. Past the deadline it
        // traps.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |ctx| {
            Ok(if Instant::now() >= ctx.data().deadline {
                UpdateDeadline::Interrupt
            } else {
                match &turns {
                    Some(turns) => UpdateDeadline::YieldCustom(1, turns.next()),
                    None => UpdateDeadline::Yield(1),
                }
            })
        });
    }

    /// Instantiates `loaded` once under `spec`'s limits, calling nothing and granting no
    /// backend, so that a component that can never run (its memory at start is over the
    /// cap, its start traps) is refused before it serves a call or replaces one that works.
    pub(super) async fn probe(
        &self,
        tenant: &str,
        service: Service,
        loaded: &Arc<Loaded>,
        spec: &BindingSpec,
    ) -> Result<()> {
        let generation = &Generation::new(
            loaded.clone(),
            spec,
            Grant::default(),
            self.inner.signer.clone(),
            self.inner.metrics.clone(),
            &self.inner.proxy,
        );
        let who = CallIdentity {
            tenant: tenant.into(),
            service: service.as_str().into(),
            adapter: generation.adapter.clone(),
            call_id: self.inner.next_call.fetch_add(1, Ordering::Relaxed),
        };
        let limits = generation.limits;
        let _admitted = self
            .inner
            .admission
            .admit_to_pool(tenant, service.as_str())
            .await?;
        let mut store = self.store(generation, who)?;
        let started = tokio::time::timeout(
            limits.deadline(),
            generation.loaded.pre.instantiate_async(&mut store),
        )
        .await;
        let why = match started {
            Ok(Ok(_)) => return Ok(()),
            Err(_) => format!(
                "it does not start within limits.deadline_ms = {}",
                limits.deadline().as_millis()
            ),
            Ok(Err(_)) if store.data().limiter.hit() => format!(
                "it needs more memory to start than limits.memory_mib = {} allows",
                limits.memory_mib
            ),
            Ok(Err(e)) => format!("it traps while starting: {:#}", e.root_cause()),
        };
        Err(Error::InvalidComponent {
            component: generation.adapter.to_string(),
            service: service.to_string(),
            message: why,
        })
    }
}
