//! The `switchyard` binary's log sink, from the `[logging]` section: human-readable console
//! lines (coloured on a terminal) or JSON lines, on stderr, and optionally Sentry for the
//! host's own errors. Host, guest and app logs all go through it: they share one `tracing`
//! pipeline.

use std::io::IsTerminal;

use crate::config::{ColorChoice, LogFormat, LoggingOptions};
use switchyard_host::config::expand_env;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::error::ServerError;

/// Keeps the Sentry client of `[logging] sentry_dsn` alive; dropping it flushes what is queued
/// (for up to two seconds).
pub struct LogGuard {
    _sentry: Option<sentry::ClientInitGuard>,
}

/// Installs the process's `tracing` subscriber as `options` say; `RUST_LOG`, when set, wins
/// over `options.level`. With `sentry_dsn`, `error` events also go to Sentry as events and
/// `warn`/`info` ones as their breadcrumbs. An error names a setting that does not parse.
pub fn init(options: &LoggingOptions) -> Result<LogGuard, ServerError> {
    let bad = |message: String| ServerError::Config {
        origin: "[logging]".into(),
        message,
    };
    let filter = match EnvFilter::try_from_default_env() {
        Ok(filter) => filter,
        Err(_) => EnvFilter::try_new(&options.level).map_err(|e| {
            bad(format!(
                "logging.level: {:?} is not a log filter: {e}",
                options.level
            ))
        })?,
    };
    let sentry = match &options.sentry_dsn {
        None => None,
        Some(dsn) => {
            let dsn = expand_env(dsn, "logging.sentry_dsn").map_err(|e| bad(e.to_string()))?;
            let dsn: sentry::types::Dsn = dsn
                .parse()
                .map_err(|e| bad(format!("logging.sentry_dsn is not a valid Sentry DSN: {e}")))?;
            let environment = options
                .sentry_environment
                .as_deref()
                .map(|e| {
                    expand_env(e, "logging.sentry_environment").map_err(|e| bad(e.to_string()))
                })
                .transpose()?;
            let mut client = sentry::ClientOptions::default();
            client.dsn = Some(dsn);
            client.environment = environment.map(Into::into);
            client.release = Some(concat!("switchyard@", env!("CARGO_PKG_VERSION")).into());
            Some(sentry::init(client))
        }
    };
    let sink = match options.format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed(),
        LogFormat::Console => tracing_subscriber::fmt::layer()
            .with_ansi(colour(options.color))
            .with_writer(std::io::stderr)
            .boxed(),
    };
    // Errors become events carrying their spans' fields (tenant, service, adapter, call id);
    // warnings and info lines become the breadcrumbs before them.
    let to_sentry = sentry.as_ref().map(|_| {
        use sentry::integrations::tracing::{BreadcrumbLayer, ErrorLayer, SpanLayer};
        use tracing_subscriber::filter::{filter_fn, LevelFilter};
        SpanLayer::new()
            .and_then(BreadcrumbLayer::new().with_filter(filter_fn(|m| {
                matches!(*m.level(), tracing::Level::WARN | tracing::Level::INFO)
            })))
            .and_then(
                ErrorLayer::new()
                    .enable_span_attributes()
                    .with_filter(LevelFilter::ERROR),
            )
    });
    // Already installed (a test harness did): keep that one.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(sink)
        .with(to_sentry)
        .try_init();
    Ok(LogGuard { _sentry: sentry })
}

/// Whether console lines get ANSI colours.
pub fn colour(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal(),
    }
}
