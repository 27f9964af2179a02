//! The ledger's layout under the binding's preopened `/data` directory; the file helpers
//! are `switchyard_sdk::files`.
//!
//! Objects are one JSON file each, written whole to a temporary name and renamed into place,
//! so a reader sees the old or the new version, never a torn one. Uniqueness (idempotency
//! keys) and short locks (one per object changed) are files created with `EXCLUSIVE`
//! (`O_EXCL`): of concurrent creators exactly one succeeds.

use wasi::filesystem::types::Descriptor;

use switchyard_sdk::files::{self, Lock};
use switchyard_sdk::types::Error;

/// The sub-directories of the ledger.
pub const DIRS: [&str; 5] = ["customers", "payments", "refunds", "idempotency", "locks"];

/// The preopened `/data` directory, with the ledger's sub-directories created;
/// `denied` when the host gave this binding none.
pub fn open() -> Result<Descriptor, Error> {
    let dir = files::data_dir("ledger")?;
    for sub in DIRS {
        files::create_dir(&dir, sub)?;
    }
    Ok(dir)
}

/// Takes the lock on the object `id` (`locks/<id>`), waiting for another call holding it;
/// see `files::lock`.
pub fn lock<'a>(dir: &'a Descriptor, id: &str) -> Result<Lock<'a>, Error> {
    files::lock(dir, &format!("locks/{id}"), id)
}
