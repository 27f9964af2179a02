//! Twilio's error answers mapped to the contract's errors.
//!
//! Twilio answers errors as `{"code": 21211, "message": "...", "more_info": "...",
//! "status": 400}`. [`twilio_error`] maps the HTTP status to the shared kind first, then
//! refines it by Twilio's code, naming the contract field the code is about.

use serde_json::Value;
use switchyard_sdk::http::{self, Response};
use switchyard_sdk::types::{Error, ErrorKind};

/// The shared error for a Twilio error answer: the HTTP status decides the kind (400
/// invalid-input, 401/403 unauthorized, 404 not-found, 429 rate-limited with
/// `Retry-After`, 5xx unavailable...), then Twilio's `code` refines it. The error keeps
/// Twilio's code and message as its provider code and message.
pub fn twilio_error(response: &Response) -> Error {
    let base = http::status_error(
        response.status,
        &response.url,
        &response.headers,
        &response.body,
    );
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    let code = match body.get("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let twilio_message = body
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| base.provider_message.clone());
    refine(base, code, twilio_message, response.status)
}

/// Refines `base` by Twilio's error `code` (pure, for tests).
pub fn refine(base: Error, code: Option<i64>, message: Option<String>, status: u16) -> Error {
    let Some(code) = code else {
        return base;
    };
    let said = message.clone().unwrap_or_else(|| base.message.clone());
    let retry_after_ms = base.retry_after_ms;
    let provider = |err: Error| {
        err.with_provider(Some(code.to_string()), message.clone())
            .with_retry_after_ms(retry_after_ms)
    };
    let err = match code {
        20003 => Error::unauthorized(format!(
            "Twilio refused the account SID and auth token the host injected: {said}"
        )),
        20404 => Error::not_found(format!("Twilio has no such resource: {said}")),
        20429 => {
            let mut err = Error::rate_limited(base.retry_after_ms);
            err.message = format!("Twilio is rate limiting this account: {said}");
            err
        }
        // Recipient problems Twilio refuses at once: invalid number (21211), not reachable
        // by SMS (21612), region not enabled (21408), unsubscribed (21610), not a mobile
        // number (21614), missing (21604).
        21211 | 21265 | 21408 | 21610 | 21612 | 21614 | 21604 => {
            Error::invalid_input(format!("to: Twilio refused the recipient ({code}): {said}"))
        }
        // Sender problems: invalid From (21212), not owned (21606), missing (21603),
        // cannot send to this recipient (21659), unknown Messaging Service (21701...).
        21212 | 21603 | 21606 | 21659 | 21701 | 21702 | 21703 | 21704 | 21705 => {
            Error::invalid_input(format!(
                "sender: Twilio refused the sender ({code}): {said}"
            ))
        }
        // The From number's queue is full: try again later.
        21611 => {
            let mut err = Error::rate_limited(base.retry_after_ms);
            err.message = format!("sender: the From number's queue is full ({code}): {said}");
            err
        }
        21602 => Error::invalid_input(format!("body: Twilio refused the body ({code}): {said}")),
        21617 => Error::too_large(format!("body: Twilio refused the body ({code}): {said}")),
        // Scheduling: SendAt missing or outside the window, ScheduleType, no Messaging Service.
        35111..=35126 => Error::invalid_input(format!(
            "send-at: Twilio refused to schedule the message ({code}): {said}"
        )),
        30409 => Error::conflict(format!(
            "Twilio cannot cancel this message any more ({code}): {said}"
        )),
        _ if base.kind == ErrorKind::Internal && (400..500).contains(&status) => {
            Error::invalid_input(format!("Twilio refused the request ({code}): {said}"))
        }
        _ => {
            let mut err = base.clone();
            err.message = format!("{} ({code}): {said}", base.message);
            err
        }
    };
    provider(err)
}

/// `not-found` naming `id` for Twilio's 20404; other errors as they are.
pub fn not_found_as_id(err: Error, id: &str) -> Error {
    if err.kind == ErrorKind::NotFound {
        Error::not_found(format!("id: Twilio has no message {id} in this account"))
            .with_provider(err.provider_code, err.provider_message)
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
            url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json".into(),
        }
    }

    #[test]
    fn maps_twilio_codes() {
        let err = twilio_error(&response(
            400,
            r#"{"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}"#,
            &[],
        ));
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.message.starts_with("to:"), "{}", err.message);
        assert_eq!(err.provider_code.as_deref(), Some("21211"));
        assert!(err.provider_message.unwrap().contains("not a valid phone"));

        let err = twilio_error(&response(
            401,
            r#"{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}"#,
            &[],
        ));
        assert_eq!(err.kind, ErrorKind::Unauthorized);
        assert!(!err.retryable);

        let err = twilio_error(&response(
            429,
            r#"{"code": 20429, "message": "Too Many Requests", "more_info": "", "status": 429}"#,
            &[("retry-after", "2")],
        ));
        assert_eq!(err.kind, ErrorKind::RateLimited);
        assert!(err.retryable);
        assert_eq!(err.retry_after_ms, Some(2000));
        assert_eq!(err.provider_code.as_deref(), Some("20429"));

        let err = twilio_error(&response(
            404,
            r#"{"code": 20404, "message": "The requested resource was not found", "status": 404}"#,
            &[],
        ));
        assert_eq!(err.kind, ErrorKind::NotFound);

        let err = twilio_error(&response(
            400,
            r#"{"code": 30409, "message": "Message cannot be canceled", "status": 400}"#,
            &[],
        ));
        assert_eq!(err.kind, ErrorKind::Conflict);

        let err = twilio_error(&response(
            400,
            r#"{"code": 35114, "message": "SendAt too soon", "status": 400}"#,
            &[],
        ));
        assert!(err.message.starts_with("send-at:"));

        let err = twilio_error(&response(503, "upstream down", &[]));
        assert_eq!(err.kind, ErrorKind::Unavailable);
        assert!(err.retryable);

        let err = twilio_error(&response(
            500,
            r#"{"code": 20500, "message": "Internal Server Error", "status": 500}"#,
            &[],
        ));
        assert_eq!(err.kind, ErrorKind::Unavailable);
        assert!(err.retryable);
        assert_eq!(err.provider_code.as_deref(), Some("20500"));
    }
}
