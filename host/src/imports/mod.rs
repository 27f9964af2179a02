//! The host side of the imports every adapter may use, one *view* each: a small borrow of
//! what the interface needs from the call's store, linked through a [`HasData`] marker, as
//! wasmtime's wasi-http does (`WasiHttpCtxView`).
//!
//! - [`types`]: the type-only interfaces (`switchyard:types` and each contract's `types`).
//! - [`log`]: `switchyard:adapter/log`, rate-limited, into `tracing`.
//! - [`config`]: `switchyard:adapter/config`, the binding's configuration.
//! - [`buffer`]: `switchyard:adapter/buffer`, the host-held buffer of accepted work.
//! - [`signing`]: `switchyard:adapter/signing`, signed server URLs.
//!
//! [`HasData`]: wasmtime::component::HasData

pub mod buffer;
pub mod config;
pub mod log;
pub mod signing;
pub mod types;
