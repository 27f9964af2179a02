//! The host's error type: what can go wrong loading, configuring and calling adapters.
//!
//! One enum rather than one per module, so an embedding app matches on a single type; each
//! variant names the tenant, service or file involved. A provider's own failure is not a host
//! error: it arrives as [`ProviderError`], the contract's `error` record, inside
//! [`Error::Provider`].

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::bindings::base::switchyard::types::types as wit;

/// Everything a Switchyard host operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file or value is invalid.
    #[error("configuration error in {origin}: {message}")]
    Config {
        /// Where the bad value came from: a file (with line) or `the Rust API`.
        origin: String,
        /// What was wrong.
        message: String,
    },
    /// A secret named by the configuration could not be read.
    #[error("secret for tenant '{tenant}' service '{service}' unavailable: {message}")]
    Secret {
        tenant: String,
        service: String,
        message: String,
    },
    /// No tenant by that name.
    #[error("unknown tenant '{0}'")]
    UnknownTenant(String),
    /// The tenant has no binding for that service.
    #[error("tenant '{tenant}' has no binding for service '{service}'")]
    UnknownBinding { tenant: String, service: String },
    /// The service name is not one of Switchyard's contracts (or not implemented yet).
    #[error("unknown service '{0}'")]
    UnknownService(String),
    /// The contract has no function by that name.
    #[error("service '{service}' has no function '{function}'; it has: {}", known.join(", "))]
    UnknownFunction {
        service: String,
        function: String,
        known: Vec<String>,
    },
    /// The arguments of a call by name do not fit the function's WIT signature.
    #[error("bad arguments for '{function}': {message}")]
    BadArguments { function: String, message: String },
    /// The call waited its turn (`runtime.queue_ms`) and found no place: its binding, its
    /// tenant or the whole pool is running as many calls as it may. Retryable.
    #[error(
        "{tenant}/{service} is busy: {limit} calls are running; waited {waited:?} in line \
         (retry later)"
    )]
    Busy {
        tenant: String,
        service: String,
        limit: String,
        waited: std::time::Duration,
    },
    /// The arguments are larger than the binding's memory lets its component take in:
    /// over half of `limits.memory_mib`, or large enough that the call ran out of memory.
    #[error(
        "the arguments of '{function}' hold {bytes} bytes, too many for this {service} \
         binding (limits.memory_mib = {memory_mib}); send less, or raise the limit"
    )]
    ArgumentsTooLarge {
        service: String,
        function: String,
        bytes: usize,
        memory_mib: u64,
    },
    /// A component file could not be read.
    #[error("cannot read component {path}: {source}")]
    ReadComponent {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A component could not be compiled or does not implement its binding's contract.
    #[error("component '{component}' refused for service '{service}': {message}")]
    InvalidComponent {
        component: String,
        service: String,
        message: String,
    },
    /// The call ran past its binding's deadline and was stopped.
    #[error("call to {tenant}/{service}.{function} stopped at its deadline of {deadline:?}")]
    Deadline {
        tenant: String,
        service: String,
        function: String,
        deadline: Duration,
    },
    /// The adapter tried to grow its memory past the binding's cap.
    #[error(
        "call to {tenant}/{service}.{function} stopped: memory cap of {cap_bytes} bytes reached"
    )]
    MemoryLimit {
        tenant: String,
        service: String,
        function: String,
        cap_bytes: u64,
    },
    /// The adapter trapped (a panic, an invalid operation).
    #[error("adapter for {tenant}/{service} trapped in {function}: {message}")]
    Trap {
        tenant: String,
        service: String,
        function: String,
        message: String,
    },
    /// The host is shutting down and takes no new calls.
    #[error("the host is shutting down")]
    ShuttingDown,
    /// The provider (or the adapter, on its behalf) answered with the contract's error.
    #[error("{0}")]
    Provider(ProviderError),
    /// An adapter answered something its contract does not allow (an error value that is not
    /// the contract's `error` record, a failure without one).
    #[error("adapter for {tenant}/{service} broke its contract in {function}: {message}")]
    Contract {
        tenant: String,
        service: String,
        function: String,
        message: String,
    },
    /// An unexpected wasmtime failure; its causes stay reachable through `source()`.
    #[error("wasmtime: {message}")]
    Wasmtime {
        /// The failure with its causes, `: `-separated.
        message: String,
        /// The failure itself.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl Error {
    /// A configuration error coming from the Rust API rather than a file.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            origin: "the Rust API".into(),
            message: message.into(),
        }
    }

    /// A wasmtime failure, its chain of causes kept.
    pub fn wasmtime(e: wasmtime::Error) -> Self {
        Error::Wasmtime {
            message: format!("{e:#}"),
            source: e.into(),
        }
    }

    /// A stable, machine-readable code for this error (for APIs and logs).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Config { .. } => "config_error",
            Error::Secret { .. } => "secret_unavailable",
            Error::UnknownTenant(_) => "unknown_tenant",
            Error::UnknownBinding { .. } => "unknown_binding",
            Error::UnknownService(_) => "unknown_service",
            Error::UnknownFunction { .. } => "unknown_function",
            Error::BadArguments { .. } => "bad_arguments",
            Error::ArgumentsTooLarge { .. } => "too_large",
            Error::Busy { .. } => "rate_limited",
            Error::ReadComponent { .. } => "component_unreadable",
            Error::InvalidComponent { .. } => "invalid_component",
            Error::Deadline { .. } => "deadline_exceeded",
            Error::MemoryLimit { .. } => "memory_limit",
            Error::Trap { .. } => "adapter_trapped",
            Error::ShuttingDown => "shutting_down",
            Error::Contract { .. } | Error::Wasmtime { .. } => "internal",
            Error::Provider(p) => match p.kind {
                ErrorKind::InvalidInput => "invalid_input",
                ErrorKind::NotFound => "not_found",
                ErrorKind::Conflict => "conflict",
                ErrorKind::Unauthorized => "provider_unauthorized",
                ErrorKind::Denied => "denied",
                ErrorKind::RateLimited => "rate_limited",
                ErrorKind::Unavailable => "provider_unavailable",
                ErrorKind::Timeout => "provider_timeout",
                ErrorKind::Unsupported => "unsupported",
                ErrorKind::TooLarge => "too_large",
                ErrorKind::Internal => "provider_error",
            },
        }
    }

    /// The HTTP status a gateway answers this error with.
    ///
    /// The caller's mistakes are 4xx; a provider refusing the credentials the host injected is
    /// the operator's problem, not the caller's, so it is a 502 like other provider failures.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::BadArguments { .. } | Error::ReadComponent { .. } => 400,
            Error::ArgumentsTooLarge { .. } => 413,
            Error::Busy { .. } => 429,
            Error::UnknownTenant(_)
            | Error::UnknownBinding { .. }
            | Error::UnknownService(_)
            | Error::UnknownFunction { .. } => 404,
            Error::InvalidComponent { .. } => 422,
            Error::Deadline { .. } => 504,
            Error::MemoryLimit { .. } | Error::Trap { .. } => 502,
            Error::ShuttingDown => 503,
            Error::Config { .. }
            | Error::Secret { .. }
            | Error::Contract { .. }
            | Error::Wasmtime { .. } => 500,
            Error::Provider(p) => match p.kind {
                ErrorKind::InvalidInput => 400,
                ErrorKind::NotFound => 404,
                ErrorKind::Conflict => 409,
                ErrorKind::Denied => 403,
                ErrorKind::RateLimited => 429,
                ErrorKind::Unavailable => 503,
                ErrorKind::Timeout => 504,
                ErrorKind::Unsupported => 501,
                ErrorKind::TooLarge => 413,
                ErrorKind::Unauthorized | ErrorKind::Internal => 502,
            },
        }
    }

    /// The contract error, when this is one.
    pub fn provider(&self) -> Option<&ProviderError> {
        match self {
            Error::Provider(e) => Some(e),
            _ => None,
        }
    }
}

/// The contract's `error-kind`, on the host side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    InvalidInput,
    NotFound,
    Conflict,
    Unauthorized,
    Denied,
    RateLimited,
    Unavailable,
    Timeout,
    Unsupported,
    TooLarge,
    Internal,
}

impl ErrorKind {
    /// The kind's WIT name, e.g. `invalid-input`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Denied => "denied",
            ErrorKind::RateLimited => "rate-limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::Internal => "internal",
        }
    }
}

/// The contract's `error` record: a failure reported by the adapter or its provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Whether retrying the same call later may succeed.
    pub retryable: bool,
    /// A message naming what was wrong.
    pub message: String,
    /// The provider's own error code.
    pub provider_code: Option<String>,
    /// The provider's own error message.
    pub provider_message: Option<String>,
    /// How long the provider asked us to wait before retrying.
    pub retry_after_ms: Option<u64>,
}

impl From<wit::Error> for ProviderError {
    fn from(e: wit::Error) -> Self {
        use wit::ErrorKind as K;
        let kind = match e.kind {
            K::InvalidInput => ErrorKind::InvalidInput,
            K::NotFound => ErrorKind::NotFound,
            K::Conflict => ErrorKind::Conflict,
            K::Unauthorized => ErrorKind::Unauthorized,
            K::Denied => ErrorKind::Denied,
            K::RateLimited => ErrorKind::RateLimited,
            K::Unavailable => ErrorKind::Unavailable,
            K::Timeout => ErrorKind::Timeout,
            K::Unsupported => ErrorKind::Unsupported,
            K::TooLarge => ErrorKind::TooLarge,
            K::Internal => ErrorKind::Internal,
        };
        ProviderError {
            kind,
            retryable: e.retryable,
            message: e.message,
            provider_code: e.provider_code,
            provider_message: e.provider_message,
            retry_after_ms: e.retry_after_ms,
        }
    }
}

impl From<wit::Error> for Error {
    fn from(e: wit::Error) -> Self {
        Error::Provider(e.into())
    }
}

/// Shorthand for results of host operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
