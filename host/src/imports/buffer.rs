//! `switchyard:adapter/buffer`: the host-held buffer of accepted, undelivered work, through
//! the call's [`Lease`] (items a call takes return to the buffer unless it acks them).

use wasmtime::component::{HasData, Linker};

use crate::bindings::base::switchyard::adapter::buffer::{self, BufferStats, Host};
use crate::bindings::base::switchyard::types::types::{Error, ErrorKind};
use crate::buffer::{BufferFull, Lease};

/// What a call may reach of its generation's buffer: its lease.
pub struct BufferView<'a> {
    /// The call's lease on the buffer.
    pub lease: &'a Lease,
}

/// The [`HasData`] marker linking [`BufferView`].
pub struct Buffer;

impl HasData for Buffer {
    type Data<'a> = BufferView<'a>;
}

/// Links `switchyard:adapter/buffer`, reached through `view`.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> BufferView<'_>,
) -> wasmtime::Result<()> {
    buffer::add_to_linker::<T, Buffer>(linker, view)
}

impl Host for BufferView<'_> {
    fn push(&mut self, item: Vec<u8>) -> Result<BufferStats, Error> {
        match self.lease.buffer().push(item) {
            Ok(s) => Ok(wit_stats(s)),
            Err(full) => Err(Error {
                kind: ErrorKind::TooLarge,
                retryable: true,
                message: full.to_string(),
                provider_code: None,
                provider_message: None,
                retry_after_ms: Some(match full {
                    BufferFull::Items(_) | BufferFull::Bytes(_) => 1000,
                }),
            }),
        }
    }

    fn stats(&mut self) -> BufferStats {
        wit_stats(self.lease.buffer().stats())
    }

    fn take(&mut self, max: u32) -> Vec<Vec<u8>> {
        self.lease.buffer().take(self.lease.call(), max)
    }

    fn ack(&mut self) {
        self.lease.buffer().ack(self.lease.call());
    }
}

fn wit_stats(s: crate::buffer::BufferStats) -> BufferStats {
    BufferStats {
        pending: s.pending,
        oldest_age_ms: s.oldest_age_ms,
        in_flight: s.in_flight,
    }
}
