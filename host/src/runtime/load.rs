//! The load path: a component's bytes compiled (once per digest), linked, checked against
//! its contract's world and its binding's `backend`, its function signatures read; then a
//! [`Generation`] granted its host-native backends.

use std::sync::{Arc, Weak};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, InstancePre};
use wasmtime::Engine;

use crate::binding::{real_path, Generation, Loaded};
use crate::bindings;
use crate::config::{BindingSpec, ComponentSource};
use crate::error::{Error, Result};
use crate::native::Backend;
use crate::service::Service;
use crate::signature::Signatures;
use crate::state::CallState;

use super::handle::Runtime;

impl Runtime {
    /// Compiles and validates a component for `service`, reusing an identical one already loaded.
    pub(super) async fn load(
        &self,
        service: Service,
        source: &ComponentSource,
    ) -> Result<Arc<Loaded>> {
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
        // Only the binary format (never the text one, whose errors quote the file), and a
        // file that is not Wasm at all is said to be so without a word of its content.
        if !bytes.starts_with(b"\0asm") {
            return Err(refuse(
                "not a Wasm binary (a component file starts with the bytes \\0asm)".into(),
            ));
        }
        let engine = self.inner.engine.clone();
        let component =
            tokio::task::spawn_blocking(move || Component::from_binary(&engine, &bytes))
                .await
                .map_err(|e| refuse(format!("compilation task failed: {e}")))?
                .map_err(|e| refuse(format!("not a valid Wasm component: {}", e.root_cause())))?;
        let pre = self.inner.linker.instantiate_pre(&component).map_err(|e| {
            refuse(format!(
                "it imports something Switchyard does not provide: {e:#}"
            ))
        })?;
        implements_contract(service, &pre).map_err(refuse)?;
        let signatures = Signatures::of(&self.inner.engine, &component, service);
        let loaded = Arc::new(Loaded {
            digest,
            component,
            pre,
            signatures,
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
    pub(super) fn generation(
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
        check_imports(&self.inner.engine, &loaded.component, service, spec.backend)
            .map_err(|e| refuse(e.to_string()))?;
        let grant = self
            .inner
            .native
            .grant(
                tenant,
                service,
                spec.backend,
                &spec.config,
                &spec.backend_config,
                spec.host_files(),
            )
            .map_err(|e| refuse(e.to_string()))?;
        Ok(Generation::new(
            loaded,
            spec,
            grant,
            self.inner.signer.clone(),
            self.inner.metrics.clone(),
            &self.inner.proxy,
        ))
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

    pub(super) fn check_limits(&self, spec: &BindingSpec) -> Result<()> {
        spec.limits
            .validate()
            .map_err(|e| Error::config(e.to_string()))?;
        if let Some(dir) = &spec.files {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::config(format!("files: cannot create {}: {e}", dir.display()))
            })?;
            if let Some(cache) = &self.inner.compile_cache {
                if cache.overlaps(dir) {
                    return Err(Error::config(format!(
                        "files: {} overlaps runtime.compile_cache {}, code the host runs; keep the cache and every binding's directory apart",
                        dir.display(),
                        cache.dir().display()
                    )));
                }
            }
        }
        self.check_memory(spec)
    }

    /// Refuses a binding of (tenant, service) whose `files` directory is, holds or lies
    /// inside another binding's where a guest could then reach what it must not: another
    /// tenant's files, or a directory where the host keeps a backend's state (a binding with
    /// a backend keeps `files` for the host; one without gives it to its component).
    pub(super) fn check_files_apart(
        &self,
        tenant: &str,
        service: Service,
        spec: &BindingSpec,
    ) -> Result<()> {
        let Some(mine) = spec.files.as_deref() else {
            return Ok(());
        };
        let mine = real_path(mine);
        for other in self.all_bindings() {
            if &*other.tenant == tenant && other.service == service {
                continue;
            }
            let current = other.current();
            // Resolved once, when that generation was made: no I/O per binding here.
            let Some(theirs) = current.files_real.as_deref() else {
                continue;
            };
            if !(mine.starts_with(theirs) || theirs.starts_with(&mine)) {
                continue;
            }
            let why = if &*other.tenant != tenant {
                "another tenant's"
            } else if spec.backend.is_some() != current.backend.is_some() {
                "a guest would share the host's backend state with"
            } else {
                continue;
            };
            return Err(Error::Config {
                origin: format!("binding {tenant}/{service}"),
                message: format!(
                    "files: {} overlaps {} files directory {} (binding {}/{}); give each its own directory",
                    mine.display(),
                    why,
                    theirs.display(),
                    other.tenant,
                    other.service
                ),
            });
        }
        Ok(())
    }

    fn check_memory(&self, spec: &BindingSpec) -> Result<()> {
        if self.inner.options.pooling && spec.limits.memory_mib > self.inner.options.max_memory_mib
        {
            return Err(Error::config(format!(
                "limits.memory_mib = {} exceeds runtime.max_memory_mib = {}",
                spec.limits.memory_mib, self.inner.options.max_memory_mib
            )));
        }
        Ok(())
    }
}

/// Checks that a linked component implements `service`'s contract world (exports and types);
/// the message says what does not fit.
fn implements_contract(service: Service, pre: &InstancePre<CallState>) -> Result<(), String> {
    let checked = match service {
        Service::Analytics => bindings::analytics::AdapterPre::new(pre.clone()).map(drop),
        Service::Email => bindings::email::AdapterPre::new(pre.clone()).map(drop),
        Service::Notification => bindings::notification::AdapterPre::new(pre.clone()).map(drop),
        Service::Payment => bindings::payment::AdapterPre::new(pre.clone()).map(drop),
        Service::Messaging => bindings::messaging::AdapterPre::new(pre.clone()).map(drop),
        Service::Storage => bindings::storage::AdapterPre::new(pre.clone()).map(drop),
        Service::Logging => bindings::logging::AdapterPre::new(pre.clone()).map(drop),
        Service::Monitoring => bindings::monitoring::AdapterPre::new(pre.clone()).map(drop),
        Service::Search => bindings::search::AdapterPre::new(pre.clone()).map(drop),
    };
    checked.map_err(|e| {
        format!(
            "it does not implement switchyard:{service}/adapter@0.1.0: {}",
            e.root_cause()
        )
    })
}

/// A component that imports a host-native contract its binding cannot grant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// It imports another service's contract.
    #[error("it imports the {imported} contract ({name}), which a {service} binding cannot grant")]
    OtherContract {
        /// The contract imported.
        imported: Service,
        /// The import's name.
        name: String,
        /// The binding's service.
        service: Service,
    },
    /// It is a bridge, but its binding names no backend.
    #[error(
        "it is a host bridge (it imports {0}) but the binding names no backend; \
         set `backend` (for example backend = \"memory\")"
    )]
    NoBackend(String),
}

/// Checks that a component imports a host-native contract only when its binding has a
/// backend for it, so that a bridge is never bound without one.
fn check_imports(
    engine: &Engine,
    component: &Component,
    service: Service,
    backend: Option<Backend>,
) -> Result<(), ImportError> {
    let ty = component.component_type();
    for (name, _) in ty.imports(engine) {
        if let Some(imported) = Service::ALL.into_iter().find(|s| name == s.interface()) {
            if imported != service {
                return Err(ImportError::OtherContract {
                    imported,
                    name: name.to_string(),
                    service,
                });
            }
            if backend.is_none() {
                return Err(ImportError::NoBackend(name.to_string()));
            }
        }
    }
    Ok(())
}
