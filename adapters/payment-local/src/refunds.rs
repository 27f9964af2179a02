//! A refund's creation: what is left to refund, the test method whose refunds fail, and the
//! idempotency key claimed under the payment's lock.

use switchyard_sdk::files;
use switchyard_sdk::payment::{Refund, RefundCreate};
use switchyard_sdk::types::Error;

use crate::idempotency::{key_path, replay, KeyRecord};
use crate::model::{self, new_id, now, Card, StoredRefund};
use crate::payments::wrong_state;
use crate::store::{self, load_payment, save, to_json};
use crate::validate;

/// `create-refund`: checks, replays a used key, refunds what is left under the payment's
/// lock, claims the key.
pub(crate) fn create(
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
                    Err(Error::conflict("idempotency-key was released; retry").with_retryable(true))
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
