//! The mock project's state and Supabase Storage's rules over it: buckets with their limits,
//! objects with content, system metadata (`mimetype`, `cacheControl`, `eTag`, `size`) and user
//! metadata, listing, copy and move. Everything runs under the mock's one lock, so each request
//! sees and changes the project atomically, as a database transaction would.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::crypto;

/// Supabase's default upload limit (`uploadFileSizeLimit`, 50 MB on the free plan).
pub(crate) const GLOBAL_FILE_SIZE_LIMIT: u64 = 50 * 1024 * 1024;

/// An error as the storage server renders it: `{"statusCode","code","error","message"}`.
#[derive(Debug, Clone)]
pub(crate) struct StorageError {
    /// The "real" status, sent as a string in the body.
    pub status: u16,
    pub code: &'static str,
    /// The legacy `error` text; the code when there is none.
    pub error: Option<&'static str>,
    pub message: String,
}

impl StorageError {
    fn new(
        status: u16,
        code: &'static str,
        error: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        StorageError {
            status,
            code,
            error,
            message: message.into(),
        }
    }

    pub(crate) fn no_such_bucket() -> Self {
        Self::new(
            404,
            "NoSuchBucket",
            Some("Bucket not found"),
            "Bucket not found",
        )
    }

    pub(crate) fn no_such_key() -> Self {
        Self::new(404, "NoSuchKey", Some("not_found"), "Object not found")
    }

    pub(crate) fn already_exists() -> Self {
        Self::new(
            409,
            "ResourceAlreadyExists",
            Some("Duplicate"),
            "The resource already exists",
        )
    }

    pub(crate) fn bucket_already_exists() -> Self {
        Self::new(
            409,
            "BucketAlreadyExists",
            Some("Duplicate"),
            "The resource already exists",
        )
    }

    pub(crate) fn bucket_not_empty() -> Self {
        Self::new(
            409,
            "ResourceNotEmpty",
            None,
            "The bucket you tried to delete is not empty",
        )
    }

    pub(crate) fn invalid_key(key: &str) -> Self {
        Self::new(400, "InvalidKey", None, format!("Invalid key: {key}"))
    }

    pub(crate) fn invalid_bucket_name() -> Self {
        Self::new(
            400,
            "InvalidBucketName",
            Some("Invalid Input"),
            "Bucket name invalid",
        )
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidRequest", None, message)
    }

    pub(crate) fn too_large() -> Self {
        Self::new(
            413,
            "EntityTooLarge",
            Some("Payload too large"),
            "The object exceeded the maximum allowed size",
        )
    }

    pub(crate) fn invalid_mime_type(mime: &str) -> Self {
        Self::new(
            415,
            "InvalidMimeType",
            Some("invalid_mime_type"),
            format!("mime type {mime} is not supported"),
        )
    }

    pub(crate) fn invalid_jwt(message: &str) -> Self {
        Self::new(400, "InvalidJWT", None, message)
    }

    pub(crate) fn invalid_signature(message: &str) -> Self {
        Self::new(400, "InvalidSignature", None, message)
    }

    pub(crate) fn expired_token() -> Self {
        Self::new(400, "ExpiredToken", None, "The provided token has expired.")
    }

    /// The body as the server's error handler renders it.
    pub(crate) fn body(&self) -> Value {
        json!({
            "statusCode": self.status.to_string(),
            "code": self.code,
            "error": self.error.unwrap_or(self.code),
            "message": self.message,
        })
    }

    /// The HTTP status: the server sends 400 for every storage error but 500 (its
    /// `userStatusCode`); only rate limits come as a real 429.
    pub(crate) fn http_status(&self) -> u16 {
        match self.status {
            500 => 500,
            429 => 429,
            _ => 400,
        }
    }
}

/// A bucket and its objects.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    pub id: String,
    pub public: bool,
    pub file_size_limit: Option<u64>,
    pub allowed_mime_types: Option<Vec<String>>,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    pub objects: BTreeMap<String, StoredObject>,
}

/// An object as the mock keeps it.
#[derive(Debug, Clone)]
pub(crate) struct StoredObject {
    pub id: String,
    pub version: String,
    pub body: Bytes,
    pub mimetype: String,
    pub cache_control: String,
    /// `"<md5 hex>"`, quoted as S3 gives it.
    pub etag: String,
    /// What `x-metadata` held (any JSON), or none.
    pub user_metadata: Option<Value>,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
}

/// What an upload brings.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub body: Bytes,
    pub mimetype: String,
    pub cache_control: String,
    pub user_metadata: Option<Value>,
    /// Replace an existing object (`x-upsert: true`, or `PUT`).
    pub upsert: bool,
    /// The quoted MD5 of the body, computed before the store is locked.
    pub etag: String,
}

impl Upload {
    /// An upload of `body` (its ETag computed here, outside the store's lock).
    pub(crate) fn new(
        body: Bytes,
        mimetype: String,
        cache_control: String,
        user_metadata: Option<Value>,
        upsert: bool,
    ) -> Upload {
        let etag = format!("\"{}\"", crypto::hex(&crypto::md5(&body)));
        Upload {
            body,
            mimetype,
            cache_control,
            user_metadata,
            upsert,
            etag,
        }
    }
}

/// The project: buckets by id.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub buckets: BTreeMap<String, Bucket>,
    ids: u64,
}

/// `VALID_OBJECT_KEY` of the server (`src/storage/limits.ts`): S3-safe ASCII only.
pub(crate) fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_/!.*'() &$=@;:+,?-".contains(&b))
}

/// `VALID_BUCKET_NAME`: the same without `/`, under 101 characters.
pub(crate) fn valid_bucket_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 101
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_!.*'() &$=@;:+,?-".contains(&b))
}

/// The server's `validateMimeType`: `type/*` or exactly `type/subtype`, compared as given
/// (parameters included, case-sensitive).
pub(crate) fn mime_allowed(mime: &str, allowed: &[String]) -> bool {
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

/// RFC 3339 in UTC with microseconds and `+00:00`, as Postgres `timestamptz` renders.
pub(crate) fn iso(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = switchyard_rules::civil::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// The time of a change: now, but always after `after` (microsecond clock resolution).
fn later_than(after: SystemTime) -> SystemTime {
    let now = SystemTime::now();
    if now > after {
        now
    } else {
        after + std::time::Duration::from_micros(1)
    }
}

impl Store {
    fn next_id(&mut self) -> String {
        self.ids += 1;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let h = crypto::sha256(format!("{nanos}-{}", self.ids).as_bytes());
        let x = crypto::hex(&h[..16]);
        format!(
            "{}-{}-4{}-a{}-{}",
            &x[..8],
            &x[8..12],
            &x[13..16],
            &x[17..20],
            &x[20..32]
        )
    }

    pub(crate) fn bucket(&self, id: &str) -> Result<&Bucket, StorageError> {
        self.buckets
            .get(id)
            .ok_or_else(StorageError::no_such_bucket)
    }

    fn bucket_mut(&mut self, id: &str) -> Result<&mut Bucket, StorageError> {
        self.buckets
            .get_mut(id)
            .ok_or_else(StorageError::no_such_bucket)
    }

    pub(crate) fn object(&self, bucket: &str, key: &str) -> Result<&StoredObject, StorageError> {
        self.buckets
            .get(bucket)
            .and_then(|b| b.objects.get(key))
            .ok_or_else(StorageError::no_such_key)
    }

    // ---- buckets ----------------------------------------------------------------------

    pub(crate) fn create_bucket(&mut self, body: &Value) -> Result<Value, StorageError> {
        let name = body.get("name").and_then(Value::as_str).ok_or_else(|| {
            StorageError::invalid_request("body must have required property 'name'")
        })?;
        let id = body
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(name)
            .to_string();
        if !valid_bucket_name(&id) {
            return Err(StorageError::invalid_bucket_name());
        }
        if self.buckets.contains_key(&id) {
            return Err(StorageError::bucket_already_exists());
        }
        let now = SystemTime::now();
        let mut bucket = Bucket {
            id: id.clone(),
            public: false,
            file_size_limit: None,
            allowed_mime_types: None,
            created_at: now,
            updated_at: now,
            objects: BTreeMap::new(),
        };
        apply_bucket_options(&mut bucket, body)?;
        self.buckets.insert(id.clone(), bucket);
        Ok(json!({"name": id}))
    }

    pub(crate) fn update_bucket(&mut self, id: &str, body: &Value) -> Result<Value, StorageError> {
        let bucket = self.bucket_mut(id)?;
        let mut changed = bucket.clone();
        apply_bucket_options(&mut changed, body)?;
        changed.updated_at = later_than(bucket.updated_at);
        *bucket = changed;
        Ok(json!({"message": "Successfully updated"}))
    }

    pub(crate) fn delete_bucket(&mut self, id: &str) -> Result<Value, StorageError> {
        let bucket = self.bucket(id)?;
        if !bucket.objects.is_empty() {
            return Err(StorageError::bucket_not_empty());
        }
        self.buckets.remove(id);
        Ok(json!({"message": "Successfully deleted"}))
    }

    pub(crate) fn empty_bucket(&mut self, id: &str) -> Result<Value, StorageError> {
        self.bucket_mut(id)?.objects.clear();
        Ok(json!({"message": "Empty bucket has been queued. Completion may take up to an hour."}))
    }

    // ---- objects ------------------------------------------------------------------------

    /// Stores an upload: `POST` (create, or replace with `x-upsert: true`) and `PUT`.
    pub(crate) fn put_object(
        &mut self,
        bucket_id: &str,
        key: &str,
        up: Upload,
    ) -> Result<Value, StorageError> {
        let bucket = self.bucket(bucket_id)?;
        if !valid_key(key) {
            return Err(StorageError::invalid_key(key));
        }
        let limit = bucket
            .file_size_limit
            .map_or(GLOBAL_FILE_SIZE_LIMIT, |l| l.min(GLOBAL_FILE_SIZE_LIMIT));
        if up.body.len() as u64 > limit {
            return Err(StorageError::too_large());
        }
        if let Some(allowed) = bucket.allowed_mime_types.as_ref().filter(|a| !a.is_empty()) {
            if !mime_allowed(&up.mimetype, allowed) {
                return Err(StorageError::invalid_mime_type(&up.mimetype));
            }
        }
        let existing = bucket.objects.get(key).cloned();
        if existing.is_some() && !up.upsert {
            return Err(StorageError::already_exists());
        }
        let id = existing
            .as_ref()
            .map(|o| o.id.clone())
            .unwrap_or_else(|| self.next_id());
        let version = self.next_id();
        let now = SystemTime::now();
        let object = StoredObject {
            id: id.clone(),
            version,
            etag: up.etag,
            body: up.body,
            mimetype: up.mimetype,
            cache_control: up.cache_control,
            user_metadata: up.user_metadata,
            created_at: existing.as_ref().map_or(now, |o| o.created_at),
            updated_at: now,
        };
        self.bucket_mut(bucket_id)?
            .objects
            .insert(key.to_string(), object);
        Ok(json!({"Id": id, "Key": format!("{bucket_id}/{key}")}))
    }

    /// `DELETE /object/{bucket}/{key}`.
    pub(crate) fn delete_object(
        &mut self,
        bucket_id: &str,
        key: &str,
    ) -> Result<Value, StorageError> {
        let removed = self
            .buckets
            .get_mut(bucket_id)
            .and_then(|b| b.objects.remove(key));
        match removed {
            Some(_) => Ok(json!({"message": "Successfully deleted"})),
            None => Err(StorageError::no_such_key()),
        }
    }

    /// `DELETE /object/{bucket}` `{"prefixes": [...]}`: the objects deleted, as objectSchema.
    pub(crate) fn delete_objects(
        &mut self,
        bucket_id: &str,
        body: &Value,
    ) -> Result<Value, StorageError> {
        let prefixes = body
            .get("prefixes")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                StorageError::invalid_request("body must have required property 'prefixes'")
            })?;
        if prefixes.is_empty() {
            return Err(StorageError::invalid_request(
                "body/prefixes must NOT have fewer than 1 items",
            ));
        }
        if prefixes.len() > 1000 {
            return Err(StorageError::invalid_request(
                "Bulk object requests are limited to 1000 objects per request.",
            ));
        }
        let mut deleted = Vec::new();
        if let Some(bucket) = self.buckets.get_mut(bucket_id) {
            for p in prefixes {
                let Some(name) = p.as_str() else {
                    return Err(StorageError::invalid_request(
                        "body/prefixes/0 must be string",
                    ));
                };
                if let Some(obj) = bucket.objects.remove(name) {
                    deleted.push(object_json(bucket_id, name, &obj));
                }
            }
        }
        Ok(Value::Array(deleted))
    }

    /// `POST /object/copy`: copies content, system and (with `copyMetadata`, the default)
    /// user metadata. No limit of the destination bucket is checked, as at Supabase.
    pub(crate) fn copy_object(
        &mut self,
        body: &Value,
        upsert: bool,
        user_metadata: Option<Value>,
    ) -> Result<Value, StorageError> {
        let (src_bucket, src_key, dst_bucket, dst_key) = move_args(body)?;
        let source = self.object(&src_bucket, &src_key)?.clone();
        if !valid_key(&dst_key) {
            return Err(StorageError::invalid_key(&dst_key));
        }
        let dst = self.bucket(&dst_bucket)?;
        if dst.objects.contains_key(&dst_key) && !upsert {
            return Err(StorageError::already_exists());
        }
        let copy_metadata = body
            .get("copyMetadata")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let now = SystemTime::now();
        let object = StoredObject {
            id: self.next_id(),
            version: self.next_id(),
            user_metadata: if copy_metadata {
                source.user_metadata.clone()
            } else {
                user_metadata
            },
            created_at: now,
            updated_at: now,
            ..source
        };
        let mut rendered = object_json(&dst_bucket, &dst_key, &object);
        self.bucket_mut(&dst_bucket)?
            .objects
            .insert(dst_key.clone(), object);
        if let Value::Object(map) = &mut rendered {
            map.insert("Id".into(), map.get("id").cloned().unwrap_or(Value::Null));
            map.insert("Key".into(), json!(format!("{dst_bucket}/{dst_key}")));
        }
        Ok(rendered)
    }

    /// `POST /object/move`: renames (within or across buckets); the destination must not exist.
    pub(crate) fn move_object(&mut self, body: &Value) -> Result<Value, StorageError> {
        let (src_bucket, src_key, dst_bucket, dst_key) = move_args(body)?;
        if !valid_key(&dst_key) {
            return Err(StorageError::invalid_key(&dst_key));
        }
        let source = self.object(&src_bucket, &src_key)?.clone();
        if src_bucket == dst_bucket && src_key == dst_key {
            return Ok(
                json!({"message": "Successfully moved", "Id": source.id, "Key": format!("{dst_bucket}/{dst_key}")}),
            );
        }
        if self.bucket(&dst_bucket)?.objects.contains_key(&dst_key) {
            return Err(StorageError::already_exists());
        }
        self.bucket_mut(&src_bucket)?.objects.remove(&src_key);
        let moved = StoredObject {
            version: self.next_id(),
            updated_at: SystemTime::now(),
            ..source
        };
        let id = moved.id.clone();
        self.bucket_mut(&dst_bucket)?
            .objects
            .insert(dst_key.clone(), moved);
        Ok(
            json!({"message": "Successfully moved", "Id": id, "Key": format!("{dst_bucket}/{dst_key}")}),
        )
    }

    /// `POST /object/list-v2/{bucket}`: keys in byte order (`COLLATE "C"`), by plain prefix,
    /// folders with `with_delimiter`; the cursor is the last name of the previous page. A
    /// bucket that does not exist lists as empty, as at Supabase.
    pub(crate) fn list_v2(&self, bucket_id: &str, body: &Value) -> Result<Value, StorageError> {
        let limit = match body.get("limit") {
            None | Some(Value::Null) => 1000,
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => n.min(1000) as usize,
                _ => return Err(StorageError::invalid_request("body/limit must be >= 1")),
            },
        };
        let prefix = body.get("prefix").and_then(Value::as_str).unwrap_or("");
        let delimited = body
            .get("with_delimiter")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let after = match body.get("cursor").and_then(Value::as_str) {
            Some(c) => Some(
                decode_cursor(c).ok_or_else(|| StorageError::invalid_request("Invalid cursor"))?,
            ),
            None => None,
        };
        let empty = BTreeMap::new();
        let objects = self.buckets.get(bucket_id).map_or(&empty, |b| &b.objects);
        // Entries in order: (name, object or none for a folder).
        let mut entries: Vec<(String, Option<&StoredObject>)> = Vec::new();
        for (name, obj) in objects.range::<str, _>((
            after
                .as_deref()
                .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded),
            std::ops::Bound::Unbounded,
        )) {
            if !name.starts_with(prefix) {
                continue;
            }
            if delimited {
                if let Some(at) = name[prefix.len()..].find('/') {
                    let folder = &name[..prefix.len() + at + 1];
                    if after
                        .as_deref()
                        .is_some_and(|a| folder <= a || a.starts_with(folder))
                    {
                        continue;
                    }
                    if entries
                        .last()
                        .is_some_and(|(n, o)| o.is_none() && n == folder)
                    {
                        continue;
                    }
                    entries.push((folder.to_string(), None));
                    if entries.len() > limit {
                        break;
                    }
                    continue;
                }
            }
            entries.push((name.clone(), Some(obj)));
            if entries.len() > limit {
                break;
            }
        }
        let has_next = entries.len() > limit;
        entries.truncate(limit);
        let mut folders = Vec::new();
        let mut items = Vec::new();
        for (name, obj) in &entries {
            match obj {
                None => folders.push(json!({"id": null, "name": name, "bucket_id": bucket_id})),
                Some(o) => items.push(list_json(name, o)),
            }
        }
        let next = has_next
            .then(|| entries.last().map(|(n, _)| n.clone()))
            .flatten();
        Ok(json!({
            "hasNext": has_next,
            "nextCursor": next.as_deref().map(encode_cursor),
            "nextCursorKey": next,
            "folders": folders,
            "objects": items,
        }))
    }

    /// `POST /object/list/{bucket}` (v1): one folder level under `prefix` (taken as a folder),
    /// names relative to it, folders with `id: null`, `search` as a name prefix, `limit` and
    /// `offset`, sorted by name.
    pub(crate) fn list_v1(&self, bucket_id: &str, body: &Value) -> Result<Value, StorageError> {
        let mut prefix = body
            .get("prefix")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                StorageError::invalid_request("body must have required property 'prefix'")
            })?
            .to_string();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        let limit = body.get("limit").and_then(Value::as_u64).unwrap_or(100) as usize;
        let offset = body.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
        let search = body.get("search").and_then(Value::as_str).unwrap_or("");
        let desc = body.pointer("/sortBy/order").and_then(Value::as_str) == Some("desc");
        let empty = BTreeMap::new();
        let objects = self.buckets.get(bucket_id).map_or(&empty, |b| &b.objects);
        let mut level: BTreeMap<String, Option<&StoredObject>> = BTreeMap::new();
        for (name, obj) in objects {
            let Some(rest) = name.strip_prefix(prefix.as_str()) else {
                continue;
            };
            if !rest.starts_with(search) {
                continue;
            }
            match rest.find('/') {
                Some(at) => {
                    level.entry(rest[..at].to_string()).or_insert(None);
                }
                None => {
                    level.insert(rest.to_string(), Some(obj));
                }
            }
        }
        let mut rows: Vec<Value> = level
            .iter()
            .map(|(name, obj)| match obj {
                None => json!({"name": name, "id": null, "updated_at": null, "created_at": null,
                               "last_accessed_at": null, "metadata": null}),
                Some(o) => list_json(name, o),
            })
            .collect();
        if desc {
            rows.reverse();
        }
        Ok(Value::Array(
            rows.into_iter().skip(offset).take(limit).collect(),
        ))
    }
}

fn move_args(body: &Value) -> Result<(String, String, String, String), StorageError> {
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                StorageError::invalid_request(format!("body must have required property '{name}'"))
            })
    };
    let bucket = field("bucketId")?;
    let source = field("sourceKey")?;
    let dest = field("destinationKey")?;
    let dest_bucket = body
        .get("destinationBucket")
        .and_then(Value::as_str)
        .map_or_else(|| bucket.clone(), str::to_string);
    Ok((bucket, source, dest_bucket, dest))
}

fn apply_bucket_options(bucket: &mut Bucket, body: &Value) -> Result<(), StorageError> {
    if let Some(public) = body.get("public") {
        bucket.public = public
            .as_bool()
            .ok_or_else(|| StorageError::invalid_request("body/public must be boolean"))?;
    }
    if let Some(limit) = body.get("file_size_limit") {
        bucket.file_size_limit = match limit {
            Value::Null => None,
            Value::Number(n) => Some(n.as_u64().ok_or_else(|| {
                StorageError::invalid_request(
                    "Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B",
                )
            })?),
            Value::String(s) => Some(parse_size(s).ok_or_else(|| {
                StorageError::invalid_request(
                    "Invalid file size format, hint: use 20GB / 20MB / 30KB / 3B",
                )
            })?),
            _ => {
                return Err(StorageError::invalid_request(
                    "body/file_size_limit must be integer,string,null",
                ))
            }
        };
        if bucket.file_size_limit == Some(0) {
            bucket.file_size_limit = None;
        }
    }
    if let Some(types) = body.get("allowed_mime_types") {
        bucket.allowed_mime_types = match types {
            Value::Null => None,
            Value::Array(items) => Some(
                items
                    .iter()
                    .map(|t| t.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        StorageError::invalid_request(
                            "body/allowed_mime_types must be array of strings",
                        )
                    })?,
            ),
            _ => {
                return Err(StorageError::invalid_request(
                    "body/allowed_mime_types must be array,null",
                ))
            }
        };
    }
    Ok(())
}

/// `20GB`, `20MB`, `30KB`, `3B` (the server's size strings).
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_uppercase();
    for (unit, factor) in [
        ("GB", 1u64 << 30),
        ("MB", 1 << 20),
        ("KB", 1 << 10),
        ("B", 1),
    ] {
        if let Some(n) = s.strip_suffix(unit) {
            return n.trim().parse::<u64>().ok().map(|n| n * factor);
        }
    }
    s.parse().ok()
}

/// The bucket's JSON as `GET /bucket` renders it.
pub(crate) fn bucket_json(b: &Bucket) -> Value {
    json!({
        "id": b.id,
        "name": b.id,
        "owner": "",
        "public": b.public,
        "type": "STANDARD",
        "file_size_limit": b.file_size_limit,
        "allowed_mime_types": b.allowed_mime_types,
        "created_at": iso(b.created_at),
        "updated_at": iso(b.updated_at),
    })
}

fn system_metadata(o: &StoredObject) -> Value {
    json!({
        "eTag": o.etag,
        "size": o.body.len(),
        "mimetype": o.mimetype,
        "cacheControl": o.cache_control,
        "lastModified": iso(o.updated_at),
        "contentLength": o.body.len(),
        "httpStatusCode": 200,
    })
}

/// objectSchema (delete, copy answers).
pub(crate) fn object_json(bucket: &str, name: &str, o: &StoredObject) -> Value {
    json!({
        "name": name,
        "bucket_id": bucket,
        "owner": "",
        "owner_id": "",
        "version": o.version,
        "id": o.id,
        "updated_at": iso(o.updated_at),
        "created_at": iso(o.created_at),
        "last_accessed_at": iso(o.updated_at),
        "metadata": system_metadata(o),
        "user_metadata": o.user_metadata,
    })
}

/// A listed object: the listing's columns (no user metadata).
fn list_json(name: &str, o: &StoredObject) -> Value {
    json!({
        "name": name,
        "id": o.id,
        "updated_at": iso(o.updated_at),
        "created_at": iso(o.created_at),
        "last_accessed_at": iso(o.updated_at),
        "metadata": system_metadata(o),
    })
}

/// `GET /object/info/{bucket}/{key}` (src/storage/renderer/info.ts).
pub(crate) fn info_json(bucket: &str, name: &str, o: &StoredObject) -> Value {
    json!({
        "id": o.id,
        "name": name,
        "version": o.version,
        "bucket_id": bucket,
        "size": o.body.len(),
        "content_type": o.mimetype,
        "cache_control": o.cache_control,
        "etag": o.etag,
        "metadata": o.user_metadata,
        "last_modified": iso(o.updated_at),
        "created_at": iso(o.created_at),
    })
}

/// Parses `x-metadata`: base64 of a JSON object; anything else is ignored (none), as the
/// server's `parseUserMetadata` does.
pub(crate) fn parse_user_metadata(header: &str) -> Option<Value> {
    let bytes = crypto::base64_decode(header.trim())?;
    match serde_json::from_slice::<Value>(&bytes).ok()? {
        Value::Object(map) => Some(Value::Object(jsonb_order(map))),
        _ => None,
    }
}

/// Keys in the order Postgres `jsonb` keeps them (shorter first, then by bytes), as far as
/// `serde_json`'s map keeps an order at all.
fn jsonb_order(map: Map<String, Value>) -> Map<String, Value> {
    let mut pairs: Vec<(String, Value)> = map.into_iter().collect();
    pairs.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    pairs.into_iter().collect()
}

fn encode_cursor(name: &str) -> String {
    crypto::base64url_encode(format!("l:{name}").as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = crypto::base64url_decode(cursor)?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("l:")
        .map(str::to_string)
}
