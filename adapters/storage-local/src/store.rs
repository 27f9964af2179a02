//! The buckets' layout under the binding's preopened `/data` directory; the file helpers are
//! `switchyard_sdk::files`.
//!
//! Every file is written whole under a temporary name (`.tmp-<random>`, created with
//! `O_EXCL` in the directory it will live in) and then put in place with one `rename` (replace)
//! or one `link` (create only if absent, `EEXIST` otherwise), so a reader sees the old file or
//! the new one, never part of one, and of concurrent creators of one name exactly one wins.
//! Names starting with `.` are temporary files and locks, and are never listed.

use wasi::filesystem::types::{Descriptor, DescriptorType, ErrorCode, PathFlags};

use switchyard_sdk::files::{self, fs_error, DATA_DIR};
use switchyard_sdk::log;
use switchyard_sdk::storage::{validate, ObjectInfo};
use switchyard_sdk::types::{Error, ErrorKind};

use crate::bucket::{now, StoredBucket};
use crate::object::{self, Header};

/// The directory of the buckets, inside [`DATA_DIR`].
pub const BUCKETS: &str = "buckets";

/// The preopened `/data` directory, with `buckets/` created; `denied` when the host gave
/// this binding none.
pub fn open() -> Result<Descriptor, Error> {
    let dir = files::data_dir("buckets")?;
    files::create_dir(&dir, BUCKETS)?;
    Ok(dir)
}

/// How [`place`] puts a temporary file in place.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Replace whatever is there (`rename`).
    Replace,
    /// Only if nothing is there (`link`, then the temporary name is removed).
    CreateNew,
}

/// Puts the temporary file `tmp` (from `files::write_temp`) at `target`. With
/// [`Place::CreateNew`], `Ok(false)` when `target` exists (nothing changed). The temporary
/// file is gone afterwards, whatever the outcome.
pub fn place(dir: &Descriptor, tmp: &str, target: &str, how: Place) -> Result<bool, Error> {
    if how == Place::Replace {
        return files::replace(dir, tmp, target).map(|()| true);
    }
    let result = match dir.link_at(PathFlags::empty(), tmp, dir, target) {
        Ok(()) => Ok(true),
        Err(ErrorCode::Exist) => Ok(false),
        Err(code @ (ErrorCode::Unsupported | ErrorCode::NotPermitted)) => {
            Err(Error::unsupported(format!(
                "linking {DATA_DIR}/{target} failed: {}; storage-local needs a files \
                 directory on a filesystem with hard links (any POSIX filesystem, NTFS, \
                 APFS) to create objects atomically",
                code.name()
            )))
        }
        Err(code) => Err(fs_error(code, "linking", target)),
    };
    // After a link, or a failed one, the temporary name is still there.
    let _ = dir.unlink_file_at(tmp);
    result
}

/// Removes the directory `path` and everything in it; nothing to do when it is gone.
pub fn remove_tree(dir: &Descriptor, path: &str) -> Result<(), Error> {
    let Some(items) = files::entries(dir, path, true)? else {
        return Ok(());
    };
    for (name, kind) in items {
        let child = format!("{path}/{name}");
        if kind == DescriptorType::Directory {
            remove_tree(dir, &child)?;
        } else {
            files::remove(dir, &child)?;
        }
    }
    match dir.remove_directory_at(path) {
        Ok(()) | Err(ErrorCode::NoEntry) => Ok(()),
        Err(code) => Err(fs_error(code, "removing", path)),
    }
}

pub(crate) fn bucket_dir(bucket: &str) -> String {
    format!("{BUCKETS}/{bucket}")
}

pub(crate) fn objects_dir(bucket: &str) -> String {
    format!("{BUCKETS}/{bucket}/objects")
}

pub(crate) fn object_path(bucket: &str, key: &str) -> String {
    format!("{}/{}", objects_dir(bucket), object::file_name(key))
}

pub(crate) fn bucket_not_found(field: &str, name: &str) -> Error {
    let which = if field == "bucket" || field == "name" {
        String::new()
    } else {
        format!("{field}: ")
    };
    Error::not_found(format!(
        "{which}bucket '{name}' does not exist (create-bucket makes it)"
    ))
}

pub(crate) fn object_not_found(bucket: &str, key: &str) -> Error {
    Error::not_found(format!(
        "object '{}' does not exist in bucket '{bucket}'",
        key.escape_debug()
    ))
}

/// A `not-found` from the filesystem while writing into a bucket means it was deleted.
pub(crate) fn gone_is_not_found(err: Error, field: &str, bucket: &str) -> Error {
    if err.kind == ErrorKind::NotFound {
        bucket_not_found(field, bucket)
    } else {
        err
    }
}

/// The settings of the bucket `name` (checked first, `field` naming the argument).
pub(crate) fn load_bucket(
    dir: &Descriptor,
    field: &str,
    name: &str,
) -> Result<StoredBucket, Error> {
    validate::bucket_name(field, name)?;
    let path = format!("{}/bucket.json", bucket_dir(name));
    files::read_json(dir, &path, |e| {
        Error::internal(format!(
            "{}/{path} is not a bucket's settings: {e}",
            files::DATA_DIR
        ))
    })?
    .ok_or_else(|| bucket_not_found(field, name))
}

/// The header (and body, with `body`) of `key` in `bucket`; `not-found` naming both.
pub(crate) fn load_object(
    dir: &Descriptor,
    bucket: &str,
    key: &str,
    body: bool,
) -> Result<object::Loaded, Error> {
    let path = object_path(bucket, key);
    match object::read(dir, &path, body)? {
        // A hashed name holds the key it was made from; anything else is not this key.
        Some((header, content)) if header.key == key => Ok((header, content)),
        _ => Err(object_not_found(bucket, key)),
    }
}

/// Stores an object whole: written to a temporary file in the bucket, then put in place
/// (replacing, or only if absent: `conflict` when the key exists).
pub(crate) fn put(
    dir: &Descriptor,
    field: &str,
    bucket: &str,
    header: &Header,
    body: &[u8],
    overwrite: bool,
) -> Result<(), Error> {
    let prefix = header.prefix()?;
    let tmp = files::write_temp(dir, &objects_dir(bucket), &[&prefix, body])
        .map_err(|e| gone_is_not_found(e, field, bucket))?;
    let how = if overwrite {
        Place::Replace
    } else {
        Place::CreateNew
    };
    let placed = place(dir, &tmp, &object_path(bucket, &header.key), how)
        .map_err(|e| gone_is_not_found(e, field, bucket))?;
    if !placed {
        return Err(Error::conflict(format!(
            "object '{}' already exists in bucket '{bucket}'; upload with overwrite to \
             replace it",
            header.key.escape_debug()
        )));
    }
    Ok(())
}

/// The keys in `bucket` (read from headers for hashed names).
pub(crate) fn keys(dir: &Descriptor, bucket: &str) -> Result<Vec<String>, Error> {
    let objects = objects_dir(bucket);
    let mut out = Vec::new();
    for name in files::list(dir, &objects)? {
        if !object::is_object_name(&name) {
            continue;
        }
        match object::key_of(&name) {
            Some(key) => out.push(key),
            None => match object::read(dir, &format!("{objects}/{name}"), false) {
                Ok(Some((header, _))) => out.push(header.key),
                Ok(None) => {}
                Err(err) => log::warn(
                    "skipping a file that is not an object",
                    &[("file", &name), ("reason", &err.message)],
                ),
            },
        }
    }
    Ok(out)
}

/// Copies `key` of `bucket` to `target_key` of `target_bucket` (never replacing); answers
/// the copy's description.
pub(crate) fn copy(
    bucket: &str,
    key: &str,
    target_bucket: &str,
    target_key: &str,
) -> Result<ObjectInfo, Error> {
    validate::copy(bucket, key, target_bucket, target_key)?;
    let dir = open()?;
    load_bucket(&dir, "bucket", bucket)?;
    let target = load_bucket(&dir, "target-bucket", target_bucket)?;
    let (source, body) = load_object(&dir, bucket, key, true)?;
    let body = body.unwrap_or_default();
    target.admits(
        source.size,
        &source.content_type,
        &format!("object '{}'", key.escape_debug()),
    )?;
    let header = Header {
        key: target_key.to_string(),
        updated_at: now(),
        ..source
    };
    put(&dir, "target-bucket", target_bucket, &header, &body, false)?;
    Ok(header.info(target_bucket))
}
