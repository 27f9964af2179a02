//! The storage contract's input rules, so every provider refuses the same input with the same
//! errors: `invalid-input` (or `too-large` for batches) with a message that names the field and
//! the value, e.g. `key 'a//b' has an empty segment`.
//!
//! Bucket names are 3 to 63 characters of `a-z 0-9 . -`, starting and ending with a letter or
//! digit. Keys are 1 to 1024 bytes of UTF-8, with no empty segment (`a//b`), no `.` or `..`
//! segment, no leading `/` and no control characters.
//!
//! The checks of one contract function's arguments, in the order every provider runs them,
//! are [`object`] (`download`, `stat`, `delete`, `public-url`), [`upload`], [`list_objects`],
//! [`delete_many`], [`copy`] (`copy-object`, `move-object`), [`signed_url`] (both kinds) and
//! [`bucket_with_options`] (`create-bucket`, `update-bucket`); [`public_bucket`] is the rule of
//! `public-url` once the bucket is known. The single checks they are made of are public too.

use crate::storage::{BucketOptions, ListQuery, UploadOptions};
use crate::types::{Error, Metadata, PageRequest};

/// The shortest bucket name.
pub const MIN_BUCKET_NAME: usize = 3;
/// The longest bucket name.
pub const MAX_BUCKET_NAME: usize = 63;
/// The longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// The most keys of one `delete-many` call.
pub const MAX_DELETE_MANY: usize = 1000;
/// The longest life of a signed URL, in seconds (7 days).
pub const MAX_EXPIRY_S: u32 = 604_800;
/// Objects per page of `list-objects` when the caller gives no limit.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most objects per page (a larger limit is lowered to it).
pub const MAX_LIMIT: u32 = 1000;
/// The content type of an upload that gives none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";
/// The longest content type or cache-control value, in bytes.
pub const MAX_HEADER_VALUE_BYTES: usize = 1024;

/// Checks the arguments of a call on one object (`download`, `stat`, `delete`,
/// `public-url`): the bucket name (`bucket`), then the key (`key`).
pub fn object(bucket: &str, key: &str) -> Result<(), Error> {
    bucket_name("bucket", bucket)?;
    self::key("key", key)
}

/// Checks the arguments of `upload`: the bucket and the key (as [`object`]), then the
/// options ([`upload_options`]).
pub fn upload(bucket: &str, key: &str, options: &UploadOptions) -> Result<(), Error> {
    object(bucket, key)?;
    upload_options(options)
}

/// Checks the arguments of `list-objects`: the bucket name, the query ([`list_query`]) and
/// the page; answers the page size ([`page_limit`]). The cursor is the provider's to read.
pub fn list_objects(bucket: &str, query: &ListQuery, page: &PageRequest) -> Result<u32, Error> {
    bucket_name("bucket", bucket)?;
    list_query(query)?;
    page_limit(page)
}

/// Checks the arguments of `delete-many`: the bucket name, then the keys ([`delete_keys`]).
pub fn delete_many(bucket: &str, keys: &[String]) -> Result<(), Error> {
    bucket_name("bucket", bucket)?;
    delete_keys(keys)
}

/// Checks the arguments of `copy-object` and `move-object`: the source (`bucket`, `key`),
/// then the target (`target-bucket`, `target-key`).
pub fn copy(bucket: &str, key: &str, target_bucket: &str, target_key: &str) -> Result<(), Error> {
    object(bucket, key)?;
    bucket_name("target-bucket", target_bucket)?;
    self::key("target-key", target_key)
}

/// Checks the arguments of `signed-download-url` and `signed-upload-url`: the bucket and the
/// key (as [`object`]), then the life of the URL ([`expires_in`]).
pub fn signed_url(bucket: &str, key: &str, expires_in_s: u32) -> Result<(), Error> {
    object(bucket, key)?;
    expires_in(expires_in_s)
}

/// Checks the arguments of `create-bucket` and `update-bucket`: the bucket name (`name`),
/// then the options ([`bucket_options`]).
pub fn bucket_with_options(name: &str, options: &BucketOptions) -> Result<(), Error> {
    bucket_name("name", name)?;
    bucket_options(options)
}

/// The rule of `public-url`: only a public bucket has public URLs; `denied` naming the
/// bucket `name` otherwise.
pub fn public_bucket(name: &str, public: bool) -> Result<(), Error> {
    if public {
        return Ok(());
    }
    Err(Error::denied(format!(
        "bucket '{name}' is not public: make it public (update-bucket) or give a \
         signed-download-url"
    )))
}

/// Checks a bucket name; `field` names the argument (`bucket`, `name`, `target-bucket`).
pub fn bucket_name(field: &str, name: &str) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::invalid_input(format!(
            "{field} is empty: give a bucket name (3 to 63 characters of a-z 0-9 . -)"
        )));
    }
    let len = name.chars().count();
    let shown = shown(name);
    if !(MIN_BUCKET_NAME..=MAX_BUCKET_NAME).contains(&len) {
        return Err(Error::invalid_input(format!(
            "{field} '{shown}' is {len} characters; a bucket name has {MIN_BUCKET_NAME} to \
             {MAX_BUCKET_NAME}"
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Err(Error::invalid_input(format!(
            "{field} '{shown}' has '{}': a bucket name has only a-z 0-9 . -",
            c.escape_debug()
        )));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !alnum(name.chars().next()) || !alnum(name.chars().last()) {
        return Err(Error::invalid_input(format!(
            "{field} '{shown}' must start and end with a letter or a digit"
        )));
    }
    Ok(())
}

/// Checks an object key; `field` names the argument (`key`, `target-key`, `keys[3]`).
pub fn key(field: &str, key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::invalid_input(format!(
            "{field} is empty: give an object key (1 to {MAX_KEY_BYTES} bytes)"
        )));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::invalid_input(format!(
            "{field} is {} bytes; a key has at most {MAX_KEY_BYTES}",
            key.len()
        )));
    }
    let shown = shown(key);
    if key.chars().any(char::is_control) {
        return Err(Error::invalid_input(format!(
            "{field} '{shown}' has a control character"
        )));
    }
    if key.starts_with('/') {
        return Err(Error::invalid_input(format!(
            "{field} '{shown}' starts with '/': a key is relative to its bucket"
        )));
    }
    for segment in key.split('/') {
        match segment {
            "" => {
                return Err(Error::invalid_input(format!(
                    "{field} '{shown}' has an empty segment ('//' or a trailing '/')"
                )))
            }
            "." | ".." => {
                return Err(Error::invalid_input(format!(
                    "{field} '{shown}' has a '{segment}' segment"
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks a listing's query: a prefix of at most [`MAX_KEY_BYTES`] without control
/// characters, a non-empty delimiter.
pub fn list_query(query: &ListQuery) -> Result<(), Error> {
    if let Some(prefix) = &query.prefix {
        if prefix.len() > MAX_KEY_BYTES || prefix.chars().any(char::is_control) {
            return Err(Error::invalid_input(format!(
                "query.prefix must be at most {MAX_KEY_BYTES} bytes without control characters"
            )));
        }
    }
    if let Some(delimiter) = &query.delimiter {
        if delimiter.is_empty() {
            return Err(Error::invalid_input(
                "query.delimiter is empty: leave it out for no grouping, or give e.g. '/'",
            ));
        }
        if delimiter.len() > MAX_KEY_BYTES || delimiter.chars().any(char::is_control) {
            return Err(Error::invalid_input(format!(
                "query.delimiter must be at most {MAX_KEY_BYTES} bytes without control characters"
            )));
        }
    }
    Ok(())
}

/// The page size of a listing: [`DEFAULT_LIMIT`] when none, at most [`MAX_LIMIT`] (a larger
/// limit is lowered to it); `invalid-input` naming `page.limit` for 0.
pub fn page_limit(page: &PageRequest) -> Result<u32, Error> {
    match page.limit {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(Error::invalid_input(
            "page.limit must be at least 1 (leave it out for the default, 100)",
        )),
        Some(n) => Ok(n.min(MAX_LIMIT)),
    }
}

/// Checks a signed URL's life: 1 to [`MAX_EXPIRY_S`] seconds.
pub fn expires_in(seconds: u32) -> Result<(), Error> {
    if seconds == 0 || seconds > MAX_EXPIRY_S {
        return Err(Error::invalid_input(format!(
            "expires-in-s is {seconds}; a signed URL lives 1 to {MAX_EXPIRY_S} seconds (7 days)"
        )));
    }
    Ok(())
}

/// Checks the keys of a `delete-many` call: at most [`MAX_DELETE_MANY`] (`too-large`), each a
/// valid key (`keys[i]`).
pub fn delete_keys(keys: &[String]) -> Result<(), Error> {
    if keys.len() > MAX_DELETE_MANY {
        return Err(Error::too_large(format!(
            "keys has {} keys; delete-many takes at most {MAX_DELETE_MANY}",
            keys.len()
        )));
    }
    for (i, k) in keys.iter().enumerate() {
        key(&format!("keys[{i}]"), k)?;
    }
    Ok(())
}

/// Checks an upload's options: content type, cache-control, metadata names.
pub fn upload_options(options: &UploadOptions) -> Result<(), Error> {
    if let Some(ct) = &options.content_type {
        content_type("options.content-type", ct)?;
    }
    if let Some(cc) = &options.cache_control {
        if cc.trim().is_empty()
            || cc.len() > MAX_HEADER_VALUE_BYTES
            || cc.chars().any(char::is_control)
        {
            return Err(Error::invalid_input(format!(
                "options.cache-control '{}' must be 1 to {MAX_HEADER_VALUE_BYTES} bytes of \
                 printable text (e.g. 'max-age=3600')",
                shown(cc)
            )));
        }
    }
    metadata("options.metadata", &options.metadata)
}

/// Checks user metadata: names non-empty, unique, without control characters; values without
/// control characters (they travel as HTTP headers at most providers).
pub fn metadata(field: &str, metadata: &Metadata) -> Result<(), Error> {
    for (i, (name, value)) in metadata.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::invalid_input(format!(
                "{field}[{i}] has an empty name"
            )));
        }
        if name.chars().any(char::is_control) || value.chars().any(char::is_control) {
            return Err(Error::invalid_input(format!(
                "{field}[{i}] ('{}') has a control character",
                shown(name)
            )));
        }
        if metadata[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::invalid_input(format!(
                "{field}[{i}]: the name '{}' is given twice",
                shown(name)
            )));
        }
    }
    Ok(())
}

/// Checks a bucket's options: a `max-object-bytes` of at least 1, content-type patterns
/// (`type/subtype`, `type/*` or `*/*`).
pub fn bucket_options(options: &BucketOptions) -> Result<(), Error> {
    if options.max_object_bytes == Some(0) {
        return Err(Error::invalid_input(
            "options.max-object-bytes must be at least 1 (leave it out for no limit)",
        ));
    }
    for (i, pattern) in options.allowed_content_types.iter().flatten().enumerate() {
        content_type_pattern(&format!("options.allowed-content-types[{i}]"), pattern)?;
    }
    Ok(())
}

/// Checks a content type: `type/subtype` of token characters, parameters after `;` allowed.
pub fn content_type(field: &str, value: &str) -> Result<(), Error> {
    let essence = essence(value);
    let ok = value.len() <= MAX_HEADER_VALUE_BYTES
        && !value.chars().any(char::is_control)
        && essence
            .split_once('/')
            .is_some_and(|(t, s)| is_token(t) && is_token(s));
    if !ok {
        return Err(Error::invalid_input(format!(
            "{field} '{}' is not a content type (type/subtype, e.g. 'image/png')",
            shown(value)
        )));
    }
    Ok(())
}

/// Checks a pattern of allowed content types: `type/subtype`, `type/*` or `*/*`.
pub fn content_type_pattern(field: &str, pattern: &str) -> Result<(), Error> {
    let ok = match pattern.split_once('/') {
        Some(("*", "*")) => true,
        Some((t, "*")) => is_token(t) && t != "*",
        Some((t, s)) => is_token(t) && is_token(s) && t != "*" && s != "*",
        None => false,
    };
    if !ok {
        return Err(Error::invalid_input(format!(
            "{field} '{}' is not a content type pattern (type/subtype, type/* or */*)",
            shown(pattern)
        )));
    }
    Ok(())
}

/// Whether `content_type` is allowed by `patterns` (an empty list allows any): compared
/// without parameters and without regard to case; `image/*` allows every `image/` type.
pub fn content_type_allowed(patterns: &[String], content_type: &str) -> bool {
    if patterns.is_empty() {
        return true;
    }
    let essence = essence(content_type).to_ascii_lowercase();
    let Some((ty, _)) = essence.split_once('/') else {
        return false;
    };
    patterns.iter().any(|p| {
        let p = p.trim().to_ascii_lowercase();
        p == "*/*" || p == essence || p.strip_suffix("/*").is_some_and(|prefix| prefix == ty)
    })
}

/// A content type without its parameters and surrounding spaces (`text/plain; charset=x` ->
/// `text/plain`).
pub fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A value for an error message: at most 80 characters, control characters escaped.
fn shown(value: &str) -> String {
    let mut out: String = value.chars().take(80).collect::<String>();
    if out.len() < value.len() {
        out.push_str("...");
    }
    out.escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-bucket.v2", "0a9", &"a".repeat(63)] {
            bucket_name("name", ok).unwrap_or_else(|e| panic!("{ok}: {}", e.message));
        }
        for bad in [
            "",
            "ab",
            "Abc",
            "-abc",
            "abc.",
            "a_b",
            "a b",
            &"a".repeat(64),
            "ünï",
        ] {
            let e = bucket_name("name", bad).expect_err(bad);
            assert!(e.message.starts_with("name"), "{}", e.message);
            assert!(e.message.contains(bad), "{}", e.message);
        }
    }

    #[test]
    fn keys() {
        for ok in [
            "a",
            "a/b/c.txt",
            ".hidden",
            "a/..b",
            "é/ü",
            &"k".repeat(1024),
        ] {
            key("key", ok).unwrap_or_else(|e| panic!("{ok}: {}", e.message));
        }
        for bad in [
            "",
            "a//b",
            "/a",
            "a/",
            "../x",
            "a/./b",
            "a/..",
            "tab\there",
            &"k".repeat(1025),
        ] {
            let e = key("target-key", bad).expect_err(bad);
            assert!(e.message.starts_with("target-key"), "{}", e.message);
        }
    }

    #[test]
    fn content_types() {
        let allowed = vec!["image/*".to_string(), "application/pdf".to_string()];
        assert!(content_type_allowed(&allowed, "image/png"));
        assert!(content_type_allowed(&allowed, "IMAGE/JPEG; q=1"));
        assert!(content_type_allowed(&allowed, "application/pdf"));
        assert!(!content_type_allowed(&allowed, "text/plain"));
        assert!(!content_type_allowed(&allowed, "imagex/png"));
        assert!(content_type_allowed(&[], "text/plain"));
        assert!(content_type_allowed(&["*/*".to_string()], "text/plain"));
        content_type("ct", "text/plain; charset=utf-8").expect("valid");
        content_type("ct", "nope").expect_err("no slash");
        content_type_pattern("p", "image/*").expect("valid");
        content_type_pattern("p", "*/png").expect_err("bad wildcard");
    }

    #[test]
    fn arguments_of_one_call_are_checked_in_order() {
        let e = copy("ab", "a//b", "cd", "").expect_err("bad bucket first");
        assert!(e.message.starts_with("bucket 'ab'"), "{}", e.message);
        let e = copy("abc", "a//b", "cd", "").expect_err("bad key next");
        assert!(e.message.starts_with("key 'a//b'"), "{}", e.message);
        let e = copy("abc", "k", "cd", "").expect_err("then the target bucket");
        assert!(e.message.starts_with("target-bucket 'cd'"), "{}", e.message);
        let e = copy("abc", "k", "cde", "").expect_err("then the target key");
        assert!(
            e.message.starts_with("target-key is empty"),
            "{}",
            e.message
        );
        copy("abc", "k", "cde", "k2").expect("valid");
        let e = signed_url("abc", "k", 0).expect_err("expiry last");
        assert!(e.message.starts_with("expires-in-s is 0"), "{}", e.message);
        let e = bucket_with_options(
            "Abc",
            &BucketOptions {
                public: None,
                max_object_bytes: Some(0),
                allowed_content_types: None,
            },
        )
        .expect_err("name first");
        assert!(e.message.starts_with("name 'Abc'"), "{}", e.message);
        let page = PageRequest {
            cursor: None,
            limit: Some(5),
        };
        let query = ListQuery {
            prefix: None,
            delimiter: Some(String::new()),
        };
        let e = list_objects("abc", &query, &page).expect_err("empty delimiter");
        assert!(
            e.message.starts_with("query.delimiter is empty"),
            "{}",
            e.message
        );
        let e = delete_many("abc", &["ok".into(), "/bad".into()]).expect_err("keys[1]");
        assert!(e.message.starts_with("keys[1] '/bad'"), "{}", e.message);
        public_bucket("abc", true).expect("public");
        let e = public_bucket("abc", false).expect_err("not public");
        assert_eq!(
            e.message,
            "bucket 'abc' is not public: make it public (update-bucket) or give a \
             signed-download-url"
        );
    }

    #[test]
    fn limits() {
        assert_eq!(
            page_limit(&PageRequest {
                cursor: None,
                limit: None
            })
            .ok(),
            Some(100)
        );
        assert_eq!(
            page_limit(&PageRequest {
                cursor: None,
                limit: Some(5000)
            })
            .ok(),
            Some(1000)
        );
        assert!(page_limit(&PageRequest {
            cursor: None,
            limit: Some(0)
        })
        .is_err());
        assert!(expires_in(0).is_err() && expires_in(604_801).is_err());
        assert!(expires_in(1).is_ok() && expires_in(604_800).is_ok());
    }
}
