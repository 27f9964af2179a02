//! `MockSupabase`: an in-memory stand-in for one Supabase project's Storage API
//! (`{project}/storage/v1`, the `supabase/storage` server behind its API gateway), speaking its
//! wire format: paths, methods, headers, JSON bodies, and its error bodies
//! `{"statusCode":"404","code":"NoSuchKey","error":"not_found","message":"Object not found"}`
//! sent with HTTP 400 (the real status only in the body), as the server does.
//!
//! | Request (under `/storage/v1`) | Answer |
//! |---|---|
//! | `GET /bucket`, `GET/PUT/DELETE /bucket/{id}`, `POST /bucket`, `POST /bucket/{id}/empty` | buckets (`public`, `file_size_limit`, `allowed_mime_types`) |
//! | `POST /object/{bucket}/{key}` (`x-upsert`), `PUT /object/{bucket}/{key}` | `{"Id","Key"}`; `content-type`, `cache-control` (default `no-cache`), `x-metadata` (base64 JSON) kept |
//! | `GET /object/{bucket}/{key}`, `GET /object/authenticated/...` | the bytes, with `Content-Type`, `Cache-Control`, `ETag`, `Last-Modified` |
//! | `GET /object/info/{bucket}/{key}` | the object's info (`size`, `content_type`, `cache_control`, `etag`, `metadata`, `last_modified`) |
//! | `POST /object/list-v2/{bucket}` | `{"hasNext","nextCursor","folders","objects"}` (keys in byte order, `with_delimiter`, opaque cursor) |
//! | `POST /object/list/{bucket}` | the v1 listing: one folder level, `limit`/`offset`/`search` |
//! | `DELETE /object/{bucket}/{key}`, `DELETE /object/{bucket}` `{"prefixes"}` | deleted |
//! | `POST /object/copy`, `POST /object/move` | copy (`x-upsert`; no destination limits checked), move |
//! | `POST /object/sign/{bucket}/{key}` `{"expiresIn"}` | `{"signedURL":"/object/sign/{bucket}/{key}?token=<JWT>"}` |
//! | `GET /object/sign/{bucket}/{key}?token=` | the bytes, without auth, while the token is valid |
//! | `POST /object/upload/sign/{bucket}/{key}` | `{"url":"/object/upload/sign/...?token=<JWT>","token"}`, expiry from the mock's config |
//! | `PUT /object/upload/sign/{bucket}/{key}?token=` | uploads without auth: `{"Key"}` |
//! | `GET /object/public/{bucket}/{key}` | the bytes, without auth, for public buckets only |
//!
//! What it checks like the real thing:
//! - **Auth** on every request but public and signed ones: `apikey` must be the project's key
//!   (else the gateway's 401 `{"message":"Invalid API key"}`), and `Authorization: Bearer`
//!   must carry it (else 400 `InvalidJWT`).
//! - **Rules**: object keys of S3-safe ASCII only (`InvalidKey`), bucket limits on uploads
//!   (`EntityTooLarge` 413 and `InvalidMimeType` 415 in the body, with the server's
//!   `type/*` matching), `x-upsert: false` refuses an existing key (`ResourceAlreadyExists`),
//!   a bucket with objects cannot be deleted (`ResourceNotEmpty`).
//! - **Signed URLs**: HS256 JWTs signed with the mock's own secret, `{"url":"bucket/key",
//!   "iat","exp"}` (+ `upsert` for uploads); a tampered, expired or other-object token is
//!   refused (`InvalidSignature`, `ExpiredToken`).
//!
//! Failure injection: [`MockSupabase::fail_next`] (any status, headers, JSON body) with helpers
//! for 429 `SlowDown` with `Retry-After` ([`MockSupabase::fail_next_rate_limited`]) and 503
//! ([`MockSupabase::fail_next_unavailable`]); an injected failure answers before anything
//! executes.

mod crypto;
mod store;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{HeaderMap, Method, Request, Response};
use serde_json::{json, Value};

use super::shared::percent_decode_strict;
use super::{lock, Handler, MockError, MockResponse, MockServer, RecordedRequest};
use store::{StorageError, Store, Upload};

/// Where the Storage API is mounted on the project URL.
pub const STORAGE_PATH: &str = "/storage/v1";

/// The largest request body the mock reads.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// How to start a [`MockSupabase`].
#[derive(Debug, Clone)]
pub struct MockSupabaseOptions {
    /// The key (service role) requests must carry in `apikey` and `Authorization: Bearer`.
    pub service_key: String,
    /// The life of signed upload URLs (`uploadSignedUrlExpirationTime`, 7200 s by default).
    pub upload_url_expiry: Duration,
    /// Where to listen; `127.0.0.1:0` by default.
    pub bind: SocketAddr,
}

impl MockSupabaseOptions {
    /// Defaults for `service_key`: 2-hour upload URLs, a free port.
    pub fn new(service_key: &str) -> Self {
        MockSupabaseOptions {
            service_key: service_key.to_string(),
            upload_url_expiry: Duration::from_secs(7200),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

#[derive(Debug, Clone)]
struct Injected {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Debug)]
struct Config {
    service_key: String,
    upload_url_expiry: Duration,
    failures: VecDeque<Injected>,
}

#[derive(Debug)]
struct State {
    config: Mutex<Config>,
    store: Mutex<Store>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// The secret signed URLs' tokens are signed with (the project's JWT secret).
    jwt_secret: Vec<u8>,
}

/// A running mock of one Supabase project's Storage API on `127.0.0.1`. Cheap to clone;
/// clones share the server and its state. The server stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct MockSupabase {
    server: Arc<MockServer>,
    state: Arc<State>,
}

/// One object as the mock holds it, for tests.
#[derive(Debug, Clone, PartialEq)]
pub struct MockObject {
    /// The content.
    pub body: Vec<u8>,
    /// `metadata.mimetype`.
    pub content_type: String,
    /// `metadata.cacheControl`.
    pub cache_control: String,
    /// The user metadata (`x-metadata`), as JSON.
    pub user_metadata: Option<Value>,
    /// The quoted MD5 `ETag`.
    pub etag: String,
}

impl MockSupabase {
    /// Starts a mock project accepting `service_key`.
    ///
    /// # Panics
    /// When `127.0.0.1:0` cannot be bound; use [`MockSupabase::try_start_with`] for the error.
    pub async fn start(service_key: &str) -> MockSupabase {
        Self::start_with(MockSupabaseOptions::new(service_key)).await
    }

    /// Starts a mock with `options`.
    ///
    /// # Panics
    /// When the address cannot be bound.
    pub async fn start_with(options: MockSupabaseOptions) -> MockSupabase {
        super::started("MockSupabase", Self::try_start_with(options).await)
    }

    /// Starts a mock with `options`, returning the bind error instead of panicking.
    pub async fn try_start_with(options: MockSupabaseOptions) -> Result<MockSupabase, MockError> {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let state = Arc::new(State {
            config: Mutex::new(Config {
                service_key: options.service_key,
                upload_url_expiry: options.upload_url_expiry,
                failures: VecDeque::new(),
            }),
            store: Mutex::new(Store::default()),
            requests: Mutex::new(Vec::new()),
            jwt_secret: crypto::sha256(format!("mock-supabase-jwt-secret-{seed}").as_bytes())
                .to_vec(),
        });
        let server = MockServer::serve(options.bind, &state).await?;
        Ok(MockSupabase { server, state })
    }

    /// `http://127.0.0.1:PORT`: the project URL (`https://<ref>.supabase.co` for real).
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// `http://127.0.0.1:PORT/storage/v1`.
    pub fn storage_url(&self) -> String {
        format!("{}{STORAGE_PATH}", self.server.base_url())
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// The requests with `method` whose path (after `/storage/v1`) starts with `prefix`.
    pub fn requests_to(&self, method: &str, prefix: &str) -> Vec<RecordedRequest> {
        let full = format!("{STORAGE_PATH}{prefix}");
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.starts_with(&full))
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.state.requests).clear();
    }

    /// The bucket ids, in order.
    pub fn buckets(&self) -> Vec<String> {
        lock(&self.state.store).buckets.keys().cloned().collect()
    }

    /// An object as stored, if it exists.
    pub fn object(&self, bucket: &str, key: &str) -> Option<MockObject> {
        let store = lock(&self.state.store);
        store.object(bucket, key).ok().map(|o| MockObject {
            body: o.body.to_vec(),
            content_type: o.mimetype.clone(),
            cache_control: o.cache_control.clone(),
            user_metadata: o.user_metadata.clone(),
            etag: o.etag.clone(),
        })
    }

    /// Answers the next `n` requests with `status`, `headers` and the JSON `body`.
    ///
    /// # Panics
    /// When a header is invalid.
    pub fn fail_next(&self, n: usize, status: u16, headers: &[(&str, &str)], body: &Value) {
        let mut headers = super::header_map(headers);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let injected = Injected {
            status,
            headers,
            body: Bytes::from(body.to_string()),
        };
        lock(&self.state.config)
            .failures
            .extend(std::iter::repeat_n(injected, n));
    }

    /// Answers the next `n` requests with a real 429 `SlowDown`, with `Retry-After` when given.
    pub fn fail_next_rate_limited(&self, n: usize, retry_after_secs: Option<u64>) {
        let after = retry_after_secs.map(|s| s.to_string());
        let headers: Vec<(&str, &str)> = after
            .as_deref()
            .map(|a| vec![("retry-after", a)])
            .unwrap_or_default();
        let body = json!({"statusCode": "429", "code": "SlowDown", "error": "SlowDown",
                          "message": "Please reduce your request rate."});
        self.fail_next(n, 429, &headers, &body);
    }

    /// Answers the next `n` requests with 503, as the gateway does when the server is down.
    pub fn fail_next_unavailable(&self, n: usize) {
        let body = json!({"message": "upstream server is temporarily unavailable"});
        self.fail_next(n, 503, &[], &body);
    }

    /// Drops queued failures.
    pub fn reset_failures(&self) {
        lock(&self.state.config).failures.clear();
    }

    /// A signed download token for `bucket/key` valid for `expires_in` (negative: expired),
    /// as `POST /object/sign` would make it, for tests of refusals.
    pub fn sign_token(&self, bucket: &str, key: &str, expires_in: i64) -> String {
        self.state
            .token(&json!({"url": format!("{bucket}/{key}")}), expires_in)
    }
}

/// One parsed request.
struct Call<'a> {
    method: &'a Method,
    /// Path segments after `/storage/v1`, percent-decoded.
    segments: Vec<String>,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

impl Call<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn query_param(&self, name: &str) -> Option<String> {
        self.query?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then(|| percent_decode_strict(v).unwrap_or_default())
        })
    }

    fn json(&self) -> Result<Value, StorageError> {
        if self.body.is_empty() {
            return Ok(json!({}));
        }
        let ct = self.header("content-type").unwrap_or("");
        if !ct.to_ascii_lowercase().starts_with("application/json") {
            return Err(StorageError::invalid_request(format!(
                "Unsupported Media Type: {ct}"
            )));
        }
        serde_json::from_slice(self.body)
            .map_err(|e| StorageError::invalid_request(format!("Body is not valid JSON: {e}")))
    }

    /// `bucket` and `key` from the segments after the route's own.
    fn bucket_and_key(&self, skip: usize) -> Result<(String, String), StorageError> {
        let rest = &self.segments[skip..];
        if rest.len() < 2 {
            return Err(StorageError::invalid_request(
                "bucket and object name required",
            ));
        }
        Ok((rest[0].clone(), rest[1..].join("/")))
    }
}

/// What a handler answers.
enum Answer {
    Json(u16, Value),
    Bytes {
        object: Box<store::StoredObject>,
        expires: Option<String>,
    },
}

impl Handler for State {
    async fn handle(&self, req: Request<Incoming>) -> MockResponse {
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                let err = StorageError::too_large();
                return render_json(413, &err.body());
            }
        };
        let path = parts.uri.path().to_string();
        let query = parts.uri.query().map(str::to_string);
        let response = self.respond(
            &parts.method,
            &path,
            query.as_deref(),
            &parts.headers,
            &body,
        );
        lock(&self.requests).push(RecordedRequest::new(parts, body, response.status()));
        response
    }
}

impl State {
    fn respond(
        &self,
        method: &Method,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> MockResponse {
        if let Some(failure) = lock(&self.config).failures.pop_front() {
            return super::response(
                super::status_code(failure.status),
                &failure.headers,
                failure.body,
            );
        }
        let Some(rest) = path.strip_prefix(STORAGE_PATH) else {
            return render_json(
                404,
                &json!({"message": "no Route matched with those values"}),
            );
        };
        let segments = match rest
            .split('/')
            .skip(1)
            .map(percent_decode_strict)
            .collect::<Option<Vec<String>>>()
        {
            Some(s) => s,
            None => {
                return render_error(&StorageError::invalid_request("malformed percent-encoding"))
            }
        };
        let call = Call {
            method,
            segments,
            query,
            headers,
            body,
        };
        match self.route(&call) {
            Ok(Answer::Json(status, value)) => render_json(status, &value),
            Ok(Answer::Bytes { object, expires }) => render_object(method, &object, expires),
            Err(err) => render_error(&err),
        }
    }

    /// Whether the request carries the project's key, as the gateway and the server check it.
    fn authorize(&self, call: &Call) -> Result<(), Answer> {
        let key = lock(&self.config).service_key.clone();
        match call.header("apikey") {
            Some(k) if k == key => {}
            Some(_) => {
                return Err(Answer::Json(
                    401,
                    json!({"message": "Invalid API key",
                           "hint": "Double check your Supabase `anon` or `service_role` API key."}),
                ))
            }
            None => {
                return Err(Answer::Json(
                    401,
                    json!({"message": "No API key found in request",
                           "hint": "No `apikey` request header or url param was found."}),
                ))
            }
        }
        match call
            .header("authorization")
            .map(|v| v.strip_prefix("Bearer "))
        {
            Some(Some(token)) if token == key => Ok(()),
            Some(_) => Err(Answer::Json(
                400,
                StorageError::invalid_jwt("invalid signature").body(),
            )),
            None => Err(Answer::Json(
                400,
                StorageError::invalid_jwt("No authorization header provided").body(),
            )),
        }
    }

    fn route(&self, call: &Call) -> Result<Answer, StorageError> {
        let seg: Vec<&str> = call.segments.iter().map(String::as_str).collect();
        let m = call.method.as_str();
        // Routes that need no key.
        match (m, seg.as_slice()) {
            ("GET", ["object", "public", ..]) => return self.public_object(call),
            ("GET", ["object", "sign", ..]) => return self.signed_object(call),
            ("PUT", ["object", "upload", "sign", ..]) => return self.signed_upload(call),
            _ => {}
        }
        if let Err(answer) = self.authorize(call) {
            return Ok(answer);
        }
        let ok = |v: Value| Ok(Answer::Json(200, v));
        // An upload's body is read and hashed before the project is locked.
        let upload = match (m, seg.as_slice()) {
            ("POST" | "PUT", ["object", _, _, ..])
                if !matches!(
                    seg[1],
                    "list-v2" | "list" | "move" | "copy" | "sign" | "upload"
                ) =>
            {
                let upsert = m == "PUT" || call.header("x-upsert") == Some("true");
                Some(upload_from(call, upsert))
            }
            _ => None,
        };
        let mut store = lock(&self.store);
        match (m, seg.as_slice()) {
            ("GET", ["bucket"]) => ok(Value::Array(
                store.buckets.values().map(store::bucket_json).collect(),
            )),
            ("POST", ["bucket"]) => ok(store.create_bucket(&call.json()?)?),
            ("GET", ["bucket", id]) => ok(store::bucket_json(store.bucket(id)?)),
            ("PUT", ["bucket", id]) => ok(store.update_bucket(id, &call.json()?)?),
            ("DELETE", ["bucket", id]) => ok(store.delete_bucket(id)?),
            ("POST", ["bucket", id, "empty"]) => ok(store.empty_bucket(id)?),
            ("POST", ["object", "list-v2", bucket]) => ok(store.list_v2(bucket, &call.json()?)?),
            ("POST", ["object", "list", bucket]) => ok(store.list_v1(bucket, &call.json()?)?),
            ("POST", ["object", "move"]) => ok(store.move_object(&call.json()?)?),
            ("POST", ["object", "copy"]) => {
                let upsert = call.header("x-upsert") == Some("true");
                let md = call
                    .header("x-metadata")
                    .and_then(store::parse_user_metadata);
                ok(store.copy_object(&call.json()?, upsert, md)?)
            }
            ("POST", ["object", "sign", ..]) => {
                let (bucket, key) = call.bucket_and_key(2)?;
                let body = call.json()?;
                let expires = body
                    .get("expiresIn")
                    .and_then(Value::as_i64)
                    .filter(|e| *e >= 1)
                    .ok_or_else(|| {
                        StorageError::invalid_request("body/expiresIn must be integer >= 1")
                    })?;
                store.object(&bucket, &key)?;
                let token = self.token(&json!({"url": format!("{bucket}/{key}")}), expires);
                // The path comes back as the server keeps it, not encoded (storage-js
                // encodes the whole URL with `encodeURI`).
                ok(json!({"signedURL": format!("/object/sign/{bucket}/{key}?token={token}")}))
            }
            ("POST", ["object", "upload", "sign", ..]) => {
                let (bucket, key) = call.bucket_and_key(3)?;
                store.bucket(&bucket)?;
                if !store::valid_key(&key) {
                    return Err(StorageError::invalid_key(&key));
                }
                let upsert = call.header("x-upsert") == Some("true");
                let life = lock(&self.config).upload_url_expiry.as_secs() as i64;
                let token = self.token(
                    &json!({"owner": "", "url": format!("{bucket}/{key}"), "upsert": upsert}),
                    life,
                );
                ok(
                    json!({"url": format!("/object/upload/sign/{}?token={token}", encode_path(&bucket, &key)),
                          "token": token}),
                )
            }
            ("GET", ["object", "info", "authenticated" | "public", ..]) => {
                let (bucket, key) = call.bucket_and_key(3)?;
                ok(store::info_json(
                    &bucket,
                    &key,
                    store.object(&bucket, &key)?,
                ))
            }
            ("GET", ["object", "info", ..]) => {
                let (bucket, key) = call.bucket_and_key(2)?;
                ok(store::info_json(
                    &bucket,
                    &key,
                    store.object(&bucket, &key)?,
                ))
            }
            ("GET" | "HEAD", ["object", "authenticated", ..]) => {
                let (bucket, key) = call.bucket_and_key(2)?;
                Ok(Answer::Bytes {
                    object: Box::new(store.object(&bucket, &key)?.clone()),
                    expires: None,
                })
            }
            ("GET" | "HEAD", ["object", ..]) => {
                let (bucket, key) = call.bucket_and_key(1)?;
                Ok(Answer::Bytes {
                    object: Box::new(store.object(&bucket, &key)?.clone()),
                    expires: None,
                })
            }
            ("POST" | "PUT", ["object", ..]) => {
                let (bucket, key) = call.bucket_and_key(1)?;
                let upsert = m == "PUT" || call.header("x-upsert") == Some("true");
                let upload = upload.unwrap_or_else(|| upload_from(call, upsert));
                ok(store.put_object(&bucket, &key, upload)?)
            }
            ("DELETE", ["object", bucket]) => ok(store.delete_objects(bucket, &call.json()?)?),
            ("DELETE", ["object", ..]) => {
                let (bucket, key) = call.bucket_and_key(1)?;
                ok(store.delete_object(&bucket, &key)?)
            }
            _ => Ok(Answer::Json(
                404,
                json!({"message": format!("Route {m}:{STORAGE_PATH}/{} not found", seg.join("/")),
                       "error": "Not Found", "statusCode": 404}),
            )),
        }
    }

    fn public_object(&self, call: &Call) -> Result<Answer, StorageError> {
        let (bucket, key) = call.bucket_and_key(2)?;
        let store = lock(&self.store);
        // A private bucket is reported as missing, as the server's public route does.
        let b = store.bucket(&bucket)?;
        if !b.public {
            return Err(StorageError::no_such_bucket());
        }
        Ok(Answer::Bytes {
            object: Box::new(store.object(&bucket, &key)?.clone()),
            expires: None,
        })
    }

    fn signed_object(&self, call: &Call) -> Result<Answer, StorageError> {
        let (bucket, key) = call.bucket_and_key(2)?;
        let token = call
            .query_param("token")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                StorageError::invalid_request("querystring must have required property 'token'")
            })?;
        let claims = self.verify(&token)?;
        if claims.get("upsert").is_some() {
            return Err(StorageError::invalid_signature("Invalid signature"));
        }
        if claims.get("url").and_then(Value::as_str) != Some(format!("{bucket}/{key}").as_str()) {
            return Err(StorageError::invalid_signature("Invalid signature"));
        }
        let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
        let store = lock(&self.store);
        Ok(Answer::Bytes {
            object: Box::new(store.object(&bucket, &key)?.clone()),
            expires: Some(httpdate(UNIX_EPOCH + Duration::from_secs(exp))),
        })
    }

    fn signed_upload(&self, call: &Call) -> Result<Answer, StorageError> {
        let (bucket, key) = call.bucket_and_key(3)?;
        let token = call
            .query_param("token")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                StorageError::invalid_request("querystring must have required property 'token'")
            })?;
        let claims = self.verify(&token)?;
        if claims.get("url").and_then(Value::as_str) != Some(format!("{bucket}/{key}").as_str())
            || claims.get("upsert").is_none()
        {
            return Err(StorageError::new_upload_signature());
        }
        let upsert = claims
            .get("upsert")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let upload = upload_from(call, upsert);
        let mut store = lock(&self.store);
        store.put_object(&bucket, &key, upload)?;
        Ok(Answer::Json(200, json!({"Key": format!("{bucket}/{key}")})))
    }

    /// An HS256 JWT of `claims` with `iat` and `exp` (now + `expires_in` seconds).
    fn token(&self, claims: &Value, expires_in: i64) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let mut claims = claims.clone();
        claims["iat"] = json!(now);
        claims["exp"] = json!(now + expires_in);
        let header = crypto::base64url_encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = crypto::base64url_encode(claims.to_string().as_bytes());
        let signing_input = format!("{header}.{payload}");
        let sig = crypto::hmac_sha256(&self.jwt_secret, signing_input.as_bytes());
        format!("{signing_input}.{}", crypto::base64url_encode(&sig))
    }

    /// Verifies a token's signature and expiry; its claims.
    fn verify(&self, token: &str) -> Result<Value, StorageError> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, payload, sig] = parts.as_slice() else {
            return Err(StorageError::invalid_signature("jwt malformed"));
        };
        let expected =
            crypto::hmac_sha256(&self.jwt_secret, format!("{header}.{payload}").as_bytes());
        let given = crypto::base64url_decode(sig).unwrap_or_default();
        if !crypto::constant_time_eq(&expected, &given) {
            return Err(StorageError::invalid_signature("invalid signature"));
        }
        let claims: Value = crypto::base64url_decode(payload)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| StorageError::invalid_signature("jwt malformed"))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        match claims.get("exp").and_then(Value::as_u64) {
            Some(exp) if exp > now => Ok(claims),
            _ => Err(StorageError::expired_token()),
        }
    }
}

impl StorageError {
    fn new_upload_signature() -> StorageError {
        StorageError {
            status: 400,
            code: "InvalidUploadSignature",
            error: None,
            message: "Invalid upload Signature".into(),
        }
    }
}

/// The upload's parts from a raw-body request (the way the adapter sends it).
fn upload_from(call: &Call, upsert: bool) -> Upload {
    Upload::new(
        Bytes::copy_from_slice(call.body),
        call.header("content-type")
            .unwrap_or("application/octet-stream")
            .to_string(),
        call.header("cache-control")
            .unwrap_or("no-cache")
            .to_string(),
        call.header("x-metadata")
            .and_then(store::parse_user_metadata),
        upsert,
    )
}

fn render_json(status: u16, value: &Value) -> MockResponse {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = super::status_code(status);
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn render_error(err: &StorageError) -> MockResponse {
    render_json(err.http_status(), &err.body())
}

fn render_object(
    method: &Method,
    o: &store::StoredObject,
    expires: Option<String>,
) -> MockResponse {
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        o.body.clone()
    };
    let mut response = Response::new(Full::new(body));
    let headers = response.headers_mut();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    put("content-type", &o.mimetype);
    put("cache-control", &o.cache_control);
    put("etag", &o.etag);
    put("last-modified", &httpdate(o.updated_at));
    put("accept-ranges", "bytes");
    if let Some(expires) = expires {
        put("expires", &expires);
    }
    response
}

/// An HTTP date (`Tue, 15 Nov 1994 08:12:31 GMT`).
fn httpdate(t: SystemTime) -> String {
    let iso = store::iso(t);
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((secs / 86_400) % 7) as usize];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month: usize = iso[5..7].parse().unwrap_or(1);
    format!(
        "{weekday}, {} {} {} {} GMT",
        &iso[8..10],
        months[month - 1],
        &iso[0..4],
        &iso[11..19]
    )
}

/// `bucket/key` with each segment percent-encoded (unreserved characters stay).
fn encode_path(bucket: &str, key: &str) -> String {
    std::iter::once(bucket)
        .chain(key.split('/'))
        .map(|seg| {
            seg.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}
