//! The outbox over `wasi:filesystem`, under the binding's preopened `/data` directory.
//!
//! - `messages/<id>.json`: one file per message, always written whole under `tmp/` and then
//!   renamed into place, so a reader sees the old or the new record, never a torn one.
//! - `keys/<hex of the idempotency key>`: created with an exclusive create (`O_EXCL`); the
//!   call that creates it owns the key and writes its message id into it.
//! - `locks/<id>.lock`: created exclusively around a read-modify-write of a message
//!   (cancel), removed afterwards; one left by a call that died is taken over after
//!   [`STALE_LOCK_MS`].

use std::time::Duration;

use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};

use switchyard_sdk::types::Error;
use switchyard_sdk::{random, retry, time};

/// The guest path of the binding's files directory.
pub const DATA_DIR: &str = "/data";
/// The directory of message records.
pub const MESSAGES: &str = "messages";
/// The directory of idempotency keys.
pub const KEYS: &str = "keys";
/// The directory of per-message locks.
pub const LOCKS: &str = "locks";
/// Where records are written before being renamed into place.
pub const TMP: &str = "tmp";
/// A lock older than this (ms) was left by a call that died and is taken over.
pub const STALE_LOCK_MS: u64 = 10_000;
/// How long a call waits for a lock or for a concurrent send with the same key (ms).
pub const WAIT_MS: u64 = 5_000;
const READ_CHUNK: u64 = 64 * 1024;

/// The outbox: the preopened `/data` directory, its subdirectories created when missing.
pub struct Outbox {
    dir: Descriptor,
}

impl Outbox {
    /// Opens the outbox; `denied` when the host gave this binding no `files` directory.
    pub fn open() -> Result<Outbox, Error> {
        let dir = get_directories()
            .into_iter()
            .find(|(_, name)| name.trim_end_matches('/') == DATA_DIR)
            .map(|(dir, _)| dir)
            .ok_or_else(|| {
                Error::denied(format!(
                    "the host preopened no {DATA_DIR} directory: give this binding a `files` \
                     directory to keep its outbox in"
                ))
            })?;
        for sub in [MESSAGES, KEYS, LOCKS, TMP] {
            match dir.create_directory_at(sub) {
                Ok(()) | Err(ErrorCode::Exist) => {}
                Err(code) => return Err(fs_error(code, "creating", sub)),
            }
        }
        Ok(Outbox { dir })
    }

    /// The bytes of `path`, or none when it does not exist.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>, Error> {
        let file = match self.dir.open_at(
            PathFlags::empty(),
            path,
            OpenFlags::empty(),
            DescriptorFlags::READ,
        ) {
            Ok(file) => file,
            Err(ErrorCode::NoEntry) => return Ok(None),
            Err(code) => return Err(fs_error(code, "opening", path)),
        };
        let mut out = Vec::new();
        loop {
            let (chunk, eof) = file
                .read(READ_CHUNK, out.len() as u64)
                .map_err(|code| fs_error(code, "reading", path))?;
            out.extend_from_slice(&chunk);
            if chunk.is_empty() || eof {
                break;
            }
        }
        Ok(Some(out))
    }

    /// Writes `bytes` as the whole of `path`: into a fresh file under `tmp/`, then renamed
    /// over `path` in one step.
    pub fn write_whole(&self, path: &str, bytes: &[u8]) -> Result<(), Error> {
        let tmp = format!("{TMP}/{}", hex(&random::bytes(12)));
        let file = self
            .dir
            .open_at(
                PathFlags::empty(),
                &tmp,
                OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
                DescriptorFlags::WRITE,
            )
            .map_err(|code| fs_error(code, "creating", &tmp))?;
        if let Err(err) = write_all(&file, bytes, &tmp) {
            let _ = self.dir.unlink_file_at(&tmp);
            return Err(err);
        }
        drop(file);
        self.dir.rename_at(&tmp, &self.dir, path).map_err(|code| {
            let _ = self.dir.unlink_file_at(&tmp);
            fs_error(code, "renaming into place", path)
        })
    }

    /// Creates `path` only if it does not exist (`O_EXCL`) and writes `bytes` into it;
    /// false when it already existed.
    pub fn create_exclusive(&self, path: &str, bytes: &[u8]) -> Result<bool, Error> {
        let file = match self.dir.open_at(
            PathFlags::empty(),
            path,
            OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
            DescriptorFlags::WRITE,
        ) {
            Ok(file) => file,
            Err(ErrorCode::Exist) => return Ok(false),
            Err(code) => return Err(fs_error(code, "creating", path)),
        };
        if let Err(err) = write_all(&file, bytes, path) {
            let _ = self.dir.unlink_file_at(path);
            return Err(err);
        }
        Ok(true)
    }

    /// Removes `path`; nothing to do when it is gone.
    pub fn remove(&self, path: &str) -> Result<(), Error> {
        match self.dir.unlink_file_at(path) {
            Ok(()) | Err(ErrorCode::NoEntry) => Ok(()),
            Err(code) => Err(fs_error(code, "removing", path)),
        }
    }

    /// The names in directory `sub`, sorted.
    pub fn names(&self, sub: &str) -> Result<Vec<String>, Error> {
        let dir = self
            .dir
            .open_at(
                PathFlags::empty(),
                sub,
                OpenFlags::DIRECTORY,
                DescriptorFlags::READ,
            )
            .map_err(|code| fs_error(code, "opening", sub))?;
        let entries = dir
            .read_directory()
            .map_err(|code| fs_error(code, "listing", sub))?;
        let mut names = Vec::new();
        while let Some(entry) = entries
            .read_directory_entry()
            .map_err(|code| fs_error(code, "listing", sub))?
        {
            names.push(entry.name);
        }
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
        let path = format!("{LOCKS}/{name}.lock");
        let start = time::unix_millis(&time::now());
        loop {
            let now = time::unix_millis(&time::now());
            if self.create_exclusive(&path, now.to_string().as_bytes())? {
                break;
            }
            if self.lock_age_ms(&path, now)? > STALE_LOCK_MS {
                self.remove(&path)?;
                continue;
            }
            if now.saturating_sub(start) > WAIT_MS {
                return Err(Error::unavailable(format!(
                    "message {name} is being changed by another call; try again"
                )));
            }
            retry::sleep(Duration::from_millis(5));
        }
        let out = f();
        let removed = self.remove(&path);
        let out = out?;
        removed?;
        Ok(out)
    }

    /// How old the lock is, from the time written in it (0 while it is being written).
    fn lock_age_ms(&self, path: &str, now: u64) -> Result<u64, Error> {
        let Some(bytes) = self.read(path)? else {
            return Ok(0);
        };
        let taken = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        Ok(taken.map_or(0, |t| now.saturating_sub(t)))
    }

    /// Whether `/data` is writable: writes and removes a probe file.
    pub fn check_writable(&self) -> Result<usize, Error> {
        let probe = format!("{TMP}/health-{}", hex(&random::bytes(6)));
        self.write_whole(&probe, b"ok")?;
        self.remove(&probe)?;
        Ok(self.names(MESSAGES)?.len())
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_all(file: &Descriptor, mut bytes: &[u8], path: &str) -> Result<(), Error> {
    let mut offset = 0u64;
    while !bytes.is_empty() {
        let n = file
            .write(bytes, offset)
            .map_err(|code| fs_error(code, "writing", path))?;
        if n == 0 {
            return Err(Error::internal(format!(
                "writing {DATA_DIR}/{path} failed: nothing was written"
            )));
        }
        let n = usize::try_from(n).unwrap_or(bytes.len()).min(bytes.len());
        bytes = &bytes[n..];
        offset += n as u64;
    }
    Ok(())
}

/// A filesystem error as the contract's error, naming the operation and the path.
pub fn fs_error(code: ErrorCode, doing: &str, path: &str) -> Error {
    let message = format!("{doing} {DATA_DIR}/{path} failed: {}", code.name());
    match code {
        ErrorCode::Access | ErrorCode::NotPermitted | ErrorCode::ReadOnly => Error::denied(message),
        ErrorCode::InsufficientSpace | ErrorCode::Quota => Error::unavailable(message),
        ErrorCode::Busy | ErrorCode::WouldBlock | ErrorCode::Interrupted => {
            Error::unavailable(message)
        }
        ErrorCode::NoEntry => Error::not_found(message),
        ErrorCode::FileTooLarge => Error::too_large(message),
        _ => Error::internal(message),
    }
}
