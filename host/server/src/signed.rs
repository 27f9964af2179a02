//! Signed URLs: `/v1/signed/{tenant}/{service}/{resource...}?expires=..&sig=..`, made by the
//! host for adapters that have no provider to sign them (the storage default), verified
//! here before anything is served.
//!
//! - `GET /v1/signed/{tenant}/storage/{bucket}/{key...}`: the object's content, with its
//!   `Content-Type`, `Cache-Control` and `ETag`.
//! - `PUT /v1/signed/{tenant}/storage/{bucket}/{key...}`: stores the body (its
//!   `Content-Type`), replacing an object of that key; answers `{"result": {..info}}`.
//!
//! A URL that is malformed, altered, signed for another method or expired gets 403.
//!
//! Public objects need no signature: `GET /v1/public/{tenant}/storage/{bucket}/{key...}`
//! serves an object of a bucket whose `public` setting is on, and answers 404 for any other
//! (a private bucket is not told apart from a missing one). Point the storage default's
//! `public_base_url` at `{server.public_url}/v1/public/{tenant}/storage`.

use bytes::Bytes;
use http::{header, HeaderValue, Method, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::json;
use switchyard_host::services::storage::{ObjectInfo, UploadOptions};
use switchyard_host::{Runtime, Service};

use crate::error::ApiError;
use crate::http::{json_response, read_body, HttpResponse};

/// The largest upload through a signed URL: 64 MiB.
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

/// Handles `/v1/signed/...`; `segments` are the ones after `signed`.
pub async fn handle(
    runtime: &Runtime,
    req: Request<Incoming>,
    segments: &[String],
) -> Result<HttpResponse, ApiError> {
    let [tenant, service, bucket, key @ ..] = segments else {
        return Err(ApiError::not_found(req.uri().path()));
    };
    if key.is_empty() {
        return Err(ApiError::not_found(req.uri().path()));
    }
    let service: Service = service
        .parse()
        .map_err(|_| switchyard_host::Error::UnknownService(service.clone()))?;
    if service != Service::Storage {
        return Err(ApiError::not_found(req.uri().path()));
    }
    // Verified over the segments as decoded one by one: `docs%2Fsub/a.txt` is not `docs/sub/a.txt`.
    let resource: Vec<&str> = segments[2..].iter().map(String::as_str).collect();
    let key = key.join("/");
    let method = match *req.method() {
        Method::GET | Method::HEAD => "GET",
        Method::PUT => "PUT",
        _ => return Err(ApiError::method_not_allowed(req.method(), "GET, HEAD, PUT")),
    };
    runtime
        .verify_signed(tenant, service, method, &resource, req.uri().query())
        .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, "bad_signature", e.to_string()))?;
    let storage = runtime.storage(tenant)?;
    if method == "GET" {
        let object = storage.download(bucket, &key).await?;
        let head = req.method() == Method::HEAD;
        return Ok(object_response(
            &object.info,
            if head { Vec::new() } else { object.body },
        ));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (parts, body) = req.into_parts();
    let body = read_body(&parts, body, MAX_UPLOAD_BYTES).await?;
    let options = UploadOptions {
        content_type,
        cache_control: None,
        metadata: Vec::new(),
        overwrite: Some(true),
    };
    let (runtime, tenant, bucket) = (runtime.clone(), tenant.clone(), bucket.clone());
    let info = crate::http::detach(async move {
        runtime
            .storage(&tenant)?
            .upload(&bucket, &key, &body, &options)
            .await
    })
    .await?;
    Ok(json_response(
        StatusCode::OK,
        &json!({ "result": info_json(&info) }),
    ))
}

/// Handles `/v1/public/...`; `segments` are the ones after `public`.
pub async fn public(
    runtime: &Runtime,
    req: Request<Incoming>,
    segments: &[String],
) -> Result<HttpResponse, ApiError> {
    let [tenant, service, bucket, key @ ..] = segments else {
        return Err(ApiError::not_found(req.uri().path()));
    };
    if key.is_empty() || service != "storage" {
        return Err(ApiError::not_found(req.uri().path()));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::method_not_allowed(req.method(), "GET, HEAD"));
    }
    let storage = runtime.storage(tenant)?;
    let hidden = || ApiError::not_found(req.uri().path());
    match storage.get_bucket(bucket).await {
        Ok(b) if b.public => {}
        _ => return Err(hidden()),
    }
    let object = storage.download(bucket, &key.join("/")).await?;
    let head = req.method() == Method::HEAD;
    Ok(object_response(
        &object.info,
        if head { Vec::new() } else { object.body },
    ))
}

fn object_response(info: &ObjectInfo, body: Vec<u8>) -> HttpResponse {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(header::CONTENT_TYPE, &info.content_type);
    set(header::CONTENT_LENGTH, &info.size.to_string());
    let etag = info.etag.trim_matches('"');
    set(header::ETAG, &format!("\"{etag}\""));
    if let Some(cc) = &info.cache_control {
        set(header::CACHE_CONTROL, cc);
    }
    response
}

fn info_json(info: &ObjectInfo) -> serde_json::Value {
    json!({
        "bucket": info.bucket,
        "key": info.key,
        "size": info.size,
        "content-type": info.content_type,
        "etag": info.etag,
    })
}
