//! [`RuntimeBuilder`]: options, bindings (from the Rust API or a configuration file) and the
//! URL signer, then [`RuntimeBuilder::build`].

use std::path::Path;

use crate::config::{BindingSpec, FileConfig, RuntimeOptions};
use crate::error::Result;
use crate::outbound::OutboundProxy;
use crate::service::Service;
use crate::signing::Signer;

use super::handle::{Runtime, DEFAULT_PUBLIC_URL};

/// Builds a [`Runtime`].
#[derive(Default)]
pub struct RuntimeBuilder {
    options: RuntimeOptions,
    bindings: Vec<(String, Service, BindingSpec)>,
    signer: Option<Signer>,
    proxy: Option<OutboundProxy>,
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
        self.options = cfg.runtime.clone();
        if let Some(dir) = &mut self.options.compile_cache {
            *dir = base.join(&*dir);
        }
        self.signer = Some(cfg.signing.signer(&path.display().to_string())?);
        self.bindings
            .extend(cfg.bindings(base, &path.display().to_string())?);
        Ok(self)
    }

    /// Signs server URLs with `signer` (default: a random key, `http://127.0.0.1:8080`).
    pub fn signer(mut self, signer: Signer) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Sends outbound requests through `proxy` (default: [`OutboundProxy::from_env`]).
    pub fn outbound_proxy(mut self, proxy: OutboundProxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Builds the runtime, compiling every binding's component. Needs a tokio runtime.
    pub async fn build(self) -> Result<Runtime> {
        let signer = self
            .signer
            .unwrap_or_else(|| Signer::random(DEFAULT_PUBLIC_URL));
        let proxy = self.proxy.unwrap_or_else(OutboundProxy::from_env);
        let rt = Runtime::assemble(self.options, signer, proxy)?;
        for (tenant, service, spec) in self.bindings {
            rt.add_binding(&tenant, service, spec).await?;
        }
        Ok(rt)
    }
}

impl Runtime {
    /// A builder.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }
}
