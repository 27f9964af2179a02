//! The compiled-component cache (`runtime.compile_cache`): a restart loads every component
//! it has compiled before, the file names the cache relative to itself, and no binding's
//! directory may hold it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use switchyard_host::compile_cache::CompileCacheStats;
use switchyard_host::services::analytics::Event;
use switchyard_host::{BindingSpec, ComponentSource, Runtime, RuntimeOptions, Service};

use crate::support::{component, options};

/// The embedded defaults of five services, each keeping its data under `data`.
fn bindings(data: &Path) -> Vec<(Service, BindingSpec)> {
    [
        (Service::Analytics, "analytics-local"),
        (Service::Email, "email-local"),
        (Service::Notification, "notification-local"),
        (Service::Payment, "payment-local"),
        (Service::Storage, "storage-local"),
    ]
    .into_iter()
    .map(|(service, name)| {
        let spec = BindingSpec::new(ComponentSource::path(component(name))).files(data.join(name));
        (service, spec)
    })
    .collect()
}

async fn start(cache: &Path, data: &Path) -> Runtime {
    let mut b = Runtime::builder().options(RuntimeOptions {
        compile_cache: Some(cache.to_path_buf()),
        ..options()
    });
    for (service, spec) in bindings(data) {
        b = b.binding("acme", service, spec);
    }
    b.build().await.expect("runtime builds")
}

#[tokio::test]
async fn a_restart_loads_every_component_from_the_cache() {
    let (cache, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = start(cache.path(), data.path()).await;
    assert_eq!(
        first.compile_cache_stats(),
        Some(CompileCacheStats { hits: 0, misses: 5 })
    );
    first.shutdown().await;

    let second = start(cache.path(), data.path()).await;
    assert_eq!(
        second.compile_cache_stats(),
        Some(CompileCacheStats { hits: 5, misses: 0 })
    );
    // What came from the cache runs.
    let analytics = second.analytics("acme").expect("bound");
    analytics
        .track(&Event::new("signed_up", "user-1"))
        .await
        .expect("a cached component tracks");
    let metrics = second.prometheus_metrics();
    assert!(
        metrics.contains("switchyard_compile_cache_hits_total 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains("switchyard_compile_cache_misses_total 0"),
        "{metrics}"
    );
    second.shutdown().await;
}

#[tokio::test]
async fn without_a_cache_nothing_is_kept() {
    let data = tempfile::tempdir().unwrap();
    let mut b = Runtime::builder().options(options());
    for (service, spec) in bindings(data.path()) {
        b = b.binding("acme", service, spec);
    }
    let rt = b.build().await.expect("runtime builds");
    assert_eq!(rt.compile_cache_stats(), None);
    assert!(!rt.prometheus_metrics().contains("compile_cache"));
}

#[tokio::test]
async fn the_file_names_the_cache_relative_to_itself() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("switchyard.toml");
    let text = format!(
        "[runtime]\ncompile_cache = \"state/compiled\"\n\n[tenants.acme.analytics]\ncomponent = {:?}\nfiles = \"data\"\n",
        component("analytics-local").display().to_string()
    );
    std::fs::write(&file, text).unwrap();
    let rt = Runtime::builder()
        .config_file(&file)
        .expect("the file parses")
        .build()
        .await
        .expect("runtime builds");
    assert_eq!(
        rt.compile_cache_stats(),
        Some(CompileCacheStats { hits: 0, misses: 1 })
    );
    let dir = root.path().join("state/compiled");
    let mode = std::fs::metadata(&dir)
        .expect("created")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700);
}

#[tokio::test]
async fn a_binding_whose_files_overlap_the_cache_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let files = root.path().join("files");
    let err = Runtime::builder()
        .options(RuntimeOptions {
            compile_cache: Some(files.join("compiled")),
            ..options()
        })
        .binding(
            "acme",
            Service::Analytics,
            BindingSpec::new(ComponentSource::path(component("analytics-local"))).files(&files),
        )
        .build()
        .await
        .err()
        .expect("a guest could write the cache")
        .to_string();
    assert!(err.contains("runtime.compile_cache"), "{err}");
    assert!(err.contains("files"), "{err}");

    // Nor may a binding's directory lie inside the cache, where its guest could plant entries.
    let cache = root.path().join("cache");
    let err = Runtime::builder()
        .options(RuntimeOptions {
            compile_cache: Some(cache.clone()),
            ..options()
        })
        .binding(
            "acme",
            Service::Analytics,
            BindingSpec::new(ComponentSource::path(component("analytics-local")))
                .files(cache.join("modules")),
        )
        .build()
        .await
        .err()
        .expect("a guest could plant cache entries")
        .to_string();
    assert!(err.contains("overlaps runtime.compile_cache"), "{err}");
}

#[tokio::test]
async fn a_cache_others_may_write_is_refused_at_start() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("compiled");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = Runtime::builder()
        .options(RuntimeOptions {
            compile_cache: Some(dir),
            ..options()
        })
        .build()
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("others may write it"), "{err}");
}
