//! A bucket's settings as stored in `buckets/<name>/bucket.json`, their contract form, and
//! the limits they put on objects.

use serde::{Deserialize, Serialize};
use switchyard_sdk::storage::{validate, Bucket};
use switchyard_sdk::types::{Error, Timestamp};

/// A bucket's settings, as stored in `buckets/<name>/bucket.json`.
#[derive(Serialize, Deserialize, Clone)]
pub(crate) struct StoredBucket {
    pub(crate) name: String,
    pub(crate) public: bool,
    pub(crate) max_object_bytes: Option<u64>,
    pub(crate) allowed_content_types: Vec<String>,
    pub(crate) created_at: (u64, u32),
    pub(crate) updated_at: (u64, u32),
}

impl StoredBucket {
    pub(crate) fn to_contract(&self) -> Bucket {
        Bucket {
            name: self.name.clone(),
            public: self.public,
            max_object_bytes: self.max_object_bytes,
            allowed_content_types: self.allowed_content_types.clone(),
            created_at: ts(self.created_at),
            updated_at: ts(self.updated_at),
        }
    }

    /// Checks an object of `size` bytes and `content_type` against the limits; `what` says
    /// where the object comes from, for the message.
    pub(crate) fn admits(&self, size: u64, content_type: &str, what: &str) -> Result<(), Error> {
        if let Some(max) = self.max_object_bytes {
            if size > max {
                return Err(Error::too_large(format!(
                    "{what} is {size} bytes; bucket '{}' takes objects of at most {max} bytes \
                     (max-object-bytes)",
                    self.name
                )));
            }
        }
        if !validate::content_type_allowed(&self.allowed_content_types, content_type) {
            return Err(Error::invalid_input(format!(
                "content-type '{content_type}' is not allowed in bucket '{}' (allowed: {})",
                self.name,
                self.allowed_content_types.join(", ")
            )));
        }
        Ok(())
    }
}

pub(crate) fn now() -> (u64, u32) {
    let t = switchyard_sdk::time::now();
    (t.seconds, t.nanoseconds)
}

pub(crate) fn ts((seconds, nanoseconds): (u64, u32)) -> Timestamp {
    Timestamp {
        seconds,
        nanoseconds,
    }
}
