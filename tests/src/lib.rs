//! Switchyard's test support: local mock servers for provider APIs, shared by the end-to-end
//! tests, the contract behaviour suites and demo binaries.
//!
//! A tour of the modules:
//!
//! - [`mock`]: the tiny server harness every mock runs on ([`mock::MockServer`], bound to
//!   `127.0.0.1:0`, stopped on drop) and the request record they share.
//! - [`mock::posthog`]: [`mock::posthog::MockPostHog`], PostHog's ingestion (capture) API with
//!   the real server's validation, recording and failure injection.
//! - [`mock::recorder`]: [`mock::recorder::MockRecorder`], a generic endpoint that records every
//!   request and answers whatever it is told to (status, headers, redirects).
//! - [`tls`]: [`tls::TlsMock`], a local HTTPS endpoint signed by a [`tls::TestCa`] made at run
//!   time, which counts its connections and handshakes.
//! - [`proxy`]: [`proxy::ConnectProxy`], a forward proxy speaking `CONNECT` that records its
//!   tunnels.
//! - [`redis`]: [`redis::RedisServer`], a real redis-server on a free port with the persistence
//!   the Redis messaging backend needs, which tests can kill and restart.
//!
//! ```no_run
//! use std::time::Duration;
//! use switchyard_tests::mock::posthog::MockPostHog;
//!
//! # async fn demo() -> Result<(), switchyard_tests::mock::MockError> {
//! let posthog = MockPostHog::start("phc_test").await;
//! // ... point an adapter at posthog.base_url() and make it capture two events ...
//! let events = posthog.wait_for_events(2, Duration::from_secs(5)).await?;
//! assert_eq!(events[0].event, "signed_up");
//! # Ok(())
//! # }
//! ```

pub mod mock;
pub mod proxy;
pub mod redis;
pub mod tls;

/// The path of a component built by `make adapters`: `target/components/<name>.wasm`, or under
/// `SWITCHYARD_COMPONENTS` when set.
///
/// # Panics
/// When the file is missing, with a message saying to run `make adapters` (tests only).
pub fn component(name: &str) -> std::path::PathBuf {
    let dir = std::env::var_os("SWITCHYARD_COMPONENTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/components")
        });
    let path = dir.join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "component {} is missing: run `make adapters` first",
        path.display()
    );
    path
}
