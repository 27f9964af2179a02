#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `store`: the ledger's directories under `/data` and its per-object locks, over the
//!   SDK's `files` helpers (atomic replace, exclusive create, locks, listing).
//! - `model`: the stored objects, their contract forms, the test payment methods.
//! - `validate`: input checks, each error naming the field.
//! - `idempotency`: the idempotency keys' records, replays and claims.
//! - `payments`: creating a payment, and confirming one with a test payment method.
//! - `refunds`: creating a refund.
#![warn(missing_docs)]

pub mod idempotency;
#[allow(missing_docs)]
pub mod model;
pub mod payments;
pub mod refunds;
pub mod store;
pub mod validate;

use idempotency::claim;
use model::{new_id, now, StoredCustomer, StoredPayment, StoredRefund};
use payments::{confirm, wrong_state};
use store::{load, load_all, load_customer, load_payment, page_of, save};
use switchyard_sdk::files;
use switchyard_sdk::payment::{
    CancellationReason, Customer, CustomerCreate, CustomerPage, CustomerUpdate, Lifecycle, Payment,
    PaymentCreate, PaymentPage, PaymentRecord, Refund, RefundCreate, RefundPage,
};
use switchyard_sdk::types::{Error, HealthStatus, PageRequest};

/// The local payment adapter.
pub struct Local;

impl Payment for Local {
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
        let dir = store::open()?;
        let stored = StoredCustomer {
            id: new_id("cus_"),
            email: customer.email.clone(),
            name: customer.name.clone(),
            description: customer.description.clone(),
            metadata: customer
                .metadata
                .as_ref()
                .map(model::normalise)
                .unwrap_or_default(),
            created: now(),
        };
        if let Some(key) = idempotency_key.as_deref() {
            let fp = serde_json::json!({
                "email": customer.email, "name": customer.name,
                "description": customer.description, "metadata": stored.metadata,
            })
            .to_string();
            if let Some(answer) =
                claim::<StoredCustomer>(&dir, key, &fp, "customers", &stored.id, None)?
            {
                return answer.map(|c| c.to_wit());
            }
        }
        save(&dir, "customers", &stored.id, &stored)?;
        Ok(stored.to_wit())
    }

    fn get_customer(id: String) -> Result<Customer, Error> {
        let dir = store::open()?;
        Ok(load_customer(&dir, "id", &id)?.to_wit())
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
        let dir = store::open()?;
        validate::id("id", &id, "cus_", "customer")?;
        let _lock = store::lock(&dir, &id)?;
        let mut c = load_customer(&dir, "id", &id)?;
        let set = |field: &mut Option<String>, value: Option<String>| match value {
            None => {}
            Some(v) if v.is_empty() => *field = None,
            Some(v) => *field = Some(v),
        };
        set(&mut c.email, update.email);
        set(&mut c.name, update.name);
        set(&mut c.description, update.description);
        if let Some(pairs) = update.metadata {
            let mut map: std::collections::BTreeMap<String, String> =
                c.metadata.into_iter().collect();
            for (k, v) in pairs {
                if v.is_empty() {
                    map.remove(&k);
                } else {
                    map.insert(k, v);
                }
            }
            c.metadata = map.into_iter().collect();
        }
        save(&dir, "customers", &c.id, &c)?;
        Ok(c.to_wit())
    }

    fn list_customers(page: PageRequest) -> Result<CustomerPage, Error> {
        let dir = store::open()?;
        let all = load_all::<StoredCustomer>(&dir, "customers")?;
        let (items, info) = page_of(all, |c| (c.created, c.id.clone()), &page)?;
        Ok(CustomerPage {
            customers: items.iter().map(StoredCustomer::to_wit).collect(),
            page: info,
        })
    }

    fn create_payment(
        payment: PaymentCreate,
        idempotency_key: Option<String>,
    ) -> Result<PaymentRecord, Error> {
        payments::create(payment, idempotency_key)
    }

    fn confirm_payment(id: String, payment_method: Option<String>) -> Result<PaymentRecord, Error> {
        if payment_method.as_deref() == Some("") {
            return Err(Error::invalid_input(
                "payment-method must not be empty (leave it out to use the attached one)",
            ));
        }
        validate::id("id", &id, "pi_", "payment")?;
        let dir = store::open()?;
        let _lock = store::lock(&dir, &id)?;
        let mut p = load_payment(&dir, "id", &id)?;
        if !matches!(
            p.status.as_str(),
            "requires_payment_method" | "requires_confirmation"
        ) {
            return Err(wrong_state(&p, "confirmed"));
        }
        let Some(pm) = payment_method.or_else(|| p.payment_method.clone()) else {
            return Err(Error::invalid_input(format!(
                "payment-method is needed: payment {id} has none attached"
            )));
        };
        let decline = confirm(&mut p, &pm)?;
        save(&dir, "payments", &p.id, &p)?;
        match decline {
            Some(d) => Err(d.to_error()),
            None => p.to_wit(),
        }
    }

    fn capture_payment(id: String, amount: Option<i64>) -> Result<PaymentRecord, Error> {
        if let Some(a) = amount {
            validate::amount("amount", a)?;
        }
        validate::id("id", &id, "pi_", "payment")?;
        let dir = store::open()?;
        let _lock = store::lock(&dir, &id)?;
        let mut p = load_payment(&dir, "id", &id)?;
        if p.status != "requires_capture" {
            return Err(wrong_state(&p, "captured"));
        }
        let amount = amount.unwrap_or(p.amount_capturable);
        if amount > p.amount_capturable {
            return Err(Error::invalid_input(format!(
                "amount {amount} is more than the {} {} that can be captured",
                p.amount_capturable, p.currency
            ))
            .with_provider(Some("amount_too_large".into()), None));
        }
        p.amount_received = amount;
        p.amount_capturable = 0;
        p.status = "succeeded".into();
        save(&dir, "payments", &p.id, &p)?;
        p.to_wit()
    }

    fn cancel_payment(
        id: String,
        reason: Option<CancellationReason>,
    ) -> Result<PaymentRecord, Error> {
        validate::id("id", &id, "pi_", "payment")?;
        let dir = store::open()?;
        let _lock = store::lock(&dir, &id)?;
        let mut p = load_payment(&dir, "id", &id)?;
        if matches!(p.status.as_str(), "succeeded" | "canceled" | "processing") {
            return Err(wrong_state(&p, "canceled"));
        }
        p.status = "canceled".into();
        p.amount_capturable = 0;
        p.cancellation_reason = reason.map(|r| model::cancellation_to_str(r).to_string());
        save(&dir, "payments", &p.id, &p)?;
        p.to_wit()
    }

    fn get_payment(id: String) -> Result<PaymentRecord, Error> {
        let dir = store::open()?;
        load_payment(&dir, "id", &id)?.to_wit()
    }

    fn list_payments(customer: Option<String>, page: PageRequest) -> Result<PaymentPage, Error> {
        if let Some(c) = customer.as_deref() {
            validate::id("customer", c, "cus_", "customer")?;
        }
        let dir = store::open()?;
        let mut all = load_all::<StoredPayment>(&dir, "payments")?;
        if let Some(c) = customer.as_deref() {
            all.retain(|p| p.customer.as_deref() == Some(c));
        }
        let (items, info) = page_of(all, |p| (p.created, p.id.clone()), &page)?;
        Ok(PaymentPage {
            payments: items
                .iter()
                .map(StoredPayment::to_wit)
                .collect::<Result<_, _>>()?,
            page: info,
        })
    }

    fn create_refund(
        refund: RefundCreate,
        idempotency_key: Option<String>,
    ) -> Result<Refund, Error> {
        refunds::create(refund, idempotency_key)
    }

    fn get_refund(id: String) -> Result<Refund, Error> {
        validate::id("id", &id, "re_", "refund")?;
        let dir = store::open()?;
        load::<StoredRefund>(&dir, "refunds", &id)?
            .ok_or_else(|| validate::not_found("id", &id, "refund"))?
            .to_wit()
    }

    fn list_refunds(payment: Option<String>, page: PageRequest) -> Result<RefundPage, Error> {
        if let Some(p) = payment.as_deref() {
            validate::id("payment", p, "pi_", "payment")?;
        }
        let dir = store::open()?;
        let mut all = load_all::<StoredRefund>(&dir, "refunds")?;
        if let Some(p) = payment.as_deref() {
            all.retain(|r| r.payment == p);
        }
        let (items, info) = page_of(all, |r| (r.created, r.id.clone()), &page)?;
        Ok(RefundPage {
            refunds: items
                .iter()
                .map(StoredRefund::to_wit)
                .collect::<Result<_, _>>()?,
            page: info,
        })
    }

    fn health() -> Result<HealthStatus, Error> {
        let check = || -> Result<String, Error> {
            let dir = store::open()?;
            let probe = format!(
                "locks/.health-{}",
                hex::encode(switchyard_sdk::random::bytes(6))
            );
            files::create_exclusive(&dir, &probe, b"ok")?;
            files::remove(&dir, &probe)?;
            let count = |sub| files::list(&dir, sub).map(|v| v.len());
            Ok(format!(
                "sandbox ledger in {} is writable: {} customers, {} payments, {} refunds",
                files::DATA_DIR,
                count("customers")?,
                count("payments")?,
                count("refunds")?
            ))
        };
        Ok(match check() {
            Ok(detail) => HealthStatus { ok: true, detail },
            Err(err) => HealthStatus {
                ok: false,
                detail: err.message,
            },
        })
    }
}

impl Lifecycle for Local {
    /// Nothing is buffered: nothing to do.
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    /// Nothing is buffered: nothing to do.
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

switchyard_sdk::export_payment!(Local);
