//! Files under the binding's preopened `/data` directory, over `wasi:filesystem`: the helpers
//! the embedded defaults (storage-local, notification-local, email-local, payment-local) keep
//! their data with, so that each writes, creates and locks files the same careful way.
//!
//! A binding gets a `/data` directory only when the host's configuration gives it a `files`
//! directory; only the embedded world imports `wasi:filesystem` (a cloud adapter never calls
//! this module, and its component has no filesystem import). There is no `std::fs` on
//! `wasm32-unknown-unknown`: the calls here go to the host through `wasi:filesystem`.
//!
//! Every function takes the `/data` descriptor ([`data_dir`]) and a path relative to it
//! (`messages/msg_1.json`); errors are the contract's, with a message that names the
//! operation and the guest path (`creating /data/keys/ab12 failed: access`), see
//! [`fs_error`].
//!
//! - **Whole writes.** [`write_atomic`] writes to a temporary file ([`write_temp`], a new
//!   `.tmp-<random>` name created with `O_EXCL` in the directory the file will live in), then
//!   renames it over the target ([`replace`]): a reader sees the old file or the new one,
//!   never part of one. A temporary file is removed when anything fails.
//! - **Exclusive create.** [`create_exclusive`] creates a file only if nothing is there
//!   (`O_EXCL`): of concurrent creators exactly one succeeds (idempotency keys, locks).
//! - **Locks.** [`lock`] takes a lock file by exclusive create, waits while another call holds
//!   it, breaks one left by a call that died (older than [`STALE_LOCK`]), and releases it when
//!   the [`Lock`] is dropped.
//! - **Hidden names.** Names starting with `.` are this module's own (temporary files) or the
//!   adapter's bookkeeping (`.lock`): [`list`] leaves them out.
//!
//! ```ignore
//! use switchyard_sdk::files;
//!
//! let dir = files::data_dir("outbox")?;
//! files::create_dir(&dir, "messages")?;
//! files::write_atomic(&dir, "messages/m1.json", br#"{"to":"ada"}"#)?;
//! let record: Option<serde_json::Value> = files::read_json(&dir, "messages/m1.json", |e| {
//!     Error::internal(format!("the record of m1 is unreadable: {e}"))
//! })?;
//! {
//!     let _lock = files::lock(&dir, "messages/.m1.lock", "message m1")?;
//!     // read, change and write messages/m1.json; the lock goes when `_lock` does
//! }
//! for name in files::list(&dir, "messages")? { /* m1.json */ }
//! ```

use std::time::Duration;

use serde::de::DeserializeOwned;
use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

use crate::types::Error;

/// The guest path of the binding's files directory.
pub const DATA_DIR: &str = "/data";
/// A lock older than this is taken to be left by a call that died (deadline, trap) and is
/// broken by the next call that wants it.
pub const STALE_LOCK: Duration = Duration::from_secs(10);
/// How long [`lock`] waits for a lock before answering `unavailable`.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);
/// How much is read per `read` call.
const READ_CHUNK: u64 = 1024 * 1024;
/// How much is written per `write` call.
const WRITE_CHUNK: usize = 1024 * 1024;
/// The prefix of temporary files.
const TMP_PREFIX: &str = ".tmp-";

/// The preopened `/data` directory; `denied` when the host gave this binding none, saying
/// that the adapter needs one to keep its `purpose` (`outbox`, `ledger`...) in.
pub fn data_dir(purpose: &str) -> Result<Descriptor, Error> {
    get_directories()
        .into_iter()
        .find(|(_, name)| name.trim_end_matches('/') == DATA_DIR)
        .map(|(dir, _)| dir)
        .ok_or_else(|| {
            Error::denied(format!(
                "the host preopened no {DATA_DIR} directory: give this binding a `files` \
                 directory to keep its {purpose} in"
            ))
        })
}

/// Creates the directory `path`; nothing to do when it exists.
pub fn create_dir(dir: &Descriptor, path: &str) -> Result<(), Error> {
    match dir.create_directory_at(path) {
        Ok(()) | Err(ErrorCode::Exist) => Ok(()),
        Err(code) => Err(fs_error(code, "creating", path)),
    }
}

/// The file `path` opened for reading; none when it does not exist.
pub fn open_file(dir: &Descriptor, path: &str) -> Result<Option<Descriptor>, Error> {
    match dir.open_at(
        PathFlags::empty(),
        path,
        OpenFlags::empty(),
        DescriptorFlags::READ,
    ) {
        Ok(file) => Ok(Some(file)),
        Err(ErrorCode::NoEntry) => Ok(None),
        Err(code) => Err(fs_error(code, "opening", path)),
    }
}

/// Reads `len` bytes of `file` (opened from `path`, which errors name) from `offset`, fewer
/// only at the end of the file; `u64::MAX` reads to the end.
pub fn read_at(file: &Descriptor, offset: u64, len: u64, path: &str) -> Result<Vec<u8>, Error> {
    let capacity = if len == u64::MAX {
        0
    } else {
        len.min(256 * 1024 * 1024)
    };
    let mut out = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while (out.len() as u64) < len {
        let want = (len - out.len() as u64).min(READ_CHUNK);
        let (chunk, eof) = file
            .read(want, offset + out.len() as u64)
            .map_err(|code| fs_error(code, "reading", path))?;
        out.extend_from_slice(&chunk);
        if chunk.is_empty() || eof {
            break;
        }
    }
    Ok(out)
}

/// The whole content of `path`, or none when it does not exist.
pub fn read(dir: &Descriptor, path: &str) -> Result<Option<Vec<u8>>, Error> {
    let Some(file) = open_file(dir, path)? else {
        return Ok(None);
    };
    read_at(&file, 0, u64::MAX, path).map(Some)
}

/// The JSON file `path` as a `T`, or none when it does not exist; a file that is not a `T`
/// is the error `unreadable` makes of the parse error (the adapter says what the file is).
pub fn read_json<T: DeserializeOwned>(
    dir: &Descriptor,
    path: &str,
    unreadable: impl FnOnce(serde_json::Error) -> Error,
) -> Result<Option<T>, Error> {
    match read(dir, path)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(unreadable),
    }
}

/// Writes `parts`, one after the other, to `file` from offset 0.
fn write_all(file: &Descriptor, parts: &[&[u8]], path: &str) -> Result<(), Error> {
    let mut offset = 0u64;
    for part in parts {
        let mut done = 0usize;
        while done < part.len() {
            let end = (done + WRITE_CHUNK).min(part.len());
            let n = file
                .write(&part[done..end], offset)
                .map_err(|code| fs_error(code, "writing", path))?;
            if n == 0 {
                return Err(Error::internal(format!(
                    "writing {DATA_DIR}/{path} failed: no progress"
                )));
            }
            let n = usize::try_from(n).unwrap_or(usize::MAX).min(end - done);
            done += n;
            offset += n as u64;
        }
    }
    Ok(())
}

/// A new temporary file in the directory `parent` (`""` for `/data` itself) holding `parts`
/// one after the other; answers its path, for [`replace`] (or a link) to put in place.
/// `not-found` when `parent` does not exist; nothing is left behind on failure.
pub fn write_temp(dir: &Descriptor, parent: &str, parts: &[&[u8]]) -> Result<String, Error> {
    let name = format!("{TMP_PREFIX}{}", hex(&crate::random::bytes(12)));
    let tmp = if parent.is_empty() {
        name
    } else {
        format!("{parent}/{name}")
    };
    let file = dir
        .open_at(
            PathFlags::empty(),
            &tmp,
            OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
            DescriptorFlags::WRITE,
        )
        .map_err(|code| fs_error(code, "creating", &tmp))?;
    let written = write_all(&file, parts, &tmp);
    drop(file);
    if let Err(err) = written {
        let _ = dir.unlink_file_at(&tmp);
        return Err(err);
    }
    Ok(tmp)
}

/// Renames the temporary file `tmp` over `target` in one step (whatever was there is
/// replaced); the temporary file is removed when the rename fails.
pub fn replace(dir: &Descriptor, tmp: &str, target: &str) -> Result<(), Error> {
    dir.rename_at(tmp, dir, target).map_err(|code| {
        let _ = dir.unlink_file_at(tmp);
        fs_error(code, "renaming into", target)
    })
}

/// Replaces `path` with `bytes`, atomically: written to a temporary file in the same
/// directory ([`write_temp`]), then renamed over `path` ([`replace`]).
pub fn write_atomic(dir: &Descriptor, path: &str, bytes: &[u8]) -> Result<(), Error> {
    let parent = path.rsplit_once('/').map_or("", |(parent, _)| parent);
    let tmp = write_temp(dir, parent, &[bytes])?;
    replace(dir, &tmp, path)
}

/// Creates `path` holding `bytes` unless something is there (`O_EXCL`): `Ok(true)` when this
/// call created it, `Ok(false)` when it existed (another call created it, maybe still writing
/// it). When writing fails the file is removed again.
pub fn create_exclusive(dir: &Descriptor, path: &str, bytes: &[u8]) -> Result<bool, Error> {
    let file = match dir.open_at(
        PathFlags::empty(),
        path,
        OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
        DescriptorFlags::WRITE,
    ) {
        Ok(file) => file,
        Err(ErrorCode::Exist) => return Ok(false),
        Err(code) => return Err(fs_error(code, "creating", path)),
    };
    let written = write_all(&file, &[bytes], path);
    drop(file);
    if let Err(err) = written {
        let _ = dir.unlink_file_at(path);
        return Err(err);
    }
    Ok(true)
}

/// Removes the file `path`: `Ok(true)` when it was there, `Ok(false)` when it was gone
/// already.
pub fn remove(dir: &Descriptor, path: &str) -> Result<bool, Error> {
    match dir.unlink_file_at(path) {
        Ok(()) => Ok(true),
        Err(ErrorCode::NoEntry) => Ok(false),
        Err(code) => Err(fs_error(code, "removing", path)),
    }
}

/// The entries of the directory `path` (`""` for `/data`) with their types, hidden names
/// (starting with `.`) included only when `all`; in the order the host gives. `Ok(None)`
/// when the directory does not exist.
pub fn entries(
    dir: &Descriptor,
    path: &str,
    all: bool,
) -> Result<Option<Vec<(String, DescriptorType)>>, Error> {
    let target = if path.is_empty() { "." } else { path };
    let d = match dir.open_at(
        PathFlags::empty(),
        target,
        OpenFlags::DIRECTORY,
        DescriptorFlags::READ,
    ) {
        Ok(d) => d,
        Err(ErrorCode::NoEntry) => return Ok(None),
        Err(code) => return Err(fs_error(code, "opening", path)),
    };
    let stream = d
        .read_directory()
        .map_err(|code| fs_error(code, "listing", path))?;
    let mut out = Vec::new();
    while let Some(entry) = stream
        .read_directory_entry()
        .map_err(|code| fs_error(code, "listing", path))?
    {
        if all || !entry.name.starts_with('.') {
            out.push((entry.name, entry.type_));
        }
    }
    Ok(Some(out))
}

/// The names in the directory `path`, hidden ones (temporary files, locks) left out, in the
/// order the host gives (sort them for a stable order); empty when it does not exist.
pub fn list(dir: &Descriptor, path: &str) -> Result<Vec<String>, Error> {
    Ok(entries(dir, path, false)?
        .unwrap_or_default()
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

/// A lock taken with [`lock`], released (its file removed) when dropped.
pub struct Lock<'a> {
    dir: &'a Descriptor,
    path: String,
}

impl Drop for Lock<'_> {
    fn drop(&mut self) {
        let _ = self.dir.unlink_file_at(&self.path);
    }
}

/// Takes the lock file `path` (an exclusive create), waiting while another call holds it;
/// a lock left by a call that died is broken after [`STALE_LOCK`]. After [`LOCK_WAIT`]:
/// `unavailable` (retryable), `<what> is being changed by another call; retry`. `not-found`
/// when the lock's directory does not exist.
pub fn lock<'a>(dir: &'a Descriptor, path: &str, what: &str) -> Result<Lock<'a>, Error> {
    lock_within(dir, path, LOCK_WAIT, || {
        Error::unavailable(format!("{what} is being changed by another call; retry"))
    })
}

/// [`lock`], waiting at most `wait` and then answering the error `busy` makes.
pub fn lock_within<'a>(
    dir: &'a Descriptor,
    path: &str,
    wait: Duration,
    busy: impl FnOnce() -> Error,
) -> Result<Lock<'a>, Error> {
    let start = wasi::clocks::monotonic_clock::now();
    let mut pause = 1u64;
    loop {
        if create_exclusive(dir, path, b"")? {
            return Ok(Lock {
                dir,
                path: path.to_string(),
            });
        }
        if age(dir, path).is_some_and(|age| age > STALE_LOCK) {
            let _ = dir.unlink_file_at(path);
            continue;
        }
        let waited = wasi::clocks::monotonic_clock::now().saturating_sub(start);
        if u128::from(waited) > wait.as_nanos() {
            return Err(busy());
        }
        crate::retry::sleep(Duration::from_millis(pause));
        pause = (pause * 2).min(20);
    }
}

/// How old the file at `path` is, by its modification time and the wall clock; none when it
/// is gone or the host keeps no modification time.
fn age(dir: &Descriptor, path: &str) -> Option<Duration> {
    let stat = dir.stat_at(PathFlags::empty(), path).ok()?;
    let modified = stat.data_modification_timestamp?;
    let now = wasi::clocks::wall_clock::now();
    Duration::new(now.seconds, now.nanoseconds)
        .checked_sub(Duration::new(modified.seconds, modified.nanoseconds))
}

/// A filesystem error as the contract's error: `<doing> /data/<path> failed: <code>`, of kind
/// `denied` (access, not permitted, read-only), `unavailable` (no space, quota, busy,
/// interrupted), `not-found`, `too-large` (file too large) or `internal`.
pub fn fs_error(code: ErrorCode, doing: &str, path: &str) -> Error {
    let message = format!("{doing} {DATA_DIR}/{path} failed: {}", code.name());
    match code {
        ErrorCode::Access | ErrorCode::NotPermitted | ErrorCode::ReadOnly => Error::denied(message),
        ErrorCode::InsufficientSpace
        | ErrorCode::Quota
        | ErrorCode::Busy
        | ErrorCode::WouldBlock
        | ErrorCode::Interrupted => Error::unavailable(message),
        ErrorCode::NoEntry => Error::not_found(message),
        ErrorCode::FileTooLarge => Error::too_large(message),
        _ => Error::internal(message),
    }
}

/// Lower-case hex of `bytes`, for temporary names.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_guest_path_and_map_the_kind() {
        let e = fs_error(ErrorCode::Access, "creating", "keys/ab");
        assert_eq!(e.message, "creating /data/keys/ab failed: access");
        assert_eq!(e.kind, crate::types::ErrorKind::Denied);
        let kinds = [
            (ErrorCode::NoEntry, crate::types::ErrorKind::NotFound),
            (ErrorCode::Quota, crate::types::ErrorKind::Unavailable),
            (ErrorCode::FileTooLarge, crate::types::ErrorKind::TooLarge),
            (ErrorCode::Io, crate::types::ErrorKind::Internal),
        ];
        for (code, kind) in kinds {
            assert_eq!(fs_error(code, "reading", "x").kind, kind);
        }
    }

    #[test]
    fn temporary_names_are_hidden_hex() {
        assert_eq!(hex(&[0, 0xab, 0x1f]), "00ab1f");
        assert!(TMP_PREFIX.starts_with('.'));
    }
}
