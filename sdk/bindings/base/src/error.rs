//! Constructors, builders and a readable description for the shared `Error`; they live
//! here, next to the generated type, because inherent methods must. Documented and
//! re-exported by `switchyard_sdk::error`.

use crate::switchyard::types::types::{Error, ErrorKind};

impl Error {
    /// An error of `kind` with `message`, retryable when the kind usually is
    /// (`rate-limited`, `unavailable`, `timeout`).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            retryable: matches!(
                kind,
                ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Timeout
            ),
            message: message.into(),
            provider_code: None,
            provider_message: None,
            retry_after_ms: None,
        }
    }

    /// The caller's input was rejected. Not retryable.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// The named thing does not exist. Not retryable.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// The thing already exists or conflicts with its current state. Not retryable.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// The provider refused the credentials the host injected. Not retryable.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, message)
    }

    /// The host refused a capability (an outbound host, a header...). Not retryable.
    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Denied, message)
    }

    /// The provider asked us to slow down; `retry_after_ms` is how long it asked us to wait,
    /// when it said. Retryable.
    pub fn rate_limited(retry_after_ms: Option<u64>) -> Self {
        let message = match retry_after_ms {
            Some(ms) => format!("rate limited by the provider: retry after {ms} ms"),
            None => "rate limited by the provider".to_string(),
        };
        let mut err = Self::new(ErrorKind::RateLimited, message);
        err.retry_after_ms = retry_after_ms;
        err
    }

    /// The provider or the network is unavailable for now. Retryable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// The call ran past its deadline. Retryable.
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }

    /// A payload, batch or buffer is larger than allowed. Not retryable.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, message)
    }

    /// The provider cannot do this at all. Not retryable.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    /// Anything else: a bug, an unexpected answer. Not retryable.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Sets the provider's own error code and message.
    pub fn with_provider(mut self, code: Option<String>, message: Option<String>) -> Self {
        self.provider_code = code;
        self.provider_message = message;
        self
    }

    /// Sets how long the provider asked us to wait before retrying.
    pub fn with_retry_after_ms(mut self, retry_after_ms: Option<u64>) -> Self {
        self.retry_after_ms = retry_after_ms;
        self
    }

    /// Overrides whether the call may succeed if retried.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Puts `context` in front of the message: `"{context}: {message}"`.
    pub fn context(mut self, context: impl AsRef<str>) -> Self {
        self.message = format!("{}: {}", context.as_ref(), self.message);
        self
    }

    /// A readable one-line description: kind, message, provider code and message,
    /// retry advice.
    pub fn describe(&self) -> String {
        let mut out = format!("{}: {}", kind_name(self.kind), self.message);
        match (&self.provider_code, &self.provider_message) {
            (Some(code), Some(msg)) => out.push_str(&format!(" (provider {code}: {msg})")),
            (Some(code), None) => out.push_str(&format!(" (provider {code})")),
            (None, Some(msg)) => out.push_str(&format!(" (provider: {msg})")),
            (None, None) => {}
        }
        if let Some(ms) = self.retry_after_ms {
            out.push_str(&format!(" [retry after {ms} ms]"));
        } else if self.retryable {
            out.push_str(" [retryable]");
        }
        out
    }
}

/// A broken contract rule (`switchyard_rules`) as the contract's error, so that `?` turns
/// one into the other: the same kind, the same message, not retryable.
impl From<switchyard_rules::RuleError> for Error {
    fn from(e: switchyard_rules::RuleError) -> Self {
        let kind = match e.kind {
            switchyard_rules::Kind::InvalidInput => ErrorKind::InvalidInput,
            switchyard_rules::Kind::TooLarge => ErrorKind::TooLarge,
        };
        Error::new(kind, e.message)
    }
}

/// The WIT name of an error kind (`invalid-input`, `rate-limited`...).
pub fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
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

impl core::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(kind_name(*self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_follows_kind() {
        assert!(Error::rate_limited(Some(5)).retryable);
        assert!(Error::unavailable("x").retryable);
        assert!(Error::timeout("x").retryable);
        for err in [
            Error::invalid_input("x"),
            Error::not_found("x"),
            Error::conflict("x"),
            Error::unauthorized("x"),
            Error::denied("x"),
            Error::too_large("x"),
            Error::unsupported("x"),
            Error::internal("x"),
        ] {
            assert!(!err.retryable, "{}", err.describe());
        }
    }

    #[test]
    fn rule_errors_convert() {
        let err = Error::from(switchyard_rules::RuleError::too_large(
            "documents has 1001 items",
        ));
        assert_eq!(err.kind, ErrorKind::TooLarge);
        assert_eq!(err.message, "documents has 1001 items");
        assert!(!err.retryable);
        let err: Error = switchyard_rules::RuleError::invalid_input("x").into();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
    }

    #[test]
    fn describe_names_provider() {
        let err = Error::unauthorized("bad key")
            .with_provider(Some("invalid_api_key".into()), Some("Invalid".into()));
        assert_eq!(
            err.describe(),
            "unauthorized: bad key (provider invalid_api_key: Invalid)"
        );
        assert_eq!(Error::rate_limited(Some(3)).retry_after_ms, Some(3));
    }
}
