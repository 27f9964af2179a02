//! The contracts' shared types built on the host side: the `error` record host-native
//! backends and host imports answer with, and timestamps.

use std::time::{SystemTime, UNIX_EPOCH};

use switchyard_rules::{Kind, RuleError};

use crate::bindings::base::switchyard::types::types::{Error, ErrorKind, Timestamp};

/// An error of the shared contract type; retryable when its kind is (unavailable,
/// rate-limited, timeout).
pub fn error(kind: ErrorKind, message: impl Into<String>) -> Error {
    Error {
        kind,
        retryable: matches!(
            kind,
            ErrorKind::Unavailable | ErrorKind::RateLimited | ErrorKind::Timeout
        ),
        message: message.into(),
        provider_code: None,
        provider_message: None,
        retry_after_ms: None,
    }
}

/// An `invalid-input` error.
pub fn invalid(message: impl Into<String>) -> Error {
    error(ErrorKind::InvalidInput, message)
}

/// The `denied` error of a host-native contract called through a binding with no backend
/// for it; `contract` names the contract (`messaging`, `search`...).
pub fn no_backend(contract: &str) -> Error {
    error(
        ErrorKind::Denied,
        format!("this binding has no host {contract} backend (set `backend` in its configuration)"),
    )
}

/// The time now, as the contracts' `timestamp`.
pub fn now() -> Timestamp {
    timestamp(SystemTime::now())
}

/// `t` as the contracts' `timestamp` (the epoch for a time before it).
pub fn timestamp(t: SystemTime) -> Timestamp {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp {
        seconds: d.as_secs(),
        nanoseconds: d.subsec_nanos(),
    }
}

/// A broken contract rule (see `switchyard_rules`) as the contract's error: never retryable.
pub fn rule_error(e: RuleError) -> Error {
    let kind = match e.kind {
        Kind::InvalidInput => ErrorKind::InvalidInput,
        Kind::TooLarge => ErrorKind::TooLarge,
    };
    let mut out = error(kind, e.message);
    out.retryable = false;
    out
}
