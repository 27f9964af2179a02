//! The outbox's layout under the binding's preopened `/data` directory; the file helpers
//! are `switchyard_sdk::files`.
//!
//! - `messages/<id>.json`: one file per message, always written whole under `tmp/` and then
//!   renamed into place, so a reader sees the old or the new record, never a torn one.
//! - `keys/<hex of the idempotency key>`: created with an exclusive create (`O_EXCL`); the
//!   call that creates it owns the key and writes its message id into it.
//! - `locks/<id>.lock`: created exclusively around a read-modify-write of a message
//!   (cancel), removed afterwards; one left by a call that died is taken over after
//!   `files::STALE_LOCK`.

use std::time::Duration;

use wasi::filesystem::types::Descriptor;

use switchyard_sdk::files;
use switchyard_sdk::types::Error;

/// The directory of message records.
pub const MESSAGES: &str = "messages";
/// The directory of idempotency keys.
pub const KEYS: &str = "keys";
/// The directory of per-message locks.
pub const LOCKS: &str = "locks";
/// Where records are written before being renamed into place.
pub const TMP: &str = "tmp";
/// How long a call waits for a lock or for a concurrent send with the same key (ms).
pub const WAIT_MS: u64 = 5_000;

/// The outbox: the preopened `/data` directory, its subdirectories created when missing.
pub struct Outbox {
    dir: Descriptor,
}

impl Outbox {
    /// Opens the outbox; `denied` when the host gave this binding no `files` directory.
    pub fn open() -> Result<Outbox, Error> {
        let dir = files::data_dir("outbox")?;
        for sub in [MESSAGES, KEYS, LOCKS, TMP] {
            files::create_dir(&dir, sub)?;
        }
        Ok(Outbox { dir })
    }

    /// The bytes of `path`, or none when it does not exist.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, Error> {
        files::read(&self.dir, path)
    }

    /// Writes `bytes` as the whole of `path`: into a fresh file under `tmp/`, then renamed
    /// over `path` in one step.
    pub fn write_whole(&self, path: &str, bytes: &[u8]) -> Result<(), Error> {
        let tmp = files::write_temp(&self.dir, TMP, &[bytes])?;
        files::replace(&self.dir, &tmp, path)
    }

    /// Creates `path` only if it does not exist (`O_EXCL`) and writes `bytes` into it;
    /// false when it already existed.
    pub fn create_exclusive(&self, path: &str, bytes: &[u8]) -> Result<bool, Error> {
        files::create_exclusive(&self.dir, path, bytes)
    }

    /// Removes `path`; nothing to do when it is gone.
    pub fn remove(&self, path: &str) -> Result<(), Error> {
        files::remove(&self.dir, path).map(drop)
    }

    /// The names in directory `sub`, sorted.
    pub fn names(&self, sub: &str) -> Result<Vec<String>, Error> {
        let mut names = files::list(&self.dir, sub)?;
        names.sort();
        Ok(names)
    }

    /// Runs `f` holding the lock `locks/<name>.lock`; waits up to [`WAIT_MS`] for it
    /// (`unavailable`, retryable, after that) and takes over a stale one.
    pub fn with_lock<T>(
        &self,
        name: &str,
        f: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        let _lock = files::lock_within(
            &self.dir,
            &format!("{LOCKS}/{name}.lock"),
            Duration::from_millis(WAIT_MS),
            || {
                Error::unavailable(format!(
                    "message {name} is being changed by another call; try again"
                ))
            },
        )?;
        f()
    }

    /// Whether `/data` is writable: writes and removes a probe file; answers how many
    /// messages the outbox holds.
    pub fn check_writable(&self) -> Result<usize, Error> {
        let probe = format!(
            "{TMP}/health-{}",
            hex::encode(switchyard_sdk::random::bytes(6))
        );
        self.write_whole(&probe, b"ok")?;
        self.remove(&probe)?;
        Ok(self.names(MESSAGES)?.len())
    }
}
