//! The quickstart behind `make demo`: Switchyard on 127.0.0.1:8080 with two tenants.
//!
//! Tenant `acme` uses the embedded default analytics provider (events as JSON lines in a
//! directory only its component can see); tenant `globex` uses the PostHog adapter, pointed at a
//! mock of PostHog's ingestion API this program starts on 127.0.0.1:8099 (its received events
//! are at `GET http://127.0.0.1:8099/_mock/events`). Stops cleanly on Ctrl-C, flushing batches.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use switchyard_host::{FileConfig, Runtime};
use switchyard_server::{serve, ServeOptions};
use switchyard_tests::mock::posthog::{MockPostHog, MockPostHogOptions};

const POSTHOG_KEY: &str = "phc_quickstart_demo";

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mock_addr: SocketAddr = std::env::var("QUICKSTART_POSTHOG_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8099".into())
        .parse()
        .context("QUICKSTART_POSTHOG_ADDR")?;
    // The configuration file reads these; set before any thread starts.
    std::env::set_var("POSTHOG_URL", format!("http://{mock_addr}"));
    std::env::set_var("POSTHOG_API_KEY", POSTHOG_KEY);
    tokio::runtime::Runtime::new()?.block_on(run(mock_addr))
}

async fn run(mock_addr: SocketAddr) -> anyhow::Result<()> {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("switchyard.toml");
    let mock = MockPostHog::try_start_with(MockPostHogOptions::new(POSTHOG_KEY).bind(mock_addr))
        .await
        .with_context(|| format!("starting the mock PostHog on {mock_addr}"))?;
    tracing::info!(url = %mock.base_url(), "mock PostHog listening (GET /_mock/events shows what it received)");

    let file = FileConfig::load(&config)?;
    let runtime = Runtime::builder().config_file(&config)?.build().await?;
    let listen = file.server.listen.clone();
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!(%listen, "Switchyard quickstart serving tenants acme (embedded default) and globex (PostHog adapter)");
    let opts = ServeOptions {
        admin_token: file.server.resolve_admin_token()?,
        config_path: Some(config),
    };
    let report = serve(runtime, listener, opts, shutdown_signal()).await?;
    if report.undelivered.is_empty() {
        tracing::info!(
            posthog_events = mock.event_count(),
            "stopped; every batch delivered"
        );
    } else {
        tracing::warn!(undelivered = ?report.undelivered, "stopped with undelivered work");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
