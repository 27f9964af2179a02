//! What the demo does by itself once it serves: one call to each of globex's cloud adapters
//! (each answered by its provider's mock), then a hot swap of initech's notifications from
//! the embedded default to the Twilio adapter while sends stream in, counting that none is
//! lost. Everything is logged; a step that fails is logged and the demo goes on serving.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{json, Value};
use switchyard_host::{BindingSpec, ComponentSource, CredentialConfig, Injection, Runtime};
use switchyard_host::{SecretSource, Service};

use crate::mocks::Mocks;

/// Runs the tour.
pub async fn run(rt: Runtime, mocks: &Mocks) {
    cloud_calls(&rt).await;
    tracing::info!(
        "tour: the providers (mocks) hold what globex's adapters sent them: Supabase buckets \
         {:?}, Twilio {} SMS, SendGrid {} mail, Stripe {} request(s), Algolia indexes {:?}",
        mocks.supabase.buckets(),
        mocks.twilio.messages().len(),
        mocks.sendgrid.messages().len(),
        mocks.stripe.requests().len(),
        mocks.algolia.index_names(),
    );
    if let Err(e) = hot_swap(&rt, mocks).await {
        tracing::warn!(error = %e, "tour: the hot swap did not complete");
    }
}

/// One call per cloud adapter of globex.
async fn cloud_calls(rt: &Runtime) {
    let steps: [(Service, &str, Value); 9] = [
        (
            Service::Storage,
            "create-bucket",
            json!({"name": "docs", "options": {}}),
        ),
        (
            Service::Storage,
            "upload",
            json!({"bucket": "docs", "key": "hello.txt", "body": "hello from Supabase",
                   "options": {"content-type": "text/plain", "metadata": [["owner", "globex"]]}}),
        ),
        (
            Service::Storage,
            "signed-download-url",
            json!({"bucket": "docs", "key": "hello.txt", "expires-in-s": 600}),
        ),
        (
            Service::Notification,
            "send",
            json!({"message": {"channel": "sms", "to": "+15558675310", "body": "Your code is 123456"}}),
        ),
        (
            Service::Email,
            "send",
            json!({"message": {"from": {"email": "shop@example.com"}, "to": [{"email": "ada@example.com"}],
                   "subject": "Your receipt", "text": "Thanks!"}}),
        ),
        (
            Service::Payment,
            "create-payment",
            json!({"payment": {"amount": 1999, "currency": "EUR", "payment-method": "pm_card_visa", "confirm": true}}),
        ),
        (
            Service::Search,
            "create-index",
            json!({"name": "products", "settings": {"searchable": ["title"], "facets": ["brand"],
                   "filterable": [], "sortable": []}}),
        ),
        (
            Service::Search,
            "index-documents",
            json!({"index": "products", "documents": [
                {"id": "p1", "body": {"title": "Trail running shoes", "brand": "Peak"}},
                {"id": "p2", "body": {"title": "Road running shoes", "brand": "Swift"}}]}),
        ),
        (
            Service::Search,
            "search",
            json!({"index": "products", "request": {"query": "trail", "filters": [], "facet-filters": [],
                   "facets": ["brand"], "highlight": {"pre-tag": "<em>", "post-tag": "</em>"}, "page": {}}}),
        ),
    ];
    for (service, function, args) in steps {
        let adapter = rt
            .bindings()
            .into_iter()
            .find(|b| b.tenant == "globex" && b.service == service.to_string())
            .map(|b| b.adapter)
            .unwrap_or_default();
        match rt.invoke_json("globex", service, function, args).await {
            Ok(result) => tracing::info!(
                tenant = "globex", %service, %adapter,
                "tour: {function} -> {}", short(&result)
            ),
            Err(e) => {
                tracing::warn!(tenant = "globex", %service, %adapter, "tour: {function} failed: {e}")
            }
        }
    }
}

/// initech's notifications move from `notification-local` to the Twilio adapter while 60
/// sends stream in; every send must be accepted by one or the other.
async fn hot_swap(rt: &Runtime, mocks: &Mocks) -> anyhow::Result<()> {
    const SENDS: usize = 60;
    let twilio_before = mocks.twilio.messages().len();
    let done = AtomicUsize::new(0);
    let stream = async {
        let mut ids = Vec::new();
        for i in 0..SENDS {
            let sent = rt
                .invoke_json(
                    "initech",
                    Service::Notification,
                    "send",
                    json!({"message": {"channel": "sms", "to": "+15558675310", "body": format!("order {i} shipped")}}),
                )
                .await;
            ids.push(sent.map(|v| v["id"].as_str().unwrap_or_default().to_string()));
            done.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        ids
    };
    let swap = async {
        while done.load(Ordering::SeqCst) < SENDS / 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tracing::info!(
            tenant = "initech",
            "tour: hot-swapping notification from notification-local to notification-twilio, \
             sends still streaming in"
        );
        rt.rebind("initech", Service::Notification, twilio_spec()?)
            .await
            .map_err(anyhow::Error::from)
    };
    let (ids, swapped) = tokio::join!(stream, swap);
    swapped?;
    let failed = ids.iter().filter(|r| r.is_err()).count();
    let local = ids
        .iter()
        .filter(|r| matches!(r, Ok(id) if id.starts_with("msg_")))
        .count();
    let twilio = ids
        .iter()
        .filter(|r| matches!(r, Ok(id) if id.starts_with("SM")))
        .count();
    let received = mocks.twilio.messages().len() - twilio_before;
    tracing::info!(
        tenant = "initech",
        "tour: hot swap done without a restart: {SENDS} sends, {local} answered by the embedded \
         default, {twilio} by Twilio (the mock received {received}), {failed} failed. \
         (switchyard.toml still names notification-local: an admin reload would swap back.)"
    );
    Ok(())
}

/// initech's Twilio binding, as its configuration would say it.
fn twilio_spec() -> anyhow::Result<BindingSpec> {
    let env = |name: &str| std::env::var(name).map_err(|_| anyhow::anyhow!("{name} is not set"));
    let url = env("TWILIO_URL")?;
    let sid = env("TWILIO_ACCOUNT_SID")?;
    let component = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/components/notification-twilio.wasm");
    Ok(BindingSpec::new(ComponentSource::path(component))
        .config("base_url", &url)
        .config("account_sid", &sid)
        .config("from", "+15005550006")
        .config(
            "messaging_service_sid",
            env("TWILIO_MESSAGING_SERVICE_SID")?,
        )
        .allow(&url)?
        .credential(&CredentialConfig {
            host: url.clone(),
            secret: SecretSource::Env("TWILIO_AUTH_TOKEN".into()),
            inject: Injection::Basic { username: sid },
        })?)
}

/// A JSON value cut to one readable line.
fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(220) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}
