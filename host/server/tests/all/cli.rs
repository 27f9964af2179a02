//! The `switchyard` binary: inspect, serve (bad config, signals) and the client commands.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use switchyard_server::client::Client;
use switchyard_tests::mock::posthog::MockPostHog;

use crate::support::{component, config_text, write, API_KEY, TOKEN};

/// The binary, without the caller's environment settings.
pub(crate) fn switchyard() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    cmd.env_remove("SWITCHYARD_ADMIN_TOKEN")
        .env_remove("SWITCHYARD_SERVER")
        .env_remove("SWITCHYARD_KEY")
        .env("RUST_LOG", "warn");
    cmd
}

/// Runs the binary off the async runtime's threads.
pub(crate) async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run switchyard"))
        .await
        .expect("join")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn inspect_names_the_contract_a_component_implements() {
    let out = switchyard()
        .arg("inspect")
        .arg(component("analytics-posthog"))
        .output()
        .expect("run");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("switchyard:analytics"), "{stdout}");

    let out = switchyard()
        .args(["inspect", "--json"])
        .arg(component("analytics-posthog"))
        .output()
        .expect("run");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(report["contract"]
        .as_str()
        .unwrap_or_default()
        .starts_with("switchyard:analytics/adapter"));

    let dir = tempfile::tempdir().expect("tempdir");
    let junk = write(dir.path(), "junk.wasm", "not a component");
    let out = switchyard()
        .arg("inspect")
        .arg(&junk)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn serve_with_a_bad_config_exits_1_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(
        dir.path(),
        "bad.toml",
        "[runtime]\npooling = false\ntick_interval_ms = \"often\"\n",
    );
    let out = switchyard()
        .args(["serve", "--config"])
        .arg(&bad)
        .output()
        .expect("run");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("tick_interval_ms"), "{stderr}");

    let out = switchyard()
        .args(["serve", "--config"])
        .arg(dir.path().join("missing.toml"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("missing.toml"));
}

#[cfg(unix)] // sends SIGTERM with kill(1)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_the_client_commands_and_drains_on_sigterm() {
    let mock = MockPostHog::start(API_KEY).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "switchyard.toml",
        &format!(
            "[server]\nadmin_token = {{ env = \"TEST_SWITCHYARD_TOKEN\" }}\n{}",
            config_text(&mock)
        ),
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let mut child = switchyard()
        .args(["serve", "--log-format", "json", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--config")
        .arg(&config)
        .env("TEST_SWITCHYARD_TOKEN", TOKEN)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");

    let client = Client::new(&url, None).expect("client");
    let start = Instant::now();
    loop {
        if let Ok(r) = client.get("/healthz").await {
            if r.status == 200 {
                break;
            }
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("server did not come up");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut call = switchyard();
    call.args([
        "call",
        "acme",
        "analytics",
        "track",
        r#"{"event": {"name": "from_cli", "distinct-id": "u1", "properties": {"plan": "pro"}}}"#,
        "--server",
        &url,
    ]);
    let out = run(call).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let mut call = switchyard();
    call.args([
        "call",
        "nobody",
        "analytics",
        "flush",
        "{}",
        "--server",
        &url,
    ]);
    let out = run(call).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unknown_tenant"),
        "{}",
        text(&out.stderr)
    );

    let mut tenants = switchyard();
    tenants
        .args(["tenants", "--server", &url])
        .env("SWITCHYARD_ADMIN_TOKEN", TOKEN);
    let out = run(tenants).await;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.starts_with("TENANT"), "{stdout}");
    assert!(
        stdout.contains("acme") && stdout.contains("analytics-posthog"),
        "{stdout}"
    );

    let mut tenants = switchyard();
    tenants.args(["tenants", "--server", &url, "--token", "wrong"]);
    let out = run(tenants).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("401"), "{}", text(&out.stderr));

    let mut swap = switchyard();
    swap.args([
        "swap",
        "acme",
        "analytics",
        "--upload",
        "--server",
        &url,
        "--token",
        TOKEN,
    ])
    .arg(component("test-recorder"));
    let out = run(swap).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("drained"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        mock.event_count(),
        1,
        "the swap delivered the buffered event"
    );

    let mut swap = switchyard();
    swap.args([
        "swap",
        "acme",
        "analytics",
        "--server",
        &url,
        "--token",
        TOKEN,
    ])
    .arg(component("analytics-posthog"));
    let out = run(swap).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    let mut reload = switchyard();
    reload.args(["reload", "--server", &url, "--token", TOKEN]);
    let out = run(reload).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("unchanged"),
        "{}",
        text(&out.stdout)
    );

    // Buffer one more event, then SIGTERM: the server drains it and exits 0.
    let mut call = switchyard();
    call.args([
        "call",
        "acme",
        "analytics",
        "track",
        r#"{"event": {"name": "at_shutdown", "distinct-id": "u1"}}"#,
        "--server",
        &url,
    ]);
    assert!(run(call).await.status.success());
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("shutdown complete"), "{stdout}");
    assert_eq!(mock.event_count(), 2, "SIGTERM drained the buffer");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    // JSON logs, one request line per request, and never the token.
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("\"path\":\"/admin/bindings\"")),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN), "the token leaked into the logs");
}

/// Serves `config`, answers one health check, stops with SIGTERM; answers stderr.
async fn serve_briefly(config: &std::path::Path, extra: &[&str]) -> String {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let child = switchyard()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(config)
        .args(extra)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let client = Client::new(&format!("http://127.0.0.1:{port}"), None).expect("client");
    let start = Instant::now();
    while !matches!(client.get("/healthz").await, Ok(r) if r.status == 200) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    text(&out.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_logging_section_picks_the_sink_and_its_colour() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = format!(
        "[runtime]\npooling = false\n\n[tenants.acme.logging]\ncomponent = \"{}\"\nbackend = \"tracing\"\n",
        component("logging-host").display()
    );
    // JSON lines, chosen by the file alone.
    let json = write(
        dir.path(),
        "json.toml",
        &format!("[logging]\nformat = \"json\"\n{base}"),
    );
    let stderr = serve_briefly(&json, &[]).await;
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "nothing logged");
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
    // Console: no colour when stderr is not a terminal, colour when asked for.
    let auto = write(dir.path(), "auto.toml", &base);
    let stderr = serve_briefly(&auto, &[]).await;
    assert!(stderr.contains("INFO"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "colour on a pipe: {stderr:?}");
    let always = write(
        dir.path(),
        "always.toml",
        &format!("[logging]\ncolor = \"always\"\n{base}"),
    );
    assert!(serve_briefly(&always, &[]).await.contains("\u{1b}["));
    // The flag overrides the file; a level filters.
    let stderr = serve_briefly(&json, &["--log-format", "console"]).await;
    assert!(
        serde_json::from_str::<serde_json::Value>(stderr.lines().next().unwrap_or("")).is_err()
    );
    let quiet = write(
        dir.path(),
        "quiet.toml",
        &format!("[logging]\nlevel = \"error\"\n{base}"),
    );
    assert!(!serve_briefly(&quiet, &[]).await.contains("INFO"));

    // A filter that does not parse is refused, naming the key.
    let bad = write(
        dir.path(),
        "bad.toml",
        &format!("[logging]\nlevel = \"info,[[[\"\n{base}"),
    );
    let out = switchyard()
        .args(["serve", "--config"])
        .arg(&bad)
        .env_remove("RUST_LOG")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("logging.level"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosts_own_errors_go_to_sentry_with_their_call_and_the_breadcrumbs_before() {
    use switchyard_tests::mock::sentry::MockSentry;
    let sentry = MockSentry::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "sentry.toml",
        &format!(
            "[logging]\nsentry_dsn = \"{}\"\nsentry_environment = \"test\"\n\n\
             [runtime]\npooling = false\n\n[tenants.acme.analytics]\ncomponent = \"{}\"\n",
            sentry.dsn(switchyard_tests::mock::sentry::PROJECT),
            component("test-misbehave").display()
        ),
    );
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut child = switchyard()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let client = Client::new(&format!("http://127.0.0.1:{port}"), None).expect("client");
    let start = Instant::now();
    while !matches!(client.get("/healthz").await, Ok(r) if r.status == 200) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "server did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // An adapter that traps: the host logs an error, and Sentry gets it.
    let r = client
        .post_json(
            "/v1/tenants/acme/analytics/track",
            &serde_json::json!({"event": {"name": "panic", "distinct-id": "u"}}),
        )
        .await
        .expect("request");
    assert_eq!(r.status, 502, "{:?}", r.json());
    let arrived = sentry.wait_for_items(1, Duration::from_secs(10)).await;
    let _ = child.kill();
    let _ = child.wait();
    arrived.expect("the error reached Sentry");
    let events = sentry.events();
    let event = events
        .iter()
        .find(|e| e.to_string().contains("adapter call failed"))
        .unwrap_or_else(|| panic!("no trap event: {events:?}"));
    let text = event.to_string();
    for part in [
        "\"acme\"",
        "test-misbehave",
        "trap",
        "\"environment\":\"test\"",
    ] {
        assert!(text.contains(part), "{part} missing from {text}");
    }
    // The lines before it (the server starting, the binding added) are its breadcrumbs.
    assert!(
        event["breadcrumbs"]["values"]
            .as_array()
            .is_some_and(|b| b.iter().any(|c| c.to_string().contains("binding added"))),
        "{text}"
    );
}
