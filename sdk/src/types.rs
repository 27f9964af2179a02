//! The shared types of every contract (`switchyard:types/types`), one Rust type each
//! whatever the contract.
//!
//! [`Error`] is the one error of every contract function; [`crate::error`] adds
//! constructors, builders and a readable description to it.

pub use crate::base::bindings::switchyard::types::types::{
    Error, ErrorKind, HealthStatus, Json, Metadata, PageInfo, PageRequest, Timestamp,
};
