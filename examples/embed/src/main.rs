//! Embedding the Switchyard host in a Rust app, end to end and offline.
//!
//! Starts a local mock of PostHog's ingestion API, binds tenant `acme`'s analytics to the
//! PostHog adapter component (the api key injected by the host, never seen by the adapter),
//! tracks a few events, hot-swaps the component for a new copy without dropping a call, and
//! shuts down, which delivers whatever was still batched.
//!
//! Run it with `make adapters && cargo run -p example-embed`.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;
use switchyard_host::services::analytics::Event;
use switchyard_host::{
    BindingSpec, ComponentSource, CredentialConfig, Injection, Runtime, SecretSource, Service,
};
use switchyard_tests::mock::posthog::MockPostHog;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let components = std::env::var_os("SWITCHYARD_COMPONENTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/components"));
    let posthog = components.join("analytics-posthog.wasm");
    anyhow::ensure!(
        posthog.exists(),
        "{} is missing: run `make adapters`",
        posthog.display()
    );

    let mock = MockPostHog::start("phc_demo").await;
    let spec = BindingSpec::new(ComponentSource::path(&posthog))
        .config("host", mock.base_url())
        .config("flush_at", "3")
        .allow(&mock.base_url())?
        .credential(&CredentialConfig {
            host: mock.base_url(),
            secret: SecretSource::Value("phc_demo".into()),
            inject: Injection::JsonBody {
                field: "api_key".into(),
            },
        })?;
    let rt = Runtime::builder()
        .binding("acme", Service::Analytics, spec)
        .build()
        .await
        .context("building the runtime")?;

    let analytics = rt.analytics("acme")?;
    for (i, plan) in ["free", "pro", "team", "pro"].into_iter().enumerate() {
        let event =
            Event::new("signed_up", format!("user-{i}")).properties(json!({ "plan": plan }));
        analytics.track(&event).await?;
    }
    println!(
        "after 4 tracks with flush_at = 3: PostHog has {} events",
        mock.event_count()
    );

    let report = rt
        .swap("acme", Service::Analytics, ComponentSource::path(&posthog))
        .await?;
    println!(
        "swapped {} -> {}: drained {:?}",
        &report.old_digest[..12],
        &report.new_digest[..12],
        report.drained
    );

    analytics.track(&Event::new("checkout", "user-1")).await?;
    let shutdown = rt.shutdown().await;
    println!(
        "after shutdown: PostHog has {} events, undelivered: {:?}",
        mock.event_count(),
        shutdown.undelivered
    );
    for e in mock.events() {
        println!("  {} {} {}", e.event, e.distinct_id, e.properties["plan"]);
    }
    Ok(())
}
