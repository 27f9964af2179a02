//! A test adapter that can never run under the default limits: a 200 MiB zeroed static
//! (`.bss`) makes its linear memory start at over 200 MiB, past the default 64 MiB cap, so
//! every instantiation fails. The host must refuse to bind or swap to it, keeping the old
//! component. Its functions (which would never be reached) read the static so that it stays.

use switchyard_sdk::analytics::{
    Analytics, Event, EventPage, EventQuery, FlushReport, Identity, Lifecycle, PageView,
};
use switchyard_sdk::types::{Error, HealthStatus, PageRequest};

/// Bytes of the zeroed static.
const BIG: usize = 200 << 20;

/// Lives in `.bss`: zeroes take no room in the component, but all of it in memory at start.
static mut HOARD: [u8; BIG] = [0; BIG];

/// One byte of the static, read so the linker keeps it.
fn touch(i: usize) -> u8 {
    // SAFETY: a read of an in-bounds byte of a static nothing writes.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(HOARD).cast::<u8>().add(i % BIG)) }
}

/// The adapter that never starts.
struct BigStart;

impl Analytics for BigStart {
    fn track(event: Event) -> Result<(), Error> {
        let _ = touch(event.name.len());
        Ok(())
    }
    fn page(_: PageView) -> Result<(), Error> {
        Ok(())
    }
    fn identify(_: Identity) -> Result<(), Error> {
        Ok(())
    }
    fn alias(_: String, _: String) -> Result<(), Error> {
        Ok(())
    }
    fn events(_: EventQuery, _: PageRequest) -> Result<EventPage, Error> {
        Err(Error::unsupported("test-big-start records nothing"))
    }
    fn flush() -> Result<FlushReport, Error> {
        Ok(FlushReport {
            sent: 0,
            pending: 0,
        })
    }
    fn health() -> Result<HealthStatus, Error> {
        Ok(HealthStatus {
            ok: touch(1) == 0,
            detail: "never starts".into(),
        })
    }
}

impl Lifecycle for BigStart {
    fn tick() -> Result<(), Error> {
        Ok(())
    }
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

switchyard_sdk::export_analytics!(BigStart);
