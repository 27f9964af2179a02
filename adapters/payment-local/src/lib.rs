#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `store`: the ledger's directories under `/data` and its per-object locks, over the
//!   SDK's `files` helpers (atomic replace, exclusive create, locks, listing).
//! - `model`: the stored objects, their contract forms, the test payment methods.
//! - `validate`: input checks, each error naming the field.
#![warn(missing_docs)]

#[allow(missing_docs)]
pub mod model;
pub mod store;
pub mod validate;

use std::time::Duration;

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use wasi::filesystem::types::Descriptor;

use model::{Card, StoredCustomer, StoredPayment, StoredRefund};
use switchyard_sdk::payment::{
    CancellationReason, CaptureMethod, Customer, CustomerCreate, CustomerPage, CustomerUpdate,
    Lifecycle, Payment, PaymentCreate, PaymentPage, PaymentRecord, Refund, RefundCreate,
    RefundPage,
};
use switchyard_sdk::types::{Error, HealthStatus, PageInfo, PageRequest};
use switchyard_sdk::{files, log};

/// How long a retried create waits for the first call with its key to finish.
const REPLAY_WAIT: Duration = Duration::from_secs(10);

/// The local payment adapter.
pub struct Local;

/// What an idempotency key's file holds: the first request's fingerprint and its outcome.
#[derive(Serialize, Deserialize)]
struct KeyRecord {
    key: String,
    fingerprint: String,
    kind: String,
    id: String,
    error: Option<StoredDecline>,
}

/// A decline, kept so that a replay answers the same error.
#[derive(Serialize, Deserialize, Clone)]
struct StoredDecline {
    payment_method: String,
    code: String,
    decline_code: String,
    message: String,
}

impl StoredDecline {
    fn to_error(&self) -> Error {
        Error::invalid_input(format!(
            "payment-method {} was declined: {} ({})",
            self.payment_method, self.code, self.decline_code
        ))
        .with_provider(Some(self.code.clone()), Some(self.message.clone()))
    }
}

fn now() -> (u64, u32) {
    let t = switchyard_sdk::time::now();
    (t.seconds, t.nanoseconds)
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(switchyard_sdk::random::bytes(12)))
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::internal(format!("serialising failed: {e}")))
}

/// Loads `sub/id.json`; none when missing.
fn load<T: DeserializeOwned>(dir: &Descriptor, sub: &str, id: &str) -> Result<Option<T>, Error> {
    let path = format!("{sub}/{id}.json");
    files::read_json(dir, &path, |e| {
        Error::internal(format!(
            "{}/{path} is not a ledger object: {e}",
            files::DATA_DIR
        ))
    })
}

fn save<T: Serialize>(dir: &Descriptor, sub: &str, id: &str, value: &T) -> Result<(), Error> {
    files::write_atomic(dir, &format!("{sub}/{id}.json"), &to_json(value)?)
}

fn load_customer(dir: &Descriptor, field: &str, id: &str) -> Result<StoredCustomer, Error> {
    validate::id(field, id, "cus_", "customer")?;
    load(dir, "customers", id)?.ok_or_else(|| validate::not_found(field, id, "customer"))
}

fn load_payment(dir: &Descriptor, field: &str, id: &str) -> Result<StoredPayment, Error> {
    validate::id(field, id, "pi_", "payment")?;
    load(dir, "payments", id)?.ok_or_else(|| validate::not_found(field, id, "payment"))
}

/// Every object in `sub`, newest first; unreadable files are skipped and logged.
fn load_all<T: DeserializeOwned>(dir: &Descriptor, sub: &str) -> Result<Vec<T>, Error> {
    let mut out = Vec::new();
    for name in files::list(dir, sub)? {
        let Some(id) = name.strip_suffix(".json") else {
            continue;
        };
        match load::<T>(dir, sub, id) {
            Ok(Some(v)) => out.push(v),
            Ok(None) => {}
            Err(err) => log::warn(
                "skipping a ledger file that is not an object",
                &[("file", &format!("{sub}/{name}")), ("reason", &err.message)],
            ),
        }
    }
    Ok(out)
}

/// One page of `items` (sorted newest first here) by the caller's cursor and limit.
fn page_of<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> ((u64, u32), String),
    page: &PageRequest,
) -> Result<(Vec<T>, PageInfo), Error> {
    let limit = validate::page_limit(page)? as usize;
    items.sort_by_key(|item| std::cmp::Reverse(key(item)));
    let total = items.len() as u64;
    let start = match page.cursor.as_deref() {
        None => 0,
        Some(cursor) => {
            items
                .iter()
                .position(|item| key(item).1 == cursor)
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "page.cursor {:?} is not a cursor this listing gave",
                        validate::clip(cursor)
                    ))
                })?
                + 1
        }
    };
    let rest: Vec<T> = items.into_iter().skip(start).collect();
    let more = rest.len() > limit;
    let page_items: Vec<T> = rest.into_iter().take(limit).collect();
    let next_cursor = if more {
        page_items.last().map(|item| key(item).1)
    } else {
        None
    };
    Ok((
        page_items,
        PageInfo {
            next_cursor,
            total: Some(total),
        },
    ))
}

/// FNV-1a over `bytes` from `seed`.
fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(seed, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn key_path(key: &str) -> String {
    let a = fnv(0xcbf2_9ce4_8422_2325, key.as_bytes());
    let b = fnv(0x6c62_272e_07bb_0142, key.as_bytes());
    format!("idempotency/{a:016x}{b:016x}.json")
}

fn idempotency_conflict(key: &str) -> Error {
    Error::conflict(format!(
        "idempotency-key {:?} was already used with different parameters or for another \
         kind of object; use a new key",
        validate::clip(key)
    ))
    .with_provider(
        Some("idempotency_error".into()),
        Some("Keys for idempotent requests can only be used with the same parameters they were first used with.".into()),
    )
}

/// What the first call with `key` answered, once it has finished; `Ok(None)` when no call
/// used the key yet.
fn replay<T: DeserializeOwned>(
    dir: &Descriptor,
    key: &str,
    fingerprint: &str,
    kind: &str,
    wait: bool,
) -> Result<Option<Result<T, Error>>, Error> {
    let path = key_path(key);
    let start = wasi::clocks::monotonic_clock::now();
    loop {
        let Some(bytes) = files::read(dir, &path)? else {
            return Ok(None);
        };
        // An empty or partial record: its creator is still writing it.
        if let Ok(rec) = serde_json::from_slice::<KeyRecord>(&bytes) {
            if rec.key != key || rec.fingerprint != fingerprint || rec.kind != kind {
                return Err(idempotency_conflict(key));
            }
            if let Some(decline) = rec.error {
                return Ok(Some(Err(decline.to_error())));
            }
            if let Some(obj) = load::<T>(dir, kind, &rec.id)? {
                return Ok(Some(Ok(obj)));
            }
        }
        let waited = wasi::clocks::monotonic_clock::now().saturating_sub(start);
        if !wait || u128::from(waited) > REPLAY_WAIT.as_nanos() {
            return Err(Error::conflict(format!(
                "another request with idempotency-key {:?} is still in progress; retry",
                validate::clip(key)
            ))
            .with_retryable(true)
            .with_provider(Some("idempotency_error".into()), None));
        }
        switchyard_sdk::retry::sleep(Duration::from_millis(5));
    }
}

/// Claims `key` for the object `id` (exclusive create); when another call claimed it first,
/// answers what that call made.
fn claim<T: DeserializeOwned>(
    dir: &Descriptor,
    key: &str,
    fingerprint: &str,
    kind: &str,
    id: &str,
    error: Option<StoredDecline>,
) -> Result<Option<Result<T, Error>>, Error> {
    let rec = KeyRecord {
        key: key.to_string(),
        fingerprint: fingerprint.to_string(),
        kind: kind.to_string(),
        id: id.to_string(),
        error,
    };
    if files::create_exclusive(dir, &key_path(key), &to_json(&rec)?)? {
        return Ok(None);
    }
    match replay(dir, key, fingerprint, kind, true)? {
        Some(answer) => Ok(Some(answer)),
        None => Err(Error::conflict(format!(
            "idempotency-key {:?} was released while this call ran; retry",
            validate::clip(key)
        ))
        .with_retryable(true)),
    }
}

/// Attaches `pm` and charges (automatic capture) or authorises (manual) the payment; a
/// decline leaves it in `requires_payment_method` and is answered as the error.
fn confirm(p: &mut StoredPayment, pm: &str) -> Result<Option<StoredDecline>, Error> {
    let card = model::card(pm).ok_or_else(|| {
        Error::invalid_input(format!(
            "payment-method {:?} is not a payment method this provider knows (the local \
             provider takes Stripe's test methods, e.g. pm_card_visa)",
            validate::clip(pm)
        ))
        .with_provider(Some("resource_missing".into()), None)
    })?;
    match card {
        Card::Declined(code, decline_code, message) => {
            p.status = "requires_payment_method".into();
            p.payment_method = None;
            p.last_error_code = Some(code.into());
            p.last_error_message = Some(message.into());
            Ok(Some(StoredDecline {
                payment_method: pm.into(),
                code: code.into(),
                decline_code: decline_code.into(),
                message: message.into(),
            }))
        }
        Card::Succeeds | Card::RefundFails => {
            p.payment_method = Some(pm.into());
            p.last_error_code = None;
            p.last_error_message = None;
            if p.capture_method == "manual" {
                p.status = "requires_capture".into();
                p.amount_capturable = p.amount;
            } else {
                p.status = "succeeded".into();
                p.amount_received = p.amount;
            }
            Ok(None)
        }
    }
}

fn wrong_state(p: &StoredPayment, doing: &str) -> Error {
    Error::conflict(format!(
        "payment {} is {}; it cannot be {doing}",
        p.id,
        p.status.replace('_', "-")
    ))
    .with_provider(Some("payment_intent_unexpected_state".into()), None)
}

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
        validate::amount("amount", payment.amount)?;
        validate::currency(&payment.currency)?;
        if let Some(c) = payment.customer.as_deref() {
            validate::id("customer", c, "cus_", "customer")?;
        }
        if let Some(pm) = payment.payment_method.as_deref() {
            if pm.is_empty() {
                return Err(Error::invalid_input(
                    "payment-method must not be empty (leave it out for none)",
                ));
            }
        }
        validate::text(
            "description",
            payment.description.as_deref(),
            validate::MAX_DESCRIPTION,
        )?;
        validate::metadata(payment.metadata.as_ref(), false)?;
        validate::idempotency_key(idempotency_key.as_deref())?;
        let confirm_now = payment.confirm.unwrap_or(false);
        if confirm_now && payment.payment_method.is_none() {
            return Err(Error::invalid_input(
                "confirm needs a payment-method: give one, or create without confirm",
            ));
        }
        let capture_method = match payment.capture_method.unwrap_or(CaptureMethod::Automatic) {
            CaptureMethod::Automatic => "automatic",
            CaptureMethod::Manual => "manual",
        };
        let metadata = payment
            .metadata
            .as_ref()
            .map(model::normalise)
            .unwrap_or_default();
        let fp = serde_json::json!({
            "amount": payment.amount, "currency": payment.currency,
            "customer": payment.customer, "payment_method": payment.payment_method,
            "capture_method": capture_method, "confirm": confirm_now,
            "description": payment.description, "metadata": metadata,
        })
        .to_string();
        let dir = store::open()?;
        if let Some(key) = idempotency_key.as_deref() {
            if let Some(answer) = replay::<StoredPayment>(&dir, key, &fp, "payments", true)? {
                return answer.and_then(|p| p.to_wit());
            }
        }
        if let Some(c) = payment.customer.as_deref() {
            load_customer(&dir, "customer", c)?;
        }
        let mut p = StoredPayment {
            id: new_id("pi_"),
            amount: payment.amount,
            amount_capturable: 0,
            amount_received: 0,
            amount_refunded: 0,
            currency: payment.currency.clone(),
            customer: payment.customer.clone(),
            payment_method: payment.payment_method.clone(),
            capture_method: capture_method.into(),
            status: if payment.payment_method.is_some() {
                "requires_confirmation".into()
            } else {
                "requires_payment_method".into()
            },
            description: payment.description.clone(),
            metadata,
            last_error_code: None,
            last_error_message: None,
            cancellation_reason: None,
            created: now(),
        };
        let decline = match (confirm_now, payment.payment_method.as_deref()) {
            (true, Some(pm)) => confirm(&mut p, pm)?,
            _ => {
                if let Some(pm) = payment.payment_method.as_deref() {
                    // Checked now so that a typo fails at once, not at confirmation.
                    if model::card(pm).is_none() {
                        let mut probe = p.clone();
                        confirm(&mut probe, pm)?;
                    }
                }
                None
            }
        };
        if let Some(key) = idempotency_key.as_deref() {
            if let Some(answer) =
                claim::<StoredPayment>(&dir, key, &fp, "payments", &p.id, decline.clone())?
            {
                return answer.and_then(|p| p.to_wit());
            }
        }
        save(&dir, "payments", &p.id, &p)?;
        log::info(
            "payment created",
            &[
                ("id", &p.id),
                ("status", &p.status),
                ("amount", &p.amount.to_string()),
            ],
        );
        match decline {
            Some(d) => Err(d.to_error()),
            None => p.to_wit(),
        }
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
        validate::id("payment", &refund.payment, "pi_", "payment")?;
        if let Some(a) = refund.amount {
            validate::amount("amount", a)?;
        }
        validate::metadata(refund.metadata.as_ref(), false)?;
        validate::idempotency_key(idempotency_key.as_deref())?;
        let metadata = refund
            .metadata
            .as_ref()
            .map(model::normalise)
            .unwrap_or_default();
        let reason = refund
            .reason
            .map(|r| model::refund_reason_to_str(r).to_string());
        let fp = serde_json::json!({
            "payment": refund.payment, "amount": refund.amount, "reason": reason,
            "metadata": metadata,
        })
        .to_string();
        let dir = store::open()?;
        if let Some(key) = idempotency_key.as_deref() {
            if let Some(answer) = replay::<StoredRefund>(&dir, key, &fp, "refunds", true)? {
                return answer.and_then(|r| r.to_wit());
            }
        }
        let lock = store::lock(&dir, &refund.payment)?;
        let mut p = load_payment(&dir, "payment", &refund.payment)?;
        if p.status != "succeeded" {
            return Err(wrong_state(&p, "refunded"));
        }
        let left = p.amount_received.saturating_sub(p.amount_refunded);
        if left <= 0 {
            return Err(
                Error::conflict(format!("payment {} is already refunded in full", p.id))
                    .with_provider(Some("charge_already_refunded".into()), None),
            );
        }
        let amount = refund.amount.unwrap_or(left);
        if amount > left {
            return Err(Error::invalid_input(format!(
                "amount {amount} is more than the {left} {} left to refund on payment {}",
                p.currency, p.id
            ))
            .with_provider(Some("amount_too_large".into()), None));
        }
        let fails = matches!(
            p.payment_method.as_deref().and_then(model::card),
            Some(Card::RefundFails)
        );
        let r = StoredRefund {
            id: new_id("re_"),
            payment: p.id.clone(),
            amount,
            currency: p.currency.clone(),
            status: if fails { "failed" } else { "succeeded" }.into(),
            reason,
            failure_reason: fails.then(|| "declined".to_string()),
            metadata,
            created: now(),
        };
        if let Some(key) = idempotency_key.as_deref() {
            if files::create_exclusive(
                &dir,
                &key_path(key),
                &to_json(&KeyRecord {
                    key: key.into(),
                    fingerprint: fp.clone(),
                    kind: "refunds".into(),
                    id: r.id.clone(),
                    error: None,
                })?,
            )? {
                // claimed
            } else {
                drop(lock);
                return match replay::<StoredRefund>(&dir, key, &fp, "refunds", true)? {
                    Some(answer) => answer.and_then(|r| r.to_wit()),
                    None => {
                        Err(Error::conflict("idempotency-key was released; retry")
                            .with_retryable(true))
                    }
                };
            }
        }
        save(&dir, "refunds", &r.id, &r)?;
        if !fails {
            p.amount_refunded = p.amount_refunded.saturating_add(amount);
            save(&dir, "payments", &p.id, &p)?;
        }
        drop(lock);
        r.to_wit()
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
