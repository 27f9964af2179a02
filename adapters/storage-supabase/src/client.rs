//! Requests to the Storage API, with retries; a non-2xx answer is mapped by
//! [`crate::error::provider_error`]. Rate limits (429, honouring `Retry-After`), 5xx and
//! network failures are retried with exponential backoff and full jitter
//! ([`switchyard_sdk::retry`]).

use serde_json::{json, Value};
use switchyard_sdk::http::{HttpMethod, Request, Response};
use switchyard_sdk::retry::retry;
use switchyard_sdk::storage::{Bucket, ObjectInfo};
use switchyard_sdk::types::Error;

use crate::config::Config;
use crate::error::{explain, provider_error};
use crate::wire;

/// One request to the Storage API, rebuilt for each attempt.
pub struct Call<'a> {
    method: HttpMethod,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<&'a [u8]>,
    json: Option<Value>,
}

impl<'a> Call<'a> {
    /// `method` on `path` (after `/storage/v1`, already encoded).
    pub fn new(method: HttpMethod, path: impl Into<String>) -> Self {
        Call {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: None,
            json: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// A raw body (its content type given as a header).
    pub fn body(mut self, body: &'a [u8]) -> Self {
        self.body = Some(body);
        self
    }

    /// A JSON body.
    pub fn json(mut self, value: Value) -> Self {
        self.json = Some(value);
        self
    }

    /// Sends it, retrying retryable failures; a 2xx answer, or the mapped error.
    pub fn send(&self, config: &Config) -> Result<Response, Error> {
        let url = format!("{}{}", config.storage_url, self.path);
        retry(&config.retry, || {
            let mut request = Request::new(self.method, url.as_str()).timeout(config.timeout);
            for (name, value) in &self.headers {
                request = request.header(*name, value.as_str());
            }
            if let Some(body) = self.body {
                request = request.body(body.to_vec());
            } else if let Some(json) = &self.json {
                request = request.json(json);
            }
            let response = request.send()?;
            if response.is_success() {
                Ok(response)
            } else {
                Err(provider_error(&response))
            }
        })
    }

    /// Sends it and parses the JSON answer.
    pub fn send_json(&self, config: &Config) -> Result<Value, Error> {
        self.send(config)?.json()
    }
}

/// Percent-encodes one path segment (RFC 3986 unreserved characters stay).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `bucket/key` for a URL path: the bucket and each segment of the key percent-encoded.
pub fn object_path(bucket: &str, key: &str) -> String {
    let key: Vec<String> = key.split('/').map(segment).collect();
    format!("{}/{}", segment(bucket), key.join("/"))
}

/// The bucket `name` (`field` names the argument in errors).
pub(crate) fn get_bucket(config: &Config, field: &str, name: &str) -> Result<Bucket, Error> {
    let v = Call::new(HttpMethod::Get, format!("/bucket/{}", segment(name)))
        .send_json(config)
        .map_err(|e| explain(e, field, name, "", ""))?;
    wire::bucket(&v)
}

/// The description of `key` in `bucket`.
pub(crate) fn stat(config: &Config, bucket: &str, key: &str) -> Result<ObjectInfo, Error> {
    let v = Call::new(
        HttpMethod::Get,
        format!("/object/info/{}", object_path(bucket, key)),
    )
    .send_json(config)
    .map_err(|e| explain(e, "bucket", bucket, "key", key))?;
    wire::info(bucket, key, &v)
}

/// Lists one page with `/object/list-v2`.
pub(crate) fn list_page(
    config: &Config,
    bucket: &str,
    prefix: &str,
    delimited: bool,
    limit: u32,
    cursor: Option<&str>,
) -> Result<Value, Error> {
    let mut body = json!({
        "prefix": prefix,
        "limit": limit,
        "with_delimiter": delimited,
        "sortBy": {"column": "name", "order": "asc"},
    });
    if let Some(cursor) = cursor {
        body["cursor"] = json!(cursor);
    }
    Call::new(
        HttpMethod::Post,
        format!("/object/list-v2/{}", segment(bucket)),
    )
    .json(body)
    .send_json(config)
    .map_err(|e| explain(e, "bucket", bucket, "", ""))
}
