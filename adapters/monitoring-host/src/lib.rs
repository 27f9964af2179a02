#![doc = include_str!("../README.md")]
#![allow(missing_docs, clippy::all)]

mod bindings {
    wit_bindgen::generate!({
        world: "switchyard:monitoring/host-bridge@0.1.0",
        path: [
            "../../wit/deps/io", "../../wit/deps/clocks", "../../wit/deps/random",
            "../../wit/deps/filesystem", "../../wit/deps/sockets", "../../wit/deps/cli",
            "../../wit/deps/http", "../../wit/types", "../../wit/adapter", "../../wit/monitoring",
        ],
        with: {
            "switchyard:types/types@0.1.0": ::switchyard_bindings_base::switchyard::types::types,
            "switchyard:adapter/log@0.1.0": ::switchyard_bindings_base::switchyard::adapter::log,
            "switchyard:adapter/config@0.1.0": ::switchyard_bindings_base::switchyard::adapter::config,
            "switchyard:adapter/buffer@0.1.0": ::switchyard_bindings_base::switchyard::adapter::buffer,
            "wasi:io/error@0.2.4": ::wasi::io::error,
            "wasi:io/poll@0.2.4": ::wasi::io::poll,
            "wasi:io/streams@0.2.4": ::wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.4": ::wasi::clocks::monotonic_clock,
            "wasi:clocks/wall-clock@0.2.4": ::wasi::clocks::wall_clock,
            "wasi:random/random@0.2.4": ::wasi::random::random,
            "wasi:http/types@0.2.4": ::wasi::http::types,
            "wasi:http/outgoing-handler@0.2.4": ::wasi::http::outgoing_handler,
            "switchyard:monitoring/types@0.1.0": generate,
        },
    });
}

use bindings::exports::switchyard::adapter::lifecycle::Guest as Lifecycle;
use bindings::exports::switchyard::monitoring::monitoring::Guest as Monitoring;
use bindings::switchyard::monitoring::monitoring as host;
use bindings::switchyard::monitoring::types::*;
use switchyard_bindings_base::switchyard::types::types::{Error, HealthStatus, PageRequest};

/// The bridge: each export calls the host's import of the same name.
struct Bridge;

impl Monitoring for Bridge {
    fn increment(name: String, value: f64, tags: Tags) -> Result<(), Error> {
        host::increment(&name, value, &tags)
    }
    fn gauge(name: String, value: f64, tags: Tags) -> Result<(), Error> {
        host::gauge(&name, value, &tags)
    }
    fn histogram(name: String, value: f64, tags: Tags) -> Result<(), Error> {
        host::histogram(&name, value, &tags)
    }
    fn summary(name: String, value: f64, tags: Tags) -> Result<(), Error> {
        host::summary(&name, value, &tags)
    }
    fn metrics(prefix: Option<String>) -> Result<Vec<MetricSnapshot>, Error> {
        host::metrics(prefix.as_deref())
    }
    fn start_span(name: String, parent: Option<String>, tags: Tags) -> Result<SpanInfo, Error> {
        host::start_span(&name, parent.as_deref(), &tags)
    }
    fn end_span(span_id: String, status: SpanStatus, tags: Tags) -> Result<SpanInfo, Error> {
        host::end_span(&span_id, status, &tags)
    }
    fn trace(trace_id: String) -> Result<Vec<SpanInfo>, Error> {
        host::trace(&trace_id)
    }
    fn add_breadcrumb(breadcrumb: Breadcrumb) -> Result<(), Error> {
        host::add_breadcrumb(&breadcrumb)
    }
    fn capture_error(event: ErrorEvent) -> Result<String, Error> {
        host::capture_error(&event)
    }
    fn errors(page: PageRequest) -> Result<ErrorPage, Error> {
        host::errors(&page)
    }
    fn report_health(name: String, ok: bool, detail: String) -> Result<(), Error> {
        host::report_health(&name, ok, &detail)
    }
    fn health_checks() -> Result<Vec<HealthCheck>, Error> {
        host::health_checks()
    }
    fn health() -> HealthStatus {
        host::health()
    }
}

impl Lifecycle for Bridge {
    fn tick() -> Result<(), Error> {
        Ok(())
    }
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

bindings::export!(Bridge with_types_in bindings);
