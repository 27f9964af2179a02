//! Switchyard's server: an HTTP gateway to every tenant's adapters and an admin API, over a
//! [`switchyard_host::Runtime`]. The `switchyard` binary (`src/main.rs`) is its CLI.
//!
//! A tour of the modules:
//! - [`server`]: [`serve`], the HTTP/1.1 accept loop, routing, request logs, graceful shutdown.
//! - [`gateway`]: `/v1`, any contract function by name through `Runtime::invoke_json`.
//! - [`admin`]: `/admin`, bindings, hot swap and reload, behind a bearer token.
//! - [`error`]: [`ServerError`] and [`ApiError`], the JSON error body and its codes.
//! - [`config`]: the `[server]` and `[logging]` sections of the configuration file.
//! - [`logs`]: the log sink, console or JSON lines, from `[logging]`.
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
//! let opts = ServeOptions { admin_token: None, config_path: Some("switchyard.toml".into()) };
//! let report = serve(runtime, listener, opts, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! assert!(report.undelivered.is_empty());
//! # Ok(()) }
//! ```
#![doc = include_str!("../README.md")]

pub mod admin;
pub mod client;
pub mod config;
pub mod error;
pub mod gateway;
pub mod http;
pub mod logs;
pub mod server;
pub mod signed;

pub use config::ServerSettings;
pub use error::{ApiError, ServerError};
pub use server::{serve, ServeOptions};
