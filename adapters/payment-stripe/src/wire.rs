//! Stripe's objects as they arrive (the fields the contract needs) and their contract forms.
//!
//! - Currencies arrive in lower case and leave in upper case; metadata leaves sorted by key;
//!   `created` is whole seconds.
//! - `capture_method` `automatic` and `automatic_async` are both the contract's `automatic`.
//! - A PaymentIntent has no refunded amount of its own: it is read from its `latest_charge`
//!   (requested expanded). When a manual capture takes less than was authorised, or an
//!   authorisation is canceled, Stripe counts the released rest in the charge's
//!   `amount_refunded`; the contract's `amount-refunded` counts only refunds of what was
//!   captured, so the released rest (`amount - amount_captured`) is taken off.
//! - Refund statuses: `requires_action` is `pending` in the contract; Refund reasons the
//!   contract does not name (`expired_uncaptured_charge`) and PaymentIntent cancellation
//!   reasons it does not name (`failed_invoice`, `void_invoice`, `automatic`) read as none.

use std::collections::BTreeMap;

use serde::Deserialize;
use switchyard_sdk::payment::{
    CancellationReason, CaptureMethod, Customer, PaymentRecord, PaymentStatus, Refund,
    RefundReason, RefundStatus,
};
use switchyard_sdk::types::{Error, Metadata, PageInfo, Timestamp};

use crate::validate;

/// A field that is an id, or the object when expanded.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Expandable<T> {
    /// Not expanded.
    Id(String),
    /// Expanded.
    Object(T),
}

/// Any object with an id.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Ided {
    /// Its id.
    pub id: String,
}

impl Expandable<Ided> {
    /// The id, expanded or not.
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) => id,
            Expandable::Object(o) => &o.id,
        }
    }
}

/// `{"object": "list", "data": [...], "has_more": ...}`.
#[derive(Clone, Debug, Deserialize)]
pub struct List<T> {
    /// The page's items.
    pub data: Vec<T>,
    /// Whether more follow.
    #[serde(default)]
    pub has_more: bool,
}

/// A customer (or the stub Stripe answers for a deleted one).
#[derive(Clone, Debug, Deserialize)]
pub struct StripeCustomer {
    pub id: String,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub created: u64,
}

/// The parts of a charge the contract needs.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct StripeCharge {
    pub id: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_captured: i64,
    #[serde(default)]
    pub amount_refunded: i64,
    pub status: String,
}

/// `last_payment_error` of a PaymentIntent.
#[derive(Clone, Debug, Deserialize)]
pub struct LastError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A PaymentIntent.
#[derive(Clone, Debug, Deserialize)]
pub struct StripeIntent {
    pub id: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_capturable: i64,
    #[serde(default)]
    pub amount_received: i64,
    pub currency: String,
    #[serde(default)]
    pub customer: Option<Expandable<Ided>>,
    #[serde(default)]
    pub payment_method: Option<Expandable<Ided>>,
    pub capture_method: String,
    pub status: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub last_payment_error: Option<LastError>,
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub latest_charge: Option<Expandable<StripeCharge>>,
}

/// A refund.
#[derive(Clone, Debug, Deserialize)]
pub struct StripeRefund {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub payment_intent: Option<Expandable<Ided>>,
    #[serde(default)]
    pub charge: Option<Expandable<Ided>>,
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub created: u64,
}

fn ts(seconds: u64) -> Timestamp {
    Timestamp {
        seconds,
        nanoseconds: 0,
    }
}

fn pairs(map: &BTreeMap<String, String>) -> Metadata {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn unexpected(what: &str, field: &str, value: &str) -> Error {
    Error::internal(format!(
        "Stripe answered a {what} with an unknown {field} {value:?}"
    ))
}

impl StripeCustomer {
    /// The contract's customer.
    pub fn to_wit(&self) -> Customer {
        Customer {
            id: self.id.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            metadata: pairs(&self.metadata),
            created: ts(self.created),
        }
    }
}

impl StripeCharge {
    /// What was refunded of the captured amount: the charge's refunded amount without the
    /// released, never-captured rest. Failed charges refund nothing.
    pub fn refunded_of_captured(&self) -> i64 {
        if self.status != "succeeded" {
            return 0;
        }
        let released = self.amount - self.amount_captured;
        (self.amount_refunded - released).max(0)
    }
}

/// The contract's status for a PaymentIntent status.
pub fn payment_status(status: &str) -> Option<PaymentStatus> {
    Some(match status {
        "requires_payment_method" => PaymentStatus::RequiresPaymentMethod,
        "requires_confirmation" => PaymentStatus::RequiresConfirmation,
        "requires_action" => PaymentStatus::RequiresAction,
        "processing" => PaymentStatus::Processing,
        "requires_capture" => PaymentStatus::RequiresCapture,
        "succeeded" => PaymentStatus::Succeeded,
        "canceled" => PaymentStatus::Canceled,
        _ => return None,
    })
}

impl StripeIntent {
    /// The contract's payment.
    pub fn to_wit(&self) -> Result<PaymentRecord, Error> {
        let status = payment_status(&self.status)
            .ok_or_else(|| unexpected("PaymentIntent", "status", &self.status))?;
        let capture_method = match self.capture_method.as_str() {
            "automatic" | "automatic_async" => CaptureMethod::Automatic,
            "manual" => CaptureMethod::Manual,
            other => return Err(unexpected("PaymentIntent", "capture_method", other)),
        };
        let amount_refunded = match &self.latest_charge {
            Some(Expandable::Object(charge)) => charge.refunded_of_captured(),
            // Not expanded (the adapter always asks): nothing to go on.
            _ => 0,
        };
        let cancellation_reason = match self.cancellation_reason.as_deref() {
            Some("duplicate") => Some(CancellationReason::Duplicate),
            Some("fraudulent") => Some(CancellationReason::Fraudulent),
            Some("requested_by_customer") => Some(CancellationReason::RequestedByCustomer),
            Some("abandoned") => Some(CancellationReason::Abandoned),
            _ => None,
        };
        let (last_error_code, last_error_message) = match &self.last_payment_error {
            Some(e) => (e.code.clone(), e.message.clone()),
            None => (None, None),
        };
        Ok(PaymentRecord {
            id: self.id.clone(),
            amount: self.amount,
            amount_capturable: self.amount_capturable,
            amount_received: self.amount_received,
            amount_refunded,
            currency: self.currency.to_ascii_uppercase(),
            customer: self.customer.as_ref().map(|c| c.id().to_string()),
            payment_method: self.payment_method.as_ref().map(|p| p.id().to_string()),
            capture_method,
            status,
            description: self.description.clone(),
            metadata: pairs(&self.metadata),
            last_error_code,
            last_error_message,
            cancellation_reason,
            created: ts(self.created),
        })
    }
}

impl StripeRefund {
    /// The contract's refund.
    pub fn to_wit(&self) -> Result<Refund, Error> {
        let status = match self.status.as_str() {
            "pending" | "requires_action" => RefundStatus::Pending,
            "succeeded" => RefundStatus::Succeeded,
            "failed" => RefundStatus::Failed,
            "canceled" => RefundStatus::Canceled,
            other => return Err(unexpected("refund", "status", other)),
        };
        let reason = match self.reason.as_deref() {
            Some("duplicate") => Some(RefundReason::Duplicate),
            Some("fraudulent") => Some(RefundReason::Fraudulent),
            Some("requested_by_customer") => Some(RefundReason::RequestedByCustomer),
            _ => None,
        };
        let payment = self
            .payment_intent
            .as_ref()
            .or(self.charge.as_ref())
            .map(|p| p.id().to_string())
            .unwrap_or_default();
        Ok(Refund {
            id: self.id.clone(),
            payment,
            amount: self.amount,
            currency: self.currency.to_ascii_uppercase(),
            status,
            reason,
            failure_reason: self.failure_reason.clone(),
            metadata: pairs(&self.metadata),
            created: ts(self.created),
        })
    }
}

/// Stripe's wire name of a cancellation reason.
pub fn cancellation_to_str(r: CancellationReason) -> &'static str {
    match r {
        CancellationReason::Duplicate => "duplicate",
        CancellationReason::Fraudulent => "fraudulent",
        CancellationReason::RequestedByCustomer => "requested_by_customer",
        CancellationReason::Abandoned => "abandoned",
    }
}

/// Stripe's wire name of a refund reason.
pub fn refund_reason_to_str(r: RefundReason) -> &'static str {
    match r {
        RefundReason::Duplicate => "duplicate",
        RefundReason::Fraudulent => "fraudulent",
        RefundReason::RequestedByCustomer => "requested_by_customer",
    }
}

/// A customer Stripe answered, or `not-found` when it is a deleted one's stub.
pub fn live_customer(c: StripeCustomer, field: &str) -> Result<Customer, Error> {
    if c.deleted {
        return Err(validate::not_found(field, &c.id, "customer"));
    }
    Ok(c.to_wit())
}

/// The page info of a Stripe list: the last id is the next cursor when more follow; Stripe's
/// lists carry no total.
pub fn page_info<T>(list: &List<T>, id: impl Fn(&T) -> &str) -> PageInfo {
    PageInfo {
        next_cursor: if list.has_more {
            list.data.last().map(|item| id(item).to_string())
        } else {
            None
        },
        total: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn intent(charge: serde_json::Value, extra: serde_json::Value) -> StripeIntent {
        let mut v = json!({
            "id": "pi_1", "object": "payment_intent", "amount": 1000, "amount_capturable": 0,
            "amount_received": 600, "currency": "usd", "customer": {"id": "cus_1", "object": "customer"},
            "payment_method": "pm_1X", "capture_method": "automatic_async", "status": "succeeded",
            "description": null, "metadata": {"b": "2", "a": "1"}, "last_payment_error": null,
            "cancellation_reason": null, "created": 1700000000, "latest_charge": charge,
        });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        serde_json::from_value(v).expect("intent parses")
    }

    #[test]
    fn intents_map_with_the_released_rest_taken_off() {
        let charge = json!({"id": "ch_1", "object": "charge", "amount": 1000,
            "amount_captured": 600, "amount_refunded": 700, "status": "succeeded"});
        let p = intent(charge, json!({})).to_wit().unwrap();
        assert_eq!(
            p.amount_refunded, 300,
            "700 refunded, of which 400 was the released rest"
        );
        assert_eq!(p.currency, "USD");
        assert_eq!(p.customer.as_deref(), Some("cus_1"));
        assert_eq!(p.payment_method.as_deref(), Some("pm_1X"));
        assert!(matches!(p.capture_method, CaptureMethod::Automatic));
        assert_eq!(
            p.metadata,
            vec![("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(p.created.seconds, 1_700_000_000);

        // An authorisation released by cancel: the whole charge "refunded", nothing captured.
        let canceled = json!({"id": "ch_2", "amount": 800, "amount_captured": 0,
            "amount_refunded": 800, "status": "succeeded"});
        let p = intent(
            canceled,
            json!({"status": "canceled", "cancellation_reason": "requested_by_customer",
                   "capture_method": "manual", "amount_received": 0}),
        )
        .to_wit()
        .unwrap();
        assert_eq!(p.amount_refunded, 0);
        assert!(matches!(
            p.cancellation_reason,
            Some(CancellationReason::RequestedByCustomer)
        ));

        let declined = json!({"id": "ch_3", "amount": 800, "amount_captured": 0,
            "amount_refunded": 0, "status": "failed"});
        let p = intent(
            declined,
            json!({"status": "requires_payment_method", "amount_received": 0,
                   "payment_method": null,
                   "last_payment_error": {"code": "card_declined", "decline_code": "generic_decline",
                                          "message": "Your card was declined.", "type": "card_error"}}),
        )
        .to_wit()
        .unwrap();
        assert_eq!(p.last_error_code.as_deref(), Some("card_declined"));
        assert_eq!(p.payment_method, None);
        assert_eq!(p.amount_refunded, 0);

        assert!(intent(json!(null), json!({"status": "weird"}))
            .to_wit()
            .is_err());
    }

    #[test]
    fn refunds_map() {
        let r: StripeRefund = serde_json::from_value(json!({
            "id": "re_1", "object": "refund", "amount": 300, "currency": "eur",
            "payment_intent": "pi_1", "charge": "ch_1", "status": "requires_action",
            "reason": "expired_uncaptured_charge", "failure_reason": null, "metadata": {},
            "created": 5}))
        .unwrap();
        let w = r.to_wit().unwrap();
        assert_eq!(w.payment, "pi_1");
        assert_eq!(w.currency, "EUR");
        assert!(matches!(w.status, RefundStatus::Pending));
        assert!(w.reason.is_none());
    }
}
