//! Pooled outbound connections and per-binding trusted CAs (host/src/outbound/egress.rs,
//! tls.rs): calls reuse a binding's connections, never another tenant's, and a binding's own
//! CA is trusted by that binding only.

use std::time::Duration;

use serde_json::json;
use switchyard_host::services::analytics::Event;
use switchyard_host::{OutboundProxy, Runtime, Service, TrustedCa};
use switchyard_tests::mock::recorder::MockRecorder;
use switchyard_tests::proxy::ConnectProxy;
use switchyard_tests::tls::{TestCa, TlsMock};

use crate::support::{misbehave_spec, options, runtime};

/// The fetching test adapter with room for a TLS handshake on a loaded machine: these tests
/// count connections and handshakes, and a call stopped at the default 500 ms would drop
/// its connection and make another.
fn fetcher() -> switchyard_host::BindingSpec {
    let spec = misbehave_spec();
    let limits = switchyard_host::Limits {
        deadline_ms: 10_000,
        ..spec.limits
    };
    spec.limits(limits)
}

fn fetch(url: &str) -> Event {
    Event::new("fetch", "u").properties(json!({ "url": url }))
}

/// The measure: 1,000 sequential calls open a handful of connections, not 1,000.
#[tokio::test]
async fn a_thousand_calls_open_a_handful_of_connections() {
    let mock = MockRecorder::start().await;
    let spec = fetcher().allow(&mock.base_url()).expect("allow");
    let rt = runtime(vec![("acme", Service::Analytics, spec)]).await;
    let analytics = rt.analytics("acme").expect("binding");
    let url = format!("{}/ping", mock.base_url());
    for i in 0..1000 {
        analytics
            .track(&fetch(&url))
            .await
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    assert_eq!(mock.request_count(), 1000);
    let opened = mock.connections_accepted();
    assert!(opened <= 4, "1,000 calls opened {opened} connections");
}

/// Two tenants calling the same host each get their own connections: a connection (and
/// whatever state a provider ties to it) is never shared across tenants.
#[tokio::test]
async fn tenants_never_share_a_connection() {
    let mock = MockRecorder::start().await;
    let spec = || fetcher().allow(&mock.base_url()).expect("allow");
    let rt = runtime(vec![
        ("acme", Service::Analytics, spec()),
        ("globex", Service::Analytics, spec()),
    ])
    .await;
    let url = format!("{}/ping", mock.base_url());
    for _ in 0..20 {
        for tenant in ["acme", "globex"] {
            rt.analytics(tenant)
                .expect("binding")
                .track(&fetch(&url))
                .await
                .expect("call");
        }
    }
    // Sequential calls: one kept-alive connection per tenant.
    assert_eq!(mock.connections_accepted(), 2);
}

/// A connection the server closed is dropped, not reused: the next call opens a new one.
#[tokio::test]
async fn a_connection_the_server_closed_is_not_reused() {
    let first = MockRecorder::start().await;
    let addr = first.addr();
    let spec = fetcher().allow(&first.base_url()).expect("allow");
    let rt = runtime(vec![("acme", Service::Analytics, spec)]).await;
    let analytics = rt.analytics("acme").expect("binding");
    let url = format!("{}/ping", first.base_url());
    analytics.track(&fetch(&url)).await.expect("first call");
    // The server goes away with the pooled connection, and comes back on the same port.
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = MockRecorder::start_on(addr).await.expect("rebind");
    analytics
        .track(&fetch(&url))
        .await
        .expect("a call after the restart");
    assert_eq!(second.request_count(), 1);
    assert_eq!(second.connections_accepted(), 1);
}

/// A self-hosted provider signed by the binding's own CA is reached over pooled HTTPS
/// (HTTP/2 where the server offers it); a binding without that CA is refused by TLS.
#[tokio::test]
async fn a_binding_trusts_its_own_ca_and_only_that_binding() {
    let ca = TestCa::new().expect("test CA");
    let server = TlsMock::start(&ca).await.expect("TLS mock");
    let trusted = TrustedCa::from_pem(ca.ca_pem().as_bytes()).expect("PEM");
    let allowed = || fetcher().allow(&server.base_url()).expect("allow");
    let rt = runtime(vec![
        (
            "selfhosted",
            Service::Analytics,
            allowed().trusted_ca(trusted),
        ),
        ("other", Service::Analytics, allowed()),
    ])
    .await;
    let url = format!("{}/ping", server.base_url());
    let selfhosted = rt.analytics("selfhosted").expect("binding");
    for i in 0..20 {
        selfhosted
            .track(&fetch(&url))
            .await
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    assert_eq!(server.versions().len(), 20);
    assert!(
        server
            .versions()
            .iter()
            .all(|v| *v == hyper::Version::HTTP_2),
        "HTTP/2 by ALPN: {:?}",
        server.versions()
    );
    assert_eq!(server.handshakes(), 1, "one TLS handshake for 20 calls");
    let err = rt
        .analytics("other")
        .expect("binding")
        .track(&fetch(&url))
        .await
        .expect_err("a CA the binding does not trust");
    assert!(err.to_string().contains("TLS"), "{err}");
    assert_eq!(server.versions().len(), 20, "nothing was served to it");
}

/// Behind a forward proxy, requests go through `CONNECT` tunnels (TLS end to end inside,
/// pooled like any connection), and the allowlist is still checked against the real
/// target: a request elsewhere is denied before the proxy hears of it.
#[tokio::test]
async fn requests_go_through_the_proxy_and_the_allowlist_still_holds() {
    let ca = TestCa::new().expect("test CA");
    let server = TlsMock::start(&ca).await.expect("TLS mock");
    let elsewhere = MockRecorder::start().await;
    let proxy = ConnectProxy::start().await.expect("proxy");
    let spec = fetcher()
        .allow(&server.base_url())
        .expect("allow")
        .trusted_ca(TrustedCa::from_pem(ca.ca_pem().as_bytes()).expect("PEM"));
    let rt = Runtime::builder()
        .options(options())
        .outbound_proxy(OutboundProxy::url(&proxy.url(), ""))
        .binding("acme", Service::Analytics, spec)
        .build()
        .await
        .expect("runtime builds");
    let analytics = rt.analytics("acme").expect("binding");
    for i in 0..10 {
        analytics
            .track(&fetch(&format!("{}/ping", server.base_url())))
            .await
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    let port = server.base_url().rsplit(':').next().map(str::to_string);
    assert_eq!(
        proxy.tunnels(),
        vec![format!("localhost:{}", port.unwrap_or_default())],
        "one tunnel to the real target, reused"
    );
    assert_eq!(server.versions().len(), 10);
    let err = analytics
        .track(&fetch(&format!("{}/x", elsewhere.base_url())))
        .await
        .expect_err("not allowed");
    assert!(err.to_string().contains("denied"), "{err}");
    assert_eq!(proxy.tunnels().len(), 1, "the proxy never heard of it");
    assert_eq!(elsewhere.request_count(), 0);
}
