//! PostHog's answers in the contract's terms: the status mapping, a refused project key, and
//! PostHog rejecting an event.
//!
//! PostHog's capture API says little beyond the status, so the status decides the kind
//! (`switchyard_sdk::http::status_error`): 400 `invalid-input`, 401/403 `unauthorized`, 413
//! `too-large`, 429 `rate-limited` (with `Retry-After`), 5xx `unavailable`; the body's
//! `code`/`type` and `message`/`error` fields, when present, are the provider code and message.

use switchyard_sdk::http::Response;
use switchyard_sdk::types::{Error, ErrorKind};

/// A 2xx answer as it is, or the error its status maps to.
pub fn check(response: Response) -> Result<Response, Error> {
    response.error_for_status()
}

/// PostHog refusing the event itself (400, or 413 for a single event).
pub fn is_rejection(err: &Error) -> bool {
    matches!(err.kind, ErrorKind::InvalidInput | ErrorKind::TooLarge)
}

/// A 401/403 said as what it is: the project api key the host injected was refused, and the
/// events stay buffered. PostHog's own words are kept as the provider message.
pub fn key_refused(err: Error) -> Error {
    Error::unauthorized(
        "PostHog refused the project api key the host injected; the events stay buffered",
    )
    .with_provider(
        err.provider_code,
        err.provider_message.or(Some(err.message)),
    )
}
