//! Supabase Storage's JSON as the contract's records, and the other way round.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Map, Value};
use switchyard_sdk::storage::{Bucket, BucketOptions, ObjectInfo, SignedUrl};
use switchyard_sdk::time;
use switchyard_sdk::types::{Error, Metadata, Timestamp};

use crate::client::object_path;
use crate::config::Config;

fn text(v: &Value, name: &str) -> Option<String> {
    v.get(name).and_then(Value::as_str).map(str::to_string)
}

fn timestamp(v: &Value, names: &[&str]) -> Result<Timestamp, Error> {
    names
        .iter()
        .find_map(|n| v.get(*n).and_then(Value::as_str))
        .and_then(time::parse_rfc3339)
        .ok_or_else(|| unexpected(&format!("no time among {names:?}"), v))
}

fn unexpected(what: &str, v: &Value) -> Error {
    let mut shown = v.to_string();
    shown.truncate(300);
    Error::internal(format!(
        "Supabase Storage answered an unexpected body ({what}): {shown}"
    ))
}

/// User metadata as `x-metadata`: base64 of a JSON object of the pairs.
pub fn metadata_header(metadata: &Metadata) -> Option<String> {
    if metadata.is_empty() {
        return None;
    }
    let map: Map<String, Value> = metadata
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Some(STANDARD.encode(Value::Object(map).to_string()))
}

/// User metadata from its JSON (an object, or null): string values as they are, others as
/// JSON text, in the order Supabase answers them.
pub fn metadata_from(v: Option<&Value>) -> Metadata {
    match v {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `GET /object/info/{bucket}/{key}` as the contract's description.
pub fn info(bucket: &str, key: &str, v: &Value) -> Result<ObjectInfo, Error> {
    Ok(ObjectInfo {
        bucket: bucket.to_string(),
        key: key.to_string(),
        size: v
            .get("size")
            .and_then(Value::as_u64)
            .ok_or_else(|| unexpected("no size", v))?,
        content_type: text(v, "content_type")
            .unwrap_or_else(|| switchyard_sdk::storage::validate::DEFAULT_CONTENT_TYPE.into()),
        cache_control: text(v, "cache_control"),
        metadata: metadata_from(v.get("metadata")),
        etag: text(v, "etag").ok_or_else(|| unexpected("no etag", v))?,
        updated_at: timestamp(v, &["last_modified", "updated_at"])?,
    })
}

/// An object of a listing (`name`, `updated_at`, `metadata` with `size`, `mimetype`,
/// `cacheControl`, `eTag`). Listings carry no user metadata: `metadata` is empty.
pub fn listed(bucket: &str, v: &Value) -> Result<ObjectInfo, Error> {
    let name = text(v, "name").ok_or_else(|| unexpected("a listed object without name", v))?;
    let md = v.get("metadata").cloned().unwrap_or(Value::Null);
    Ok(ObjectInfo {
        bucket: bucket.to_string(),
        key: name,
        size: md
            .get("size")
            .or_else(|| md.get("contentLength"))
            .and_then(Value::as_u64)
            .unwrap_or(0),
        content_type: text(&md, "mimetype")
            .unwrap_or_else(|| switchyard_sdk::storage::validate::DEFAULT_CONTENT_TYPE.into()),
        cache_control: text(&md, "cacheControl"),
        metadata: Vec::new(),
        etag: text(&md, "eTag").unwrap_or_default(),
        updated_at: timestamp(v, &["updated_at", "created_at"])
            .or_else(|_| timestamp(&md, &["lastModified"]))?,
    })
}

/// A bucket's JSON (`GET /bucket/{id}`).
pub fn bucket(v: &Value) -> Result<Bucket, Error> {
    let name = text(v, "id")
        .or_else(|| text(v, "name"))
        .ok_or_else(|| unexpected("a bucket without id", v))?;
    let max_object_bytes = match v.get("file_size_limit") {
        Some(Value::Number(n)) => n.as_u64().filter(|n| *n > 0),
        Some(Value::String(s)) => s.trim().parse().ok().filter(|n| *n > 0),
        _ => None,
    };
    let allowed_content_types = v
        .get("allowed_mime_types")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(Bucket {
        name,
        public: v.get("public").and_then(Value::as_bool).unwrap_or(false),
        max_object_bytes,
        allowed_content_types,
        created_at: timestamp(v, &["created_at"])?,
        updated_at: timestamp(v, &["updated_at", "created_at"])?,
    })
}

/// The token of a signed URL Supabase answered (`...?token=<JWT>`).
pub fn token_of(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        pair.strip_prefix("token=")
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    })
}

/// The `exp` claim of a JWT (read, not verified: the adapter only reports it).
pub fn token_expiry(token: &str) -> Option<Timestamp> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    Some(Timestamp {
        seconds: claims.get("exp")?.as_u64()?,
        nanoseconds: 0,
    })
}

/// The server's `validateMimeType`: `type/*`, or exactly `type/subtype` as given.
pub fn mime_allowed(mime: &str, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let requested: Vec<&str> = mime.split('/').collect();
    if requested.len() < 2 {
        return false;
    }
    allowed.iter().any(|a| {
        let parts: Vec<&str> = a.split('/').collect();
        parts.first() == Some(&requested[0])
            && (parts.get(1) == Some(&"*") || parts.get(1) == Some(&requested[1]))
    })
}

/// The `name`s of the entries of `v`'s array `field` (`objects`, `folders`).
pub fn names(v: &Value, field: &str) -> Vec<String> {
    v.get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|o| o.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A signed URL rebuilt from Supabase's answer: its token on our own encoding of the path
/// (Supabase answers the path unencoded).
pub fn signed(
    config: &Config,
    kind: &str,
    bucket: &str,
    key: &str,
    answered: &str,
    fallback_expiry: Timestamp,
) -> Result<SignedUrl, Error> {
    let token = token_of(answered).ok_or_else(|| {
        Error::internal(format!(
            "Supabase Storage answered a signed URL without a token: {answered}"
        ))
    })?;
    let expires_at = token_expiry(&token).unwrap_or(fallback_expiry);
    Ok(SignedUrl {
        url: format!(
            "{}/object/{kind}/{}?token={token}",
            config.storage_url,
            object_path(bucket, key)
        ),
        expires_at,
    })
}

/// The time `seconds` from now.
pub fn after(seconds: u32) -> Timestamp {
    let now = time::now();
    Timestamp {
        seconds: now.seconds + u64::from(seconds),
        nanoseconds: now.nanoseconds,
    }
}

/// The body of a bucket's create (`creating`) or update from the contract's options.
pub fn bucket_body(options: &BucketOptions, creating: bool) -> Value {
    let mut body = serde_json::Map::new();
    if let Some(public) = options.public {
        body.insert("public".into(), json!(public));
    } else if creating {
        body.insert("public".into(), json!(false));
    }
    if let Some(max) = options.max_object_bytes {
        body.insert("file_size_limit".into(), json!(max));
    }
    if let Some(types) = &options.allowed_content_types {
        let value = if types.is_empty() && creating {
            Value::Null
        } else {
            json!(types)
        };
        body.insert("allowed_mime_types".into(), value);
    }
    Value::Object(body)
}
