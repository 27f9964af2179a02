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
use crate::log_fields::EscapedFields;

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
        LogFormat::Console => console_layer(colour(options.color), std::io::stderr).boxed(),
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

/// The console format's layer, writing to `writer`: one line per event, every field (the
/// message too) with control characters escaped ([`EscapedFields`]), so text from a guest or
/// a caller cannot forge a line.
pub fn console_layer<S, W>(ansi: bool, writer: W) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(EscapedFields)
        .with_ansi(ansi)
        .with_writer(writer)
}

/// Whether console lines get ANSI colours.
pub fn colour(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_console_line_cannot_be_forged() {
        let out = Captured::default();
        let writer = {
            let out = out.clone();
            move || out.clone()
        };
        let subscriber = tracing_subscriber::registry().with(console_layer(false, writer));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("adapter_call", tenant = %"acme\nINFO forged");
            let _in = span.enter();
            let fields = "k\r\nWARN x=\"1\"";
            tracing::warn!(
                target: "switchyard::guest",
                fields = %fields, text = "a\nb",
                "hello\r\n2026-01-01T00:00:00Z ERROR forged line\u{1b}[2J"
            );
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text.matches('\n').count(),
            1,
            "one event, one line: {text:?}"
        );
        assert!(text.ends_with('\n'), "{text:?}");
        assert!(
            text.contains("hello\\r\\n2026-01-01T00:00:00Z ERROR forged line\\u{1b}[2J"),
            "{text:?}"
        );
        assert!(text.contains("tenant=acme\\nINFO forged"), "{text:?}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
    }
}
