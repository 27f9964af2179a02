#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `config`: the binding's config keys, validated.
//! - `validate`: the contract's input rules, checked before anything is sent.
//! - `form`: Stripe's form encoding (`metadata[k]=v`, `expand[0]=...`).
//! - `client`: requests with `Stripe-Version`, idempotency keys and retries.
//! - `error`: Stripe's error bodies mapped to the contract's error kinds.
//! - `wire`: Stripe's objects and their contract forms.
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
pub mod form;
pub mod validate;
#[allow(missing_docs)]
pub mod wire;

use switchyard_sdk::log;
use switchyard_sdk::payment::{
    CancellationReason, CaptureMethod, Customer, CustomerCreate, CustomerPage, CustomerUpdate,
    Lifecycle, Payment, PaymentCreate, PaymentPage, PaymentRecord, Refund, RefundCreate,
    RefundPage,
};
use switchyard_sdk::types::{Error, ErrorKind, HealthStatus, PageRequest};

use client::{customer_path, intent_path};
use config::Config;
use error::Op;
use form::{list_query, Form};
use wire::{live_customer, page_info, List, StripeCustomer, StripeIntent, StripeRefund};

/// The Stripe payment adapter.
pub struct Stripe;

/// PaymentIntents are always answered with their latest charge, for `amount-refunded`.
const EXPAND_CHARGE: &[&str] = &["latest_charge"];

impl Payment for Stripe {
    fn create_customer(
        customer: CustomerCreate,
        idempotency_key: Option<String>,
    ) -> Result<Customer, Error> {
        validate::email(customer.email.as_deref(), false)?;
        validate::text("name", customer.name.as_deref(), validate::MAX_NAME)?;
        validate::text(
            "description",
            customer.description.as_deref(),
            validate::MAX_DESCRIPTION,
        )?;
        validate::metadata(customer.metadata.as_ref(), false)?;
        validate::idempotency_key(idempotency_key.as_deref())?;
        let config = Config::load()?;
        let form = Form::new()
            .opt("email", customer.email)
            .opt("name", customer.name)
            .opt("description", customer.description)
            .metadata(customer.metadata.as_deref());
        let op = Op {
            idempotency_key: idempotency_key.as_deref(),
            ..Op::default()
        };
        let c: StripeCustomer = client::post(
            &config,
            &op,
            "/v1/customers",
            &form,
            idempotency_key.as_deref(),
        )?;
        log::info("customer created", &[("id", &c.id)]);
        live_customer(c, "id")
    }

    fn get_customer(id: String) -> Result<Customer, Error> {
        validate::id("id", &id, "customer")?;
        let config = Config::load()?;
        let op = Op {
            object: Some(("id", "customer", &id)),
            ..Op::default()
        };
        let c: StripeCustomer = client::get(&config, &op, &customer_path(&id), &Form::new())?;
        live_customer(c, "id")
    }

    fn update_customer(id: String, update: CustomerUpdate) -> Result<Customer, Error> {
        validate::email(update.email.as_deref(), true)?;
        validate::text("name", update.name.as_deref(), validate::MAX_NAME)?;
        validate::text(
            "description",
            update.description.as_deref(),
            validate::MAX_DESCRIPTION,
        )?;
        validate::metadata(update.metadata.as_ref(), true)?;
        validate::id("id", &id, "customer")?;
        let config = Config::load()?;
        // Empty strings unset fields and metadata keys, as the contract says and Stripe does.
        let form = Form::new()
            .opt("email", update.email)
            .opt("name", update.name)
            .opt("description", update.description)
            .metadata(update.metadata.as_deref());
        let op = Op {
            object: Some(("id", "customer", &id)),
            ..Op::default()
        };
        let c: StripeCustomer = client::post(&config, &op, &customer_path(&id), &form, None)?;
        live_customer(c, "id")
    }

    fn list_customers(page: PageRequest) -> Result<CustomerPage, Error> {
        let (limit, cursor) = validate::page(&page, &["cus_"])?;
        let config = Config::load()?;
        let list: List<StripeCustomer> = client::get(
            &config,
            &Op::default(),
            "/v1/customers",
            &list_query(limit, cursor, None),
        )?;
        let info = page_info(&list, |c| &c.id);
        Ok(CustomerPage {
            customers: list
                .data
                .into_iter()
                .filter(|c| !c.deleted)
                .map(|c| c.to_wit())
                .collect(),
            page: info,
        })
    }

    fn create_payment(
        payment: PaymentCreate,
        idempotency_key: Option<String>,
    ) -> Result<PaymentRecord, Error> {
        validate::amount("amount", payment.amount)?;
        validate::currency(&payment.currency)?;
        if let Some(c) = payment.customer.as_deref() {
            validate::id("customer", c, "customer")?;
        }
        if payment.payment_method.as_deref() == Some("") {
            return Err(Error::invalid_input(
                "payment-method must not be empty (leave it out for none)",
            ));
        }
        validate::text(
            "description",
            payment.description.as_deref(),
            validate::MAX_DESCRIPTION,
        )?;
        validate::metadata(payment.metadata.as_ref(), false)?;
        validate::idempotency_key(idempotency_key.as_deref())?;
        let confirm = payment.confirm.unwrap_or(false);
        if confirm && payment.payment_method.is_none() {
            return Err(Error::invalid_input(
                "confirm needs a payment-method: give one, or create without confirm",
            ));
        }
        let config = Config::load()?;
        let capture = match payment.capture_method.unwrap_or(CaptureMethod::Automatic) {
            CaptureMethod::Automatic => "automatic",
            CaptureMethod::Manual => "manual",
        };
        let form = Form::new()
            .set("amount", payment.amount.to_string())
            .set("currency", payment.currency.to_ascii_lowercase())
            .opt("customer", payment.customer.clone())
            .opt("payment_method", payment.payment_method.clone())
            .list("payment_method_types", &config.payment_method_types)
            .set("capture_method", capture)
            .opt("confirm", confirm.then_some("true"))
            .opt("description", payment.description.clone())
            .metadata(payment.metadata.as_deref())
            .list("expand", EXPAND_CHARGE);
        let customer = payment.customer.as_deref().unwrap_or("");
        let pm = payment.payment_method.as_deref().unwrap_or("");
        let references = [
            ("customer", "customer", "customer", customer),
            ("payment_method", "payment-method", "payment method", pm),
        ];
        let op = Op {
            payment_method: payment.payment_method.as_deref(),
            idempotency_key: idempotency_key.as_deref(),
            doing: Some("confirmed"),
            references: &references,
            ..Op::default()
        };
        let p: StripeIntent = client::post(
            &config,
            &op,
            "/v1/payment_intents",
            &form,
            idempotency_key.as_deref(),
        )?;
        log::info(
            "payment created",
            &[
                ("id", &p.id),
                ("status", &p.status),
                ("amount", &p.amount.to_string()),
            ],
        );
        p.to_wit()
    }

    fn confirm_payment(id: String, payment_method: Option<String>) -> Result<PaymentRecord, Error> {
        if payment_method.as_deref() == Some("") {
            return Err(Error::invalid_input(
                "payment-method must not be empty (leave it out to use the attached one)",
            ));
        }
        validate::id("id", &id, "payment")?;
        let config = Config::load()?;
        let form = Form::new()
            .opt("payment_method", payment_method.clone())
            .list("expand", EXPAND_CHARGE);
        let pm = payment_method.as_deref().unwrap_or("");
        let references = [("payment_method", "payment-method", "payment method", pm)];
        let op = Op {
            object: Some(("id", "payment", &id)),
            doing: Some("confirmed"),
            payment_method: payment_method.as_deref(),
            references: &references,
            ..Op::default()
        };
        let path = format!("{}/confirm", intent_path(&id));
        let p: StripeIntent = client::post(&config, &op, &path, &form, None)?;
        p.to_wit()
    }

    fn capture_payment(id: String, amount: Option<i64>) -> Result<PaymentRecord, Error> {
        if let Some(a) = amount {
            validate::amount("amount", a)?;
        }
        validate::id("id", &id, "payment")?;
        let config = Config::load()?;
        let form = Form::new()
            .opt("amount_to_capture", amount.map(|a| a.to_string()))
            .list("expand", EXPAND_CHARGE);
        let op = Op {
            object: Some(("id", "payment", &id)),
            doing: Some("captured"),
            ..Op::default()
        };
        let path = format!("{}/capture", intent_path(&id));
        let p: StripeIntent = client::post(&config, &op, &path, &form, None)?;
        p.to_wit()
    }

    fn cancel_payment(
        id: String,
        reason: Option<CancellationReason>,
    ) -> Result<PaymentRecord, Error> {
        validate::id("id", &id, "payment")?;
        let config = Config::load()?;
        let form = Form::new()
            .opt("cancellation_reason", reason.map(wire::cancellation_to_str))
            .list("expand", EXPAND_CHARGE);
        let op = Op {
            object: Some(("id", "payment", &id)),
            doing: Some("canceled"),
            ..Op::default()
        };
        let path = format!("{}/cancel", intent_path(&id));
        let p: StripeIntent = client::post(&config, &op, &path, &form, None)?;
        p.to_wit()
    }

    fn get_payment(id: String) -> Result<PaymentRecord, Error> {
        validate::id("id", &id, "payment")?;
        let config = Config::load()?;
        let op = Op {
            object: Some(("id", "payment", &id)),
            ..Op::default()
        };
        let query = Form::new().list("expand", EXPAND_CHARGE);
        let p: StripeIntent = client::get(&config, &op, &intent_path(&id), &query)?;
        p.to_wit()
    }

    fn list_payments(customer: Option<String>, page: PageRequest) -> Result<PaymentPage, Error> {
        if let Some(c) = customer.as_deref() {
            validate::id("customer", c, "customer")?;
        }
        let (limit, cursor) = validate::page(&page, &["pi_"])?;
        let config = Config::load()?;
        let query = list_query(limit, cursor, customer.as_deref().map(|c| ("customer", c)))
            .list("expand", &["data.latest_charge"]);
        let c = customer.as_deref().unwrap_or("");
        let references = [("customer", "customer", "customer", c)];
        let op = Op {
            references: &references,
            ..Op::default()
        };
        let list: List<StripeIntent> = client::get(&config, &op, "/v1/payment_intents", &query)?;
        let info = page_info(&list, |p| &p.id);
        Ok(PaymentPage {
            payments: list
                .data
                .iter()
                .map(StripeIntent::to_wit)
                .collect::<Result<_, _>>()?,
            page: info,
        })
    }

    fn create_refund(
        refund: RefundCreate,
        idempotency_key: Option<String>,
    ) -> Result<Refund, Error> {
        validate::id("payment", &refund.payment, "payment")?;
        if let Some(a) = refund.amount {
            validate::amount("amount", a)?;
        }
        validate::metadata(refund.metadata.as_ref(), false)?;
        validate::idempotency_key(idempotency_key.as_deref())?;
        let config = Config::load()?;
        let references = [(
            "payment_intent",
            "payment",
            "payment",
            refund.payment.as_str(),
        )];
        let op = Op {
            object: Some(("payment", "payment", &refund.payment)),
            doing: Some("refunded"),
            idempotency_key: idempotency_key.as_deref(),
            references: &references,
            ..Op::default()
        };
        // The contract refunds only succeeded payments; Stripe's answer for other states is a
        // generic 400 (and an uncaptured one it would release), so the state is checked first.
        // A succeeded payment stays succeeded, so the check cannot go stale.
        let query = Form::new().list("expand", EXPAND_CHARGE);
        let p: StripeIntent = client::get(&config, &op, &intent_path(&refund.payment), &query)?;
        if p.status != "succeeded" {
            return Err(Error::conflict(format!(
                "payment {} is {}; it cannot be refunded (only a succeeded payment can)",
                p.id,
                p.status.replace('_', "-")
            ))
            .with_provider(Some("payment_intent_unexpected_state".into()), None));
        }
        let form = Form::new()
            .set("payment_intent", refund.payment.as_str())
            .opt("amount", refund.amount.map(|a| a.to_string()))
            .opt("reason", refund.reason.map(wire::refund_reason_to_str))
            .metadata(refund.metadata.as_deref());
        let r: StripeRefund = client::post(
            &config,
            &op,
            "/v1/refunds",
            &form,
            idempotency_key.as_deref(),
        )?;
        log::info(
            "refund created",
            &[
                ("id", &r.id),
                ("payment", &refund.payment),
                ("status", &r.status),
            ],
        );
        r.to_wit()
    }

    fn get_refund(id: String) -> Result<Refund, Error> {
        validate::id("id", &id, "refund")?;
        let config = Config::load()?;
        let op = Op {
            object: Some(("id", "refund", &id)),
            ..Op::default()
        };
        let r: StripeRefund =
            client::get(&config, &op, &format!("/v1/refunds/{id}"), &Form::new())?;
        r.to_wit()
    }

    fn list_refunds(payment: Option<String>, page: PageRequest) -> Result<RefundPage, Error> {
        if let Some(p) = payment.as_deref() {
            validate::id("payment", p, "payment")?;
        }
        let (limit, cursor) = validate::page(&page, &["re_", "pyr_"])?;
        let config = Config::load()?;
        let query = list_query(
            limit,
            cursor,
            payment.as_deref().map(|p| ("payment_intent", p)),
        );
        let p = payment.as_deref().unwrap_or("");
        let references = [("payment_intent", "payment", "payment", p)];
        let op = Op {
            references: &references,
            ..Op::default()
        };
        let list: List<StripeRefund> = client::get(&config, &op, "/v1/refunds", &query)?;
        let info = page_info(&list, |r| &r.id);
        Ok(RefundPage {
            refunds: list
                .data
                .iter()
                .map(StripeRefund::to_wit)
                .collect::<Result<_, _>>()?,
            page: info,
        })
    }

    fn health() -> Result<HealthStatus, Error> {
        let mut config = Config::load()?;
        config.retry.max_retries = 0;
        config.timeout = config.timeout.min(client::HEALTH_TIMEOUT);
        let url = format!("{}/v1/balance", config.api_base);
        Ok(
            match client::get::<serde_json::Value>(
                &config,
                &Op::default(),
                "/v1/balance",
                &Form::new(),
            ) {
                Ok(_) => HealthStatus {
                    ok: true,
                    detail: format!(
                        "GET {url} answered 200 (Stripe-Version {}): the secret key is accepted",
                        config.api_version
                    ),
                },
                Err(err) if err.kind == ErrorKind::Unauthorized => HealthStatus {
                    ok: false,
                    detail: format!("GET {url}: {}", err.describe()),
                },
                Err(err) => HealthStatus {
                    ok: false,
                    detail: format!("GET {url} failed: {}", err.describe()),
                },
            },
        )
    }
}

impl Lifecycle for Stripe {
    /// Nothing is buffered: every call talks to Stripe at once.
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    /// Nothing is buffered: nothing to deliver.
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

switchyard_sdk::export_payment!(Stripe);
