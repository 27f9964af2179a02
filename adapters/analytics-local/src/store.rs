//! The events file, `/data/events.jsonl`, over `wasi:filesystem`.
//!
//! `/data` is the binding's `files` directory, preopened by the host (one directory per
//! tenant). Every event is one line, appended with one write: the host appends each write
//! with `pwritev2(RWF_APPEND)`, so lines from concurrent calls never interleave as long as a
//! line fits the host's write budget (64 KiB in wasmtime 48); a longer line is written in
//! several appends and may interleave with a concurrent writer's line (both are then
//! skipped when read). Before appending, a file that does not end with a newline (a write
//! torn by a crash) gets one, so the torn line cannot swallow the next one.

use wasi::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};
use wasi::io::streams::{OutputStream, StreamError};

use switchyard_sdk::types::Error;

/// The guest path of the binding's files directory.
pub const DATA_DIR: &str = "/data";
/// The events file, inside [`DATA_DIR`].
pub const EVENTS_FILE: &str = "events.jsonl";
/// How much is read per `read` call (the host reads at most 64 KiB at a time anyway).
const READ_CHUNK: u64 = 64 * 1024;

/// The preopened `/data` directory; `denied` when the host gave this binding none.
pub fn data_dir() -> Result<Descriptor, Error> {
    switchyard_sdk::files::data_dir("events")
}

/// The events file opened for appending, created when missing.
fn open_for_append(dir: &Descriptor) -> Result<Descriptor, Error> {
    dir.open_at(
        PathFlags::empty(),
        EVENTS_FILE,
        OpenFlags::CREATE,
        DescriptorFlags::READ | DescriptorFlags::WRITE,
    )
    .map_err(|code| switchyard_sdk::files::fs_error(code, "opening", EVENTS_FILE))
}

/// Appends `line` (which ends with a newline) to the events file and returns once it is
/// written.
///
/// When the file does not end with a newline (a write torn by a crash), the line starts on a
/// fresh one so the torn line cannot swallow it. A concurrent reader may also see another
/// call's append half done (the kernel grows the size page by page while the write holds the
/// inode), so this can add a harmless blank line; `scan` skips blank lines.
pub fn append(line: &[u8]) -> Result<(), Error> {
    let dir = data_dir()?;
    let file = open_for_append(&dir)?;
    let mut bytes = Vec::with_capacity(line.len() + 1);
    if !ends_with_newline(&file)? {
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(line);
    let stream = file
        .append_via_stream()
        .map_err(|code| switchyard_sdk::files::fs_error(code, "appending to", EVENTS_FILE))?;
    write_all(&stream, &bytes)?;
    drop(stream);
    Ok(())
}

/// Whether the file is empty or ends with a newline.
fn ends_with_newline(file: &Descriptor) -> Result<bool, Error> {
    let size = file
        .stat()
        .map_err(|code| switchyard_sdk::files::fs_error(code, "inspecting", EVENTS_FILE))?
        .size;
    if size == 0 {
        return Ok(true);
    }
    let (last, _) = file
        .read(1, size - 1)
        .map_err(|code| switchyard_sdk::files::fs_error(code, "reading", EVENTS_FILE))?;
    Ok(last.last().is_none_or(|b| *b == b'\n'))
}

/// Writes all of `bytes`: in one write when the host's budget allows, which it does for any
/// line up to 64 KiB in wasmtime 48.
fn write_all(stream: &OutputStream, mut bytes: &[u8]) -> Result<(), Error> {
    while !bytes.is_empty() {
        let permit = stream.check_write().map_err(stream_error)?;
        if permit == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = usize::try_from(permit)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        stream.write(&bytes[..n]).map_err(stream_error)?;
        bytes = &bytes[n..];
    }
    stream.blocking_flush().map_err(stream_error)
}

/// Asks the host to write the events file's data to disk (`fsync`); nothing to do when it
/// does not exist yet.
pub fn sync() -> Result<(), Error> {
    let dir = data_dir()?;
    match dir.open_at(
        PathFlags::empty(),
        EVENTS_FILE,
        OpenFlags::empty(),
        DescriptorFlags::WRITE,
    ) {
        Ok(file) => file
            .sync_data()
            .map_err(|code| switchyard_sdk::files::fs_error(code, "syncing", EVENTS_FILE)),
        Err(ErrorCode::NoEntry) => Ok(()),
        Err(code) => Err(switchyard_sdk::files::fs_error(
            code,
            "opening",
            EVENTS_FILE,
        )),
    }
}

/// Calls `line(start_offset, bytes)` for every complete line of the events file, in file
/// order; returns the offset just past the last complete line. A missing file has no lines.
/// A last line without its newline (a write still under way, or torn) is not passed on.
pub fn scan(mut line: impl FnMut(u64, &[u8])) -> Result<u64, Error> {
    let dir = data_dir()?;
    let file = match dir.open_at(
        PathFlags::empty(),
        EVENTS_FILE,
        OpenFlags::empty(),
        DescriptorFlags::READ,
    ) {
        Ok(file) => file,
        Err(ErrorCode::NoEntry) => return Ok(0),
        Err(code) => {
            return Err(switchyard_sdk::files::fs_error(
                code,
                "opening",
                EVENTS_FILE,
            ))
        }
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut pending_start = 0u64;
    let mut offset = 0u64;
    loop {
        let (chunk, eof) = file
            .read(READ_CHUNK, offset)
            .map_err(|code| switchyard_sdk::files::fs_error(code, "reading", EVENTS_FILE))?;
        if chunk.is_empty() || eof {
            break;
        }
        offset += chunk.len() as u64;
        let mut rest = chunk.as_slice();
        while let Some(i) = rest.iter().position(|b| *b == b'\n') {
            pending.extend_from_slice(&rest[..i]);
            // Blank lines are separators the torn-line repair in `append` may leave.
            if !pending.is_empty() {
                line(pending_start, &pending);
            }
            pending_start += pending.len() as u64 + 1;
            pending.clear();
            rest = &rest[i + 1..];
        }
        pending.extend_from_slice(rest);
    }
    Ok(pending_start)
}

/// Checks that `/data` is there and the events file can be opened for writing (creating it
/// when missing); answers the file's size.
pub fn check_writable() -> Result<u64, Error> {
    let dir = data_dir()?;
    let file = open_for_append(&dir)?;
    let size = file
        .stat()
        .map_err(|code| switchyard_sdk::files::fs_error(code, "inspecting", EVENTS_FILE))?
        .size;
    Ok(size)
}

fn stream_error(err: StreamError) -> Error {
    match err {
        StreamError::LastOperationFailed(e) => {
            match wasi::filesystem::types::filesystem_error_code(&e) {
                Some(code) => switchyard_sdk::files::fs_error(code, "writing", EVENTS_FILE),
                None => Error::internal(format!(
                    "writing {DATA_DIR}/{EVENTS_FILE} failed: {}",
                    e.to_debug_string()
                )),
            }
        }
        StreamError::Closed => Error::internal(format!(
            "writing {DATA_DIR}/{EVENTS_FILE} failed: the stream closed"
        )),
    }
}
