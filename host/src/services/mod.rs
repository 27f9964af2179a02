//! Typed clients, one per service contract, over a tenant's binding.

pub mod analytics;
pub mod storage;
