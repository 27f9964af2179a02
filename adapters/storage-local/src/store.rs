//! Files under the binding's preopened `/data` directory, over `wasi:filesystem`.
//!
//! Every file is written whole under a temporary name (`.tmp-<random>`, created with
//! `O_EXCL` in the directory it will live in) and then put in place with one `rename` (replace)
//! or one `link` (create only if absent, `EEXIST` otherwise), so a reader sees the old file or
//! the new one, never part of one, and of concurrent creators of one name exactly one wins.
//! Names starting with `.` are this module's own (temporary files, locks) and are never
//! listed.

use std::time::Duration;

use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

use switchyard_sdk::retry::sleep;
use switchyard_sdk::types::Error;

/// The guest path of the binding's files directory.
pub const DATA_DIR: &str = "/data";
/// The directory of the buckets, inside [`DATA_DIR`].
pub const BUCKETS: &str = "buckets";
/// How much is read per `read` call.
const READ_CHUNK: u64 = 1024 * 1024;
/// How much is written per `write` call.
const WRITE_CHUNK: usize = 1024 * 1024;
/// A lock older than this is taken to be left by a call that died (deadline, trap).
const STALE_LOCK: Duration = Duration::from_secs(10);
/// How long a call waits for a lock before answering `unavailable`.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The preopened `/data` directory, with `buckets/` created; `denied` when the host gave
/// this binding none.
pub fn open() -> Result<Descriptor, Error> {
    let dir = get_directories()
        .into_iter()
        .find(|(_, name)| name.trim_end_matches('/') == DATA_DIR)
        .map(|(dir, _)| dir)
        .ok_or_else(|| {
            Error::denied(format!(
                "the host preopened no {DATA_DIR} directory: give this binding a `files` \
                 directory to keep its buckets in"
            ))
        })?;
    create_dir(&dir, BUCKETS)?;
    Ok(dir)
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

/// Reads `len` bytes of `file` from `offset`, fewer only at the end of the file.
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

/// A new temporary file in `parent` holding `parts` one after the other; answers its path.
/// `not-found` when `parent` does not exist.
pub fn write_temp(dir: &Descriptor, parent: &str, parts: &[&[u8]]) -> Result<String, Error> {
    let tmp = format!(
        "{parent}/.tmp-{}",
        hex::encode(switchyard_sdk::random::bytes(12))
    );
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

/// How [`place`] puts a temporary file in place.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Replace whatever is there (`rename`).
    Replace,
    /// Only if nothing is there (`link`, then the temporary name is removed).
    CreateNew,
}

/// Puts the temporary file `tmp` at `target`. With [`Place::CreateNew`], `Ok(false)` when
/// `target` exists (nothing changed). The temporary file is gone afterwards, whatever the
/// outcome.
pub fn place(dir: &Descriptor, tmp: &str, target: &str, how: Place) -> Result<bool, Error> {
    let result = match how {
        Place::Replace => dir
            .rename_at(tmp, dir, target)
            .map(|()| true)
            .map_err(|code| fs_error(code, "renaming into", target)),
        Place::CreateNew => match dir.link_at(PathFlags::empty(), tmp, dir, target) {
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
        },
    };
    // After a rename the temporary name is already gone; after a link or a failure it is not.
    if how == Place::CreateNew || result.is_err() {
        let _ = dir.unlink_file_at(tmp);
    }
    result
}

/// Replaces `parent/name` with `bytes`, atomically.
pub fn write_atomic(dir: &Descriptor, parent: &str, name: &str, bytes: &[u8]) -> Result<(), Error> {
    let tmp = write_temp(dir, parent, &[bytes])?;
    place(dir, &tmp, &format!("{parent}/{name}"), Place::Replace).map(drop)
}

/// Creates `path` holding `bytes` unless it exists: `Ok(true)` when this call created it.
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

/// Removes the file `path`: `Ok(true)` when it was there.
pub fn remove(dir: &Descriptor, path: &str) -> Result<bool, Error> {
    match dir.unlink_file_at(path) {
        Ok(()) => Ok(true),
        Err(ErrorCode::NoEntry) => Ok(false),
        Err(code) => Err(fs_error(code, "removing", path)),
    }
}

/// The entries of the directory `path` with their types, this module's own (`.` names)
/// included only when `all`. `Ok(None)` when the directory does not exist.
pub fn entries(
    dir: &Descriptor,
    path: &str,
    all: bool,
) -> Result<Option<Vec<(String, DescriptorType)>>, Error> {
    let d = match dir.open_at(
        PathFlags::empty(),
        path,
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

/// The names in the directory `path` (this module's own left out); empty when it does not
/// exist.
pub fn list(dir: &Descriptor, path: &str) -> Result<Vec<String>, Error> {
    Ok(entries(dir, path, false)?
        .unwrap_or_default()
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

/// Removes the directory `path` and everything in it; nothing to do when it is gone.
pub fn remove_tree(dir: &Descriptor, path: &str) -> Result<(), Error> {
    let Some(items) = entries(dir, path, true)? else {
        return Ok(());
    };
    for (name, kind) in items {
        let child = format!("{path}/{name}");
        if kind == DescriptorType::Directory {
            remove_tree(dir, &child)?;
        } else {
            remove(dir, &child)?;
        }
    }
    match dir.remove_directory_at(path) {
        Ok(()) | Err(ErrorCode::NoEntry) => Ok(()),
        Err(code) => Err(fs_error(code, "removing", path)),
    }
}

/// A lock, released (its file removed) when dropped.
pub struct Lock<'a> {
    dir: &'a Descriptor,
    path: String,
}

impl Drop for Lock<'_> {
    fn drop(&mut self) {
        let _ = self.dir.unlink_file_at(&self.path);
    }
}

/// Takes the lock file `path` (an exclusive create), waiting while another call holds it; a
/// lock left by a call that died is broken after [`STALE_LOCK`]. `unavailable` (retryable)
/// after [`LOCK_WAIT`]; `not-found` when the lock's directory does not exist.
pub fn lock<'a>(dir: &'a Descriptor, path: &str, what: &str) -> Result<Lock<'a>, Error> {
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
        if u128::from(waited) > LOCK_WAIT.as_nanos() {
            return Err(Error::unavailable(format!(
                "{what} is being changed by another call; retry"
            )));
        }
        sleep(Duration::from_millis(pause));
        pause = (pause * 2).min(20);
    }
}

/// How old the file at `path` is, by its modification time and the wall clock.
fn age(dir: &Descriptor, path: &str) -> Option<Duration> {
    let stat = dir.stat_at(PathFlags::empty(), path).ok()?;
    let modified = stat.data_modification_timestamp?;
    let now = wasi::clocks::wall_clock::now();
    Duration::new(now.seconds, now.nanoseconds)
        .checked_sub(Duration::new(modified.seconds, modified.nanoseconds))
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
