//! The outbox's layout under the binding's preopened `/data` directory; the file helpers
//! are `switchyard_sdk::files`.
//!
//! Every write of a file is whole-then-rename: the bytes go to a temporary name created
//! with `O_EXCL` (`.tmp-<random>`, next to the file), then `rename` puts it in place, so a
//! reader sees the old file or the new one, never half of one. Uniqueness (idempotency keys)
//! uses exclusive create: the call that creates `keys/<sha256>` first owns the key.

use wasi::filesystem::types::Descriptor;

use switchyard_sdk::files;
use switchyard_sdk::types::Error;

/// The directory of recorded messages, inside `/data`.
pub const OUTBOX: &str = "outbox";
/// The directory of idempotency keys, inside `/data`.
pub const KEYS: &str = "keys";

/// The preopened `/data` directory, with `outbox/` created; `denied` when the host gave
/// this binding none.
pub fn open() -> Result<Descriptor, Error> {
    let data = files::data_dir("outbox")?;
    files::create_dir(&data, OUTBOX)?;
    Ok(data)
}

/// The path of the outbox file `name`, inside `/data`.
pub fn in_outbox(name: &str) -> String {
    format!("{OUTBOX}/{name}")
}
