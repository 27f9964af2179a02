//! Algolia's error answers in the contract's terms.
//!
//! Errors are Algolia's `{"message": "...", "status": N}` mapped to the shared kinds, with
//! the status as provider code and the message as provider message.

use serde_json::Value;
use switchyard_sdk::http::{status_error, Response};
use switchyard_sdk::types::Error;

/// An Algolia error answer as the shared error: the kind from the status, Algolia's
/// `message` as provider message and its status as provider code.
pub fn algolia_error(response: &Response) -> Error {
    let mut err = status_error(
        response.status,
        &response.url,
        &response.headers,
        &response.body,
    );
    let message = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string));
    if let Some(m) = &message {
        err.message = format!("{}: {m}", err.message);
    }
    err.provider_code = Some(response.status.to_string());
    err
}

/// `not-found` naming the tenant's index `name`, keeping Algolia's code and message.
pub fn no_index(name: &str, cause: Option<Error>) -> Error {
    let err = Error::not_found(format!("index {name:?} does not exist"));
    match cause {
        Some(c) => err.with_provider(c.provider_code, c.provider_message),
        None => err,
    }
}
