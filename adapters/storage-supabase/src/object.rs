//! The object calls that take more than one request or restate Supabase's errors in the
//! call's terms: upload (a bucket's limits named), download (content and description of one
//! version), listing (this adapter's cursors; a missing bucket told from an empty one),
//! delete-many, and copy/move (the target bucket's limits checked first, as Supabase does not).

use std::collections::HashSet;

use serde_json::{json, Value};
use switchyard_sdk::http::HttpMethod;
use switchyard_sdk::log;
use switchyard_sdk::storage::{
    validate, Bucket, DeleteResult, ListQuery, Object, ObjectInfo, ObjectPage, UploadOptions,
};
use switchyard_sdk::types::{Error, ErrorKind, PageInfo, PageRequest};

use crate::client::{get_bucket, list_page, object_path, segment, stat, Call};
use crate::config::Config;
use crate::error::{explain, has_code, restate};
use crate::wire::{self, names};

/// The prefix of this adapter's list cursors (Supabase's own cursor follows it).
const CURSOR_PREFIX: &str = "sb2.";

/// How often `download` reads again when the object changed between its description and
/// its content.
const DOWNLOAD_ATTEMPTS: u32 = 10;

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
pub(crate) fn relocate(
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

pub(crate) fn upload(
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
                .map(|m| {
                    format!(
                        "; bucket '{bucket}' takes objects of at most {m} bytes (file_size_limit)"
                    )
                })
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

pub(crate) fn download(bucket: String, key: String) -> Result<Object, Error> {
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

pub(crate) fn list_objects(
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
    let total =
        (cursor.is_none() && next_cursor.is_none()).then(|| (items.len() + prefixes.len()) as u64);
    Ok(ObjectPage {
        items,
        prefixes,
        page: PageInfo { next_cursor, total },
    })
}

pub(crate) fn delete_many(bucket: String, keys: Vec<String>) -> Result<Vec<DeleteResult>, Error> {
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
