//! Switchyard's embeddable host: loads provider adapters as Wasm components per tenant and
//! grants each only what its binding allows.
//!
//! A tour of the modules (docs/architecture.md draws the path of one call through them):
//! - [`runtime`]: the engine, the bindings of every tenant, the call path, hot swap, shutdown;
//!   one file per concern.
//! - [`config`]: the TOML file and [`BindingSpec`], the Rust API for a binding.
//! - [`binding`] (crate-private): a binding's generations and their calls in flight.
//! - [`state`]: a call's store data; [`imports`]: the host side of every adapter import, one
//!   view each; [`native`]: the host-native contracts (messaging, logging, monitoring,
//!   search), their backends and views, reached through bridge components.
//! - [`outbound`]: the outbound-HTTP allowlist ([`outbound::Target`], [`outbound::OutboundRules`])
//!   and the `wasi:http` hook enforcing it, the pooled keep-alive connections requests go out
//!   on and the TLS roots they trust ([`TrustedCa`]); [`credentials`]: secrets injected by the
//!   host.
//! - [`limits`], [`log_limit`], [`buffer`]: per-call limits, the guest log rate, host-held work.
//! - [`compile_cache`]: compiled components kept on disk across restarts.
//! - [`json`]: JSON ⇄ WIT values; [`signature`]: contract functions read once per component;
//!   [`services`]: typed clients.
//! - Leaves: [`metrics`] (the host's registry and the Prometheus text format), [`signing`],
//!   [`contract`] (the contracts' shared types built on the host side), [`identity`],
//!   [`service`], [`error`], [`bindings`] (only `bindgen!`).
//!
//! ```no_run
//! use switchyard_host::{BindingSpec, ComponentSource, Runtime, Service};
//! use switchyard_host::services::analytics::Event;
//!
//! # async fn demo() -> Result<(), switchyard_host::Error> {
//! let spec = BindingSpec::new(ComponentSource::path("target/components/analytics-posthog.wasm"))
//!     .config("host", "https://us.i.posthog.com")
//!     .allow("https://us.i.posthog.com")?;
//! let rt = Runtime::builder().binding("acme", Service::Analytics, spec).build().await?;
//! rt.analytics("acme")?.track(&Event::new("signed_up", "user-1")).await?;
//! rt.shutdown().await;
//! # Ok(()) }
//! ```

mod binding;
pub mod bindings;
pub mod buffer;
pub mod compile_cache;
pub mod config;
pub mod contract;
pub mod credentials;
pub mod error;
pub mod identity;
pub mod imports;
pub mod inspect;
pub mod json;
pub mod limits;
pub mod log_limit;
pub mod metrics;
pub mod native;
pub mod outbound;
pub mod runtime;
pub mod service;
pub mod services;
pub mod signature;
pub mod signing;
pub mod state;

pub use config::{BindingSpec, ComponentSource, FileConfig, RuntimeOptions, SigningOptions};
pub use credentials::{CredentialConfig, Injection, SecretSource};
pub use error::{Error, ErrorKind, ProviderError, Result};
pub use limits::Limits;
pub use native::Backend;
pub use outbound::{OutboundProxy, TrustedCa};
pub use runtime::{
    BindingHealth, BindingInfo, ReloadReport, Runtime, RuntimeBuilder, ShutdownReport, SwapReport,
    Undelivered,
};
pub use service::Service;
pub use signature::FunctionInfo;
pub use signing::{SignatureError, Signer};
