//! The quickstart behind `make demo`: Switchyard on 127.0.0.1:8080 with three tenants (see
//! `switchyard.toml`): acme on every embedded default, globex on the cloud adapters against
//! local mocks of their providers ([`mocks`]), and initech, whose notifications the demo
//! hot-swaps from the embedded default to Twilio while sends stream in ([`tour`]). Stops
//! cleanly on Ctrl-C, delivering what is buffered.

mod mocks;
mod tour;

use std::path::PathBuf;

use anyhow::Context;
use switchyard_host::Runtime;
use switchyard_server::auth::KeyConfig;
use switchyard_server::{serve, ServeOptions, ServerSettings};

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let ports = mocks::Ports::from_env()?;
    // The configuration file reads these; set before any thread starts.
    ports.export();
    tokio::runtime::Runtime::new()?.block_on(run(ports))
}

async fn run(ports: mocks::Ports) -> anyhow::Result<()> {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("switchyard.toml");
    let mocks = mocks::Mocks::start(&ports).await?;
    tracing::info!(
        posthog = %mocks.posthog.base_url(),
        "provider mocks listening (PostHog's GET /_mock/events shows what it received)"
    );

    let settings = ServerSettings::load(&config)?;
    let runtime = Runtime::builder().config_file(&config)?.build().await?;
    let listen = settings.listen.clone();
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!(
        %listen,
        "Switchyard quickstart serving acme (embedded defaults), globex (cloud adapters on \
         mocks) and initech (hot-swapped to Twilio in a moment)"
    );
    print_demo_keys(&config)?;
    let mut opts = ServeOptions::from_settings(&settings, Some(config));
    opts.reload_on_sighup = true;
    let tour_runtime = runtime.clone();
    let tour_mocks = &mocks;
    let serving = serve(runtime, listener, opts, shutdown_signal());
    let tour = async move {
        tour::run(tour_runtime, tour_mocks).await;
        std::future::pending::<()>().await
    };
    let report = tokio::select! {
        report = serving => report?,
        _ = tour => unreachable!("the tour waits forever once done"),
    };
    if report.undelivered.is_empty() {
        tracing::info!(
            posthog_events = mocks.posthog.event_count(),
            "stopped; every batch delivered"
        );
    } else {
        tracing::warn!(undelivered = ?report.undelivered, "stopped with undelivered work");
    }
    Ok(())
}

/// The `[[server.keys]]` of the demo's file, as far as the quickstart needs them.
#[derive(serde::Deserialize)]
struct DemoFile {
    #[serde(default)]
    server: DemoServer,
}

#[derive(Default, serde::Deserialize)]
struct DemoServer {
    #[serde(default)]
    keys: Vec<KeyConfig>,
}

/// Prints each demo tenant's gateway key: the README's curl calls send them.
fn print_demo_keys(config: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(config).with_context(|| format!("reading {}", config.display()))?;
    let file: DemoFile = switchyard_host::config::parse_toml(&text, &config.display().to_string())?;
    for key in &file.server.keys {
        let secret = key
            .key
            .resolve()
            .with_context(|| format!("the demo key {}", key.id))?;
        tracing::info!(
            tenant = %key.tenant,
            id = %key.id,
            "demo gateway key: curl -H 'Authorization: Bearer {}' ...",
            secret.expose()
        );
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
