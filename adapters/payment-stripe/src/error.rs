//! Stripe's error answers mapped to the contract's error kinds.
//!
//! Stripe answers `{"error": {"type", "code", "decline_code", "message", "param", ...}}`.
//! The provider code is `code` (or `type` when there is none: `idempotency_error`,
//! `api_error`); the provider message is Stripe's `message` (with the decline code for card
//! errors). The message names the contract's field (from `param`) or the object's id, and the
//! Stripe request id.
//!
//! | Stripe | contract |
//! |---|---|
//! | 402 / `card_error` | `invalid-input` naming `payment-method`, provider code `card_declined`... |
//! | `idempotency_error` | `conflict` naming `idempotency-key` |
//! | 409 `idempotency_key_in_use` | `conflict`, retryable (retried) |
//! | 401, 403 | `unauthorized` |
//! | `resource_missing` | `not-found` naming the id (`invalid-input` for an unknown `payment_method`) |
//! | `payment_intent_unexpected_state` | `conflict` naming the payment's status (`invalid-input` naming `payment-method` when a confirmation lacks one) |
//! | `charge_already_refunded` | `conflict` |
//! | other 400s (`amount_too_large`, `parameter_invalid`, `email_invalid`...) | `invalid-input` naming the field |
//! | 429 (`rate_limit`, `lock_timeout`) | `rate-limited` with `Retry-After`, retryable |
//! | 5xx, `api_error` | `unavailable`, retryable |
//!
//! `Stripe-Should-Retry: true|false`, when Stripe sends it, decides whether the error is
//! retryable.

use serde::Deserialize;
use serde_json::Value;
use switchyard_sdk::http::{parse_retry_after, Response};
use switchyard_sdk::types::Error;

use crate::validate::clip;
use crate::wire::{payment_status, StripeIntent};

/// What a call was doing, so that errors can say it in the contract's words.
#[derive(Clone, Debug, Default)]
pub struct Op<'a> {
    /// The object in the request path: (contract field, kind of object, id), e.g.
    /// `("id", "payment", "pi_...")`.
    pub object: Option<(&'a str, &'a str, &'a str)>,
    /// What is done to a payment, for state conflicts: `confirmed`, `captured`, `canceled`,
    /// `refunded`.
    pub doing: Option<&'a str>,
    /// The payment method the caller gave, for declines.
    pub payment_method: Option<&'a str>,
    /// The idempotency key the caller gave.
    pub idempotency_key: Option<&'a str>,
    /// What a `resource_missing` on a parameter names: (Stripe param, contract field, kind of
    /// object, id).
    pub references: &'a [(&'a str, &'a str, &'a str, &'a str)],
}

/// Stripe's error object.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct StripeError {
    /// `type`: `card_error`, `invalid_request_error`, `idempotency_error`, `api_error`...
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// `code`: `card_declined`, `resource_missing`, `amount_too_large`...
    #[serde(default)]
    pub code: Option<String>,
    /// `decline_code` of a card error: `generic_decline`, `insufficient_funds`...
    #[serde(default)]
    pub decline_code: Option<String>,
    /// Stripe's message.
    #[serde(default)]
    pub message: Option<String>,
    /// The parameter at fault, in Stripe's words (`amount_to_capture`, `metadata[k]`).
    #[serde(default)]
    pub param: Option<String>,
    /// The PaymentIntent, in state errors and declines.
    #[serde(default)]
    pub payment_intent: Option<Value>,
}

#[derive(Deserialize)]
struct Envelope {
    error: StripeError,
}

/// The contract's name of a Stripe parameter.
pub fn field(param: &str) -> &str {
    let base = param.split('[').next().unwrap_or(param);
    match base {
        "amount" | "amount_to_capture" => "amount",
        "payment_method" => "payment-method",
        "capture_method" => "capture-method",
        "cancellation_reason" | "reason" => "reason",
        "payment_intent" | "charge" => "payment",
        "starting_after" | "ending_before" => "page.cursor",
        "limit" => "page.limit",
        "intent" | "refund" => "id",
        other => other,
    }
}

/// The error an answer that is not 2xx maps to.
pub fn from_response(op: &Op, response: &Response, now_ms: u64) -> Error {
    let parsed = serde_json::from_slice::<Envelope>(&response.body)
        .map(|e| e.error)
        .ok();
    let request_id = response.header("request-id").map(str::to_string);
    let retry_after = response
        .header("retry-after")
        .and_then(|v| parse_retry_after(v, now_ms));
    let should_retry = match response.header("stripe-should-retry") {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    let mut err = match parsed {
        Some(e) => map(op, response.status, &e, retry_after),
        None => {
            // Not Stripe's error body (a proxy, a load balancer): the status decides.
            let mut e = response.to_error();
            e.message = format!(
                "Stripe answered HTTP {} without an error body",
                response.status
            );
            e
        }
    };
    if let Some(retry) = should_retry {
        err.retryable = retry;
    }
    if let Some(id) = request_id {
        err.message = format!("{} (Stripe request {id})", err.message);
    }
    err
}

/// Maps a parsed Stripe error.
pub fn map(op: &Op, status: u16, e: &StripeError, retry_after_ms: Option<u64>) -> Error {
    let kind = e.kind.as_deref().unwrap_or("");
    let code = e.code.as_deref().unwrap_or("");
    // Stripe's message in ours is kept short (an invalid currency lists every currency);
    // the provider message keeps up to 512 bytes of it.
    let stripe_message = clip_to(e.message.as_deref().unwrap_or_default(), 200);
    let provider_code = e.code.clone().or_else(|| e.kind.clone());
    let mut provider_message = e.message.as_deref().map(|m| clip_to(m, 512));
    let param = e.param.as_deref().filter(|p| !p.is_empty());
    let named = |what: &str| match param {
        Some(p) => format!("{}: {what}", field(p)),
        None => what.to_string(),
    };

    let err = if status == 401 {
        Error::unauthorized(format!(
            "Stripe refused the secret key the host injected: {stripe_message}"
        ))
    } else if status == 403 {
        Error::unauthorized(format!(
            "the secret key the host injected may not do this: {stripe_message}"
        ))
    } else if kind == "card_error" || status == 402 {
        let pm = op
            .payment_method
            .map(|p| format!("payment-method {p}"))
            .unwrap_or_else(|| "the payment-method".to_string());
        let decline = e.decline_code.as_deref().unwrap_or(code);
        if let Some(dc) = &e.decline_code {
            provider_message = Some(format!("{stripe_message} (decline_code: {dc})"));
        }
        Error::invalid_input(format!("{pm} was declined: {code} ({decline})"))
    } else if kind == "idempotency_error" {
        let key = op.idempotency_key.map(clip).unwrap_or_default();
        Error::conflict(format!(
            "idempotency-key {key:?} was already used with different parameters or for another \
             kind of object; use a new key"
        ))
    } else if code == "idempotency_key_in_use" {
        let key = op.idempotency_key.map(clip).unwrap_or_default();
        Error::conflict(format!(
            "another request with idempotency-key {key:?} is still in progress at Stripe; retry"
        ))
        .with_retryable(true)
    } else if status == 429 || matches!(code, "rate_limit" | "lock_timeout") {
        let mut err = Error::rate_limited(retry_after_ms);
        err.message = format!("Stripe rate-limited the request: {stripe_message}");
        err
    } else if status >= 500 || kind == "api_error" {
        Error::unavailable(format!(
            "Stripe could not serve the request: {stripe_message}"
        ))
        .with_retry_after_ms(retry_after_ms)
    } else if code == "resource_missing" {
        missing(op, param)
    } else if code == "payment_intent_unexpected_state" {
        unexpected_state(op, e)
    } else if code == "charge_already_refunded" {
        let id = op.object.map(|(_, _, id)| id).unwrap_or("");
        Error::conflict(format!("payment {id} is already refunded in full"))
    } else if status == 404 {
        Error::not_found(named(&stripe_message))
    } else if status == 409 {
        Error::conflict(named(&stripe_message))
    } else if status == 400 || kind == "invalid_request_error" {
        Error::invalid_input(named(&stripe_message))
    } else {
        Error::internal(format!("Stripe answered HTTP {status}: {stripe_message}"))
    };
    err.with_provider(provider_code, provider_message)
}

/// At most `max` bytes of `text` (on a character boundary), with `...` when cut.
fn clip_to(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// `resource_missing`: the object of the path, or one a parameter names.
fn missing(op: &Op, param: Option<&str>) -> Error {
    if let Some(p) = param {
        if let Some((_, field, what, id)) = op.references.iter().find(|r| r.0 == p) {
            return if p == "payment_method" {
                Error::invalid_input(format!(
                    "{field} {id:?} is not a payment method Stripe knows"
                ))
            } else {
                Error::not_found(format!("{field}: no {what} with id {:?}", clip(id)))
            };
        }
        if p == "starting_after" || p == "ending_before" {
            return Error::invalid_input("page.cursor is not a cursor this listing gave");
        }
    }
    match op.object {
        Some((field, what, id)) => {
            Error::not_found(format!("{field}: no {what} with id {:?}", clip(id)))
        }
        None => Error::not_found(format!(
            "{}: Stripe has no such object",
            param.map(field).unwrap_or("id")
        )),
    }
}

/// `payment_intent_unexpected_state`, with the PaymentIntent Stripe puts in the error.
fn unexpected_state(op: &Op, e: &StripeError) -> Error {
    let intent = e
        .payment_intent
        .clone()
        .and_then(|v| serde_json::from_value::<StripeIntent>(v).ok());
    let id = intent
        .as_ref()
        .map(|p| p.id.clone())
        .or_else(|| op.object.map(|(_, _, id)| id.to_string()))
        .unwrap_or_default();
    let status = intent.as_ref().map(|p| p.status.clone());
    let doing = op.doing.unwrap_or("changed");
    let missing_method = doing == "confirmed"
        && op.payment_method.is_none()
        && intent
            .as_ref()
            .is_some_and(|p| p.payment_method.is_none() && p.status == "requires_payment_method");
    if missing_method {
        return Error::invalid_input(format!(
            "payment-method is needed: payment {id} has none attached"
        ));
    }
    match status {
        Some(s) if payment_status(&s).is_some() => Error::conflict(format!(
            "payment {id} is {}; it cannot be {doing}",
            s.replace('_', "-")
        )),
        _ => Error::conflict(format!(
            "payment {id} is in a state where it cannot be {doing}: {}",
            clip_to(e.message.as_deref().unwrap_or_default(), 200)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchyard_sdk::types::ErrorKind;

    fn response(status: u16, headers: &[(&str, &str)], body: Value) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_string().into_bytes(),
            url: "https://api.stripe.com/v1/x".into(),
        }
    }

    #[test]
    fn declines_are_invalid_input_with_the_code() {
        let op = Op {
            payment_method: Some("pm_card_chargeDeclined"),
            ..Op::default()
        };
        let r = response(
            402,
            &[("request-id", "req_1")],
            json!({"error": {"type": "card_error", "code": "card_declined",
                "decline_code": "generic_decline", "message": "Your card was declined."}}),
        );
        let e = from_response(&op, &r, 0);
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(!e.retryable);
        assert!(e.message.contains("payment-method pm_card_chargeDeclined"));
        assert!(e.message.contains("req_1"));
        assert_eq!(e.provider_code.as_deref(), Some("card_declined"));
        assert!(e.provider_message.unwrap().contains("generic_decline"));
    }

    #[test]
    fn idempotency_and_retry_signals() {
        let op = Op {
            idempotency_key: Some("order-42"),
            ..Op::default()
        };
        let e = from_response(
            &op,
            &response(
                400,
                &[("stripe-should-retry", "false")],
                json!({"error": {"type": "idempotency_error", "message": "Keys for idempotent requests..."}}),
            ),
            0,
        );
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert!(e.message.contains("idempotency-key \"order-42\""));
        assert_eq!(e.provider_code.as_deref(), Some("idempotency_error"));
        assert!(!e.retryable);

        let e = from_response(
            &op,
            &response(
                409,
                &[("stripe-should-retry", "true")],
                json!({"error": {"type": "invalid_request_error", "code": "idempotency_key_in_use",
                    "message": "There is currently another in-progress request..."}}),
            ),
            0,
        );
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert!(e.retryable);

        let e = from_response(
            &op,
            &response(
                429,
                &[("retry-after", "2")],
                json!({"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many"}}),
            ),
            0,
        );
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after_ms, Some(2000));
        assert!(e.retryable);

        let e = from_response(
            &op,
            &response(
                500,
                &[],
                json!({"error": {"type": "api_error", "message": "boom"}}),
            ),
            0,
        );
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert!(e.retryable);
        assert_eq!(e.provider_code.as_deref(), Some("api_error"));

        let e = from_response(&op, &response(503, &[], json!("upstream down")), 0);
        assert_eq!(e.kind, ErrorKind::Unavailable);

        let e = from_response(
            &op,
            &response(
                401,
                &[],
                json!({"error": {"type": "invalid_request_error",
                "message": "Invalid API Key provided: sk_test_****1234"}}),
            ),
            0,
        );
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert!(!e.retryable);
    }

    #[test]
    fn missing_objects_and_states_name_the_contract_words() {
        let op = Op {
            object: Some(("id", "payment", "pi_unknown")),
            ..Op::default()
        };
        let e = map(
            &op,
            404,
            &StripeError {
                kind: Some("invalid_request_error".into()),
                code: Some("resource_missing".into()),
                message: Some("No such payment_intent: 'pi_unknown'".into()),
                param: Some("intent".into()),
                ..StripeError::default()
            },
            None,
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.contains("pi_unknown"));

        let refs = [
            ("customer", "customer", "customer", "cus_x"),
            (
                "payment_method",
                "payment-method",
                "payment method",
                "pm_card_nonsense",
            ),
        ];
        let op = Op {
            references: &refs,
            ..Op::default()
        };
        let missing_param = |param: &str| StripeError {
            code: Some("resource_missing".into()),
            param: Some(param.into()),
            ..StripeError::default()
        };
        let e = map(&op, 400, &missing_param("customer"), None);
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.starts_with("customer: no customer"));
        let e = map(&op, 400, &missing_param("payment_method"), None);
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains("payment-method"));

        let state = |status: &str, pm: Value| StripeError {
            code: Some("payment_intent_unexpected_state".into()),
            payment_intent: Some(json!({"id": "pi_9", "amount": 500, "currency": "usd",
                "capture_method": "automatic", "status": status, "payment_method": pm})),
            message: Some("You cannot confirm this PaymentIntent...".into()),
            ..StripeError::default()
        };
        let confirm = Op {
            doing: Some("confirmed"),
            ..Op::default()
        };
        let e = map(&confirm, 400, &state("succeeded", json!("pm_1")), None);
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(
            e.message,
            "payment pi_9 is succeeded; it cannot be confirmed"
        );
        let e = map(
            &confirm,
            400,
            &state("requires_payment_method", Value::Null),
            None,
        );
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains("payment-method"));

        let bad = StripeError {
            kind: Some("invalid_request_error".into()),
            code: Some("amount_too_large".into()),
            param: Some("amount_to_capture".into()),
            message: Some("The amount to capture (1500) must be...".into()),
            ..StripeError::default()
        };
        let e = map(&Op::default(), 400, &bad, None);
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.starts_with("amount: "));
        assert_eq!(field("metadata[k]"), "metadata");

        let long = StripeError {
            kind: Some("invalid_request_error".into()),
            message: Some(format!("Invalid currency: xyz. {}", "aed, ".repeat(200))),
            param: Some("currency".into()),
            ..StripeError::default()
        };
        let e = map(&Op::default(), 400, &long, None);
        assert!(e.message.starts_with("currency: Invalid currency: xyz."));
        assert!(e.message.len() <= 220, "{}", e.message);
        assert!(e.provider_message.unwrap().len() <= 512);
    }
}
