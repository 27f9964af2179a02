//! The payment contract's behaviour suite, written once and run for every provider through
//! the JSON gateway (`Runtime::invoke_json`), so it also proves the JSON mapping.
//!
//! Each check is an `async fn(&Provider)`; [`suite!`] runs every check for one provider:
//! the embedded default (`payment-local`) and `payment-stripe` against its mock
//! (`switchyard_tests::mock::stripe`). Where providers genuinely differ, a check reads the
//! provider's [`Caps`] instead of being weakened for everyone.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use switchyard_host::{
    BindingSpec, ComponentSource, CredentialConfig, ErrorKind, Injection, ProviderError, Runtime,
    SecretSource, Service,
};
use switchyard_tests::mock::stripe::{MockStripe, MockStripeOptions};

use crate::support::{component, runtime};

const TENANT: &str = "acme";

/// The Stripe secret key the mock expects and the host injects.
const STRIPE_KEY: &str = "sk_test_switchyard_suite_4242";

/// What a provider does where providers differ.
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    /// A payment's `payment-method` is the id the caller gave. Stripe turns a test shortcut
    /// (`pm_card_visa`) into a new PaymentMethod (`pm_1...`).
    pub keeps_payment_method_ids: bool,
    /// A refund the card refuses is `failed` in the answer to `create-refund`. At Stripe refund
    /// failures are asynchronous: answered `succeeded`/`pending`, `failed` on a later read.
    pub refund_failure_is_immediate: bool,
}

impl Caps {
    const LOCAL: Caps = Caps {
        keeps_payment_method_ids: true,
        refund_failure_is_immediate: true,
    };
    const STRIPE: Caps = Caps {
        keeps_payment_method_ids: false,
        refund_failure_is_immediate: false,
    };
}

/// A provider under test: a runtime whose tenant `acme` binds the payment service to it.
pub struct Provider {
    /// The provider's name, in failure messages.
    pub name: &'static str,
    /// Where it differs from others.
    pub caps: Caps,
    rt: Runtime,
    _dir: Option<tempfile::TempDir>,
    /// The Stripe mock the adapter talks to, for `payment-stripe`.
    stripe: Option<MockStripe>,
}

impl Provider {
    /// The embedded default, with its ledger in a fresh temporary directory.
    async fn local() -> Provider {
        let tmp = tempfile::tempdir().expect("tempdir");
        let rt = local_runtime(tmp.path()).await;
        Provider {
            name: "payment-local",
            caps: Caps::LOCAL,
            rt,
            _dir: Some(tmp),
            stripe: None,
        }
    }

    /// `payment-stripe` against a fresh Stripe mock, the secret key injected by the host.
    /// Keyed requests hold their key for 5 ms at the mock, as real requests take time, so
    /// concurrent retries meet `idempotency_key_in_use`.
    async fn stripe() -> Provider {
        let mock = MockStripe::start_with(
            MockStripeOptions::new(STRIPE_KEY).processing_delay(Duration::from_millis(5)),
        )
        .await;
        let rt = runtime(vec![(
            TENANT,
            Service::Payment,
            stripe_spec(&mock, STRIPE_KEY),
        )])
        .await;
        Provider {
            name: "payment-stripe",
            caps: Caps::STRIPE,
            rt,
            _dir: None,
            stripe: Some(mock),
        }
    }

    async fn call(&self, function: &str, args: Value) -> Result<Value, switchyard_host::Error> {
        self.rt
            .invoke_json(TENANT, Service::Payment, function, args)
            .await
    }

    /// The call's answer; panics with the error otherwise.
    async fn ok(&self, function: &str, args: Value) -> Value {
        match self.call(function, args.clone()).await {
            Ok(v) => v,
            Err(e) => panic!("{}: {function}({args}) failed: {e}", self.name),
        }
    }

    /// The contract error of a call that must fail.
    async fn err(&self, function: &str, args: Value) -> ProviderError {
        match self.call(function, args.clone()).await {
            Ok(v) => panic!("{}: {function}({args}) succeeded: {v}", self.name),
            Err(e) => e
                .provider()
                .unwrap_or_else(|| panic!("{}: not a contract error: {e}", self.name))
                .clone(),
        }
    }

    /// Asserts the call fails with `kind` and a message naming `field`; answers the error.
    async fn rejects(
        &self,
        function: &str,
        args: Value,
        kind: ErrorKind,
        field: &str,
    ) -> ProviderError {
        let e = self.err(function, args.clone()).await;
        assert_eq!(e.kind, kind, "{}: {function}({args}): {e:?}", self.name);
        assert!(
            e.message.contains(field),
            "{}: {function}: the message {:?} should name {field}",
            self.name,
            e.message
        );
        e
    }

    async fn customer(&self, email: &str) -> Value {
        self.ok(
            "create-customer",
            json!({"customer": {"email": email, "name": "Ada"}}),
        )
        .await
    }

    /// A payment created (and confirmed when `pm` is given) with `extra` fields.
    async fn payment(&self, amount: i64, pm: Option<&str>, extra: Value) -> Value {
        let mut p = json!({"amount": amount, "currency": "USD"});
        if let Some(pm) = pm {
            p["payment-method"] = json!(pm);
            p["confirm"] = json!(true);
        }
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                p[k] = v;
            }
        }
        self.ok("create-payment", json!({"payment": p})).await
    }

    async fn get_payment(&self, id: &Value) -> Value {
        self.ok("get-payment", json!({"id": id})).await
    }

    async fn all_payments(&self) -> Vec<Value> {
        let page = self
            .ok("list-payments", json!({"page": {"limit": 100}}))
            .await;
        page["payments"].as_array().cloned().unwrap_or_default()
    }
}

async fn local_runtime(dir: &Path) -> Runtime {
    let spec = BindingSpec::new(ComponentSource::path(component("payment-local"))).files(dir);
    runtime(vec![(TENANT, Service::Payment, spec)]).await
}

/// A `payment-stripe` binding pointed at `mock`, with `key` injected as `Authorization: Bearer`
/// and quick retries.
fn stripe_spec(mock: &MockStripe, key: &str) -> BindingSpec {
    BindingSpec::new(ComponentSource::path(component("payment-stripe")))
        .config("api_base", mock.base_url())
        .config("max_retries", "6")
        .config("retry_base_ms", "20")
        .config("retry_max_ms", "200")
        .allow(&mock.base_url())
        .expect("allow")
        .credential(&CredentialConfig {
            host: mock.base_url(),
            secret: SecretSource::Value(key.into()),
            inject: Injection::Bearer,
        })
        .expect("credential")
}

/// Runs every check for one provider: `suite!(module => constructor; check, ...)`.
macro_rules! suite {
    ($module:ident => $provider:expr; $($check:ident),* $(,)?) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    let p = $provider.await;
                    super::$check(&p).await;
                }
            )*
        }
    };
}

suite!(local => super::Provider::local();
    health_is_ok,
    customers_are_created_read_updated_and_paged,
    automatic_payment_succeeds_on_confirm,
    payment_moves_through_its_states,
    manual_capture_in_full_or_in_part,
    cancel_releases_an_authorisation,
    declined_card_leaves_the_payment_waiting_for_a_method,
    refunds_full_and_partial_never_exceed_the_captured_amount,
    refund_failure_on_the_refund_fail_card,
    idempotency_key_replays_and_conflicts,
    concurrent_creates_with_one_key_make_one_payment,
    concurrent_refunds_never_exceed_the_captured_amount,
    concurrent_retries_of_one_refund_refund_once,
    bad_input_is_rejected_naming_the_field,
    unknown_ids_are_not_found,
    lists_are_paged_and_filtered,
);

suite!(stripe => super::Provider::stripe();
    health_is_ok,
    customers_are_created_read_updated_and_paged,
    automatic_payment_succeeds_on_confirm,
    payment_moves_through_its_states,
    manual_capture_in_full_or_in_part,
    cancel_releases_an_authorisation,
    declined_card_leaves_the_payment_waiting_for_a_method,
    refunds_full_and_partial_never_exceed_the_captured_amount,
    refund_failure_on_the_refund_fail_card,
    idempotency_key_replays_and_conflicts,
    concurrent_creates_with_one_key_make_one_payment,
    concurrent_refunds_never_exceed_the_captured_amount,
    concurrent_retries_of_one_refund_refund_once,
    bad_input_is_rejected_naming_the_field,
    unknown_ids_are_not_found,
    lists_are_paged_and_filtered,
);

async fn health_is_ok(p: &Provider) {
    let h = p.ok("health", json!({})).await;
    assert_eq!(h["ok"], true, "{h}");
}

async fn customers_are_created_read_updated_and_paged(p: &Provider) {
    let c = p
        .ok(
            "create-customer",
            json!({"customer": {"email": "ada@example.com", "name": "Ada",
                   "metadata": [["plan", "pro"], ["ref", "x"]]}}),
        )
        .await;
    let id = c["id"].as_str().expect("id").to_string();
    assert!(!id.is_empty());
    assert_eq!(c["email"], "ada@example.com");
    assert_eq!(c["description"], Value::Null);
    assert_eq!(p.ok("get-customer", json!({"id": id})).await, c);

    let u = p
        .ok(
            "update-customer",
            json!({"id": id, "update": {"name": "Ada L.", "email": "",
                   "metadata": [["plan", "team"], ["ref", ""]]}}),
        )
        .await;
    assert_eq!(u["name"], "Ada L.");
    assert_eq!(u["email"], Value::Null, "an empty string clears");
    assert_eq!(u["metadata"], json!([["plan", "team"]]));
    assert_eq!(p.ok("get-customer", json!({"id": id})).await, u);

    for i in 0..4 {
        p.customer(&format!("c{i}@example.com")).await;
    }
    let mut seen = HashSet::new();
    let mut cursor = Value::Null;
    let mut pages = 0;
    loop {
        let page = p
            .ok(
                "list-customers",
                json!({"page": {"limit": 2, "cursor": cursor}}),
            )
            .await;
        pages += 1;
        for c in page["customers"].as_array().expect("customers") {
            assert!(seen.insert(c["id"].clone()), "no customer twice");
        }
        cursor = page["page"]["next-cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(pages, 3);
}

async fn automatic_payment_succeeds_on_confirm(p: &Provider) {
    let c = p.customer("pay@example.com").await;
    let pay = p
        .payment(
            2000,
            Some("pm_card_visa"),
            json!({"customer": c["id"], "description": "order 1",
                   "metadata": [["order", "1"]]}),
        )
        .await;
    assert_eq!(pay["status"], "succeeded");
    assert_eq!(pay["amount"], 2000);
    assert_eq!(pay["amount-received"], 2000);
    assert_eq!(pay["amount-capturable"], 0);
    assert_eq!(pay["amount-refunded"], 0);
    assert_eq!(pay["currency"], "USD");
    assert_eq!(pay["capture-method"], "automatic");
    assert_eq!(pay["customer"], c["id"]);
    if p.caps.keeps_payment_method_ids {
        assert_eq!(pay["payment-method"], "pm_card_visa");
    } else {
        // A new PaymentMethod made from the test shortcut, not the shortcut itself.
        let pm = pay["payment-method"].as_str().unwrap_or_default();
        assert!(pm.starts_with("pm_") && pm != "pm_card_visa", "{pay}");
    }
    assert_eq!(pay["metadata"], json!([["order", "1"]]));
    assert_eq!(p.get_payment(&pay["id"]).await, pay);
}

async fn payment_moves_through_its_states(p: &Provider) {
    let pay = p.payment(500, None, json!({})).await;
    assert_eq!(pay["status"], "requires-payment-method");
    let id = &pay["id"];
    p.rejects(
        "confirm-payment",
        json!({"id": id}),
        ErrorKind::InvalidInput,
        "payment-method",
    )
    .await;
    let done = p
        .ok(
            "confirm-payment",
            json!({"id": id, "payment-method": "pm_card_mastercard"}),
        )
        .await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["amount-received"], 500);
    p.rejects(
        "confirm-payment",
        json!({"id": id}),
        ErrorKind::Conflict,
        "succeeded",
    )
    .await;

    let pay = p
        .ok(
            "create-payment",
            json!({"payment": {"amount": 700, "currency": "EUR", "payment-method": "pm_card_visa"}}),
        )
        .await;
    assert_eq!(pay["status"], "requires-confirmation");
    assert_eq!(pay["amount-received"], 0);
    let done = p.ok("confirm-payment", json!({"id": pay["id"]})).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["currency"], "EUR");
}

async fn manual_capture_in_full_or_in_part(p: &Provider) {
    let manual = json!({"capture-method": "manual"});
    let pay = p.payment(1000, Some("pm_card_visa"), manual.clone()).await;
    assert_eq!(pay["status"], "requires-capture");
    assert_eq!(pay["amount-capturable"], 1000);
    assert_eq!(pay["amount-received"], 0);
    let id = &pay["id"];
    p.rejects(
        "create-refund",
        json!({"refund": {"payment": id}}),
        ErrorKind::Conflict,
        "requires-capture",
    )
    .await;
    p.rejects(
        "capture-payment",
        json!({"id": id, "amount": 1500}),
        ErrorKind::InvalidInput,
        "amount",
    )
    .await;
    let got = p
        .ok("capture-payment", json!({"id": id, "amount": 600}))
        .await;
    assert_eq!(got["status"], "succeeded");
    assert_eq!(got["amount-received"], 600);
    assert_eq!(got["amount-capturable"], 0);
    p.rejects(
        "capture-payment",
        json!({"id": id}),
        ErrorKind::Conflict,
        "succeeded",
    )
    .await;
    // Only what was captured can be refunded.
    p.rejects(
        "create-refund",
        json!({"refund": {"payment": id, "amount": 700}}),
        ErrorKind::InvalidInput,
        "amount",
    )
    .await;

    let full = p.payment(300, Some("pm_card_amex"), manual).await;
    let got = p.ok("capture-payment", json!({"id": full["id"]})).await;
    assert_eq!(got["amount-received"], 300);
}

async fn cancel_releases_an_authorisation(p: &Provider) {
    let pay = p
        .payment(
            800,
            Some("pm_card_visa"),
            json!({"capture-method": "manual"}),
        )
        .await;
    let c = p
        .ok(
            "cancel-payment",
            json!({"id": pay["id"], "reason": "requested-by-customer"}),
        )
        .await;
    assert_eq!(c["status"], "canceled");
    assert_eq!(c["amount-capturable"], 0);
    assert_eq!(c["cancellation-reason"], "requested-by-customer");
    p.rejects(
        "capture-payment",
        json!({"id": pay["id"]}),
        ErrorKind::Conflict,
        "canceled",
    )
    .await;
    p.rejects(
        "cancel-payment",
        json!({"id": pay["id"]}),
        ErrorKind::Conflict,
        "canceled",
    )
    .await;

    let done = p.payment(100, Some("pm_card_visa"), json!({})).await;
    p.rejects(
        "cancel-payment",
        json!({"id": done["id"]}),
        ErrorKind::Conflict,
        "succeeded",
    )
    .await;
    let unconfirmed = p.payment(100, None, json!({})).await;
    let c = p
        .ok("cancel-payment", json!({"id": unconfirmed["id"]}))
        .await;
    assert_eq!(c["status"], "canceled");
    assert_eq!(c["cancellation-reason"], Value::Null);
}

async fn declined_card_leaves_the_payment_waiting_for_a_method(p: &Provider) {
    let args = json!({"payment": {"amount": 1200, "currency": "USD",
        "payment-method": "pm_card_chargeDeclined", "confirm": true},
        "idempotency-key": "order-declined"});
    let e = p
        .rejects(
            "create-payment",
            args.clone(),
            ErrorKind::InvalidInput,
            "payment-method",
        )
        .await;
    assert_eq!(e.provider_code.as_deref(), Some("card_declined"));
    assert!(!e.retryable);
    // A retry with the key answers the same decline and makes no second payment.
    let again = p.err("create-payment", args).await;
    assert_eq!(again.provider_code.as_deref(), Some("card_declined"));
    let all = p.all_payments().await;
    assert_eq!(all.len(), 1, "{all:?}");
    let pay = &all[0];
    assert_eq!(pay["status"], "requires-payment-method");
    assert_eq!(pay["last-error-code"], "card_declined");
    assert_eq!(pay["amount-received"], 0);

    let e = p
        .err(
            "confirm-payment",
            json!({"id": pay["id"], "payment-method": "pm_card_chargeDeclinedInsufficientFunds"}),
        )
        .await;
    assert_eq!(e.provider_code.as_deref(), Some("card_declined"));
    let ok = p
        .ok(
            "confirm-payment",
            json!({"id": pay["id"], "payment-method": "pm_card_visa"}),
        )
        .await;
    assert_eq!(ok["status"], "succeeded");
    assert_eq!(ok["last-error-code"], Value::Null);
}

async fn refunds_full_and_partial_never_exceed_the_captured_amount(p: &Provider) {
    let pay = p.payment(1000, Some("pm_card_visa"), json!({})).await;
    let id = &pay["id"];
    let r1 = p
        .ok(
            "create-refund",
            json!({"refund": {"payment": id, "amount": 300, "reason": "requested-by-customer"}}),
        )
        .await;
    assert_eq!(r1["status"], "succeeded");
    assert_eq!(r1["amount"], 300);
    assert_eq!(r1["currency"], "USD");
    assert_eq!(r1["payment"], *id);
    assert_eq!(r1["reason"], "requested-by-customer");
    assert_eq!(p.ok("get-refund", json!({"id": r1["id"]})).await, r1);
    assert_eq!(p.get_payment(id).await["amount-refunded"], 300);
    p.rejects(
        "create-refund",
        json!({"refund": {"payment": id, "amount": 701}}),
        ErrorKind::InvalidInput,
        "amount",
    )
    .await;
    let r2 = p
        .ok(
            "create-refund",
            json!({"refund": {"payment": id, "amount": 200}}),
        )
        .await;
    assert_eq!(r2["amount"], 200);
    // No amount: everything left.
    let r3 = p
        .ok("create-refund", json!({"refund": {"payment": id}}))
        .await;
    assert_eq!(r3["amount"], 500);
    assert_eq!(p.get_payment(id).await["amount-refunded"], 1000);
    let e = p
        .rejects(
            "create-refund",
            json!({"refund": {"payment": id, "amount": 1}}),
            ErrorKind::Conflict,
            "refunded",
        )
        .await;
    assert_eq!(e.provider_code.as_deref(), Some("charge_already_refunded"));
    let list = p
        .ok("list-refunds", json!({"payment": id, "page": {}}))
        .await;
    assert_eq!(list["refunds"].as_array().map(Vec::len), Some(3));

    let other = p.payment(450, Some("pm_card_visa"), json!({})).await;
    let full = p
        .ok("create-refund", json!({"refund": {"payment": other["id"]}}))
        .await;
    assert_eq!(full["amount"], 450);
}

async fn refund_failure_on_the_refund_fail_card(p: &Provider) {
    let pay = p.payment(900, Some("pm_card_refundFail"), json!({})).await;
    assert_eq!(pay["status"], "succeeded");
    let r = p
        .ok("create-refund", json!({"refund": {"payment": pay["id"]}}))
        .await;
    let r = if p.caps.refund_failure_is_immediate {
        r
    } else {
        // Answered as accepted; the failure shows on a later read.
        assert!(
            matches!(r["status"].as_str(), Some("pending" | "succeeded")),
            "{r}"
        );
        let mut seen = Value::Null;
        for _ in 0..50 {
            seen = p.ok("get-refund", json!({"id": r["id"]})).await;
            if seen["status"] == "failed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        seen
    };
    assert_eq!(r["status"], "failed", "{r}");
    assert!(r["failure-reason"].is_string());
    assert_eq!(p.get_payment(&pay["id"]).await["amount-refunded"], 0);
}

async fn idempotency_key_replays_and_conflicts(p: &Provider) {
    let args = json!({"payment": {"amount": 1500, "currency": "GBP",
        "payment-method": "pm_card_visa", "confirm": true}, "idempotency-key": "order-42"});
    let first = p.ok("create-payment", args.clone()).await;
    let second = p.ok("create-payment", args).await;
    assert_eq!(first["id"], second["id"]);
    assert_eq!(p.all_payments().await.len(), 1, "charged once");

    let e = p
        .rejects(
            "create-payment",
            json!({"payment": {"amount": 1600, "currency": "GBP",
                "payment-method": "pm_card_visa", "confirm": true},
                "idempotency-key": "order-42"}),
            ErrorKind::Conflict,
            "idempotency-key",
        )
        .await;
    assert_eq!(e.provider_code.as_deref(), Some("idempotency_error"));
    // The key of a payment is not reusable for a customer either.
    p.rejects(
        "create-customer",
        json!({"customer": {"email": "k@example.com"}, "idempotency-key": "order-42"}),
        ErrorKind::Conflict,
        "idempotency-key",
    )
    .await;

    let c1 = p
        .ok(
            "create-customer",
            json!({"customer": {"email": "k@example.com"}, "idempotency-key": "cust-1"}),
        )
        .await;
    let c2 = p
        .ok(
            "create-customer",
            json!({"customer": {"email": "k@example.com"}, "idempotency-key": "cust-1"}),
        )
        .await;
    assert_eq!(c1, c2);

    let refund = json!({"refund": {"payment": first["id"], "amount": 100},
        "idempotency-key": "refund-1"});
    let r1 = p.ok("create-refund", refund.clone()).await;
    let r2 = p.ok("create-refund", refund).await;
    assert_eq!(r1, r2);
    assert_eq!(p.get_payment(&first["id"]).await["amount-refunded"], 100);
    p.rejects(
        "create-refund",
        json!({"refund": {"payment": first["id"], "amount": 200},
            "idempotency-key": "refund-1"}),
        ErrorKind::Conflict,
        "idempotency-key",
    )
    .await;
}

async fn concurrent_creates_with_one_key_make_one_payment(p: &Provider) {
    const ROUNDS: usize = 4;
    for round in 0..ROUNDS {
        let args = json!({"payment": {"amount": 4200, "currency": "USD",
            "payment-method": "pm_card_visa", "confirm": true},
            "idempotency-key": format!("retry-storm-{round}")});
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..32 {
            let rt = p.rt.clone();
            let args = args.clone();
            tasks.spawn(async move {
                rt.invoke_json(TENANT, Service::Payment, "create-payment", args)
                    .await
            });
        }
        let mut ids = HashSet::new();
        while let Some(r) = tasks.join_next().await {
            let v = r
                .expect("task")
                .unwrap_or_else(|e| panic!("{}: retry failed: {e}", p.name));
            ids.insert(v["id"].clone());
        }
        assert_eq!(ids.len(), 1, "one payment for one key: {ids:?}");
    }
    let all = p.all_payments().await;
    assert_eq!(all.len(), ROUNDS, "{all:?}");
    assert!(all.iter().all(|x| x["amount-received"] == 4200));
}

async fn concurrent_refunds_never_exceed_the_captured_amount(p: &Provider) {
    let pay = p.payment(1000, Some("pm_card_visa"), json!({})).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let rt = p.rt.clone();
        let args = json!({"refund": {"payment": pay["id"], "amount": 100}});
        tasks.spawn(async move {
            rt.invoke_json(TENANT, Service::Payment, "create-refund", args)
                .await
        });
    }
    let (mut ok, mut refused) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r.expect("task") {
            Ok(_) => ok += 1,
            Err(e) => {
                let e = e.provider().expect("contract error").clone();
                assert!(
                    matches!(e.kind, ErrorKind::Conflict | ErrorKind::InvalidInput),
                    "{e:?}"
                );
                refused += 1;
            }
        }
    }
    assert_eq!((ok, refused), (10, 10));
    assert_eq!(p.get_payment(&pay["id"]).await["amount-refunded"], 1000);
    let list = p
        .ok(
            "list-refunds",
            json!({"payment": pay["id"], "page": {"limit": 100}}),
        )
        .await;
    let total: i64 = list["refunds"]
        .as_array()
        .expect("refunds")
        .iter()
        .filter(|r| r["status"] == "succeeded")
        .map(|r| r["amount"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(total, 1000);
}

async fn concurrent_retries_of_one_refund_refund_once(p: &Provider) {
    let pay = p.payment(1000, Some("pm_card_visa"), json!({})).await;
    let args = json!({"refund": {"payment": pay["id"], "amount": 250},
        "idempotency-key": "refund-storm"});
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let rt = p.rt.clone();
        let args = args.clone();
        tasks.spawn(async move {
            rt.invoke_json(TENANT, Service::Payment, "create-refund", args)
                .await
        });
    }
    let mut ids = HashSet::new();
    while let Some(r) = tasks.join_next().await {
        let v = r
            .expect("task")
            .unwrap_or_else(|e| panic!("{}: retry failed: {e}", p.name));
        ids.insert(v["id"].clone());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(p.get_payment(&pay["id"]).await["amount-refunded"], 250);
}

async fn bad_input_is_rejected_naming_the_field(p: &Provider) {
    // Something accepted first, which no rejected call may disturb.
    let kept = p.payment(1000, Some("pm_card_visa"), json!({})).await;
    let cust = p.customer("kept@example.com").await;
    let pay = |fields: Value| {
        let mut base = json!({"amount": 100, "currency": "USD"});
        if let Value::Object(f) = fields {
            for (k, v) in f {
                base[k] = v;
            }
        }
        json!({"payment": base})
    };
    use ErrorKind::InvalidInput as Bad;
    for amount in [0, -1, i64::MIN] {
        p.rejects(
            "create-payment",
            pay(json!({"amount": amount})),
            Bad,
            "amount",
        )
        .await;
    }
    for currency in ["", "usd", "US", "USDX", "XYZ", "€UR"] {
        p.rejects(
            "create-payment",
            pay(json!({"currency": currency})),
            Bad,
            "currency",
        )
        .await;
    }
    p.rejects(
        "create-payment",
        pay(json!({"payment-method": "pm_card_nonsense", "confirm": true})),
        Bad,
        "payment-method",
    )
    .await;
    p.rejects(
        "create-payment",
        pay(json!({"confirm": true})),
        Bad,
        "payment-method",
    )
    .await;
    p.rejects(
        "create-payment",
        pay(json!({"customer": ""})),
        Bad,
        "customer",
    )
    .await;
    p.rejects(
        "create-payment",
        pay(json!({"customer": "cus_doesnotexist"})),
        ErrorKind::NotFound,
        "customer",
    )
    .await;
    let huge = "x".repeat(1024 * 1024);
    p.rejects(
        "create-payment",
        pay(json!({"description": huge})),
        Bad,
        "description",
    )
    .await;
    p.rejects(
        "create-payment",
        pay(json!({"metadata": [["k", huge]]})),
        Bad,
        "metadata",
    )
    .await;
    let many: Vec<Value> = (0..51).map(|i| json!([format!("k{i}"), "v"])).collect();
    p.rejects(
        "create-payment",
        pay(json!({"metadata": many})),
        Bad,
        "metadata",
    )
    .await;
    p.rejects(
        "create-payment",
        json!({"payment": {"amount": 100, "currency": "USD"}, "idempotency-key": ""}),
        Bad,
        "idempotency-key",
    )
    .await;
    p.rejects(
        "create-payment",
        json!({"payment": {"amount": 100, "currency": "USD"}, "idempotency-key": "k".repeat(256)}),
        Bad,
        "idempotency-key",
    )
    .await;
    p.rejects(
        "create-customer",
        json!({"customer": {"email": "not-an-address"}}),
        Bad,
        "email",
    )
    .await;
    p.rejects(
        "create-customer",
        json!({"customer": {"name": huge}}),
        Bad,
        "name",
    )
    .await;
    for f in [
        "get-customer",
        "get-payment",
        "get-refund",
        "capture-payment",
        "cancel-payment",
    ] {
        p.rejects(f, json!({"id": ""}), Bad, "id").await;
    }
    p.rejects(
        "update-customer",
        json!({"id": cust["id"], "update": {"email": "nope"}}),
        Bad,
        "email",
    )
    .await;
    p.rejects(
        "capture-payment",
        json!({"id": kept["id"], "amount": -5}),
        Bad,
        "amount",
    )
    .await;
    p.rejects(
        "create-refund",
        json!({"refund": {"payment": kept["id"], "amount": 0}}),
        Bad,
        "amount",
    )
    .await;
    p.rejects(
        "create-refund",
        json!({"refund": {"payment": ""}}),
        Bad,
        "payment",
    )
    .await;
    p.rejects(
        "list-customers",
        json!({"page": {"limit": 0}}),
        Bad,
        "limit",
    )
    .await;
    p.rejects(
        "list-payments",
        json!({"page": {"cursor": "not-a-cursor"}}),
        Bad,
        "cursor",
    )
    .await;

    // Nothing accepted before was lost or changed.
    let all = p.all_payments().await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0], p.get_payment(&kept["id"]).await);
    assert_eq!(all[0]["amount-received"], 1000);
    assert_eq!(all[0]["amount-refunded"], 0);
    assert_eq!(p.ok("get-customer", json!({"id": cust["id"]})).await, cust);
}

async fn unknown_ids_are_not_found(p: &Provider) {
    use ErrorKind::NotFound;
    p.rejects(
        "get-customer",
        json!({"id": "cus_unknown"}),
        NotFound,
        "cus_unknown",
    )
    .await;
    p.rejects(
        "get-payment",
        json!({"id": "pi_unknown"}),
        NotFound,
        "pi_unknown",
    )
    .await;
    p.rejects(
        "get-refund",
        json!({"id": "re_unknown"}),
        NotFound,
        "re_unknown",
    )
    .await;
    p.rejects(
        "get-payment",
        json!({"id": "../../etc/passwd"}),
        NotFound,
        "id",
    )
    .await;
    p.rejects(
        "confirm-payment",
        json!({"id": "pi_unknown", "payment-method": "pm_card_visa"}),
        NotFound,
        "pi_unknown",
    )
    .await;
    p.rejects(
        "capture-payment",
        json!({"id": "pi_unknown"}),
        NotFound,
        "pi_unknown",
    )
    .await;
    p.rejects(
        "cancel-payment",
        json!({"id": "pi_unknown"}),
        NotFound,
        "pi_unknown",
    )
    .await;
    p.rejects(
        "update-customer",
        json!({"id": "cus_unknown", "update": {"name": "x"}}),
        NotFound,
        "cus_unknown",
    )
    .await;
    p.rejects(
        "create-refund",
        json!({"refund": {"payment": "pi_unknown"}}),
        NotFound,
        "pi_unknown",
    )
    .await;
}

async fn lists_are_paged_and_filtered(p: &Provider) {
    let a = p.customer("a@example.com").await;
    let b = p.customer("b@example.com").await;
    for _ in 0..3 {
        p.payment(100, Some("pm_card_visa"), json!({"customer": a["id"]}))
            .await;
    }
    p.payment(100, Some("pm_card_visa"), json!({"customer": b["id"]}))
        .await;
    let only_a = p
        .ok("list-payments", json!({"customer": a["id"], "page": {}}))
        .await;
    let items = only_a["payments"].as_array().expect("payments");
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|x| x["customer"] == a["id"]));
    let first = p.ok("list-payments", json!({"page": {"limit": 3}})).await;
    assert_eq!(first["payments"].as_array().map(Vec::len), Some(3));
    let next = &first["page"]["next-cursor"];
    assert!(next.is_string(), "{first}");
    let rest = p
        .ok(
            "list-payments",
            json!({"page": {"limit": 3, "cursor": next}}),
        )
        .await;
    assert_eq!(rest["payments"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["page"]["next-cursor"], Value::Null);
    // Newest first.
    let created = |v: &Value| {
        (
            v["created"]["seconds"].as_u64().unwrap_or(0),
            v["created"]["nanoseconds"].as_u64().unwrap_or(0),
        )
    };
    let all: Vec<Value> = first["payments"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(rest["payments"].as_array().into_iter().flatten())
        .cloned()
        .collect();
    assert!(all.windows(2).all(|w| created(&w[0]) >= created(&w[1])));
}

/// `payment-stripe` on the wire, against its mock: what only the cloud adapter does (requests
/// as Stripe expects them, the host's credential, retries). The suite above covers the contract.
mod stripe_wire {
    use std::time::Instant;

    use super::*;

    async fn stripe() -> (Provider, MockStripe) {
        let p = Provider::stripe().await;
        let mock = p.stripe.clone().expect("a Stripe provider has its mock");
        (p, mock)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn requests_are_form_encoded_keyed_and_carry_the_hosts_credential() {
        let (p, mock) = stripe().await;
        p.ok(
            "create-customer",
            json!({"customer": {"email": "ada@example.com", "metadata": [["plan", "pro"]]},
                   "idempotency-key": "cust-key-1"}),
        )
        .await;
        p.payment(
            2000,
            Some("pm_card_visa"),
            json!({"metadata": [["order", "7"]]}),
        )
        .await;
        let posts = mock.requests_to("POST", "/v1/");
        assert_eq!(posts.len(), 2);
        let bearer = format!("Bearer {STRIPE_KEY}");
        for r in &posts {
            assert_eq!(
                r.header("content-type"),
                Some("application/x-www-form-urlencoded")
            );
            assert_eq!(r.header("authorization"), Some(bearer.as_str()));
            assert!(r.header("stripe-version").is_some());
        }
        assert_eq!(posts[0].header("idempotency-key"), Some("cust-key-1"));
        assert!(posts[0].body_text().contains("metadata[plan]=pro"));
        let body = posts[1].body_text();
        for part in [
            "amount=2000",
            "currency=usd",
            "payment_method=pm_card_visa",
            "payment_method_types[0]=card",
            "capture_method=automatic",
            "confirm=true",
            "metadata[order]=7",
        ] {
            assert!(body.contains(part), "{part} is missing from {body}");
        }
        let made = posts[1].header("idempotency-key").unwrap_or_default();
        assert!(
            made.starts_with("switchyard-"),
            "a key made for the call: {made}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn rate_limits_are_retried_after_retry_after() {
        let (p, mock) = stripe().await;
        mock.fail_next_rate_limited(1, Some(1));
        let start = Instant::now();
        let c = p.customer("rl@example.com").await;
        assert!(
            start.elapsed() >= Duration::from_millis(950),
            "Retry-After: 1 was not waited for: {:?}",
            start.elapsed()
        );
        assert_eq!(mock.customers().len(), 1);
        let posts = mock.requests_to("POST", "/v1/customers");
        assert_eq!(
            posts.iter().map(|r| r.status).collect::<Vec<_>>(),
            [429, 200]
        );
        assert_eq!(
            posts[0].header("idempotency-key"),
            posts[1].header("idempotency-key"),
            "one key across the retries of a call"
        );

        // Past the retries (1 + max_retries 6): rate-limited and retryable, for the caller.
        mock.fail_next_rate_limited(7, None);
        let e = p.err("get-customer", json!({"id": c["id"]})).await;
        assert_eq!(e.kind, ErrorKind::RateLimited, "{e:?}");
        assert!(e.retryable);
        assert_eq!(e.provider_code.as_deref(), Some("rate_limit"));
        assert_eq!(mock.requests_to("GET", "/v1/customers/").len(), 7);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_lost_answer_is_retried_with_its_key_and_charges_once() {
        let (p, mock) = stripe().await;
        mock.lose_next_responses(1);
        let pay = p.payment(4200, Some("pm_card_visa"), json!({})).await;
        assert_eq!(pay["status"], "succeeded");
        assert_eq!(mock.payment_intents().len(), 1, "charged once");
        let posts = mock.requests_to("POST", "/v1/payment_intents");
        assert_eq!(
            posts.iter().map(|r| r.status).collect::<Vec<_>>(),
            [500, 200]
        );
        assert_eq!(
            posts[0].header("idempotency-key"),
            posts[1].header("idempotency-key")
        );

        mock.fail_next_api_error(2);
        assert_eq!(p.get_payment(&pay["id"]).await, pay, "5xx is retried");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_key_in_use_is_waited_for() {
        let (p, mock) = stripe().await;
        mock.set_processing_delay(Duration::from_millis(200));
        let args = json!({"customer": {"email": "twice@example.com"}, "idempotency-key": "in-use"});
        let (a, b) = tokio::join!(p.call("create-customer", args.clone()), async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            p.call("create-customer", args.clone()).await
        });
        let (a, b) = (a.expect("first"), b.expect("second"));
        assert_eq!(a, b);
        assert_eq!(mock.customers().len(), 1);
        let statuses: Vec<u16> = mock
            .requests_to("POST", "/v1/customers")
            .iter()
            .map(|r| r.status)
            .collect();
        assert!(
            statuses.contains(&409),
            "the second met the key in use: {statuses:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_refused_key_is_unauthorized_and_health_says_so() {
        let mock = MockStripe::start(STRIPE_KEY).await;
        let rt = runtime(vec![(
            TENANT,
            Service::Payment,
            stripe_spec(&mock, "sk_test_wrong_key_0000"),
        )])
        .await;
        let h = rt
            .invoke_json(TENANT, Service::Payment, "health", json!({}))
            .await
            .expect("health answers");
        assert_eq!(h["ok"], false, "{h}");
        assert!(
            h["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("unauthorized"),
            "{h}"
        );
        let e = rt
            .invoke_json(
                TENANT,
                Service::Payment,
                "get-customer",
                json!({"id": "cus_1"}),
            )
            .await
            .expect_err("refused");
        let e = e.provider().expect("contract error").clone();
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert!(!e.retryable);
        assert!(
            e.provider_message
                .as_deref()
                .unwrap_or_default()
                .contains("Invalid API Key"),
            "{e:?}"
        );
        assert_eq!(
            mock.requests_to("GET", "/v1/customers/").len(),
            1,
            "not retried"
        );
    }
}
