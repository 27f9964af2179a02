//! Sends a monitoring binding's captured errors and finished traces to Sentry, through the
//! official `sentry` client, when the binding's configuration names a DSN.
//!
//! The host-native monitoring (`super::tenant`) keeps everything in memory as without
//! Sentry; a [`Forwarder`] held by the tenant's monitor sends a copy.
//!
//! # Configuration (a monitoring binding with `backend = "memory"`)
//!
//! | key | meaning |
//! |---|---|
//! | `sentry_dsn` | The project's DSN, `{scheme}://{public_key}@{host}[:{port}][/{path}]/{project_id}`, scheme http or https, a numeric project id. Without it nothing is sent. |
//! | `sentry_environment` | Optional: the `environment` of every event and transaction (1 to 64 bytes; no `/`, `\`, tab or newline). |
//! | `sentry_release` | Optional: the `release` of every event and transaction (1 to 200 bytes; no `/`, `\`, tab or newline). |
//!
//! An invalid DSN (or environment, or release) refuses the binding at load, with an error
//! naming the key (`backend_config.sentry_dsn ...`); an environment or release without a DSN is refused
//! too, as a likely mistake.
//!
//! # What is sent
//!
//! Every `capture-error` becomes one Sentry **event**, whose `event_id` is the id the contract
//! answers:
//!
//! | contract | Sentry event |
//! |---|---|
//! | `kind`, `message` | the last (main) entry of `exception.values`: `type` = kind, `value` = message |
//! | `causes` (direct cause first) | earlier entries of `exception.values`, innermost cause first (Sentry's order), each `type` = `"cause"`, `value` = its message |
//! | `stack` | `extra.stack`, the text as given (stack formats differ by language, so it is not parsed into frames) |
//! | `level` | `level` (`error` when none) |
//! | `tags` | `tags`, plus `tenant` = the tenant |
//! | `user` | `user` (`id`, `email`, `username`, `ip_address`; an IP that does not parse is left out) |
//! | breadcrumbs | `breadcrumbs`: the merged list the contract keeps (the tenant's recent ones, then the event's), each with its time, category, message, level and data; `type` is the category when Sentry knows it as a type (`http`, `navigation`, `query`, `ui`, ...), else `default` |
//! | `extra` (a JSON object) | `extra` (with `stack` added as above) |
//! | `span-id` naming a known span | `contexts.trace`: its `trace_id`, `span_id`, `parent_span_id` and `op` (the span's name). An event without a known span gets a trace of its own |
//! | | `platform` `other`, `environment` and `release` from the configuration |
//!
//! When a **root span** (one without a parent) ends, one Sentry **transaction** is sent for its
//! trace: `transaction` = the root's name, `contexts.trace` = the root (`trace_id`, `span_id`,
//! `op` = name, `status`), `tags` = the root's tags plus `tenant`, the root's start and end as
//! `start_timestamp` and `timestamp`, and in `spans` every span of the trace that has ended by
//! then (at most [`MAX_TRANSACTION_SPANS`], in start order), each with `trace_id`, `span_id`,
//! `parent_span_id`, `op` and `description` (= its name), `tags`, `status` and timestamps.
//! Statuses map `ok` to `ok`, `error` to `internal_error`, and `unset` to no status.
//!
//! **Children that end after their root** are not sent to Sentry: a transaction is final once
//! sent, and sending a second one for the same root would show the trace twice. They stay in
//! memory, where `trace` still lists them. End children before their root (as a request
//! handler's spans naturally do).
//!
//! Metrics, health checks and breadcrumbs on their own are not sent (breadcrumbs travel with
//! the events they precede).
//!
//! # Clients, hubs and delivery
//!
//! Each tenant gets its own `sentry::Client` (each tenant may have its own DSN, project,
//! environment and release), built when the binding is granted and kept by the tenant's
//! monitor, so it survives swaps and reloads. A grant with other Sentry settings replaces it; a
//! grant without `sentry_dsn` removes it. Events are captured through a `sentry::Hub` of
//! the tenant's own over that client, never the process-global hub, so tenants never mix.
//!
//! Nothing here waits for the network on a contract call: the client queues envelopes for its
//! transport's background thread (30 at most; more are dropped, as the client does), and a
//! forwarder that goes away is flushed (for at most [`FLUSH_TIMEOUT`]) and shut down on a
//! thread of its own.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::sentry::protocol::{
    self as proto, Event, Exception, Level, SpanId, SpanStatus as SentryStatus, TraceContext,
    TraceId, Transaction, Uuid,
};
use ::sentry::types::Dsn;
use ::sentry::{Client, ClientOptions, Envelope, Hub, Scope};

use crate::bindings::base::switchyard::types::types::Timestamp;
use crate::bindings::monitoring::switchyard::monitoring::types::{
    Breadcrumb, CapturedError, Severity, SpanInfo, SpanStatus, User,
};

/// The configuration key of the DSN.
pub const DSN_KEY: &str = "sentry_dsn";
/// The configuration key of the environment.
pub const ENVIRONMENT_KEY: &str = "sentry_environment";
/// The configuration key of the release.
pub const RELEASE_KEY: &str = "sentry_release";
/// How long a forwarder that goes away may take to deliver what it has queued.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);
/// Spans sent in one transaction besides its root (Sentry's own limit is 1000).
pub const MAX_TRANSACTION_SPANS: usize = 1000;

/// A Sentry setting of a binding's configuration that cannot be used. Its message names the
/// key (`backend_config.sentry_dsn ...`), as binding errors do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `sentry_dsn` is set to an empty string.
    #[error("backend_config.{DSN_KEY} is empty; remove the key to send nothing to Sentry")]
    EmptyDsn,
    /// `sentry_dsn` does not parse as a DSN. The DSN itself is not repeated (it holds a key).
    #[error(
        "backend_config.{DSN_KEY} is not a valid Sentry DSN: {0}; expected \
         {{scheme}}://{{public_key}}@{{host}}[:{{port}}]/{{project_id}} with scheme http or https"
    )]
    InvalidDsn(String),
    /// `sentry_environment` or `sentry_release` is set without `sentry_dsn`.
    #[error("backend_config.{0} is set but backend_config.{DSN_KEY} is not; set the DSN or remove the key")]
    WithoutDsn(&'static str),
    /// `sentry_environment` or `sentry_release` is empty, too long or holds a forbidden character.
    #[error("backend_config.{key} must be 1 to {max} bytes without `/`, `\\`, tab or newline")]
    InvalidName {
        /// The key.
        key: &'static str,
        /// The most bytes allowed.
        max: usize,
    },
}

/// The Sentry settings of one monitoring binding.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    dsn: Dsn,
    environment: Option<String>,
    release: Option<String>,
}

impl fmt::Debug for Settings {
    /// Leaves the DSN's public key out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.dsn.host())
            .field("project_id", &self.dsn.project_id().to_string())
            .field("environment", &self.environment)
            .field("release", &self.release)
            .finish()
    }
}

impl Settings {
    /// The Sentry settings in a binding's configuration: `None` without `sentry_dsn`.
    pub fn from_config(config: &BTreeMap<String, String>) -> Result<Option<Settings>, ConfigError> {
        let name = |key: &'static str, max: usize| -> Result<Option<String>, ConfigError> {
            match config.get(key) {
                None => Ok(None),
                Some(v)
                    if !v.is_empty()
                        && v.len() <= max
                        && !v.contains(['/', '\\', '\t', '\n', '\r']) =>
                {
                    Ok(Some(v.clone()))
                }
                Some(_) => Err(ConfigError::InvalidName { key, max }),
            }
        };
        let environment = name(ENVIRONMENT_KEY, 64)?;
        let release = name(RELEASE_KEY, 200)?;
        let Some(dsn) = config.get(DSN_KEY) else {
            return match (&environment, &release) {
                (Some(_), _) => Err(ConfigError::WithoutDsn(ENVIRONMENT_KEY)),
                (None, Some(_)) => Err(ConfigError::WithoutDsn(RELEASE_KEY)),
                (None, None) => Ok(None),
            };
        };
        let dsn = dsn.trim();
        if dsn.is_empty() {
            return Err(ConfigError::EmptyDsn);
        }
        let dsn: Dsn = dsn
            .parse()
            .map_err(|e: ::sentry::types::ParseDsnError| ConfigError::InvalidDsn(e.to_string()))?;
        let project = dsn.project_id().value();
        if !project.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::InvalidDsn(
                "the project id (its last path segment) must be a number".into(),
            ));
        }
        Ok(Some(Settings {
            dsn,
            environment,
            release,
        }))
    }
}

/// One tenant's Sentry client and hub.
///
/// Dropping it flushes what it queued (for at most [`FLUSH_TIMEOUT`]) and shuts its transport
/// down on a thread of its own, so no caller waits for the network.
pub struct Forwarder {
    tenant: String,
    settings: Settings,
    /// `None` only while dropping.
    hub: Option<Arc<Hub>>,
    /// `None` only while dropping.
    client: Option<Arc<Client>>,
}

impl fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forwarder")
            .field("tenant", &self.tenant)
            .field("settings", &self.settings)
            .finish()
    }
}

impl Forwarder {
    /// A client and hub for `tenant`, sending with the default HTTP transport (reqwest, on the
    /// client's background thread). Reads no environment variable (`SENTRY_DSN`...) and adds
    /// no integration: only what the tenant's configuration says.
    pub fn new(tenant: &str, settings: Settings) -> Forwarder {
        let mut options = ClientOptions::new()
            .transport(::sentry::transports::DefaultTransportFactory)
            .default_integrations(false)
            .shutdown_timeout(FLUSH_TIMEOUT)
            // The client turns platform `other` into `native`; these events come from apps in
            // any language, so put it back.
            .before_send(|mut event| {
                event.platform = Cow::Borrowed("other");
                Some(event)
            });
        options.dsn = Some(settings.dsn.clone());
        options.environment = settings.environment.clone().map(Cow::Owned);
        options.release = settings.release.clone().map(Cow::Owned);
        let client = Arc::new(Client::with_options(options));
        let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::default())));
        Forwarder {
            tenant: tenant.to_string(),
            settings,
            hub: Some(hub),
            client: Some(client),
        }
    }

    /// The settings it was built with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Queues a captured error as a Sentry event; `span` is the span its `span-id` names, when
    /// known.
    pub(crate) fn capture_error(&self, captured: &CapturedError, span: Option<&SpanInfo>) {
        if let Some(hub) = &self.hub {
            hub.capture_event(self.event(captured, span));
        }
    }

    /// Queues a transaction for `root`, which has just ended, with `spans`: the other spans of
    /// its trace that have ended, in start order.
    pub(crate) fn send_transaction(&self, root: &SpanInfo, spans: &[SpanInfo]) {
        let Some(client) = &self.client else { return };
        // No dynamic sampling context in the envelope header: the client's transport rebuilds
        // envelopes (to apply rate limits) and drops their headers.
        let envelope = Envelope::from(self.transaction(root, spans));
        client.send_envelope(envelope);
    }

    fn event(&self, captured: &CapturedError, span: Option<&SpanInfo>) -> Event<'static> {
        let e = &captured.event;
        let mut exception: Vec<Exception> = e
            .causes
            .iter()
            .rev()
            .map(|cause| Exception {
                ty: "cause".into(),
                value: Some(cause.clone()),
                ..Default::default()
            })
            .collect();
        exception.push(Exception {
            ty: e.kind.clone(),
            value: Some(e.message.clone()),
            ..Default::default()
        });
        let mut extra = json_object(e.extra.as_deref());
        if let Some(stack) = &e.stack {
            extra.insert("stack".into(), stack.clone().into());
        }
        let mut tags = tag_map(&e.tags);
        tags.insert("tenant".into(), self.tenant.clone());
        let trace = match span {
            Some(span) => TraceContext {
                trace_id: trace_id(&span.trace_id),
                span_id: span_id(&span.span_id),
                parent_span_id: span.parent_id.as_deref().map(span_id),
                op: Some(span.name.clone()),
                ..Default::default()
            },
            // A trace of its own, rather than the hub scope's, which every event would share.
            None => TraceContext::default(),
        };
        let mut event = Event {
            event_id: Uuid::parse_str(&captured.id).unwrap_or_else(|_| Uuid::new_v4()),
            level: level(e.level.unwrap_or(Severity::Error)),
            timestamp: system_time(captured.at),
            exception: exception.into(),
            tags,
            extra,
            user: e.user.as_ref().map(user),
            breadcrumbs: e
                .breadcrumbs
                .iter()
                .map(breadcrumb)
                .collect::<Vec<_>>()
                .into(),
            ..Default::default()
        };
        event.contexts.insert("trace".into(), trace.into());
        event
    }

    fn transaction(&self, root: &SpanInfo, spans: &[SpanInfo]) -> Transaction<'static> {
        let mut tags = tag_map(&root.tags);
        tags.insert("tenant".into(), self.tenant.clone());
        let mut transaction = Transaction {
            name: Some(root.name.clone()),
            release: self.settings.release.clone().map(Cow::Owned),
            environment: self.settings.environment.clone().map(Cow::Owned),
            tags,
            timestamp: root.ended_at.map(system_time),
            start_timestamp: system_time(root.started_at),
            spans: spans
                .iter()
                .take(MAX_TRANSACTION_SPANS)
                .map(|s| proto::Span {
                    span_id: span_id(&s.span_id),
                    trace_id: trace_id(&s.trace_id),
                    parent_span_id: s.parent_id.as_deref().map(span_id),
                    op: Some(s.name.clone()),
                    description: Some(s.name.clone()),
                    timestamp: s.ended_at.map(system_time),
                    start_timestamp: system_time(s.started_at),
                    status: status(s.status),
                    tags: tag_map(&s.tags),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let trace = TraceContext {
            trace_id: trace_id(&root.trace_id),
            span_id: span_id(&root.span_id),
            op: Some(root.name.clone()),
            description: Some(root.name.clone()),
            status: status(root.status),
            ..Default::default()
        };
        transaction.contexts.insert("trace".into(), trace.into());
        transaction
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        let (Some(hub), Some(client)) = (self.hub.take(), self.client.take()) else {
            return;
        };
        let tenant = self.tenant.clone();
        // Dropping the client joins its transport thread, which may be in the middle of a
        // request: never do that on the caller's (possibly async) thread.
        let retire = move || {
            if !client.flush(Some(FLUSH_TIMEOUT)) {
                tracing::debug!(%tenant, "Sentry client not flushed in time; queued items dropped");
            }
            drop(hub);
            drop(client);
        };
        if let Err(e) = std::thread::Builder::new()
            .name("sentry-retire".into())
            .spawn(retire)
        {
            tracing::warn!(cause = %e, "no thread to retire a Sentry client; it is dropped unflushed");
        }
    }
}

fn tag_map(tags: &[(String, String)]) -> BTreeMap<String, String> {
    tags.iter().cloned().collect()
}

fn trace_id(id: &str) -> TraceId {
    id.parse().unwrap_or_default()
}

fn span_id(id: &str) -> SpanId {
    id.parse().unwrap_or_default()
}

fn system_time(t: Timestamp) -> SystemTime {
    UNIX_EPOCH + Duration::new(t.seconds, t.nanoseconds)
}

fn level(s: Severity) -> Level {
    match s {
        Severity::Debug => Level::Debug,
        Severity::Info => Level::Info,
        Severity::Warning => Level::Warning,
        Severity::Error => Level::Error,
        Severity::Fatal => Level::Fatal,
    }
}

fn status(s: SpanStatus) -> Option<SentryStatus> {
    match s {
        SpanStatus::Unset => None,
        SpanStatus::Ok => Some(SentryStatus::Ok),
        SpanStatus::Error => Some(SentryStatus::InternalError),
    }
}

/// A JSON object given as text (checked by the contract), as a map; empty when none.
fn json_object(text: Option<&str>) -> BTreeMap<String, serde_json::Value> {
    match text.map(serde_json::from_str::<serde_json::Value>) {
        Some(Ok(serde_json::Value::Object(map))) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

fn user(u: &User) -> proto::User {
    proto::User {
        id: u.id.clone(),
        email: u.email.clone(),
        username: u.username.clone(),
        ip_address: u
            .ip_address
            .as_deref()
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .map(proto::IpAddress::Exact),
        ..Default::default()
    }
}

/// Breadcrumb types Sentry knows; another category is sent with type `default`.
const BREADCRUMB_TYPES: [&str; 9] = [
    "debug",
    "error",
    "info",
    "navigation",
    "http",
    "query",
    "transaction",
    "ui",
    "user",
];

fn breadcrumb(b: &Breadcrumb) -> proto::Breadcrumb {
    proto::Breadcrumb {
        timestamp: b.at.map(system_time).unwrap_or_else(SystemTime::now),
        ty: if BREADCRUMB_TYPES.contains(&b.category.as_str()) {
            b.category.clone()
        } else {
            "default".into()
        },
        category: Some(b.category.clone()),
        level: level(b.level),
        message: (!b.message.is_empty()).then(|| b.message.clone()),
        data: json_object(b.data.as_deref()),
    }
}
