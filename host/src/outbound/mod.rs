//! Capability-scoped outbound HTTP: the allowlist and the `wasi:http` hook that enforces it.
//!
//! - [`target`]: an allowlist entry and a request's concrete target.
//! - [`rules`]: one binding's allowlist and credentials.
//! - [`hook`]: the per-call hook that checks every request and injects credentials.
//! - [`redact`]: masks the injected secrets in every response before the guest reads it.

pub mod hook;
pub mod redact;
pub mod rules;
pub mod target;

pub use hook::OutboundPolicy;
pub use rules::OutboundRules;
pub use target::{Target, TargetError};
