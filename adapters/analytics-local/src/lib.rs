#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `store`: the events file over `wasi:filesystem` (append, scan, sync, writability).
//! - `query`: filtering and paging for `events`.
#![warn(missing_docs)]

pub mod query;
pub mod store;

use switchyard_sdk::analytics::events::{self, CanonicalEvent, Stamp};
use switchyard_sdk::analytics::{
    Analytics, Event, EventPage, EventQuery, FlushReport, Identity, Lifecycle, PageView,
};
use switchyard_sdk::log;
use switchyard_sdk::types::{Error, HealthStatus, PageRequest};

/// The largest event accepted, as its JSON line: 1 MiB.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// The local analytics adapter.
pub struct Local;

impl Analytics for Local {
    fn track(event: Event) -> Result<(), Error> {
        check_input_size(event.properties.as_deref())?;
        record(events::track(&event, &Stamp::current())?)
    }

    fn page(view: PageView) -> Result<(), Error> {
        check_input_size(view.properties.as_deref())?;
        record(events::page(&view, &Stamp::current())?)
    }

    fn identify(identity: Identity) -> Result<(), Error> {
        let input = identity.set.as_ref().map_or(0, String::len)
            + identity.set_once.as_ref().map_or(0, String::len);
        if input > MAX_EVENT_BYTES {
            return Err(too_large(input));
        }
        record(events::identify(&identity, &Stamp::current())?)
    }

    fn alias(distinct_id: String, alias: String) -> Result<(), Error> {
        record(events::alias(&distinct_id, &alias, &Stamp::current())?)
    }

    /// Every call is written before it returns: nothing is pending. Asks the host to sync
    /// the file to disk.
    fn flush() -> Result<FlushReport, Error> {
        store::sync()?;
        Ok(FlushReport {
            sent: 0,
            pending: 0,
        })
    }

    fn events(query: EventQuery, page: PageRequest) -> Result<EventPage, Error> {
        let mut pager = query::Pager::new(&query, &page)?;
        let mut skipped = 0u32;
        let end = store::scan(|start, line| {
            if let Err(reason) = pager.line(start, line) {
                skipped += 1;
                log::warn(
                    "skipping a line of the events file that is not an event",
                    &[
                        ("file", "/data/events.jsonl"),
                        ("offset", &start.to_string()),
                        ("reason", &reason),
                    ],
                );
            }
        })?;
        if skipped > 0 {
            log::debug(
                "events file read with skipped lines",
                &[("skipped", &skipped.to_string())],
            );
        }
        pager.finish(end)
    }

    fn health() -> Result<HealthStatus, Error> {
        Ok(match store::check_writable() {
            Ok(size) => HealthStatus {
                ok: true,
                detail: format!(
                    "{}/{} (the binding's files directory) is writable; {size} bytes of events",
                    store::DATA_DIR,
                    store::EVENTS_FILE
                ),
            },
            Err(err) => HealthStatus {
                ok: false,
                detail: err.message,
            },
        })
    }
}

impl Lifecycle for Local {
    /// Nothing is buffered: nothing to do.
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    /// Nothing is buffered: nothing to do.
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

/// Writes the event as one JSON line; `too-large` over [`MAX_EVENT_BYTES`].
fn record(event: CanonicalEvent) -> Result<(), Error> {
    let mut line = serde_json::to_vec(&event.to_json())
        .map_err(|err| Error::internal(format!("serialising the event failed: {err}")))?;
    if line.len() > MAX_EVENT_BYTES {
        return Err(too_large(line.len()));
    }
    line.push(b'\n');
    store::append(&line)
}

/// Refuses an oversized properties document before parsing it.
fn check_input_size(properties: Option<&str>) -> Result<(), Error> {
    match properties {
        Some(p) if p.len() > MAX_EVENT_BYTES => Err(too_large(p.len())),
        _ => Ok(()),
    }
}

fn too_large(bytes: usize) -> Error {
    Error::too_large(format!(
        "the event is {bytes} bytes; the local analytics provider takes at most \
         {MAX_EVENT_BYTES} bytes per event"
    ))
}

switchyard_sdk::export_analytics!(Local);
