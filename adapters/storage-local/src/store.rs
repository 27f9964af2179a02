//! The buckets' layout under the binding's preopened `/data` directory; the file helpers are
//! `switchyard_sdk::files`.
//!
//! Every file is written whole under a temporary name (`.tmp-<random>`, created with
//! `O_EXCL` in the directory it will live in) and then put in place with one `rename` (replace)
//! or one `link` (create only if absent, `EEXIST` otherwise), so a reader sees the old file or
//! the new one, never part of one, and of concurrent creators of one name exactly one wins.
//! Names starting with `.` are temporary files and locks, and are never listed.

use wasi::filesystem::types::{Descriptor, DescriptorType, ErrorCode, PathFlags};

use switchyard_sdk::files::{self, fs_error, DATA_DIR};
use switchyard_sdk::types::Error;

/// The directory of the buckets, inside [`DATA_DIR`].
pub const BUCKETS: &str = "buckets";

/// The preopened `/data` directory, with `buckets/` created; `denied` when the host gave
/// this binding none.
pub fn open() -> Result<Descriptor, Error> {
    let dir = files::data_dir("buckets")?;
    files::create_dir(&dir, BUCKETS)?;
    Ok(dir)
}

/// How [`place`] puts a temporary file in place.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Replace whatever is there (`rename`).
    Replace,
    /// Only if nothing is there (`link`, then the temporary name is removed).
    CreateNew,
}

/// Puts the temporary file `tmp` (from `files::write_temp`) at `target`. With
/// [`Place::CreateNew`], `Ok(false)` when `target` exists (nothing changed). The temporary
/// file is gone afterwards, whatever the outcome.
pub fn place(dir: &Descriptor, tmp: &str, target: &str, how: Place) -> Result<bool, Error> {
    if how == Place::Replace {
        return files::replace(dir, tmp, target).map(|()| true);
    }
    let result = match dir.link_at(PathFlags::empty(), tmp, dir, target) {
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
    };
    // After a link, or a failed one, the temporary name is still there.
    let _ = dir.unlink_file_at(tmp);
    result
}

/// Removes the directory `path` and everything in it; nothing to do when it is gone.
pub fn remove_tree(dir: &Descriptor, path: &str) -> Result<(), Error> {
    let Some(items) = files::entries(dir, path, true)? else {
        return Ok(());
    };
    for (name, kind) in items {
        let child = format!("{path}/{name}");
        if kind == DescriptorType::Directory {
            remove_tree(dir, &child)?;
        } else {
            files::remove(dir, &child)?;
        }
    }
    match dir.remove_directory_at(path) {
        Ok(()) | Err(ErrorCode::NoEntry) => Ok(()),
        Err(code) => Err(fs_error(code, "removing", path)),
    }
}
