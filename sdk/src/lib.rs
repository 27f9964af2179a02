//! # switchyard-sdk
//!
//! What a Switchyard provider adapter depends on. An adapter is a Rust crate compiled to a
//! WebAssembly component that implements one service contract (analytics, storage...)
//! for one provider; the Switchyard host loads it per tenant in a sandbox where the only
//! way out is what the contract's world imports:
//!
//! - [`http`]: outbound HTTP through the host, which enforces the binding's allowlist and
//!   injects the provider's credentials (the adapter never holds a secret);
//! - [`config`]: the binding's non-secret configuration;
//! - [`buffer`]: host-held storage for accepted, undelivered work (survives traps and
//!   hot swaps);
//! - [`log`]: structured records into the host's tracing pipeline;
//! - [`time`], [`random`] and [`retry`]: wall clock, RFC 3339, UUID v7, randomness, backoff
//!   with jitter, over
//!   `wasi:clocks` and `wasi:random`;
//! - [`files`]: the embedded defaults' files under the binding's preopened `/data`
//!   directory (whole writes, exclusive create, locks, listing), over `wasi:filesystem`.
//!
//! [`rules`] holds the contracts' input rules (limits, names, checks), shared with the
//! host's native backends.
//!
//! [`types`] holds the shared contract types ([`types::Error`], [`types::HealthStatus`],
//! [`types::Timestamp`]...), one Rust type in every contract; [`error`] adds constructors
//! to the error. Each contract has a module with its trait and an export macro:
//! [`analytics`] and [`export_analytics!`]; [`base`] and [`export_base!`] export the base
//! world alone (lifecycle only, no contract).
//!
//! ## A minimal analytics adapter
//!
//! ```ignore
//! use switchyard_sdk::analytics::{Analytics, Event, FlushReport, Identity, Lifecycle, PageView};
//! use switchyard_sdk::http::Request;
//! use switchyard_sdk::types::{Error, HealthStatus};
//! use switchyard_sdk::{config, log};
//!
//! struct Echo;
//!
//! impl Analytics for Echo {
//!     fn track(event: Event) -> Result<(), Error> {
//!         let endpoint = config::require("endpoint")?;
//!         Request::post(endpoint)
//!             .json(&serde_json::json!({"event": event.name, "user": event.distinct_id}))
//!             .send()?
//!             .error_for_status()?;
//!         log::debug("event sent", &[("event", &event.name)]);
//!         Ok(())
//!     }
//!     fn page(_: PageView) -> Result<(), Error> { Ok(()) }
//!     fn identify(_: Identity) -> Result<(), Error> { Ok(()) }
//!     fn alias(_: String, _: String) -> Result<(), Error> { Ok(()) }
//!     fn flush() -> Result<FlushReport, Error> { Ok(FlushReport { sent: 0, pending: 0 }) }
//!     fn health() -> Result<HealthStatus, Error> { Ok(HealthStatus { ok: true, detail: "ok".into() }) }
//! }
//!
//! impl Lifecycle for Echo {
//!     fn tick() -> Result<(), Error> { Ok(()) }
//!     fn drain() -> Result<(), Error> { Ok(()) }
//! }
//!
//! switchyard_sdk::export_analytics!(Echo);
//! ```
//!
//! Build it with `make adapters` (see the SDK's README): the crate is a `cdylib` compiled
//! for WebAssembly and turned into a component.
#![warn(missing_docs)]

pub mod analytics;
pub mod base;
pub mod buffer;
pub mod config;
pub mod email;
pub mod error;
pub mod files;
pub mod http;
pub mod log;
pub mod logging;
pub mod messaging;
pub mod monitoring;
pub mod notification;
pub mod payment;
pub mod random;
pub mod retry;
pub mod rules;
pub mod search;
pub mod storage;
pub mod time;
pub mod types;

/// Exports a type implementing [`analytics::Analytics`] and [`analytics::Lifecycle`] as
/// the component's analytics adapter: `switchyard_sdk::export_analytics!(MyAdapter);`.
pub use switchyard_bindings_analytics::export_analytics;
/// Exports a type implementing [`base::Lifecycle`] as a component of the base world (no
/// contract): `switchyard_sdk::export_base!(MyType);`.
pub use switchyard_bindings_base::export_base;
/// Exports a type implementing [`email::Email`] and [`email::Lifecycle`] as the component's
/// email adapter: `switchyard_sdk::export_email!(MyAdapter);`.
pub use switchyard_bindings_email::export_email;
/// Exports a type implementing [`logging::Logging`] and [`logging::Lifecycle`] as the
/// component's logging adapter: `switchyard_sdk::export_logging!(MyAdapter);`.
pub use switchyard_bindings_logging::export_logging;
/// Exports a type implementing [`messaging::Messaging`] and [`messaging::Lifecycle`] as the
/// component's messaging adapter: `switchyard_sdk::export_messaging!(MyAdapter);`.
pub use switchyard_bindings_messaging::export_messaging;
/// Exports a type implementing [`monitoring::Monitoring`] and [`monitoring::Lifecycle`] as
/// the component's monitoring adapter: `switchyard_sdk::export_monitoring!(MyAdapter);`.
pub use switchyard_bindings_monitoring::export_monitoring;
/// Exports a type implementing [`notification::Notification`] and
/// [`notification::Lifecycle`] as the component's notification adapter:
/// `switchyard_sdk::export_notification!(MyAdapter);`.
pub use switchyard_bindings_notification::export_notification;
/// Exports a type implementing [`payment::Payment`] and [`payment::Lifecycle`] as the
/// component's payment adapter: `switchyard_sdk::export_payment!(MyAdapter);`.
pub use switchyard_bindings_payment::export_payment;
/// Exports a type implementing [`search::Search`] and [`search::Lifecycle`] as the
/// component's search adapter: `switchyard_sdk::export_search!(MyAdapter);`.
pub use switchyard_bindings_search::export_search;
/// Exports a type implementing [`storage::Storage`] and [`storage::Lifecycle`] as the
/// component's storage adapter (either storage world): `switchyard_sdk::export_storage!(MyAdapter);`.
pub use switchyard_bindings_storage::export_storage;
