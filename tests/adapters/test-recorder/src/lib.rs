//! A test adapter: a simple, unbatched analytics adapter that POSTs every call as
//! `{"adapter":"recorder","function":"track"|...,"event":<the record as JSON>}` to the
//! config key `endpoint`, and returns the SDK's error when that fails. Used to hot-swap away
//! from PostHog in tests.

use serde_json::{json, Value};
use switchyard_sdk::analytics::{
    Analytics, Event, EventPage, EventQuery, FlushReport, Identity, Lifecycle, PageView,
};
use switchyard_sdk::http::Request;
use switchyard_sdk::types::PageRequest;
use switchyard_sdk::types::{Error, HealthStatus, Timestamp};
use switchyard_sdk::{buffer, config};

/// The recorder adapter.
struct Recorder;

impl Analytics for Recorder {
    fn track(event: Event) -> Result<(), Error> {
        post(
            "track",
            json!({
                "name": event.name,
                "distinct_id": event.distinct_id,
                "category": event.category,
                "properties": json_field(event.properties.as_deref()),
                "session_id": event.session_id,
                "timestamp": event.timestamp.as_ref().map(timestamp),
                "uuid": event.uuid,
            }),
        )
    }

    fn page(view: PageView) -> Result<(), Error> {
        post(
            "page",
            json!({
                "distinct_id": view.distinct_id,
                "url": view.url,
                "title": view.title,
                "referrer": view.referrer,
                "properties": json_field(view.properties.as_deref()),
                "session_id": view.session_id,
                "timestamp": view.timestamp.as_ref().map(timestamp),
            }),
        )
    }

    fn identify(identity: Identity) -> Result<(), Error> {
        post(
            "identify",
            json!({
                "distinct_id": identity.distinct_id,
                "set": json_field(identity.set.as_deref()),
                "set_once": json_field(identity.set_once.as_deref()),
                "anonymous_id": identity.anonymous_id,
            }),
        )
    }

    fn alias(distinct_id: String, alias: String) -> Result<(), Error> {
        post(
            "alias",
            json!({ "distinct_id": distinct_id, "alias": alias }),
        )
    }

    fn events(_query: EventQuery, _page: PageRequest) -> Result<EventPage, Error> {
        Err(Error::unsupported(
            "test-recorder forwards events and keeps none",
        ))
    }

    fn flush() -> Result<FlushReport, Error> {
        Ok(FlushReport {
            sent: 0,
            pending: 0,
        })
    }

    fn health() -> Result<HealthStatus, Error> {
        let endpoint = config::require("endpoint")?;
        Ok(HealthStatus {
            ok: true,
            detail: format!(
                "records every call to {endpoint}; buffer pending {}",
                buffer::stats().pending
            ),
        })
    }
}

impl Lifecycle for Recorder {
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

fn post(function: &str, event: Value) -> Result<(), Error> {
    let endpoint = config::require("endpoint")?;
    Request::post(endpoint)
        .json(&json!({ "adapter": "recorder", "function": function, "event": event }))
        .send()?
        .error_for_status()?;
    Ok(())
}

/// A JSON field as JSON when it parses, else as the string it is.
fn json_field(text: Option<&str>) -> Value {
    match text {
        None => Value::Null,
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into())),
    }
}

fn timestamp(ts: &Timestamp) -> Value {
    json!({ "seconds": ts.seconds, "nanoseconds": ts.nanoseconds })
}

switchyard_sdk::export_analytics!(Recorder);
