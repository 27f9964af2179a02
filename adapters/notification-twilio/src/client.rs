//! The HTTP calls to Twilio's 2010-04-01 REST API.
//!
//! Every request goes to `{base_url}/2010-04-01/Accounts/{AccountSid}/...json`, asks for
//! JSON, and is retried under the binding's policy while it fails with a retryable error
//! (429 and Twilio's 20429, honouring `Retry-After`; 5xx; network failures and time-outs),
//! with exponential backoff and full jitter (`switchyard_sdk::retry`). Bodies are
//! `application/x-www-form-urlencoded`, as Twilio takes them. The host adds the basic-auth
//! header; the adapter never sees the auth token.
//!
//! Bodies are built by [`crate::wire`]; error answers are mapped by
//! [`crate::error::twilio_error`].

use core::time::Duration;

use serde_json::Value;
use switchyard_sdk::http::Request;
use switchyard_sdk::retry::retry;
use switchyard_sdk::types::Error;

use crate::config::Config;
use crate::error::twilio_error;
use crate::wire::encode_form;

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
