#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `config`: the binding's config keys, validated.
//! - `client`: requests to `/storage/v1` with retries; Supabase's errors as the contract's.
//! - `wire`: Supabase's JSON as the contract's records.
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod wire;

use std::collections::HashSet;

use serde_json::{json, Value};
use switchyard_sdk::http::HttpMethod;
use switchyard_sdk::storage::{
    validate, Bucket, BucketOptions, DeleteResult, Lifecycle, ListQuery, Object, ObjectInfo,
    ObjectPage, SignedUrl, Storage, UploadOptions,
};
use switchyard_sdk::types::{Error, ErrorKind, HealthStatus, PageInfo, PageRequest, Timestamp};
use switchyard_sdk::{log, time};

use client::{explain, has_code, object_path, restate, segment, Call};
use config::Config;

/// The Supabase Storage adapter.
pub struct Supabase;

/// The prefix of this adapter's list cursors (Supabase's own cursor follows it).
const CURSOR_PREFIX: &str = "sb2.";

/// How often `download` reads again when the object changed between its description and
/// its content.
const DOWNLOAD_ATTEMPTS: u32 = 10;

fn get_bucket(config: &Config, field: &str, name: &str) -> Result<Bucket, Error> {
    let v = Call::new(HttpMethod::Get, format!("/bucket/{}", segment(name)))
        .send_json(config)
        .map_err(|e| explain(e, field, name, "", ""))?;
    wire::bucket(&v)
}

fn stat(config: &Config, bucket: &str, key: &str) -> Result<ObjectInfo, Error> {
    let v = Call::new(
        HttpMethod::Get,
        format!("/object/info/{}", object_path(bucket, key)),
    )
    .send_json(config)
    .map_err(|e| explain(e, "bucket", bucket, "key", key))?;
    wire::info(bucket, key, &v)
}

/// Refuses an object of `size` bytes and `content_type` that the bucket's limits refuse
/// (Supabase checks them on uploads only; copies and moves are checked here).
fn admits(target: &Bucket, size: u64, content_type: &str, what: &str) -> Result<(), Error> {
    if let Some(max) = target.max_object_bytes {
        if size > max {
            return Err(Error::too_large(format!(
                "{what} is {size} bytes; bucket '{}' takes objects of at most {max} bytes \
                 (file_size_limit)",
                target.name
            )));
        }
    }
    if !wire::mime_allowed(content_type, &target.allowed_content_types) {
        return Err(Error::invalid_input(format!(
            "content-type '{content_type}' of {what} is not allowed in bucket '{}' (allowed: {})",
            target.name,
            target.allowed_content_types.join(", ")
        )));
    }
    Ok(())
}

/// Copies or moves after checking the target's limits; the target's description.
fn relocate(
    operation: &str,
    bucket: &str,
    key: &str,
    target_bucket: &str,
    target_key: &str,
) -> Result<ObjectInfo, Error> {
    validate::copy(bucket, key, target_bucket, target_key)?;
    if bucket == target_bucket && key == target_key {
        return Err(Error::conflict(format!(
            "target-key '{}' is the object itself: it exists in bucket '{bucket}'",
            target_key.escape_debug()
        )));
    }
    let config = Config::load()?;
    let source = stat(&config, bucket, key)?;
    let target = get_bucket(&config, "target-bucket", target_bucket)?;
    admits(
        &target,
        source.size,
        &source.content_type,
        &format!("object '{}' of bucket '{bucket}'", key.escape_debug()),
    )?;
    Call::new(HttpMethod::Post, format!("/object/{operation}"))
        .json(json!({
            "bucketId": bucket,
            "sourceKey": key,
            "destinationBucket": target_bucket,
            "destinationKey": target_key,
        }))
        .send(&config)
        .map_err(|e| {
            if has_code(&e, "NoSuchKey") {
                explain(e, "bucket", bucket, "key", key)
            } else {
                explain(e, "target-bucket", target_bucket, "target-key", target_key)
            }
        })?;
    stat(&config, target_bucket, target_key)
}

/// Lists one page with `/object/list-v2`.
fn list_page(
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

fn names(v: &Value, field: &str) -> Vec<String> {
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
fn signed(
    config: &Config,
    kind: &str,
    bucket: &str,
    key: &str,
    answered: &str,
    fallback_expiry: Timestamp,
) -> Result<SignedUrl, Error> {
    let token = wire::token_of(answered).ok_or_else(|| {
        Error::internal(format!(
            "Supabase Storage answered a signed URL without a token: {answered}"
        ))
    })?;
    let expires_at = wire::token_expiry(&token).unwrap_or(fallback_expiry);
    Ok(SignedUrl {
        url: format!(
            "{}/object/{kind}/{}?token={token}",
            config.storage_url,
            object_path(bucket, key)
        ),
        expires_at,
    })
}

fn after(seconds: u32) -> Timestamp {
    let now = time::now();
    Timestamp {
        seconds: now.seconds + u64::from(seconds),
        nanoseconds: now.nanoseconds,
    }
}

fn bucket_body(options: &BucketOptions, creating: bool) -> Value {
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

impl Storage for Supabase {
    fn upload(
        bucket: String,
        key: String,
        body: Vec<u8>,
        options: UploadOptions,
    ) -> Result<ObjectInfo, Error> {
        validate::upload(&bucket, &key, &options)?;
        let config = Config::load()?;
        let content_type = options
            .content_type
            .clone()
            .unwrap_or_else(|| validate::DEFAULT_CONTENT_TYPE.to_string());
        let overwrite = options.overwrite.unwrap_or(false);
        let mut call = Call::new(
            HttpMethod::Post,
            format!("/object/{}", object_path(&bucket, &key)),
        )
        .header("content-type", content_type.as_str())
        .header("x-upsert", if overwrite { "true" } else { "false" })
        .body(&body);
        if let Some(cc) = &options.cache_control {
            call = call.header("cache-control", cc.as_str());
        }
        if let Some(md) = wire::metadata_header(&options.metadata) {
            call = call.header("x-metadata", md);
        }
        call.send(&config).map_err(|e| {
            if has_code(&e, "EntityTooLarge") {
                let limit = get_bucket(&config, "bucket", &bucket)
                    .ok()
                    .and_then(|b| b.max_object_bytes)
                    .map(|m| format!("; bucket '{bucket}' takes objects of at most {m} bytes (file_size_limit)"))
                    .unwrap_or_else(|| " (Supabase's upload limit)".into());
                let m = format!("body is {} bytes, too large{limit}", body.len());
                restate(e, ErrorKind::TooLarge, m)
            } else if has_code(&e, "InvalidMimeType") {
                let allowed = get_bucket(&config, "bucket", &bucket)
                    .map(|b| b.allowed_content_types.join(", "))
                    .unwrap_or_default();
                let m = format!(
                    "content-type '{content_type}' is not allowed in bucket '{bucket}' \
                     (allowed: {allowed}; Supabase matches type/subtype exactly, parameters \
                     included, or type/*)"
                );
                restate(e, ErrorKind::InvalidInput, m)
            } else {
                explain(e, "bucket", &bucket, "key", &key)
            }
        })?;
        stat(&config, &bucket, &key)
    }

    fn download(bucket: String, key: String) -> Result<Object, Error> {
        validate::object(&bucket, &key)?;
        let config = Config::load()?;
        // The content and the description come from two requests: read again until both
        // are of the same version (same ETag), so a concurrent overwrite never mixes them.
        // Between tries, a short jittered backoff lets a burst of writes pass.
        let pause = switchyard_sdk::retry::RetryPolicy {
            max_retries: DOWNLOAD_ATTEMPTS,
            base_delay: core::time::Duration::from_millis(10),
            max_delay: core::time::Duration::from_millis(400),
        };
        for attempt in 0..DOWNLOAD_ATTEMPTS {
            if attempt > 0 {
                if let Some(delay) = pause.delay(attempt - 1, switchyard_sdk::random::u64(), None) {
                    switchyard_sdk::retry::sleep(delay);
                }
            }
            let response = Call::new(
                HttpMethod::Get,
                format!("/object/authenticated/{}", object_path(&bucket, &key)),
            )
            .send(&config)
            .map_err(|e| explain(e, "bucket", &bucket, "key", &key))?;
            let info = stat(&config, &bucket, &key)?;
            if response.header("etag") == Some(info.etag.as_str()) {
                return Ok(Object {
                    info,
                    body: response.body,
                });
            }
            log::debug(
                "the object changed while it was read; reading it again",
                &[("bucket", &bucket), ("key", &key)],
            );
        }
        Err(Error::unavailable(format!(
            "object '{}' of bucket '{bucket}' kept changing while it was read; try again",
            key.escape_debug()
        )))
    }

    fn stat(bucket: String, key: String) -> Result<ObjectInfo, Error> {
        validate::object(&bucket, &key)?;
        stat(&Config::load()?, &bucket, &key)
    }

    fn list_objects(
        bucket: String,
        query: ListQuery,
        page: PageRequest,
    ) -> Result<ObjectPage, Error> {
        let limit = validate::list_objects(&bucket, &query, &page)?;
        let delimited = match query.delimiter.as_deref() {
            None => false,
            Some("/") => true,
            Some(other) => {
                return Err(Error::unsupported(format!(
                    "query.delimiter '{}': Supabase Storage groups keys by '/' only",
                    other.escape_debug()
                )))
            }
        };
        let cursor = match page.cursor.as_deref() {
            None => None,
            Some(c) => Some(
                c.strip_prefix(CURSOR_PREFIX)
                    .filter(|rest| !rest.is_empty())
                    .ok_or_else(|| {
                        Error::invalid_input(format!(
                            "page.cursor '{}' is not a cursor this listing gave",
                            c.escape_debug()
                        ))
                    })?,
            ),
        };
        let config = Config::load()?;
        let prefix = query.prefix.unwrap_or_default();
        let v = list_page(&config, &bucket, &prefix, delimited, limit, cursor).map_err(|e| {
            if cursor.is_some() && e.kind == ErrorKind::InvalidInput {
                restate(
                    e,
                    ErrorKind::InvalidInput,
                    "page.cursor was refused by Supabase Storage".into(),
                )
            } else {
                e
            }
        })?;
        let items = v
            .get("objects")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|o| wire::listed(&bucket, o)).collect())
            .unwrap_or_else(|| Ok(Vec::new()))?;
        let prefixes: Vec<String> = names(&v, "folders")
            .into_iter()
            .map(|n| if n.ends_with('/') { n } else { format!("{n}/") })
            .collect();
        let has_next = v.get("hasNext").and_then(Value::as_bool).unwrap_or(false);
        let next_cursor = if has_next {
            v.get("nextCursor")
                .and_then(Value::as_str)
                .map(|c| format!("{CURSOR_PREFIX}{c}"))
        } else {
            None
        };
        if cursor.is_none() && items.is_empty() && prefixes.is_empty() {
            // Supabase lists a bucket that does not exist as empty: tell them apart.
            get_bucket(&config, "bucket", &bucket)?;
        }
        // Supabase gives no count; it is known when the whole listing is this one page.
        let total = (cursor.is_none() && next_cursor.is_none())
            .then(|| (items.len() + prefixes.len()) as u64);
        Ok(ObjectPage {
            items,
            prefixes,
            page: PageInfo { next_cursor, total },
        })
    }

    fn delete(bucket: String, key: String) -> Result<(), Error> {
        validate::object(&bucket, &key)?;
        let config = Config::load()?;
        Call::new(
            HttpMethod::Delete,
            format!("/object/{}", object_path(&bucket, &key)),
        )
        .send(&config)
        .map_err(|e| explain(e, "bucket", &bucket, "key", &key))?;
        Ok(())
    }

    fn delete_many(bucket: String, keys: Vec<String>) -> Result<Vec<DeleteResult>, Error> {
        validate::delete_many(&bucket, &keys)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let config = Config::load()?;
        let mut unique: Vec<&String> = Vec::new();
        for k in &keys {
            if !unique.contains(&k) {
                unique.push(k);
            }
        }
        let v = Call::new(HttpMethod::Delete, format!("/object/{}", segment(&bucket)))
            .json(json!({"prefixes": unique}))
            .send_json(&config)
            .map_err(|e| explain(e, "bucket", &bucket, "", ""))?;
        let mut deleted: HashSet<String> = v
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|o| o.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if deleted.is_empty() {
            // Supabase answers [] for a bucket that does not exist: tell them apart.
            get_bucket(&config, "bucket", &bucket)?;
        }
        Ok(keys
            .into_iter()
            .map(|key| DeleteResult {
                deleted: deleted.remove(&key),
                key,
            })
            .collect())
    }

    fn copy_object(
        bucket: String,
        key: String,
        target_bucket: String,
        target_key: String,
    ) -> Result<ObjectInfo, Error> {
        relocate("copy", &bucket, &key, &target_bucket, &target_key)
    }

    fn move_object(
        bucket: String,
        key: String,
        target_bucket: String,
        target_key: String,
    ) -> Result<ObjectInfo, Error> {
        relocate("move", &bucket, &key, &target_bucket, &target_key)
    }

    fn public_url(bucket: String, key: String) -> Result<String, Error> {
        validate::object(&bucket, &key)?;
        let config = Config::load()?;
        let settings = get_bucket(&config, "bucket", &bucket)?;
        validate::public_bucket(&bucket, settings.public)?;
        Ok(format!(
            "{}/{}",
            config.public_base,
            object_path(&bucket, &key)
        ))
    }

    fn signed_download_url(
        bucket: String,
        key: String,
        expires_in_s: u32,
    ) -> Result<SignedUrl, Error> {
        validate::signed_url(&bucket, &key, expires_in_s)?;
        let config = Config::load()?;
        let v = Call::new(
            HttpMethod::Post,
            format!("/object/sign/{}", object_path(&bucket, &key)),
        )
        .json(json!({"expiresIn": expires_in_s}))
        .send_json(&config)
        .map_err(|e| explain(e, "bucket", &bucket, "key", &key))?;
        let answered = v
            .get("signedURL")
            .or_else(|| v.get("signedUrl"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::internal(format!("Supabase Storage answered no signedURL: {v}"))
            })?;
        signed(
            &config,
            "sign",
            &bucket,
            &key,
            answered,
            after(expires_in_s),
        )
    }

    fn signed_upload_url(
        bucket: String,
        key: String,
        expires_in_s: u32,
    ) -> Result<SignedUrl, Error> {
        validate::signed_url(&bucket, &key, expires_in_s)?;
        let config = Config::load()?;
        let v = Call::new(
            HttpMethod::Post,
            format!("/object/upload/sign/{}", object_path(&bucket, &key)),
        )
        .send_json(&config)
        .map_err(|e| explain(e, "bucket", &bucket, "key", &key))?;
        let answered = v
            .get("url")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                v.get("token")
                    .and_then(Value::as_str)
                    .map(|t| format!("?token={t}"))
            })
            .ok_or_else(|| Error::internal(format!("Supabase Storage answered no url: {v}")))?;
        // The life of upload URLs is the project's (`uploadSignedUrlExpirationTime`): the
        // answer says when the URL really expires, whatever was asked.
        let url = signed(
            &config,
            "upload/sign",
            &bucket,
            &key,
            &answered,
            after(expires_in_s),
        )?;
        if u64::from(expires_in_s) + 60 < url.expires_at.seconds.saturating_sub(time::now().seconds)
        {
            log::info(
                "Supabase signed upload URLs live as long as the project says, not as asked",
                &[
                    ("asked_s", &expires_in_s.to_string()),
                    ("expires_at", &url.expires_at.seconds.to_string()),
                ],
            );
        }
        Ok(url)
    }

    fn create_bucket(name: String, options: BucketOptions) -> Result<Bucket, Error> {
        validate::bucket_with_options(&name, &options)?;
        let config = Config::load()?;
        let mut body = bucket_body(&options, true);
        body["name"] = json!(name);
        body["id"] = json!(name);
        Call::new(HttpMethod::Post, "/bucket")
            .json(body)
            .send(&config)
            .map_err(|e| match e.provider_code.as_deref() {
                Some("BucketAlreadyExists" | "ResourceAlreadyExists") => restate(
                    e,
                    ErrorKind::Conflict,
                    format!("bucket '{name}' already exists"),
                ),
                _ => explain(e, "name", &name, "", ""),
            })?;
        get_bucket(&config, "name", &name)
    }

    fn get_bucket(name: String) -> Result<Bucket, Error> {
        validate::bucket_name("name", &name)?;
        get_bucket(&Config::load()?, "name", &name)
    }

    fn list_buckets() -> Result<Vec<Bucket>, Error> {
        let config = Config::load()?;
        let v = Call::new(HttpMethod::Get, "/bucket")
            .send_json(&config)
            .map_err(client::unauthorized)?;
        let mut buckets = v
            .as_array()
            .map(|a| a.iter().map(wire::bucket).collect::<Result<Vec<_>, _>>())
            .unwrap_or_else(|| Ok(Vec::new()))?;
        buckets.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(buckets)
    }

    fn update_bucket(name: String, options: BucketOptions) -> Result<Bucket, Error> {
        validate::bucket_with_options(&name, &options)?;
        let config = Config::load()?;
        Call::new(HttpMethod::Put, format!("/bucket/{}", segment(&name)))
            .json(bucket_body(&options, false))
            .send(&config)
            .map_err(|e| explain(e, "name", &name, "", ""))?;
        get_bucket(&config, "name", &name)
    }

    fn delete_bucket(name: String) -> Result<(), Error> {
        validate::bucket_name("name", &name)?;
        let config = Config::load()?;
        Call::new(HttpMethod::Delete, format!("/bucket/{}", segment(&name)))
            .send(&config)
            .map_err(|e| {
                if has_code(&e, "ResourceNotEmpty") {
                    restate(
                        e,
                        ErrorKind::Conflict,
                        format!("bucket '{name}' is not empty; empty it first (empty-bucket)"),
                    )
                } else {
                    explain(e, "name", &name, "", "")
                }
            })?;
        Ok(())
    }

    fn empty_bucket(name: String) -> Result<u64, Error> {
        validate::bucket_name("name", &name)?;
        let config = Config::load()?;
        get_bucket(&config, "name", &name)?;
        // Supabase's own `/bucket/{id}/empty` only queues the work and says nothing of how
        // many: list and delete, 1000 at a time, until nothing is left.
        let mut removed = 0u64;
        for _ in 0..10_000 {
            let page = list_page(&config, &name, "", false, validate::MAX_LIMIT, None)?;
            let keys = names(&page, "objects");
            if keys.is_empty() {
                return Ok(removed);
            }
            let v = Call::new(HttpMethod::Delete, format!("/object/{}", segment(&name)))
                .json(json!({"prefixes": keys}))
                .send_json(&config)
                .map_err(|e| explain(e, "name", &name, "", ""))?;
            let n = v.as_array().map_or(0, Vec::len) as u64;
            if n == 0 {
                return Err(Error::internal(format!(
                    "Supabase Storage deleted none of {} listed object(s) of bucket '{name}'",
                    keys.len()
                )));
            }
            removed += n;
        }
        Err(Error::unavailable(format!(
            "bucket '{name}' still has objects after deleting {removed}; call empty-bucket again"
        )))
    }

    fn health() -> HealthStatus {
        let check = || -> Result<String, Error> {
            let config = Config::load()?;
            let v = Call::new(HttpMethod::Get, "/bucket?limit=1")
                .send_json(&config)
                .map_err(client::unauthorized)?;
            Ok(format!(
                "{}/bucket answered: the key is accepted ({} bucket(s) on the first page)",
                config.storage_url,
                v.as_array().map_or(0, Vec::len)
            ))
        };
        match check() {
            Ok(detail) => HealthStatus { ok: true, detail },
            Err(err) => HealthStatus {
                ok: false,
                detail: format!(
                    "{}: {}",
                    switchyard_sdk::error::kind_name(err.kind),
                    err.describe()
                ),
            },
        }
    }
}

impl Lifecycle for Supabase {
    /// Nothing is buffered: nothing to do.
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    /// Nothing is buffered: nothing to do.
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

switchyard_sdk::export_storage!(Supabase);
