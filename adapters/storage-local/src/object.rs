//! An object's file: its name (the key, encoded) and its content (a header, then the body).
//!
//! **Names.** A key becomes one file name, never a path: the bytes `a-z 0-9 - _ ~` and `.`
//! (except first) stay as they are, every other byte is `%XX` (upper-case hex), so `/`, `..`,
//! upper-case letters (which case-insensitive filesystems would fold) and non-ASCII cannot
//! escape the bucket or collide. A name longer than [`MAX_NAME`] is `+` and the SHA-256 of the
//! key instead (the key is then read from the header). Neither form starts with `.`, which
//! is kept for temporary and lock files.
//!
//! **Content.** `SWYOBJ1\n`, the header's length (u32, little-endian), the header (JSON:
//! key, size, content type, cache-control, metadata, etag, updated-at), then the body. One
//! file holds both, so replacing it with one rename replaces them together: a reader never
//! sees the body of one upload with the description of another. `stat` and listings read
//! the header alone.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use wasi::filesystem::types::Descriptor;

use switchyard_sdk::files;
use switchyard_sdk::storage::ObjectInfo;
use switchyard_sdk::types::{Error, Metadata, Timestamp};

/// The longest file name made from a key; longer ones are hashed.
pub const MAX_NAME: usize = 200;
const MAGIC: &[u8; 8] = b"SWYOBJ1\n";
const PREFIX_LEN: u64 = 12;
/// The largest header read back (a guard against a damaged file).
const MAX_HEADER: u64 = 16 * 1024 * 1024;

/// The file name of `key`.
pub fn file_name(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for (i, b) in key.bytes().enumerate() {
        let keep = b.is_ascii_lowercase()
            || b.is_ascii_digit()
            || matches!(b, b'-' | b'_' | b'~')
            || (b == b'.' && i > 0);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() > MAX_NAME {
        format!("+{}", hex::encode(Sha256::digest(key.as_bytes())))
    } else {
        out
    }
}

/// The key of a file name made by [`file_name`]; none for a hashed name (read the header)
/// or a name that is not one of ours.
pub fn key_of(name: &str) -> Option<String> {
    if name.starts_with('+') {
        return None;
    }
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = name.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether `name` is an object file name (not a temporary or lock file).
pub fn is_object_name(name: &str) -> bool {
    !name.starts_with('.')
}

/// Lower-case hex SHA-256 of `body`: the object's etag.
pub fn etag(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// An object's description, as stored in its header.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Header {
    pub key: String,
    pub size: u64,
    pub content_type: String,
    pub cache_control: Option<String>,
    pub metadata: Metadata,
    pub etag: String,
    /// Seconds and nanoseconds since the Unix epoch.
    pub updated_at: (u64, u32),
}

impl Header {
    /// The contract's description of this object in `bucket`.
    pub fn info(&self, bucket: &str) -> ObjectInfo {
        ObjectInfo {
            bucket: bucket.to_string(),
            key: self.key.clone(),
            size: self.size,
            content_type: self.content_type.clone(),
            cache_control: self.cache_control.clone(),
            metadata: self.metadata.clone(),
            etag: self.etag.clone(),
            updated_at: Timestamp {
                seconds: self.updated_at.0,
                nanoseconds: self.updated_at.1,
            },
        }
    }

    /// The file's bytes before the body: magic, length, header.
    pub fn prefix(&self) -> Result<Vec<u8>, Error> {
        let json = serde_json::to_vec(self)
            .map_err(|e| Error::internal(format!("serialising an object header failed: {e}")))?;
        let len = u32::try_from(json.len())
            .map_err(|_| Error::too_large("the object's metadata is larger than 4 GiB"))?;
        let mut out = Vec::with_capacity(json.len() + PREFIX_LEN as usize);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&json);
        Ok(out)
    }
}

fn damaged(path: &str, why: &str) -> Error {
    Error::internal(format!(
        "{}/{path} is not a storage-local object: {why}",
        files::DATA_DIR
    ))
}

/// An object read back: its header, and its body when asked for.
pub type Loaded = (Header, Option<Vec<u8>>);

/// Reads the header of the file `path`: none when there is no file. With `body`, the body
/// too (checked against the header's size).
pub fn read(dir: &Descriptor, path: &str, body: bool) -> Result<Option<Loaded>, Error> {
    let Some(file) = files::open_file(dir, path)? else {
        return Ok(None);
    };
    let prefix = files::read_at(&file, 0, PREFIX_LEN, path)?;
    if prefix.len() as u64 != PREFIX_LEN || &prefix[..8] != MAGIC {
        return Err(damaged(path, "no object header"));
    }
    let len = u64::from(u32::from_le_bytes([
        prefix[8], prefix[9], prefix[10], prefix[11],
    ]));
    if len > MAX_HEADER {
        return Err(damaged(path, "the header is too large"));
    }
    let json = files::read_at(&file, PREFIX_LEN, len, path)?;
    if json.len() as u64 != len {
        return Err(damaged(path, "the header is cut short"));
    }
    let header: Header = serde_json::from_slice(&json)
        .map_err(|e| damaged(path, &format!("the header is not valid: {e}")))?;
    let content = if body {
        let content = files::read_at(&file, PREFIX_LEN + len, header.size, path)?;
        if content.len() as u64 != header.size {
            return Err(damaged(path, "the body is shorter than its header says"));
        }
        Some(content)
    } else {
        None
    };
    Ok(Some((header, content)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_stay_single_segments() {
        for key in [
            "a",
            "photos/2024/ada.png",
            "../x",
            ".hidden",
            "Upper Case/é",
            "100%",
            "+plus",
        ] {
            let name = file_name(key);
            assert!(!name.contains('/') && !name.starts_with('.') && !name.starts_with('+'));
            assert_eq!(key_of(&name).as_deref(), Some(key), "{name}");
        }
        assert_ne!(file_name("A"), file_name("a"));
        let long = "k/".repeat(300) + "end";
        assert!(file_name(&long).starts_with('+'));
        assert_eq!(key_of(&file_name(&long)), None);
    }
}
