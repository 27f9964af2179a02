//! The outbox over `wasi:filesystem`, under the binding's preopened `/data` directory.
//!
//! Every write of a file is whole-then-rename: the bytes go to a temporary name created
//! with `O_EXCL` (`.tmp-<random>`), then `rename` puts it in place, so a reader sees the
//! old file or the new one, never half of one. Uniqueness (idempotency keys) uses
//! exclusive create: the call that creates `keys/<sha256>` first owns the key.

use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};

use switchyard_sdk::types::Error;

/// The guest path of the binding's files directory.
pub const DATA_DIR: &str = "/data";
/// The directory of recorded messages, inside [`DATA_DIR`].
pub const OUTBOX: &str = "outbox";
/// The directory of idempotency keys, inside [`DATA_DIR`].
pub const KEYS: &str = "keys";
const CHUNK: usize = 1024 * 1024;

/// The preopened `/data` directory; `denied` when the host gave this binding none.
pub fn data_dir() -> Result<Descriptor, Error> {
    get_directories()
        .into_iter()
        .find(|(_, name)| name.trim_end_matches('/') == DATA_DIR)
        .map(|(dir, _)| dir)
        .ok_or_else(|| {
            Error::denied(format!(
                "the host preopened no {DATA_DIR} directory: give this binding a `files` \
                 directory to keep its outbox in"
            ))
        })
}

/// `/data/<name>`, created when missing.
pub fn subdir(data: &Descriptor, name: &str) -> Result<Descriptor, Error> {
    match data.create_directory_at(name) {
        Ok(()) | Err(ErrorCode::Exist) => {}
        Err(code) => return Err(fs_error(code, "creating", name)),
    }
    data.open_at(
        PathFlags::empty(),
        name,
        OpenFlags::DIRECTORY,
        DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY,
    )
    .map_err(|code| fs_error(code, "opening", name))
}

/// Writes `bytes` to `dir/name` whole: to a temporary file first, then renamed into place.
pub fn write_whole(dir: &Descriptor, name: &str, bytes: &[u8]) -> Result<(), Error> {
    let tmp = format!(".tmp-{}", hex::encode(switchyard_sdk::random::bytes(12)));
    let file = dir
        .open_at(
            PathFlags::empty(),
            &tmp,
            OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
            DescriptorFlags::WRITE,
        )
        .map_err(|code| fs_error(code, "creating", &tmp))?;
    let written = write_at(&file, bytes, &tmp);
    drop(file);
    let renamed = written.and_then(|()| {
        dir.rename_at(&tmp, dir, name)
            .map_err(|code| fs_error(code, "renaming into place", name))
    });
    if renamed.is_err() {
        let _ = dir.unlink_file_at(&tmp);
    }
    renamed
}

/// Writes all of `bytes` to `file` from offset 0.
pub fn write_at(file: &Descriptor, bytes: &[u8], name: &str) -> Result<(), Error> {
    let mut offset = 0usize;
    while offset < bytes.len() {
        let end = (offset + CHUNK).min(bytes.len());
        let n = file
            .write(&bytes[offset..end], offset as u64)
            .map_err(|code| fs_error(code, "writing", name))?;
        if n == 0 {
            return Err(Error::internal(format!("writing {name} made no progress")));
        }
        offset += usize::try_from(n).unwrap_or(end - offset);
    }
    Ok(())
}

/// Creates `dir/name` exclusively; `Ok(None)` when it already exists.
pub fn create_exclusive(dir: &Descriptor, name: &str) -> Result<Option<Descriptor>, Error> {
    match dir.open_at(
        PathFlags::empty(),
        name,
        OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
        DescriptorFlags::READ | DescriptorFlags::WRITE,
    ) {
        Ok(file) => Ok(Some(file)),
        Err(ErrorCode::Exist) => Ok(None),
        Err(code) => Err(fs_error(code, "creating", name)),
    }
}

/// The whole of `dir/name`; `Ok(None)` when it does not exist.
pub fn read(dir: &Descriptor, name: &str) -> Result<Option<Vec<u8>>, Error> {
    let file = match dir.open_at(
        PathFlags::empty(),
        name,
        OpenFlags::empty(),
        DescriptorFlags::READ,
    ) {
        Ok(file) => file,
        Err(ErrorCode::NoEntry) => return Ok(None),
        Err(code) => return Err(fs_error(code, "opening", name)),
    };
    let mut out = Vec::new();
    loop {
        let (chunk, eof) = file
            .read(CHUNK as u64, out.len() as u64)
            .map_err(|code| fs_error(code, "reading", name))?;
        out.extend_from_slice(&chunk);
        if chunk.is_empty() || eof {
            break;
        }
    }
    Ok(Some(out))
}

/// Removes `dir/name`; a missing file is fine.
pub fn remove(dir: &Descriptor, name: &str) -> Result<(), Error> {
    match dir.unlink_file_at(name) {
        Ok(()) | Err(ErrorCode::NoEntry) => Ok(()),
        Err(code) => Err(fs_error(code, "removing", name)),
    }
}

/// The names of the entries of `dir`.
pub fn names(dir: &Descriptor, what: &str) -> Result<Vec<String>, Error> {
    let stream = dir
        .read_directory()
        .map_err(|code| fs_error(code, "listing", what))?;
    let mut out = Vec::new();
    while let Some(entry) = stream
        .read_directory_entry()
        .map_err(|code| fs_error(code, "listing", what))?
    {
        out.push(entry.name);
    }
    Ok(out)
}

/// A filesystem error as the contract's error, naming the operation and the file.
pub fn fs_error(code: ErrorCode, doing: &str, file: &str) -> Error {
    let message = format!("{doing} {DATA_DIR}/.../{file} failed: {}", code.name());
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
