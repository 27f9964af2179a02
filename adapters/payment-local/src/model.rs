//! The ledger's objects as stored (one JSON file each) and their contract forms.

use serde::{Deserialize, Serialize};
use switchyard_sdk::payment::{
    CancellationReason, CaptureMethod, Customer, PaymentRecord, PaymentStatus, Refund,
    RefundReason, RefundStatus,
};
use switchyard_sdk::types::{Error, Metadata, Timestamp};

/// A stored customer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StoredCustomer {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub metadata: Vec<(String, String)>,
    pub created: (u64, u32),
}

/// A stored payment.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StoredPayment {
    pub id: String,
    pub amount: i64,
    pub amount_capturable: i64,
    pub amount_received: i64,
    pub amount_refunded: i64,
    pub currency: String,
    pub customer: Option<String>,
    pub payment_method: Option<String>,
    pub capture_method: String,
    pub status: String,
    pub description: Option<String>,
    pub metadata: Vec<(String, String)>,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    pub cancellation_reason: Option<String>,
    pub created: (u64, u32),
}

/// A stored refund.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StoredRefund {
    pub id: String,
    pub payment: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub reason: Option<String>,
    pub failure_reason: Option<String>,
    pub metadata: Vec<(String, String)>,
    pub created: (u64, u32),
}

fn ts((seconds, nanoseconds): (u64, u32)) -> Timestamp {
    Timestamp {
        seconds,
        nanoseconds,
    }
}

fn corrupt(what: &str, field: &str, value: &str) -> Error {
    Error::internal(format!(
        "the ledger's {what} has an unknown {field} {value:?}"
    ))
}

impl StoredCustomer {
    pub fn to_wit(&self) -> Customer {
        Customer {
            id: self.id.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            metadata: self.metadata.clone(),
            created: ts(self.created),
        }
    }
}

impl StoredPayment {
    pub fn to_wit(&self) -> Result<PaymentRecord, Error> {
        let status = match self.status.as_str() {
            "requires_payment_method" => PaymentStatus::RequiresPaymentMethod,
            "requires_confirmation" => PaymentStatus::RequiresConfirmation,
            "requires_action" => PaymentStatus::RequiresAction,
            "processing" => PaymentStatus::Processing,
            "requires_capture" => PaymentStatus::RequiresCapture,
            "succeeded" => PaymentStatus::Succeeded,
            "canceled" => PaymentStatus::Canceled,
            other => return Err(corrupt("payment", "status", other)),
        };
        let capture_method = match self.capture_method.as_str() {
            "automatic" => CaptureMethod::Automatic,
            "manual" => CaptureMethod::Manual,
            other => return Err(corrupt("payment", "capture method", other)),
        };
        let cancellation_reason = match self.cancellation_reason.as_deref() {
            None => None,
            Some(r) => Some(
                cancellation_from_str(r)
                    .ok_or_else(|| corrupt("payment", "cancellation reason", r))?,
            ),
        };
        Ok(PaymentRecord {
            id: self.id.clone(),
            amount: self.amount,
            amount_capturable: self.amount_capturable,
            amount_received: self.amount_received,
            amount_refunded: self.amount_refunded,
            currency: self.currency.clone(),
            customer: self.customer.clone(),
            payment_method: self.payment_method.clone(),
            capture_method,
            status,
            description: self.description.clone(),
            metadata: self.metadata.clone(),
            last_error_code: self.last_error_code.clone(),
            last_error_message: self.last_error_message.clone(),
            cancellation_reason,
            created: ts(self.created),
        })
    }
}

impl StoredRefund {
    pub fn to_wit(&self) -> Result<Refund, Error> {
        let status = match self.status.as_str() {
            "pending" => RefundStatus::Pending,
            "succeeded" => RefundStatus::Succeeded,
            "failed" => RefundStatus::Failed,
            "canceled" => RefundStatus::Canceled,
            other => return Err(corrupt("refund", "status", other)),
        };
        let reason = match self.reason.as_deref() {
            None => None,
            Some("duplicate") => Some(RefundReason::Duplicate),
            Some("fraudulent") => Some(RefundReason::Fraudulent),
            Some("requested_by_customer") => Some(RefundReason::RequestedByCustomer),
            Some(other) => return Err(corrupt("refund", "reason", other)),
        };
        Ok(Refund {
            id: self.id.clone(),
            payment: self.payment.clone(),
            amount: self.amount,
            currency: self.currency.clone(),
            status,
            reason,
            failure_reason: self.failure_reason.clone(),
            metadata: self.metadata.clone(),
            created: ts(self.created),
        })
    }
}

pub fn cancellation_to_str(r: CancellationReason) -> &'static str {
    match r {
        CancellationReason::Duplicate => "duplicate",
        CancellationReason::Fraudulent => "fraudulent",
        CancellationReason::RequestedByCustomer => "requested_by_customer",
        CancellationReason::Abandoned => "abandoned",
    }
}

fn cancellation_from_str(s: &str) -> Option<CancellationReason> {
    Some(match s {
        "duplicate" => CancellationReason::Duplicate,
        "fraudulent" => CancellationReason::Fraudulent,
        "requested_by_customer" => CancellationReason::RequestedByCustomer,
        "abandoned" => CancellationReason::Abandoned,
        _ => return None,
    })
}

pub fn refund_reason_to_str(r: RefundReason) -> &'static str {
    match r {
        RefundReason::Duplicate => "duplicate",
        RefundReason::Fraudulent => "fraudulent",
        RefundReason::RequestedByCustomer => "requested_by_customer",
    }
}

/// Metadata with later pairs overriding earlier ones of the same key, keys sorted.
pub fn normalise(pairs: &Metadata) -> Vec<(String, String)> {
    let mut map = std::collections::BTreeMap::new();
    for (k, v) in pairs {
        map.insert(k.clone(), v.clone());
    }
    map.into_iter().collect()
}

/// A test payment method's outcome.
pub enum Card {
    /// Charges succeed; refunds too.
    Succeeds,
    /// Charges succeed; refunds end `failed`.
    RefundFails,
    /// Charges are declined with (code, decline code, message).
    Declined(&'static str, &'static str, &'static str),
}

/// The test payment methods the sandbox knows (Stripe's test mode names).
pub fn card(pm: &str) -> Option<Card> {
    Some(match pm {
        "pm_card_visa" | "pm_card_visa_debit" | "pm_card_mastercard" | "pm_card_amex"
        | "pm_card_discover" | "pm_card_jcb" | "pm_card_unionpay" => Card::Succeeds,
        "pm_card_refundFail" => Card::RefundFails,
        "pm_card_chargeDeclined" => Card::Declined(
            "card_declined",
            "generic_decline",
            "Your card was declined.",
        ),
        "pm_card_chargeDeclinedInsufficientFunds" => Card::Declined(
            "card_declined",
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
        "pm_card_chargeDeclinedFraudulent" => {
            Card::Declined("card_declined", "fraudulent", "Your card was declined.")
        }
        "pm_card_chargeDeclinedExpiredCard" => {
            Card::Declined("expired_card", "expired_card", "Your card has expired.")
        }
        "pm_card_chargeDeclinedIncorrectCvc" => Card::Declined(
            "incorrect_cvc",
            "incorrect_cvc",
            "Your card's security code is incorrect.",
        ),
        "pm_card_chargeDeclinedProcessingError" => Card::Declined(
            "processing_error",
            "processing_error",
            "An error occurred while processing your card. Try again in a little bit.",
        ),
        _ => return None,
    })
}

/// The time now as stored: (seconds, nanoseconds).
pub(crate) fn now() -> (u64, u32) {
    let t = switchyard_sdk::time::now();
    (t.seconds, t.nanoseconds)
}

/// A new id: `prefix` and 24 random hex digits.
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(switchyard_sdk::random::bytes(12)))
}
