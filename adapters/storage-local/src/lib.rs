#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `store`: the buckets under `/data` (objects put in place by rename or link, removal of
//!   a tree), over the SDK's `files` helpers (whole writes, exclusive create, locks, listing).
//! - `object`: an object's file name (the key, encoded) and its content (header, then body).
//! - `bucket`: a bucket's stored settings, their contract form and their limits on objects.
//! - `list`: a bucket's listing in pages, and its cursors.
#![warn(missing_docs)]

pub mod bucket;
pub mod list;
#[allow(missing_docs)]
pub mod object;
pub mod store;

use bucket::{now, StoredBucket};
use object::Header;
use store::{
    bucket_dir, bucket_not_found, copy, gone_is_not_found, keys, load_bucket, load_object,
    object_not_found, object_path, objects_dir, put,
};
use switchyard_sdk::storage::{
    signing, validate, Bucket, BucketOptions, DeleteResult, Lifecycle, ListQuery, Object,
    ObjectInfo, ObjectPage, SignedUrl, Storage, UploadOptions,
};
use switchyard_sdk::types::{Error, ErrorKind, HealthStatus, PageRequest};
use switchyard_sdk::{config, files};

/// The config key of the base of public URLs.
pub const PUBLIC_BASE_URL: &str = "public_base_url";

/// The local storage adapter.
pub struct Local;

/// Percent-encodes one URL path segment (RFC 3986 unreserved characters stay).
fn url_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sign(method: &str, bucket: &str, key: &str, expires_in_s: u32) -> Result<SignedUrl, Error> {
    signing::object_url(method, bucket, key, expires_in_s)
}

impl Storage for Local {
    fn upload(
        bucket: String,
        key: String,
        body: Vec<u8>,
        options: UploadOptions,
    ) -> Result<ObjectInfo, Error> {
        validate::upload(&bucket, &key, &options)?;
        let dir = store::open()?;
        let settings = load_bucket(&dir, "bucket", &bucket)?;
        let content_type = options
            .content_type
            .unwrap_or_else(|| validate::DEFAULT_CONTENT_TYPE.to_string());
        settings.admits(body.len() as u64, &content_type, "body")?;
        let header = Header {
            key,
            size: body.len() as u64,
            content_type,
            cache_control: options.cache_control,
            metadata: options.metadata,
            etag: object::etag(&body),
            updated_at: now(),
        };
        put(
            &dir,
            "bucket",
            &bucket,
            &header,
            &body,
            options.overwrite.unwrap_or(false),
        )?;
        Ok(header.info(&bucket))
    }

    fn download(bucket: String, key: String) -> Result<Object, Error> {
        validate::object(&bucket, &key)?;
        let dir = store::open()?;
        load_bucket(&dir, "bucket", &bucket)?;
        let (header, body) = load_object(&dir, &bucket, &key, true)?;
        Ok(Object {
            info: header.info(&bucket),
            body: body.unwrap_or_default(),
        })
    }

    fn stat(bucket: String, key: String) -> Result<ObjectInfo, Error> {
        validate::object(&bucket, &key)?;
        let dir = store::open()?;
        load_bucket(&dir, "bucket", &bucket)?;
        let (header, _) = load_object(&dir, &bucket, &key, false)?;
        Ok(header.info(&bucket))
    }

    fn list_objects(
        bucket: String,
        query: ListQuery,
        page: PageRequest,
    ) -> Result<ObjectPage, Error> {
        list::list_objects(bucket, query, page)
    }

    fn delete(bucket: String, key: String) -> Result<(), Error> {
        validate::object(&bucket, &key)?;
        let dir = store::open()?;
        load_bucket(&dir, "bucket", &bucket)?;
        if files::remove(&dir, &object_path(&bucket, &key))? {
            Ok(())
        } else {
            Err(object_not_found(&bucket, &key))
        }
    }

    fn delete_many(bucket: String, keys: Vec<String>) -> Result<Vec<DeleteResult>, Error> {
        validate::delete_many(&bucket, &keys)?;
        let dir = store::open()?;
        load_bucket(&dir, "bucket", &bucket)?;
        keys.into_iter()
            .map(|key| {
                let deleted = files::remove(&dir, &object_path(&bucket, &key))?;
                Ok(DeleteResult { key, deleted })
            })
            .collect()
    }

    fn copy_object(
        bucket: String,
        key: String,
        target_bucket: String,
        target_key: String,
    ) -> Result<ObjectInfo, Error> {
        copy(&bucket, &key, &target_bucket, &target_key)
    }

    fn move_object(
        bucket: String,
        key: String,
        target_bucket: String,
        target_key: String,
    ) -> Result<ObjectInfo, Error> {
        let info = copy(&bucket, &key, &target_bucket, &target_key)?;
        let dir = store::open()?;
        // Gone already (deleted meanwhile by another call) is as good as deleted here.
        files::remove(&dir, &object_path(&bucket, &key))?;
        Ok(info)
    }

    fn public_url(bucket: String, key: String) -> Result<String, Error> {
        validate::object(&bucket, &key)?;
        let dir = store::open()?;
        let settings = load_bucket(&dir, "bucket", &bucket)?;
        validate::public_bucket(&bucket, settings.public)?;
        let base = config::get(PUBLIC_BASE_URL)
            .map(|b| b.trim().trim_end_matches('/').to_string())
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                Error::unsupported(format!(
                    "public URLs are not configured: set `{PUBLIC_BASE_URL}` in this binding's \
                     config to the URL the public objects are served under"
                ))
            })?;
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::unsupported(format!(
                "config `{PUBLIC_BASE_URL}` '{base}' is not an http:// or https:// URL"
            )));
        }
        let path: Vec<String> = key.split('/').map(url_segment).collect();
        Ok(format!("{base}/{bucket}/{}", path.join("/")))
    }

    fn signed_download_url(
        bucket: String,
        key: String,
        expires_in_s: u32,
    ) -> Result<SignedUrl, Error> {
        validate::signed_url(&bucket, &key, expires_in_s)?;
        let dir = store::open()?;
        load_bucket(&dir, "bucket", &bucket)?;
        load_object(&dir, &bucket, &key, false)?;
        sign("GET", &bucket, &key, expires_in_s)
    }

    fn signed_upload_url(
        bucket: String,
        key: String,
        expires_in_s: u32,
    ) -> Result<SignedUrl, Error> {
        validate::signed_url(&bucket, &key, expires_in_s)?;
        let dir = store::open()?;
        load_bucket(&dir, "bucket", &bucket)?;
        sign("PUT", &bucket, &key, expires_in_s)
    }

    fn create_bucket(name: String, options: BucketOptions) -> Result<Bucket, Error> {
        validate::bucket_with_options(&name, &options)?;
        let dir = store::open()?;
        let at = now();
        let settings = StoredBucket {
            name: name.clone(),
            public: options.public.unwrap_or(false),
            max_object_bytes: options.max_object_bytes,
            allowed_content_types: options.allowed_content_types.unwrap_or_default(),
            created_at: at,
            updated_at: at,
        };
        let json = serde_json::to_vec(&settings)
            .map_err(|e| Error::internal(format!("serialising a bucket failed: {e}")))?;
        // Made whole under a temporary name, then renamed into place: a rename onto a bucket
        // that exists (never an empty directory) fails, so of concurrent creators one wins.
        let staging = format!(
            "{}/.tmp-{}",
            store::BUCKETS,
            hex::encode(switchyard_sdk::random::bytes(12))
        );
        let made = (|| {
            dir.create_directory_at(&staging)
                .map_err(|code| files::fs_error(code, "creating", &staging))?;
            files::create_dir(&dir, &format!("{staging}/objects"))?;
            files::create_exclusive(&dir, &format!("{staging}/bucket.json"), &json)?;
            match dir.rename_at(&staging, &dir, &bucket_dir(&name)) {
                Ok(()) => Ok(()),
                Err(
                    wasi::filesystem::types::ErrorCode::Exist
                    | wasi::filesystem::types::ErrorCode::NotEmpty,
                ) => Err(Error::conflict(format!("bucket '{name}' already exists"))),
                Err(code) => Err(files::fs_error(code, "renaming into", &bucket_dir(&name))),
            }
        })();
        if made.is_err() {
            let _ = store::remove_tree(&dir, &staging);
        }
        made?;
        Ok(settings.to_contract())
    }

    fn get_bucket(name: String) -> Result<Bucket, Error> {
        let dir = store::open()?;
        Ok(load_bucket(&dir, "name", &name)?.to_contract())
    }

    fn list_buckets() -> Result<Vec<Bucket>, Error> {
        let dir = store::open()?;
        let mut names = files::list(&dir, store::BUCKETS)?;
        names.sort();
        let mut out = Vec::new();
        for name in names {
            match load_bucket(&dir, "name", &name) {
                Ok(b) => out.push(b.to_contract()),
                // Deleted meanwhile, or not a bucket of ours.
                Err(err) if err.kind == ErrorKind::NotFound => {}
                Err(err) if err.kind == ErrorKind::InvalidInput => {}
                Err(err) => return Err(err),
            }
        }
        Ok(out)
    }

    fn update_bucket(name: String, options: BucketOptions) -> Result<Bucket, Error> {
        validate::bucket_with_options(&name, &options)?;
        let dir = store::open()?;
        load_bucket(&dir, "name", &name)?;
        let _lock = files::lock(
            &dir,
            &format!("{}/.lock", bucket_dir(&name)),
            &format!("bucket '{name}'"),
        )
        .map_err(|e| gone_is_not_found(e, "name", &name))?;
        let mut settings = load_bucket(&dir, "name", &name)?;
        if let Some(public) = options.public {
            settings.public = public;
        }
        if let Some(max) = options.max_object_bytes {
            settings.max_object_bytes = Some(max);
        }
        if let Some(types) = options.allowed_content_types {
            settings.allowed_content_types = types;
        }
        settings.updated_at = now();
        let json = serde_json::to_vec(&settings)
            .map_err(|e| Error::internal(format!("serialising a bucket failed: {e}")))?;
        files::write_atomic(&dir, &format!("{}/bucket.json", bucket_dir(&name)), &json)
            .map_err(|e| gone_is_not_found(e, "name", &name))?;
        Ok(settings.to_contract())
    }

    fn delete_bucket(name: String) -> Result<(), Error> {
        let dir = store::open()?;
        load_bucket(&dir, "name", &name)?;
        let not_empty = |n: usize| {
            Error::conflict(format!(
                "bucket '{name}' is not empty: it holds {n} object(s); empty it first \
                 (empty-bucket)"
            ))
        };
        let held = keys(&dir, &name)?.len();
        if held > 0 {
            return Err(not_empty(held));
        }
        // Renamed away first, so that no upload lands in it from now on; an upload that
        // landed between the check and the rename puts the bucket back.
        let trash = format!(
            "{}/.deleted-{}",
            store::BUCKETS,
            hex::encode(switchyard_sdk::random::bytes(12))
        );
        dir.rename_at(&bucket_dir(&name), &dir, &trash)
            .map_err(|code| match code {
                wasi::filesystem::types::ErrorCode::NoEntry => bucket_not_found("name", &name),
                code => files::fs_error(code, "renaming", &bucket_dir(&name)),
            })?;
        let late = files::list(&dir, &format!("{trash}/objects"))?
            .into_iter()
            .filter(|n| object::is_object_name(n))
            .count();
        if late > 0 {
            dir.rename_at(&trash, &dir, &bucket_dir(&name))
                .map_err(|code| files::fs_error(code, "restoring", &bucket_dir(&name)))?;
            return Err(not_empty(late));
        }
        store::remove_tree(&dir, &trash)
    }

    fn empty_bucket(name: String) -> Result<u64, Error> {
        let dir = store::open()?;
        load_bucket(&dir, "name", &name)?;
        let objects = objects_dir(&name);
        let mut removed = 0u64;
        for file in files::list(&dir, &objects)? {
            if object::is_object_name(&file) && files::remove(&dir, &format!("{objects}/{file}"))? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn health() -> HealthStatus {
        let check = || -> Result<String, Error> {
            let dir = store::open()?;
            let probe = format!(
                "{}/.health-{}",
                store::BUCKETS,
                hex::encode(switchyard_sdk::random::bytes(6))
            );
            files::create_exclusive(&dir, &probe, b"ok")?;
            files::remove(&dir, &probe)?;
            let buckets = files::list(&dir, store::BUCKETS)?.len();
            Ok(format!(
                "{}/{} is writable: {buckets} bucket(s)",
                files::DATA_DIR,
                store::BUCKETS
            ))
        };
        match check() {
            Ok(detail) => HealthStatus { ok: true, detail },
            Err(err) => HealthStatus {
                ok: false,
                detail: err.message,
            },
        }
    }
}

impl Lifecycle for Local {
    /// Nothing is buffered: nothing to do.
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    /// Nothing is buffered: nothing to do.
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

switchyard_sdk::export_storage!(Local);
