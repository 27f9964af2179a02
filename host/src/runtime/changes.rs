//! Binding changes: add, swap, rebind, remove, reload from a file, and shutdown; each keeps
//! every accepted item (a replaced generation drains before it goes, or stays retiring).

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::binding::Binding;
use crate::config::{BindingSpec, ComponentSource, FileConfig};
use crate::error::{Error, Result};
use crate::service::Service;

use super::handle::Runtime;
use super::reports::{ReloadReport, ShutdownReport, SwapReport, Undelivered};

impl Runtime {
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
        self.check_files_apart(tenant, service, &spec)?;
        let loaded = self.load(service, &spec.component).await?;
        self.probe(tenant, service, &loaded, &spec).await?;
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

    pub(super) async fn replace(
        &self,
        binding: &Arc<Binding>,
        spec: BindingSpec,
    ) -> Result<SwapReport> {
        if self.inner.stopping.load(Ordering::SeqCst) {
            return Err(Error::ShuttingDown);
        }
        self.check_limits(&spec)?;
        let _one_at_a_time = binding.swap_lock.lock().await;
        // Load first: a component that fails to compile or to implement the contract is
        // refused here and the old one keeps serving.
        self.check_files_apart(&binding.tenant, binding.service, &spec)?;
        let loaded = self.load(binding.service, &spec.component).await?;
        // Started once under its limits before it replaces a component that works.
        self.probe(&binding.tenant, binding.service, &loaded, &spec)
            .await?;
        let generation = self.generation(&binding.tenant, binding.service, loaded, &spec)?;
        let old = binding.replace(generation);
        let new_digest = binding.current().loaded.digest.clone();
        tracing::info!(
            tenant = %binding.tenant, service = %binding.service,
            old = %old.loaded.digest, new = %new_digest, adapter = %spec.component.name(),
            "component swapped; draining the old one"
        );
        old.wait_idle().await;
        let drained = self.drain(binding, &old).await.map_err(|e| Undelivered {
            reason: e.to_string(),
        });
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
        // A removed binding keeps no instance: what is left is retried fresh.
        current.warm.retire();
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
            self.probe(&tenant, service, &l, &spec).await?;
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
