//! Switchyard's embeddable host: loads provider adapters as Wasm components per tenant and
//! grants each only what its binding allows.
//!
//! A tour of the modules:
//! - [`runtime`]: the engine, the bindings of every tenant, the call path, hot swap, shutdown.
//! - [`config`]: the TOML file and [`BindingSpec`], the Rust API for a binding.
//! - [`outbound`]: the outbound-HTTP allowlist and the `wasi:http` hook enforcing it.
//! - [`credentials`]: secrets read by the host and injected into requests; never in the guest.
//! - [`limits`]: per-call deadline, per-instance memory cap, buffer size, guest log rate;
//!   [`log_limit`] keeps a noisy adapter from flooding the host's log.
//! - [`buffer`]: host-held storage for accepted, undelivered work (survives traps and swaps).
//! - [`services`]: typed clients ([`services::analytics::Analytics`],
//!   [`services::storage::Storage`]); [`gateway`] calls any contract function with JSON.
//! - [`native`]: the host-native services (messaging, logging, monitoring, search) behind
//!   their contracts, reached through bridge components.
//! - [`signing`]: signed server URLs for adapters (HMAC with a host-held key).
//! - [`bindings`]: the `bindgen!` output, generated from `wit/`.
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
pub mod config;
pub mod credentials;
pub mod error;
pub mod gateway;
pub mod inspect;
pub mod limits;
pub mod log_limit;
pub mod native;
pub mod outbound;
pub mod runtime;
pub mod service;
pub mod services;
pub mod signing;
pub mod state;

pub use config::{
    BindingSpec, ColorChoice, ComponentSource, FileConfig, LogFormat, LoggingOptions,
    RuntimeOptions, ServerOptions,
};
pub use credentials::{CredentialConfig, Injection, SecretSource};
pub use error::{Error, ErrorKind, ProviderError, Result};
pub use limits::Limits;
pub use native::Backend;
pub use runtime::{
    BindingHealth, BindingInfo, ReloadReport, Runtime, RuntimeBuilder, ShutdownReport, SwapReport,
};
pub use service::Service;
pub use signing::{SignatureError, Signer};
