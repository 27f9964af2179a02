//! Supabase Storage's errors mapped to the contract's, and restated in the terms of a call.
//!
//! Supabase Storage sends most errors with HTTP 400 and the real status only in the body:
//! `{"statusCode":"404","code":"NoSuchKey","error":"not_found","message":"Object not found"}`.
//! [`provider_error`] maps by the body's `code` first, then its `statusCode`, then the HTTP
//! status (the API gateway's own 401s have neither), and keeps Supabase's code and message.

use serde_json::Value;
use switchyard_sdk::http::Response;
use switchyard_sdk::types::{Error, ErrorKind};

/// The contract error for a Storage API answer that is not 2xx.
pub fn provider_error(response: &Response) -> Error {
    let base = response.to_error();
    let body: Option<Value> = serde_json::from_slice(&response.body).ok();
    let field = |name: &str| {
        body.as_ref()
            .and_then(|b| b.get(name))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    };
    let code = field("code");
    let body_status: Option<u16> = field("statusCode").and_then(|s| s.parse().ok());
    let provider_message = field("message")
        .or_else(|| field("error"))
        .or(base.provider_message.clone());
    let kind = code
        .as_deref()
        .and_then(kind_of_code)
        .or_else(|| body_status.and_then(kind_of_status))
        .unwrap_or(base.kind);
    let message = format!(
        "Supabase Storage answered HTTP {}{}{}",
        response.status,
        code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
        provider_message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    );
    let retry_after = base.retry_after_ms;
    of_kind(kind, message, retry_after).with_provider(code.or(base.provider_code), provider_message)
}

/// Supabase Storage's error codes (src/internal/errors/codes.ts) as contract kinds.
fn kind_of_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "NoSuchBucket" | "NoSuchKey" | "NoSuchUpload" => ErrorKind::NotFound,
        "ResourceAlreadyExists"
        | "BucketAlreadyExists"
        | "KeyAlreadyExists"
        | "ResourceNotEmpty"
        | "ResourceLocked"
        | "LockTimeout" => ErrorKind::Conflict,
        "InvalidJWT" | "AccessDenied" | "SignatureDoesNotMatch" | "ExpiredToken" => {
            ErrorKind::Unauthorized
        }
        "EntityTooLarge" => ErrorKind::TooLarge,
        "InvalidMimeType"
        | "InvalidKey"
        | "InvalidBucketName"
        | "InvalidRequest"
        | "InvalidParameter"
        | "MissingParameter"
        | "InvalidSignature"
        | "InvalidUploadSignature"
        | "InvalidRange"
        | "MissingContentLength" => ErrorKind::InvalidInput,
        "SlowDown" => ErrorKind::RateLimited,
        "InternalError" | "DatabaseTimeout" | "DatabaseError" => ErrorKind::Unavailable,
        _ => return None,
    })
}

fn kind_of_status(status: u16) -> Option<ErrorKind> {
    Some(match status {
        400 | 415 | 422 => ErrorKind::InvalidInput,
        401 | 403 => ErrorKind::Unauthorized,
        404 => ErrorKind::NotFound,
        409 | 423 => ErrorKind::Conflict,
        413 => ErrorKind::TooLarge,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Unavailable,
        _ => return None,
    })
}

/// An error of `kind` (retryable as its constructor says) with `message`.
pub fn of_kind(kind: ErrorKind, message: String, retry_after_ms: Option<u64>) -> Error {
    let mut err = match kind {
        ErrorKind::InvalidInput => Error::invalid_input(message),
        ErrorKind::NotFound => Error::not_found(message),
        ErrorKind::Conflict => Error::conflict(message),
        ErrorKind::Unauthorized => Error::unauthorized(message),
        ErrorKind::Denied => Error::denied(message),
        ErrorKind::RateLimited => {
            let mut e = Error::rate_limited(retry_after_ms);
            e.message = message;
            e
        }
        ErrorKind::Unavailable => Error::unavailable(message),
        ErrorKind::Timeout => Error::timeout(message),
        ErrorKind::Unsupported => Error::unsupported(message),
        ErrorKind::TooLarge => Error::too_large(message),
        ErrorKind::Internal => Error::internal(message),
    };
    if err.retry_after_ms.is_none() {
        err.retry_after_ms = retry_after_ms;
    }
    err
}

/// The same error with another kind and message (provider code, message and retry hint kept).
pub fn restate(err: Error, kind: ErrorKind, message: String) -> Error {
    let retry_after = err.retry_after_ms;
    of_kind(kind, message, retry_after).with_provider(err.provider_code, err.provider_message)
}

/// Whether the error carries Supabase's `code`.
pub fn has_code(err: &Error, code: &str) -> bool {
    err.provider_code.as_deref() == Some(code)
}

/// Explains the errors every object call can meet in the terms of the call: a missing
/// bucket or object, a key that exists, a key Supabase refuses, a refused key. Others stay.
pub fn explain(err: Error, bucket_field: &str, bucket: &str, key_field: &str, key: &str) -> Error {
    match err.provider_code.as_deref() {
        Some("NoSuchBucket") => {
            let prefix = if bucket_field == "bucket" || bucket_field == "name" {
                String::new()
            } else {
                format!("{bucket_field}: ")
            };
            let m = format!("{prefix}bucket '{bucket}' does not exist (create-bucket makes it)");
            restate(err, ErrorKind::NotFound, m)
        }
        Some("NoSuchKey") => {
            let m = format!(
                "object '{}' does not exist in bucket '{bucket}'",
                key.escape_debug()
            );
            restate(err, ErrorKind::NotFound, m)
        }
        Some("ResourceAlreadyExists" | "KeyAlreadyExists") => {
            let m = format!(
                "object '{}' already exists in bucket '{bucket}'; upload with overwrite to \
                 replace it",
                key.escape_debug()
            );
            restate(err, ErrorKind::Conflict, m)
        }
        Some("InvalidKey") => {
            let m = format!(
                "{key_field} '{}' is not a key Supabase Storage accepts: it takes keys of ASCII \
                 letters, digits, spaces and _ / ! . * ' ( ) & $ = @ ; : + , ? -",
                key.escape_debug()
            );
            restate(err, ErrorKind::InvalidInput, m)
        }
        _ if err.kind == ErrorKind::Unauthorized => unauthorized(err),
        _ => err,
    }
}

/// A refusal of the credentials, said as such.
pub fn unauthorized(err: Error) -> Error {
    if err.kind != ErrorKind::Unauthorized {
        return err;
    }
    let m = format!(
        "Supabase refused the key the host injected (check the binding's credentials: \
         `Authorization: Bearer` and `apikey` with the project's service key); {}",
        err.message
    );
    restate(err, ErrorKind::Unauthorized, m)
}
