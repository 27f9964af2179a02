//! A payment's creation, and its confirmation against the test payment methods: charged
//! (automatic capture), authorised (manual) or declined; the state errors.

use serde::{Deserialize, Serialize};
use switchyard_sdk::log;
use switchyard_sdk::payment::{CaptureMethod, PaymentCreate, PaymentRecord};
use switchyard_sdk::types::Error;

use crate::idempotency::{claim, replay};
use crate::model::{self, new_id, now, Card, StoredPayment};
use crate::store::{self, load_customer, save};
use crate::validate;

/// A decline, kept so that a replay answers the same error.
#[derive(Serialize, Deserialize, Clone)]
pub(crate) struct StoredDecline {
    pub(crate) payment_method: String,
    pub(crate) code: String,
    pub(crate) decline_code: String,
    pub(crate) message: String,
}

impl StoredDecline {
    pub(crate) fn to_error(&self) -> Error {
        Error::invalid_input(format!(
            "payment-method {} was declined: {} ({})",
            self.payment_method, self.code, self.decline_code
        ))
        .with_provider(Some(self.code.clone()), Some(self.message.clone()))
    }
}

/// Attaches `pm` and charges (automatic capture) or authorises (manual) the payment; a
/// decline leaves it in `requires_payment_method` and is answered as the error.
pub(crate) fn confirm(p: &mut StoredPayment, pm: &str) -> Result<Option<StoredDecline>, Error> {
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

pub(crate) fn wrong_state(p: &StoredPayment, doing: &str) -> Error {
    Error::conflict(format!(
        "payment {} is {}; it cannot be {doing}",
        p.id,
        p.status.replace('_', "-")
    ))
    .with_provider(Some("payment_intent_unexpected_state".into()), None)
}

/// `create-payment`: checks, replays a used key, creates (and confirms when asked), claims
/// the key.
pub(crate) fn create(
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
