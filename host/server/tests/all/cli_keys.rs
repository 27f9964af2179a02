//! The binary with gateway keys: `call --key` / `SWITCHYARD_KEY`, and SIGHUP re-reading the
//! keys of the file.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use switchyard_server::client::Client;
use switchyard_tests::mock::posthog::MockPostHog;

use crate::cli::{run, switchyard, text};
use crate::support::{config_text, write, API_KEY};

const KEY: &str = "acme-cli-key-0123456789";
const ROTATED: &str = "acme-rotated-key-0123456789";

fn config(mock: &MockPostHog, id: &str) -> String {
    format!(
        "[server]\n[[server.keys]]\nid = \"{id}\"\ntenant = \"acme\"\nkey = {{ env = \"TEST_ACME_KEY_{id}\" }}\n{}",
        config_text(mock)
    )
}

#[cfg(unix)] // SIGHUP and SIGTERM with kill(1)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_sends_the_key_and_sighup_reloads_the_keys() {
    let mock = MockPostHog::start(API_KEY).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "switchyard.toml", &config(&mock, "first"));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let mut child = switchyard()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&file)
        .env("TEST_ACME_KEY_first", KEY)
        .env("TEST_ACME_KEY_second", ROTATED)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let client = Client::new(&url, None).expect("client");
    let start = Instant::now();
    while !matches!(client.get("/healthz").await, Ok(r) if r.status == 200) {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("server did not come up");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let call = |key: Option<(&str, &str)>| {
        let mut cmd = switchyard();
        cmd.args([
            "call",
            "acme",
            "analytics",
            "track",
            r#"{"event": {"name": "from_cli", "distinct-id": "u1"}}"#,
            "--server",
            &url,
        ]);
        match key {
            Some(("flag", key)) => {
                cmd.args(["--key", key]);
            }
            Some((_, key)) => {
                cmd.env("SWITCHYARD_KEY", key);
            }
            None => {}
        }
        run(cmd)
    };

    let out = call(None).await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("unauthorized"),
        "{stderr}"
    );
    assert!(call(Some(("flag", KEY))).await.status.success());
    let out = call(Some(("env", KEY))).await;
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The file now has another key; SIGHUP makes the server re-read it.
    std::fs::write(&file, config(&mock, "second")).expect("rewrite");
    let hup = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(hup.success());
    let start = Instant::now();
    loop {
        if call(Some(("flag", ROTATED))).await.status.success() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the new key never worked"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(call(Some(("flag", KEY))).await.status.code(), Some(1));

    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success());
}
