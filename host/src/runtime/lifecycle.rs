//! Lifecycle: the background tasks (an epoch ticker for deadlines, a tick driver for
//! generations with buffered work and retiring ones, and the file watcher), and the adapter's
//! `lifecycle.tick` / `lifecycle.drain` calls.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::Val;

use crate::binding::{Binding, FileStamp, Generation, InFlight};
use crate::config::ComponentSource;
use crate::error::{Error, Result};
use crate::json::decode_error;
use crate::limits::EPOCH_TICK;

use super::handle::Runtime;

/// Which lifecycle function to call.
#[derive(Debug, Clone, Copy)]
enum Lifecycle {
    Tick,
    Drain,
}

impl Runtime {
    pub(super) fn start_background(&self) {
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

    /// `lifecycle.drain` on one generation, then checks nothing is left.
    pub(super) async fn drain(
        &self,
        binding: &Binding,
        generation: &Arc<Generation>,
    ) -> Result<()> {
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
        let now = std::time::Instant::now();
        let every = self.inner.options.tick_interval();
        for binding in bindings {
            binding.forget_drained();
            let current = binding.current();
            current.warm.shrink(current.limits.warm_idle());
            let mut work = vec![(current, Lifecycle::Tick)];
            work.extend(
                binding
                    .retiring()
                    .into_iter()
                    .map(|g| (g, Lifecycle::Drain)),
            );
            for (generation, which) in work {
                let before = generation.buffer.stats().pending;
                if before == 0 {
                    continue;
                }
                let ready = generation
                    .backoff
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .ready(now);
                if !ready {
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
                    let outcome = rt.lifecycle(&binding, &hold, which).await;
                    if let Err(e) = &outcome {
                        tracing::warn!(
                            tenant = %binding.tenant, service = %binding.service,
                            adapter = %generation.adapter, error = %e, "lifecycle {which:?} failed"
                        );
                    }
                    // Failed and delivered nothing: wait longer before the next try (never
                    // past a minute), so an item that never delivers does not cost a core.
                    // A tick that chose to wait (Ok) is no failure.
                    let progress = outcome.is_ok() || generation.buffer.stats().pending < before;
                    generation
                        .backoff
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .record(progress, every, std::time::Instant::now());
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
        let index = hold
            .0
            .loaded
            .signatures
            .lifecycle(matches!(which, Lifecycle::Drain))
            .copied();
        let contract = |message: String| Error::Contract {
            tenant: binding.tenant.to_string(),
            service: binding.service.to_string(),
            function: name.to_string(),
            message,
        };
        self.call_in(binding, hold, name, async |store, instance| {
            let missing = || wasmtime::Error::msg(format!("component exports no lifecycle.{name}"));
            let func = index
                .and_then(|index| instance.get_func(&mut *store, index))
                .ok_or_else(missing)?;
            let mut results = [Val::Bool(false)];
            func.call_async(&mut *store, &[], &mut results).await?;
            Ok(match results {
                [Val::Result(Err(Some(e)))] => Err(match decode_error(&e) {
                    Ok(p) => Error::Provider(p),
                    Err(e) => contract(e.0),
                }),
                _ => Ok(()),
            })
        })
        .await?
    }
}
