//! Loading tenants and bindings from a TOML file, and the errors a bad file gets.

use switchyard_host::services::analytics::Event;
use switchyard_host::{Error, Runtime, Service};
use switchyard_tests::mock::posthog::MockPostHog;

use crate::support::{component, API_KEY};

fn write(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("switchyard.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

#[tokio::test]
async fn a_toml_file_binds_tenants_with_secrets_from_the_environment() {
    let mock = MockPostHog::start(API_KEY).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let secret_file = dir.path().join("posthog.key");
    std::fs::write(&secret_file, format!("{API_KEY}\n")).expect("secret");
    let text = format!(
        r#"
[runtime]
pooling = false
tick_interval_ms = 50

[tenants.acme.analytics]
component = "{component}"
allow = ["{url}"]
config = {{ host = "{url}", flush_at = 2 }}
limits = {{ deadline_ms = 5000, memory_mib = 32 }}
credentials = [
  {{ host = "{url}", inject = "json-body", field = "api_key", secret = {{ file = "{secret}" }} }},
]
"#,
        component = component("analytics-posthog").display(),
        url = mock.base_url(),
        secret = secret_file.display(),
    );
    let rt = Runtime::builder()
        .config_file(write(&dir, &text))
        .expect("valid")
        .build()
        .await
        .expect("runtime");
    let a = rt.analytics("acme").expect("binding");
    a.track(&Event::new("one", "u")).await.expect("accepted");
    a.track(&Event::new("two", "u")).await.expect("accepted");
    let events = mock
        .wait_for_events(2, std::time::Duration::from_secs(10))
        .await
        .expect("delivered");
    assert!(events.iter().all(|e| e.api_key == API_KEY));
    assert!(matches!(
        rt.analytics("nobody"),
        Err(Error::UnknownTenant(_))
    ));
}

#[tokio::test]
async fn bad_files_get_errors_naming_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: &[(&str, &[&str])] = &[
        ("[tenants.acme.analytcs]\ncomponent = \"x.wasm\"\n", &["switchyard.toml", "analytcs", "unknown service"]),
        ("[tenants.acme.analytics]\ncomponent = \"x.wasm\"\nallow = [\"ftp://x\"]\n", &["tenants.acme.analytics", "ftp://x"]),
        ("[tenants.acme.analytics]\ncomponent = \"x.wasm\"\nlimits = { deadline = 5 }\n", &["line 3", "deadline"]),
        ("[runtime]\npooling = \"yes\"\n", &["line 2", "pooling"]),
        (
            "[tenants.acme.analytics]\ncomponent = \"x.wasm\"\nallow = [\"https://a.io\"]\ncredentials = [{ host = \"https://a.io\", inject = \"bearer\", secret = { env = \"SWITCHYARD_TEST_UNSET_VAR\" } }]\n",
            &["tenants.acme.analytics", "SWITCHYARD_TEST_UNSET_VAR"],
        ),
        (
            "[tenants.acme.analytics]\ncomponent = \"x.wasm\"\ncredentials = [{ host = \"https://a.io\", inject = \"bearer\", secret = { value = \"s\" } }]\n",
            &["not in allow"],
        ),
    ];
    for (text, wanted) in cases {
        let path = write(&dir, text);
        let err = match Runtime::builder().config_file(&path) {
            Ok(b) => b.build().await.err().expect("refused"),
            Err(e) => e,
        };
        let msg = err.to_string();
        assert!(matches!(err, Error::Config { .. }), "{msg}");
        for w in *wanted {
            assert!(
                msg.contains(w),
                "error for {text:?} should name {w:?}: {msg}"
            );
        }
        assert!(!msg.contains("value = \"s\""));
    }
}

#[tokio::test]
async fn a_missing_component_file_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "[tenants.acme.analytics]\ncomponent = \"nope.wasm\"\n",
    );
    let err = Runtime::builder()
        .config_file(&path)
        .expect("parses")
        .build()
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, Error::ReadComponent { .. }), "{err}");
    assert!(err.to_string().contains("nope.wasm"));
    let _ = Service::Analytics;
}
