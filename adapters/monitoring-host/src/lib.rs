#![doc = include_str!("../README.md")]
#![allow(missing_docs, clippy::all)]

switchyard_bindings_base::host_bridge! {
    world: "switchyard:monitoring/host-bridge@0.1.0",
    contract: "../../wit/monitoring",
    types: "switchyard:monitoring/types@0.1.0",
}

use bindings::exports::switchyard::monitoring::monitoring::Guest as Monitoring;
use bindings::switchyard::monitoring::monitoring as host;
use bindings::switchyard::monitoring::types::*;
use switchyard_bindings_base::switchyard::types::types::{Error, HealthStatus, PageRequest};

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
