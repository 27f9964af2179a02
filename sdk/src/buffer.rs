//! Host-held storage for accepted, not yet delivered work (the `switchyard:adapter/buffer`
//! import).
//!
//! The buffer belongs to the binding, not to this instance: items survive a trap, a
//! deadline and a hot swap to another adapter version.
//!
//! Lease semantics: [`take`] leases up to `max` of the oldest items to the current call.
//! [`ack`] drops every item this call took, for good (they were delivered). Items taken
//! and not acked return to the front of the buffer, in order, when the call ends (whether
//! it returns `Ok`, `Err`, traps or is interrupted), so a failed send loses nothing. There
//! is no per-item ack: ack after every successful send, and take again for the next batch.
//!
//! ```ignore
//! use switchyard_sdk::buffer;
//!
//! buffer::push(br#"{"event":"x"}"#)?;
//! let items = buffer::take(100);
//! // ... deliver them ...
//! buffer::ack();
//! ```

use crate::base::bindings::switchyard::adapter::buffer as wit;
use crate::types::Error;

/// The state of the buffer: `pending`, `oldest_age_ms`, `in_flight`.
pub use wit::BufferStats as Stats;

/// Appends one item; `too-large` when the buffer is full. Returns the state afterwards.
pub fn push(item: &[u8]) -> Result<Stats, Error> {
    wit::push(item)
}

/// The buffer's state now.
pub fn stats() -> Stats {
    wit::stats()
}

/// Leases up to `max` of the oldest items to this call; they return to the buffer when the
/// call ends unless [`ack`] is called first.
pub fn take(max: u32) -> Vec<Vec<u8>> {
    wit::take(max)
}

/// Drops for good every item this call took: they were delivered.
pub fn ack() {
    wit::ack()
}
