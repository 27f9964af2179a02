//! The ledger's files under `/data`, over `wasi:filesystem`.
//!
//! Objects are one JSON file each, written whole to a temporary name and renamed into place,
//! so a reader sees the old or the new version, never a torn one. Uniqueness (idempotency
//! keys) and short locks (one per object changed) are files created with `EXCLUSIVE`
//! (`O_EXCL`): of concurrent creators exactly one succeeds.

use std::time::Duration;

use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};

use switchyard_sdk::retry::sleep;
use switchyard_sdk::types::Error;

/// The guest path of the binding's files directory.
pub const DATA_DIR: &str = "/data";
/// The sub-directories of the ledger.
pub const DIRS: [&str; 5] = ["customers", "payments", "refunds", "idempotency", "locks"];
/// How much is read per `read` call.
const READ_CHUNK: u64 = 64 * 1024;
/// A lock older than this is taken to be left by a call that died (deadline, trap).
const STALE_LOCK: Duration = Duration::from_secs(10);
/// How long a call waits for a lock before answering `unavailable`.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The preopened `/data` directory, with the ledger's sub-directories created;
/// `denied` when the host gave this binding none.
pub fn open() -> Result<Descriptor, Error> {
    let dir = get_directories()
        .into_iter()
        .find(|(_, name)| name.trim_end_matches('/') == DATA_DIR)
        .map(|(dir, _)| dir)
        .ok_or_else(|| {
            Error::denied(format!(
                "the host preopened no {DATA_DIR} directory: give this binding a `files` \
                 directory to keep its ledger in"
            ))
        })?;
    for sub in DIRS {
        match dir.create_directory_at(sub) {
            Ok(()) | Err(ErrorCode::Exist) => {}
            Err(code) => return Err(fs_error(code, "creating", sub)),
        }
    }
    Ok(dir)
}

/// The whole content of `path`, or none when it does not exist.
pub fn read(dir: &Descriptor, path: &str) -> Result<Option<Vec<u8>>, Error> {
    let file = match dir.open_at(
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

fn write_all(file: &Descriptor, bytes: &[u8], path: &str) -> Result<(), Error> {
    let mut offset = 0usize;
    while offset < bytes.len() {
        let n = file
            .write(&bytes[offset..], offset as u64)
            .map_err(|code| fs_error(code, "writing", path))?;
        if n == 0 {
            return Err(Error::internal(format!(
                "writing {DATA_DIR}/{path} failed: no progress"
            )));
        }
        offset += usize::try_from(n).unwrap_or(usize::MAX);
    }
    Ok(())
}

/// Replaces `sub/name` with `bytes`: written to a temporary file, then renamed into place.
pub fn write_atomic(dir: &Descriptor, sub: &str, name: &str, bytes: &[u8]) -> Result<(), Error> {
    let tmp = format!("{sub}/.tmp-{}", hex(&switchyard_sdk::random::bytes(12)));
    let file = dir
        .open_at(
            PathFlags::empty(),
            &tmp,
            OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
            DescriptorFlags::WRITE,
        )
        .map_err(|code| fs_error(code, "creating", &tmp))?;
    let written = write_all(&file, bytes, &tmp);
    drop(file);
    let target = format!("{sub}/{name}");
    let result = written.and_then(|()| {
        dir.rename_at(&tmp, dir, &target)
            .map_err(|code| fs_error(code, "renaming into", &target))
    });
    if result.is_err() {
        let _ = dir.unlink_file_at(&tmp);
    }
    result
}

/// Creates `path` with `bytes` unless it exists: `Ok(true)` when this call created it,
/// `Ok(false)` when it was there (another call created it, maybe still writing it).
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
    if let Err(err) = write_all(&file, bytes, path) {
        drop(file);
        let _ = dir.unlink_file_at(path);
        return Err(err);
    }
    Ok(true)
}

/// Removes `path`; nothing to do when it is gone.
pub fn remove(dir: &Descriptor, path: &str) -> Result<(), Error> {
    match dir.unlink_file_at(path) {
        Ok(()) | Err(ErrorCode::NoEntry) => Ok(()),
        Err(code) => Err(fs_error(code, "removing", path)),
    }
}

/// The names of the files in `sub` (temporary files left out).
pub fn list(dir: &Descriptor, sub: &str) -> Result<Vec<String>, Error> {
    let d = dir
        .open_at(
            PathFlags::empty(),
            sub,
            OpenFlags::DIRECTORY,
            DescriptorFlags::READ,
        )
        .map_err(|code| fs_error(code, "opening", sub))?;
    let entries = d
        .read_directory()
        .map_err(|code| fs_error(code, "listing", sub))?;
    let mut names = Vec::new();
    while let Some(entry) = entries
        .read_directory_entry()
        .map_err(|code| fs_error(code, "listing", sub))?
    {
        if !entry.name.starts_with('.') {
            names.push(entry.name);
        }
    }
    Ok(names)
}

/// A lock on one object, released (its file removed) when dropped.
pub struct Lock<'a> {
    dir: &'a Descriptor,
    path: String,
}

impl Drop for Lock<'_> {
    fn drop(&mut self) {
        let _ = self.dir.unlink_file_at(&self.path);
    }
}

/// Takes the lock on `id`, waiting for another call holding it; a lock left by a call that
/// died is broken after [`STALE_LOCK`]. `unavailable` (retryable) after [`LOCK_WAIT`].
pub fn lock<'a>(dir: &'a Descriptor, id: &str) -> Result<Lock<'a>, Error> {
    let path = format!("locks/{id}");
    let start = wasi::clocks::monotonic_clock::now();
    let mut pause = 1u64;
    loop {
        if create_exclusive(dir, &path, b"")? {
            return Ok(Lock { dir, path });
        }
        if lock_age(dir, &path).is_some_and(|age| age > STALE_LOCK) {
            let _ = dir.unlink_file_at(&path);
            continue;
        }
        let waited = wasi::clocks::monotonic_clock::now().saturating_sub(start);
        if u128::from(waited) > LOCK_WAIT.as_nanos() {
            return Err(Error::unavailable(format!(
                "{id} is being changed by another call; retry"
            )));
        }
        sleep(Duration::from_millis(pause));
        pause = (pause * 2).min(20);
    }
}

/// How old the file at `path` is, by its modification time and the wall clock.
fn lock_age(dir: &Descriptor, path: &str) -> Option<Duration> {
    let stat = dir.stat_at(PathFlags::empty(), path).ok()?;
    let modified = stat.data_modification_timestamp?;
    let now = wasi::clocks::wall_clock::now();
    let then = Duration::new(modified.seconds, modified.nanoseconds);
    Duration::new(now.seconds, now.nanoseconds).checked_sub(then)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A filesystem error as the contract's error, naming the operation and the file.
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
