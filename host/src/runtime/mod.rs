//! The runtime: one wasmtime engine, the bindings of every tenant, and the call path.
//!
//! One `impl Runtime` per concern, each in its own file:
//! - [`handle`]: the [`Runtime`] handle, what it shares, looking bindings up, metrics, signing.
//! - [`builder`]: the [`RuntimeBuilder`].
//! - [`engine`]: the engine and the linker (every host import, through its view).
//! - [`load`]: compiling, linking and checking a component; granting a generation.
//! - [`admission`]: how many calls run at once, per binding, per tenant and overall.
//! - [`compute`]: how many of a tenant's calls compute at once (tenant-fair CPU).
//! - [`call`]: one call, its limits and its outcome.
//! - [`warm`]: idle instances kept for a generation's next calls.
//! - [`invoke`]: calls by name with JSON, and the health report.
//! - [`lifecycle`]: background tasks, ticks, drains and the file watcher.
//! - [`changes`]: add, swap, rebind, remove, reload, shutdown.
//! - [`reports`]: what those answer.

mod admission;
mod builder;
mod call;
mod changes;
mod compute;
mod engine;
mod handle;
mod invoke;
mod lifecycle;
mod load;
mod reports;
pub(crate) mod warm;

pub use builder::RuntimeBuilder;
pub use handle::{Runtime, DEFAULT_PUBLIC_URL};
pub use load::ImportError;
pub use reports::{
    BindingHealth, BindingInfo, ReloadReport, ShutdownReport, SwapReport, Undelivered,
};
