//! Capability-scoped outbound HTTP: the allowlist and the `wasi:http` hook that enforces it.
//!
//! - [`target`]: an allowlist entry and a request's concrete target.
//! - [`rules`]: one binding's allowlist and credentials.
//! - [`hook`]: the per-call hook that checks every request and injects credentials.
//! - [`handler`]: `wasi:http/outgoing-handler`, freeing the request options it is handed.
//! - [`redact`]: masks the injected secrets in every response before the guest reads it.
//! - [`egress`]: the pooled keep-alive client that carries the checked requests.
//! - [`proxy`]: the forward proxy egress may have to go through (`CONNECT` tunnels).
//! - [`tls`]: which servers that client trusts (the platform's roots, a binding's own CAs).

pub(crate) mod egress;
pub mod handler;
pub mod hook;
pub mod proxy;
pub mod redact;
pub mod rules;
pub mod target;
pub mod tls;

pub use hook::OutboundPolicy;
pub use proxy::OutboundProxy;
pub use rules::OutboundRules;
pub use target::{Target, TargetError};
pub use tls::{TrustedCa, TrustedCaError};
