//! The HTTP calls to Twilio's 2010-04-01 REST API and the mapping of its errors.
//!
//! Every request goes to `{base_url}/2010-04-01/Accounts/{AccountSid}/...json`, asks for
//! JSON, and is retried under the binding's policy while it fails with a retryable error
//! (429 and Twilio's 20429, honouring `Retry-After`; 5xx; network failures and time-outs),
//! with exponential backoff and full jitter (`switchyard_sdk::retry`). Bodies are
//! `application/x-www-form-urlencoded`, as Twilio takes them. The host adds the basic-auth
//! header; the adapter never sees the auth token.
//!
//! Twilio answers errors as `{"code": 21211, "message": "...", "more_info": "...",
//! "status": 400}`. [`twilio_error`] maps the HTTP status to the shared kind first, then
//! refines it by Twilio's code, naming the contract field the code is about.

use core::time::Duration;

use serde_json::Value;
use switchyard_sdk::http::{self, Request, Response};
use switchyard_sdk::retry::retry;
use switchyard_sdk::types::{Error, ErrorKind};

use crate::config::Config;

/// The per-request time limit asked of the host.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Twilio's API version, the first segment of every path.
pub const API_VERSION: &str = "2010-04-01";

/// A client for one account.
pub struct Client<'a> {
    config: &'a Config,
}

impl<'a> Client<'a> {
    /// A client using `config`'s base URL, account and retry policy.
    pub fn new(config: &'a Config) -> Self {
        Client { config }
    }

    /// `{base}/2010-04-01/Accounts/{sid}{rest}`.
    fn url(&self, rest: &str) -> String {
        format!(
            "{}/{API_VERSION}/Accounts/{}{rest}",
            self.config.base_url, self.config.account_sid
        )
    }

    /// `POST .../Messages.json`: creates (sends or schedules) a message.
    pub fn create_message(&self, form: &[(String, String)]) -> Result<Value, Error> {
        let body = encode_form(form);
        self.call(|| {
            Request::post(self.url("/Messages.json"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
        })
    }

    /// `GET .../Messages/{sid}.json`.
    pub fn fetch_message(&self, sid: &str) -> Result<Value, Error> {
        self.call(|| Request::get(self.url(&format!("/Messages/{sid}.json"))))
    }

    /// `POST .../Messages/{sid}.json`: updates a message (`Status=canceled`).
    pub fn update_message(&self, sid: &str, form: &[(String, String)]) -> Result<Value, Error> {
        let body = encode_form(form);
        self.call(|| {
            Request::post(self.url(&format!("/Messages/{sid}.json")))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.clone())
        })
    }

    /// `GET .../Messages.json?...`: one page of the account's messages, newest first.
    pub fn list_messages(&self, query: &[(String, String)]) -> Result<Value, Error> {
        self.call(|| {
            query
                .iter()
                .fold(Request::get(self.url("/Messages.json")), |r, (k, v)| {
                    r.query(k.as_str(), v.as_str())
                })
        })
    }

    /// `GET /2010-04-01/Accounts/{sid}.json`: the account itself (for `health`).
    pub fn fetch_account(&self) -> Result<Value, Error> {
        self.call(|| Request::get(self.url(".json")))
    }

    /// Sends the request `build` makes, retried while it fails with a retryable error, and
    /// parses the JSON answer.
    fn call(&self, build: impl Fn() -> Request) -> Result<Value, Error> {
        let response = retry(&self.config.retry, || {
            let response = build()
                .header("accept", "application/json")
                .timeout(REQUEST_TIMEOUT)
                .send()?;
            if response.is_success() {
                Ok(response)
            } else {
                Err(twilio_error(&response))
            }
        })?;
        response.json::<Value>()
    }
}

/// Encodes pairs as `application/x-www-form-urlencoded` (RFC 3986 unreserved characters
/// kept, everything else percent-encoded, so `+` in a phone number is `%2B`).
pub fn encode_form(pairs: &[(String, String)]) -> Vec<u8> {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, k);
        out.push('=');
        percent_encode_into(&mut out, v);
    }
    out.into_bytes()
}

fn percent_encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// Decodes one `application/x-www-form-urlencoded` value (`+` is a space).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes.get(i + 1..i + 3) {
                Some(h) if h.iter().all(u8::is_ascii_hexdigit) => {
                    let hex = core::str::from_utf8(h).unwrap_or("00");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

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
    fn form_encoding() {
        let form = vec![
            ("To".to_string(), "+15558675310".to_string()),
            ("Body".to_string(), "hi & bye=1 é".to_string()),
        ];
        let text = String::from_utf8(encode_form(&form)).unwrap();
        assert_eq!(text, "To=%2B15558675310&Body=hi%20%26%20bye%3D1%20%C3%A9");
        assert_eq!(percent_decode("PA%2Bx+y%zz%4"), "PA+x y%zz%4");
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
