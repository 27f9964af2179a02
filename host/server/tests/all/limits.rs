//! Slow and greedy clients: request bodies that stall or trickle, too many connections from
//! one address or overall; /healthz and the admin API stay reachable.

use std::time::{Duration, Instant};

use switchyard_tests::mock::posthog::MockPostHog;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::support::{config_text, exchange, metrics, TestServer, API_KEY, TOKEN};

const TRACK_HEAD: &str = "POST /v1/tenants/acme/analytics/track HTTP/1.1\r\nhost: test\r\n\
content-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"event\": ";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_or_trickles_is_cut_off_at_the_body_timeout() {
    let mock = MockPostHog::start(API_KEY).await;
    let text = format!("[server]\nbody_timeout_ms = 500\n{}", config_text(&mock));
    let server = TestServer::start_with(&text, None, false).await;

    // Headers announcing 1000 bytes, a few of them, then nothing.
    let start = Instant::now();
    let answer = exchange(
        &server.addr(),
        TRACK_HEAD.as_bytes(),
        Duration::from_secs(10),
    )
    .await
    .expect("the server closed the connection");
    let elapsed = start.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
        "closed after {elapsed:?}"
    );

    // A byte every 100 ms never stalls long, but the whole body is still due in 500 ms.
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    stream.write_all(TRACK_HEAD.as_bytes()).await.expect("head");
    let start = Instant::now();
    let trickle = async {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if stream.write_all(b" ").await.is_err() {
                break;
            }
            if start.elapsed() > Duration::from_secs(10) {
                break;
            }
        }
    };
    trickle.await;
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(3), "trickled for {elapsed:?}");

    let text = metrics(&server.client).await;
    assert!(
        text.contains("switchyard_request_body_timeouts_total 2"),
        "{text}"
    );
    // The server is fine: a whole body is answered.
    let r = server
        .call(
            "acme",
            "track",
            &serde_json::json!({"event": {"name": "x", "distinct-id": "u"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    server.shutdown().await;
}

/// Opens `n` connections that send half a request and hold it.
async fn hold(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::new();
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /v1/services HTTP/1.1\r\nhost: test\r\n")
            .await
            .expect("write");
        held.push(s);
    }
    // Let the server accept them all.
    tokio::time::sleep(Duration::from_millis(200)).await;
    held
}

const SERVICES: &[u8] = b"GET /v1/services HTTP/1.1\r\nhost: test\r\n\r\n";
const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_per_address_limit_are_refused_and_healthz_still_answers() {
    let mock = MockPostHog::start(API_KEY).await;
    let text = format!(
        "[server]\nmax_connections_per_address = 4\n{}",
        config_text(&mock)
    );
    let server = TestServer::start_with(&text, Some(TOKEN), false).await;
    let addr = server.addr();
    let held = hold(&addr, 4).await;

    // The excess: refused, or served only a 503 and closed; never the gateway.
    for _ in 0..3 {
        let answer = exchange(&addr, SERVICES, Duration::from_secs(5))
            .await
            .expect("the excess connection is closed");
        assert!(!answer.contains(" 200 "), "{answer}");
        assert!(
            answer.is_empty()
                || (answer.starts_with("HTTP/1.1 503") && answer.contains("overloaded")),
            "{answer}"
        );
    }
    // The health check (and the admin API) still answer on a fresh connection.
    let answer = exchange(&addr, HEALTHZ, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"status\":\"ok\""), "{answer}");
    let r = server
        .with_token(TOKEN)
        .get("/admin/bindings")
        .await
        .expect("request");
    assert_eq!(r.status, 200, "{:?}", r.json());

    // Once the held connections go, the address gets the gateway again.
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = server.client.get("/v1/services").await.expect("request");
    assert_eq!(r.status, 200, "{:?}", r.json());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_answers_while_the_gateway_is_full() {
    let mock = MockPostHog::start(API_KEY).await;
    let text = format!(
        "[server]\nmax_connections = 2\nreserved_connections = 0\n{}",
        config_text(&mock)
    );
    let server = TestServer::launch(&text, Some(TOKEN), false, true).await;
    let addr = server.addr();
    let held = hold(&addr, 2).await;

    // Full: a third connection is refused (a canned 503, or just closed).
    let answer = exchange(&addr, HEALTHZ, Duration::from_secs(5))
        .await
        .expect("refused at once");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 503"),
        "{answer}"
    );

    let admin = server.admin_client(Some(TOKEN));
    let r = admin.get("/healthz").await.expect("healthz");
    assert_eq!(r.status, 200);
    let r = admin.get("/admin/bindings").await.expect("bindings");
    assert_eq!(r.status, 200, "{:?}", r.json());
    let text = metrics(&admin).await;
    assert!(
        text.contains(
            "switchyard_connections_refused_total{listener=\"gateway\",reason=\"max_connections\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("switchyard_connections_open{listener=\"gateway\",pool=\"main\"} 2"),
        "{text}"
    );
    // The admin listener serves no gateway; the gateway's no admin API nor metrics.
    let r = admin.get("/v1/services").await.expect("request");
    assert_eq!(r.status, 404);
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let gateway = server.with_token(TOKEN);
    for (path, status) in [
        ("/admin/bindings", 404),
        ("/metrics", 404),
        ("/healthz", 200),
    ] {
        let r = gateway.get(path).await.expect("request");
        assert_eq!(r.status, status, "{path}");
    }
    server.shutdown().await;
}
