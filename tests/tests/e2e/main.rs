//! End-to-end tests: host -> component -> mock provider, one binary for all of them.
//!
//! The components come from `make adapters` (target/components/, or `SWITCHYARD_COMPONENTS`).

mod boundary;
mod compile_cache;
mod config;
mod egress;
mod email;
mod local;
mod logging;
mod messaging;
mod monitoring;
mod notification;
mod payment;
mod posthog;
mod redis;
mod sandbox;
mod search;
mod sentry;
mod storage;
mod support;
mod swap;
mod warm;
