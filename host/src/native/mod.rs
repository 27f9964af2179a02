//! Host-native services: contracts the host implements itself, behind the same WIT as any
//! adapter.
//!
//! A host-native binding is served by a *bridge* component (`adapters/<service>-host`) whose
//! world imports its contract interface and exports it again: each export calls the import
//! of the same name, which the host implements here with the backend the binding's
//! `backend` key names. Binding, swap, limits, the JSON gateway and the behaviour suites
//! therefore treat a host-native provider exactly as they treat a Wasm adapter, and a
//! third-party Wasm adapter of the same contract can replace it with a swap.
//!
//! Backends keep their state per tenant in the [`Backends`] registry, outside any binding,
//! so a swap or reload of the bridge loses nothing.
//!
//! - [`backend`]: the backends a binding's `backend` key names.
//! - [`grant`]: what a binding's calls may reach ([`Grant`]), from every tenant's state
//!   ([`Backends`]).
//! - [`logging`], [`messaging`], [`monitoring`], [`search`]: one contract each, its rules, its
//!   backends and its *view*, the host side of the contract's import that bridges call.

pub mod backend;
pub mod grant;
pub mod logging;
pub mod messaging;
pub mod monitoring;
pub mod search;

pub use backend::{Backend, BackendSettings, UnknownBackend};
pub use grant::{Backends, Grant, GrantError};
