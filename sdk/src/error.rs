//! Constructors and helpers for the contracts' one error type, [`Error`].
//!
//! Every constructor sets `retryable` from the kind: `rate-limited`, `unavailable` and
//! `timeout` may succeed later and are retryable; every other kind is not. Override it with
//! [`Error::with_retryable`] when you know better.
//!
//! ```ignore
//! use switchyard_sdk::types::Error;
//!
//! let err = Error::unauthorized("PostHog refused the project api key")
//!     .with_provider(Some("invalid_api_key".into()), Some("Invalid API key".into()));
//! assert!(!err.retryable);
//! ```
//!
//! `wit-bindgen` implements `Display` for `Error` itself (as its `Debug` form), so the SDK
//! cannot replace it; [`Error::describe`] gives the readable one-line form.

pub use crate::types::{Error, ErrorKind};
pub use switchyard_bindings_base::error::kind_name;
