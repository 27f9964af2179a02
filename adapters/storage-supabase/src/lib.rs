#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `config`: the binding's config keys, validated.
//! - `client`: requests to `/storage/v1` with retries.
//! - `wire`: Supabase's JSON as the contract's records.
//! - `error`: Supabase's errors as the contract's, restated in a call's terms.
//! - `object`: the object calls of several requests (upload, download, listing,
//!   delete-many, copy and move).
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
pub mod object;
pub mod wire;

use serde_json::{json, Value};
use switchyard_sdk::http::HttpMethod;
use switchyard_sdk::storage::{
    validate, Bucket, BucketOptions, DeleteResult, Lifecycle, ListQuery, Object, ObjectInfo,
    ObjectPage, SignedUrl, Storage, UploadOptions,
};
use switchyard_sdk::types::{Error, ErrorKind, HealthStatus, PageRequest};
use switchyard_sdk::{log, time};

use client::{get_bucket, list_page, object_path, segment, stat, Call};
use config::Config;
use error::{explain, has_code, restate};
use object::relocate;
use wire::{after, bucket_body, names, signed};

/// The Supabase Storage adapter.
pub struct Supabase;

impl Storage for Supabase {
    fn upload(
        bucket: String,
        key: String,
        body: Vec<u8>,
        options: UploadOptions,
    ) -> Result<ObjectInfo, Error> {
        object::upload(bucket, key, body, options)
    }

    fn download(bucket: String, key: String) -> Result<Object, Error> {
        object::download(bucket, key)
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
        object::list_objects(bucket, query, page)
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
        object::delete_many(bucket, keys)
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
            .map_err(error::unauthorized)?;
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
                .map_err(error::unauthorized)?;
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
