//! Hot swap: from the Rust API and by changing the component file, under load, losing nothing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use switchyard_host::services::analytics::Event;
use switchyard_host::{BindingSpec, ComponentSource, Error, Runtime, Service};
use switchyard_tests::mock::posthog::MockPostHog;
use switchyard_tests::mock::recorder::MockRecorder;

use crate::support::{component, eventually, options, posthog_spec, runtime, API_KEY};

/// The recorder adapter's binding, sending every call to `recorder`.
fn recorder_spec(recorder: &MockRecorder) -> BindingSpec {
    BindingSpec::new(ComponentSource::path(component("test-recorder")))
        .config("endpoint", format!("{}/events", recorder.base_url()))
        .allow(&recorder.base_url())
        .expect("allow")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_under_a_steady_stream_of_calls_fails_none_and_loses_none() {
    let mock = MockPostHog::start(API_KEY).await;
    let recorder = MockRecorder::start().await;
    let rt = runtime(vec![(
        "acme",
        Service::Analytics,
        posthog_spec(&mock, &[("flush_at", "7")]),
    )])
    .await;
    let sent = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let a = rt.analytics("acme").expect("binding");
            let (sent, stop) = (sent.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    a.track(&Event::new("tick", format!("w{w}-{i}")))
                        .await
                        .expect("no call fails during a swap");
                    sent.fetch_add(1, Ordering::SeqCst);
                    i += 1;
                }
            })
        })
        .collect();
    assert!(
        eventually(Duration::from_secs(10), || sent.load(Ordering::SeqCst)
            >= 40)
        .await
    );
    let report = rt
        .rebind("acme", Service::Analytics, recorder_spec(&recorder))
        .await
        .expect("swap");
    assert_ne!(report.old_digest, report.new_digest);
    assert_eq!(
        report.drained,
        Ok(()),
        "the old component delivered its batch"
    );
    let at_swap = sent.load(Ordering::SeqCst);
    assert!(
        eventually(Duration::from_secs(10), || sent.load(Ordering::SeqCst)
            >= at_swap + 40)
        .await
    );
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.expect("worker");
    }
    let total = sent.load(Ordering::SeqCst);
    // Everything accepted by PostHog's generation reached PostHog; the rest reached the recorder.
    let on_recorder = recorder.request_count();
    let on_posthog = mock.event_count();
    assert!(
        on_recorder > 0 && on_posthog > 0,
        "both served: {on_posthog} + {on_recorder}"
    );
    assert_eq!(
        on_posthog + on_recorder,
        total,
        "every call delivered exactly once"
    );
    assert!(mock.duplicate_uuids().is_empty());
}

#[tokio::test]
async fn a_component_that_does_not_implement_the_contract_is_refused_and_the_old_one_stays() {
    let mock = MockPostHog::start(API_KEY).await;
    let rt = runtime(vec![("acme", Service::Analytics, posthog_spec(&mock, &[]))]).await;
    let before = rt.bindings()[0].digest.clone();
    let err = rt
        .swap(
            "acme",
            Service::Analytics,
            ComponentSource::path(component("test-wrong-contract")),
        )
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::InvalidComponent { .. }), "{err}");
    assert!(
        err.to_string().contains("switchyard:analytics"),
        "names the contract: {err}"
    );
    let junk = ComponentSource::Bytes {
        name: "junk".into(),
        bytes: Arc::from(&b"not wasm"[..]),
    };
    assert!(matches!(
        rt.swap("acme", Service::Analytics, junk).await,
        Err(Error::InvalidComponent { .. })
    ));
    assert_eq!(
        rt.bindings()[0].digest,
        before,
        "the old component still serves"
    );
    rt.analytics("acme")
        .expect("binding")
        .track(&Event::new("still", "u"))
        .await
        .expect("works");
}

#[tokio::test]
async fn a_drain_that_fails_keeps_the_old_generation_until_it_delivers() {
    let mock = MockPostHog::start(API_KEY).await;
    let recorder = MockRecorder::start().await;
    let rt = runtime(vec![(
        "acme",
        Service::Analytics,
        posthog_spec(&mock, &[("flush_at", "100"), ("max_retries", "0")]),
    )])
    .await;
    let a = rt.analytics("acme").expect("binding");
    for i in 0..3 {
        a.track(&Event::new("held", format!("u{i}")))
            .await
            .expect("accepted");
    }
    mock.fail_next(1, 503, "down");
    let report = rt
        .rebind("acme", Service::Analytics, recorder_spec(&recorder))
        .await
        .expect("swap");
    assert!(
        report.drained.is_err(),
        "the provider was down during the swap"
    );
    assert_eq!(rt.bindings()[0].retiring, 1);
    a.track(&Event::new("new", "u"))
        .await
        .expect("the new component serves meanwhile");
    mock.wait_for_events(3, Duration::from_secs(10))
        .await
        .expect("the retiring generation delivered on a later tick");
    assert!(eventually(Duration::from_secs(5), || rt.bindings()[0].retiring == 0).await);
    assert!(mock.duplicate_uuids().is_empty());
}

#[tokio::test]
async fn changing_the_component_file_swaps_the_binding() {
    let mock = MockPostHog::start(API_KEY).await;
    let recorder = MockRecorder::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let live = dir.path().join("live.wasm");
    std::fs::copy(component("analytics-posthog"), &live).expect("copy");
    // One configuration both adapters understand, so only the file changes.
    let spec = BindingSpec {
        component: ComponentSource::path(&live),
        ..posthog_spec(
            &mock,
            &[
                ("flush_at", "100"),
                ("endpoint", &format!("{}/events", recorder.base_url())),
            ],
        )
    }
    .allow(&recorder.base_url())
    .expect("allow");
    let rt = Runtime::builder()
        .options(switchyard_host::RuntimeOptions {
            watch: true,
            ..options()
        })
        .binding("acme", Service::Analytics, spec)
        .build()
        .await
        .expect("runtime");
    let a = rt.analytics("acme").expect("binding");
    a.track(&Event::new("before", "u")).await.expect("accepted");
    let before = rt.bindings()[0].digest.clone();

    // A broken write is refused and the old component keeps serving.
    std::fs::write(&live, b"garbage").expect("write");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(rt.bindings()[0].digest, before);
    a.track(&Event::new("during", "u"))
        .await
        .expect("still served");

    let staged = dir.path().join("staged.wasm");
    std::fs::copy(component("test-recorder"), &staged).expect("copy");
    std::fs::rename(&staged, &live).expect("atomic replace");
    assert!(
        eventually(Duration::from_secs(30), || rt.bindings()[0].digest
            != before)
        .await,
        "swapped"
    );
    a.track(&Event::new("after", "u"))
        .await
        .expect("served by the new component");
    assert_eq!(recorder.request_count(), 1);
    let names: Vec<String> = mock.events().into_iter().map(|e| e.event).collect();
    assert_eq!(
        names,
        ["before", "during"],
        "the old component delivered its batch at the swap"
    );
}
