//! Switchyard's server: an HTTP gateway to every tenant's adapters and an admin API, over a
//! [`switchyard_host::Runtime`]. The `switchyard` binary (`src/main.rs`) is its CLI.
//!
//! A tour of the modules:
//! - [`server`]: [`serve`], the HTTP/1.1 accept loops, graceful shutdown, reload on SIGHUP.
//! - [`router`]: which listener and connection reach which routes; health, readiness,
//!   metrics; request logs.
//! - [`conn`]: connection limits (overall, per client address, a reserve for health and
//!   admin) and the open-file limit.
//! - [`gateway`]: `/v1`, any contract function by name through `Runtime::invoke_json`.
//! - [`auth`]: the gateway's per-tenant keys, their scopes, and whether `/v1` requires one.
//! - [`admin`]: `/admin`, bindings, hot swap and reload, behind a bearer token;
//!   [`admin_keys`]: `/admin/keys`.
//! - [`metrics`]: the server's own metrics at `/metrics`.
//! - [`error`]: [`ServerError`] and [`ApiError`], the JSON error body and its codes.
//! - [`config`]: the `[server]` and `[logging]` sections of the configuration file.
//! - [`logs`]: the log sink, console or JSON lines, from `[logging]`; [`log_fields`]: console
//!   fields with control characters escaped, so one event is one line.
//! - [`client`]: the HTTP client the CLI uses to talk to a running server.
//! - [`http`]: body limits, JSON responses, path and query parsing.
//!
//! The routes, the error codes and the CLI are described in `README.md`, included below.
//!
//! ```no_run
//! use switchyard_host::Runtime;
//! use switchyard_server::{serve, ServeOptions};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::builder().config_file("switchyard.toml")?.build().await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let opts = ServeOptions {
//!     config_path: Some("switchyard.toml".into()),
//!     ..ServeOptions::default()
//! };
//! let report = serve(runtime, listener, opts, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! assert!(report.undelivered.is_empty());
//! # Ok(()) }
//! ```
#![doc = include_str!("../README.md")]

pub mod admin;
pub mod admin_keys;
pub mod auth;
pub mod client;
pub mod config;
pub mod conn;
pub mod error;
pub mod gateway;
pub mod http;
pub mod log_fields;
pub mod logs;
pub mod metrics;
pub mod router;
pub mod server;
pub mod signed;

pub use config::ServerSettings;
pub use error::{ApiError, ServerError};
pub use server::{serve, ServeOptions};
