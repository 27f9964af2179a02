#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `config`: the binding's config keys, validated.
//! - `wire`: builds PostHog messages as posthog-node does.
//! - `client`: delivery to `/batch/` with retries, 413 splitting and 400 isolation.
//! - `error`: PostHog's answers as the contract's errors (a refused key, a rejected event).
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
pub mod wire;

use core::time::Duration;

use switchyard_sdk::analytics::{
    Analytics, Event, EventPage, EventQuery, FlushReport, Identity, Lifecycle, PageView,
};
use switchyard_sdk::http::Request;
use switchyard_sdk::types::PageRequest;
use switchyard_sdk::types::{Error, HealthStatus};
use switchyard_sdk::{buffer, log};

use config::Config;
use wire::Stamp;

/// The PostHog analytics adapter.
pub struct PostHog;

impl Analytics for PostHog {
    fn track(event: Event) -> Result<(), Error> {
        let config = Config::load()?;
        accept(&config, wire::track(&event, &Stamp::current())?)
    }

    fn page(view: PageView) -> Result<(), Error> {
        let config = Config::load()?;
        accept(&config, wire::page(&view, &Stamp::current())?)
    }

    fn identify(identity: Identity) -> Result<(), Error> {
        let config = Config::load()?;
        accept(&config, wire::identify(&identity, &Stamp::current())?)
    }

    fn alias(distinct_id: String, alias: String) -> Result<(), Error> {
        let config = Config::load()?;
        accept(
            &config,
            wire::alias(&distinct_id, &alias, &Stamp::current())?,
        )
    }

    fn events(_query: EventQuery, _page: PageRequest) -> Result<EventPage, Error> {
        Err(Error::unsupported(
            "PostHog's ingestion API cannot be queried; query events in PostHog itself",
        ))
    }

    fn flush() -> Result<FlushReport, Error> {
        let config = Config::load()?;
        let outcome = client::flush(&config)?;
        Ok(FlushReport {
            sent: outcome.sent,
            pending: buffer::stats().pending,
        })
    }

    fn health() -> Result<HealthStatus, Error> {
        let config = Config::load()?;
        let url = format!("{}/", config.host);
        Ok(
            match Request::get(url.as_str())
                .timeout(Duration::from_secs(5))
                .send()
            {
                Ok(response) => HealthStatus {
                    ok: true,
                    detail: format!("{url} answered HTTP {}", response.status),
                },
                Err(err) => HealthStatus {
                    ok: false,
                    detail: format!("{url} is not reachable: {}", err.describe()),
                },
            },
        )
    }
}

impl Lifecycle for PostHog {
    fn tick() -> Result<(), Error> {
        let config = Config::load()?;
        let stats = buffer::stats();
        if stats.pending > 0 && stats.oldest_age_ms >= config.flush_interval_ms {
            client::flush(&config)?;
        }
        Ok(())
    }

    fn drain() -> Result<(), Error> {
        let config = Config::load()?;
        loop {
            let outcome = client::flush(&config)?;
            let pending = buffer::stats().pending;
            if pending == 0 || outcome == client::Outcome::default() {
                return Ok(());
            }
        }
    }
}

/// Buffers one message and flushes once `flush_at` events are pending. A failed automatic
/// flush is logged: the event is safely in the host's buffer, so the call succeeds.
fn accept(config: &Config, message: serde_json::Value) -> Result<(), Error> {
    let bytes = wire::encode(&message)?;
    let stats = buffer::push(&bytes)?;
    if stats.pending >= config.flush_at {
        if let Err(err) = client::flush(config) {
            log::warn(
                "automatic flush failed; the events stay buffered",
                &[("error", &err.describe())],
            );
        }
    }
    Ok(())
}

switchyard_sdk::export_analytics!(PostHog);
