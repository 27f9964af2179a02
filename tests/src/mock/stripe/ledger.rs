//! The mock's test-mode account: customers, payment methods, PaymentIntents with Stripe's state
//! machine, their charges and refunds, and the JSON each object renders to. The parameter
//! checks and error bodies are in `request`.
//!
//! Everything here is synchronous and runs under the mock's one lock, so concurrent requests see
//! the account change atomically, as they would at Stripe.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::form;
use super::request::{
    allow, apply_metadata, boolean, bounded, check_email, expansions, integer, item_expansions,
    list_page, metadata, one_of, page, positive, string, unset_empty, ApiError, Params,
};

/// What a test payment method does when charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Behaviour {
    /// Charges succeed, refunds succeed.
    Succeeds,
    /// Charges succeed; refunds are answered `succeeded` and turn `failed` right after
    /// (Stripe: "refund failures are asynchronous... only have the failed status on
    /// subsequent fetches"), with `failure_reason: expired_or_canceled_card`.
    RefundFails,
    /// Charges are declined: (code, decline_code, message).
    Declines(&'static str, &'static str, &'static str),
}

/// Stripe's test PaymentMethod shortcuts (stripe.com/docs/testing): brand, last4, behaviour.
/// Both the `pm_card_chargeDeclined...` names and the newer `pm_card_visa_chargeDeclined...`
/// names are known.
pub(super) fn test_card(token: &str) -> Option<(&'static str, &'static str, Behaviour)> {
    use Behaviour::*;
    let declined = |suffix: &str| -> Option<(&'static str, &'static str, Behaviour)> {
        Some(match suffix {
            "" => (
                "0002",
                "visa",
                Declines(
                    "card_declined",
                    "generic_decline",
                    "Your card was declined.",
                ),
            ),
            "InsufficientFunds" => (
                "9995",
                "visa",
                Declines(
                    "card_declined",
                    "insufficient_funds",
                    "Your card has insufficient funds.",
                ),
            ),
            "LostCard" => (
                "9987",
                "visa",
                Declines("card_declined", "lost_card", "Your card was declined."),
            ),
            "StolenCard" => (
                "9979",
                "visa",
                Declines("card_declined", "stolen_card", "Your card was declined."),
            ),
            "Fraudulent" => (
                "0019",
                "visa",
                Declines("card_declined", "fraudulent", "Your card was declined."),
            ),
            "ExpiredCard" => (
                "0069",
                "visa",
                Declines("expired_card", "expired_card", "Your card has expired."),
            ),
            "IncorrectCvc" => (
                "0127",
                "visa",
                Declines(
                    "incorrect_cvc",
                    "incorrect_cvc",
                    "Your card's security code is incorrect.",
                ),
            ),
            "ProcessingError" => (
                "0119",
                "visa",
                Declines(
                    "processing_error",
                    "processing_error",
                    "An error occurred while processing your card. Try again in a little bit.",
                ),
            ),
            _ => return None,
        })
        .map(|(last4, brand, b)| (brand, last4, b))
    };
    if let Some(suffix) = token
        .strip_prefix("pm_card_visa_chargeDeclined")
        .or_else(|| token.strip_prefix("pm_card_chargeDeclined"))
    {
        return declined(suffix);
    }
    Some(match token {
        "pm_card_visa" => ("visa", "4242", Succeeds),
        "pm_card_visa_debit" => ("visa", "5556", Succeeds),
        "pm_card_mastercard" => ("mastercard", "4444", Succeeds),
        "pm_card_mastercard_debit" => ("mastercard", "8210", Succeeds),
        "pm_card_mastercard_prepaid" => ("mastercard", "5100", Succeeds),
        "pm_card_amex" => ("amex", "8431", Succeeds),
        "pm_card_discover" => ("discover", "1117", Succeeds),
        "pm_card_diners" => ("diners", "0004", Succeeds),
        "pm_card_jcb" => ("jcb", "0505", Succeeds),
        "pm_card_unionpay" => ("unionpay", "0005", Succeeds),
        "pm_card_refundFail" => ("visa", "5126", RefundFails),
        _ => return None,
    })
}

/// Currencies the mock account can charge in (lower case, as Stripe writes them).
const CURRENCIES: &[&str] = &[
    "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd", "bdt",
    "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad", "cdf",
    "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp", "etb",
    "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl", "htg",
    "huf", "idr", "ils", "inr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf", "krw",
    "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd", "mmk",
    "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok", "npr",
    "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd", "rub",
    "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl", "thb",
    "tjs", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "usd", "uyu", "uzs", "vnd",
    "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw",
];

/// Currencies without a minor unit.
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Stripe's minimum charge amounts for a few currencies (stripe.com/docs/currencies), in minor
/// units; other currencies take any positive amount here.
fn minimum_amount(currency: &str) -> i64 {
    match currency {
        "usd" | "eur" | "cad" | "aud" | "nzd" | "sgd" | "chf" => 50,
        "gbp" => 30,
        "jpy" => 50,
        "hkd" => 400,
        "mxn" => 1000,
        _ => 1,
    }
}

/// The largest amount Stripe takes (eight digits).
const MAX_AMOUNT: i64 = 99_999_999;

/// `$7.01`, `€7.01`, `¥700`, `7.01 nok`.
fn money(amount: i64, currency: &str) -> String {
    let number = if ZERO_DECIMAL.contains(&currency) {
        amount.to_string()
    } else {
        format!("{}.{:02}", amount / 100, (amount % 100).abs())
    };
    match currency {
        "usd" => format!("${number}"),
        "eur" => format!("€{number}"),
        "gbp" => format!("£{number}"),
        "jpy" => format!("¥{number}"),
        other => format!("{number} {other}"),
    }
}

#[derive(Debug, Clone)]
pub(super) struct Customer {
    pub id: String,
    seq: u64,
    created: u64,
    email: Option<String>,
    name: Option<String>,
    description: Option<String>,
    phone: Option<String>,
    metadata: BTreeMap<String, String>,
    invoice_prefix: String,
    deleted: bool,
}

#[derive(Debug, Clone)]
pub(super) struct PaymentMethod {
    pub id: String,
    created: u64,
    brand: &'static str,
    last4: &'static str,
    behaviour: Behaviour,
    customer: Option<String>,
    /// Used in a payment without being attached to a customer: Stripe refuses to use it again.
    used: bool,
}

#[derive(Debug, Clone)]
pub(super) struct PaymentIntent {
    pub id: String,
    seq: u64,
    created: u64,
    amount: i64,
    amount_capturable: i64,
    amount_received: i64,
    currency: String,
    customer: Option<String>,
    payment_method: Option<String>,
    payment_method_types: Vec<String>,
    /// `automatic_payment_methods`: `Some(allow_redirects)` when enabled.
    automatic_payment_methods: Option<String>,
    capture_method: String,
    status: String,
    description: Option<String>,
    metadata: BTreeMap<String, String>,
    last_payment_error: Option<Value>,
    cancellation_reason: Option<String>,
    canceled_at: Option<u64>,
    latest_charge: Option<String>,
    client_secret: String,
}

#[derive(Debug, Clone)]
pub(super) struct Charge {
    id: String,
    created: u64,
    amount: i64,
    amount_captured: i64,
    amount_refunded: i64,
    captured: bool,
    currency: String,
    customer: Option<String>,
    payment_intent: String,
    payment_method: String,
    status: &'static str,
    failure_code: Option<String>,
    failure_message: Option<String>,
    decline_code: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Refund {
    pub id: String,
    seq: u64,
    created: u64,
    amount: i64,
    charge: String,
    currency: String,
    payment_intent: String,
    reason: Option<String>,
    status: &'static str,
    failure_reason: Option<String>,
    metadata: BTreeMap<String, String>,
}

/// The test-mode account.
#[derive(Debug)]
pub(super) struct Ledger {
    seq: u64,
    rng: u64,
    customers: BTreeMap<String, Customer>,
    payment_methods: HashMap<String, PaymentMethod>,
    intents: BTreeMap<String, PaymentIntent>,
    charges: HashMap<String, Charge>,
    refunds: BTreeMap<String, Refund>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Ledger {
    pub fn new(seed: u64) -> Ledger {
        Ledger {
            seq: 0,
            rng: seed | 1,
            customers: BTreeMap::new(),
            payment_methods: HashMap::new(),
            intents: BTreeMap::new(),
            charges: HashMap::new(),
            refunds: BTreeMap::new(),
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// `prefix` + `len` random alphanumerics (xorshift; ids only need to be unique).
    pub fn random_id(&mut self, prefix: &str, len: usize) -> String {
        let mut id = String::from(prefix);
        for _ in 0..len {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            id.push(ALNUM[(self.rng % ALNUM.len() as u64) as usize] as char);
        }
        id
    }

    // ----- rendering ----------------------------------------------------------------------

    fn render_customer(c: &Customer) -> Value {
        if c.deleted {
            return json!({"id": c.id, "object": "customer", "deleted": true});
        }
        json!({
            "id": c.id, "object": "customer", "address": null, "balance": 0,
            "created": c.created, "currency": null, "default_source": null, "delinquent": false,
            "description": c.description, "discount": null, "email": c.email,
            "invoice_prefix": c.invoice_prefix,
            "invoice_settings": {"custom_fields": null, "default_payment_method": null,
                                 "footer": null, "rendering_options": null},
            "livemode": false, "metadata": c.metadata, "name": c.name,
            "next_invoice_sequence": 1, "phone": c.phone, "preferred_locales": [],
            "shipping": null, "tax_exempt": "none", "test_clock": null,
        })
    }

    fn render_payment_method(pm: &PaymentMethod) -> Value {
        json!({
            "id": pm.id, "object": "payment_method",
            "billing_details": {"address": {"city": null, "country": null, "line1": null,
                "line2": null, "postal_code": null, "state": null},
                "email": null, "name": null, "phone": null},
            "card": {"brand": pm.brand, "checks": {"address_line1_check": null,
                "address_postal_code_check": null, "cvc_check": "unchecked"},
                "country": "US", "exp_month": 12, "exp_year": 2034, "funding": "credit",
                "last4": pm.last4},
            "created": pm.created, "customer": pm.customer, "livemode": false,
            "metadata": {}, "type": "card",
        })
    }

    fn render_charge(ch: &Charge) -> Value {
        let outcome = match ch.status {
            "succeeded" => json!({"network_status": "approved_by_network", "reason": null,
                "risk_level": "normal", "seller_message": "Payment complete.",
                "type": "authorized"}),
            _ => json!({"network_status": "declined_by_network", "reason": ch.decline_code,
                "risk_level": "normal",
                "seller_message": "The bank did not return any further details with this decline.",
                "type": "issuer_declined"}),
        };
        json!({
            "id": ch.id, "object": "charge", "amount": ch.amount,
            "amount_captured": ch.amount_captured, "amount_refunded": ch.amount_refunded,
            "balance_transaction": null, "captured": ch.captured, "created": ch.created,
            "currency": ch.currency, "customer": ch.customer, "description": null,
            "disputed": false, "failure_code": ch.failure_code,
            "failure_message": ch.failure_message, "livemode": false, "metadata": {},
            "outcome": outcome, "paid": ch.status == "succeeded",
            "payment_intent": ch.payment_intent, "payment_method": ch.payment_method,
            "refunded": ch.amount_refunded >= ch.amount && ch.amount_refunded > 0,
            "status": ch.status,
        })
    }

    fn render_intent(&self, pi: &PaymentIntent, expand: &[String]) -> Value {
        let expanded = |field: &str| expand.iter().any(|e| e == field);
        let latest_charge = match (&pi.latest_charge, expanded("latest_charge")) {
            (Some(id), true) => self
                .charges
                .get(id)
                .map(Self::render_charge)
                .unwrap_or(Value::Null),
            (Some(id), false) => json!(id),
            (None, _) => Value::Null,
        };
        let customer = match (&pi.customer, expanded("customer")) {
            (Some(id), true) => self
                .customers
                .get(id)
                .map(Self::render_customer)
                .unwrap_or(Value::Null),
            (Some(id), false) => json!(id),
            (None, _) => Value::Null,
        };
        let payment_method = match (&pi.payment_method, expanded("payment_method")) {
            (Some(id), true) => self
                .payment_methods
                .get(id)
                .map(Self::render_payment_method)
                .unwrap_or(Value::Null),
            (Some(id), false) => json!(id),
            (None, _) => Value::Null,
        };
        let apm = pi
            .automatic_payment_methods
            .as_ref()
            .map(|redirects| json!({"allow_redirects": redirects, "enabled": true}));
        json!({
            "id": pi.id, "object": "payment_intent", "amount": pi.amount,
            "amount_capturable": pi.amount_capturable, "amount_details": {"tip": {}},
            "amount_received": pi.amount_received, "application": null,
            "application_fee_amount": null, "automatic_payment_methods": apm,
            "canceled_at": pi.canceled_at, "cancellation_reason": pi.cancellation_reason,
            "capture_method": pi.capture_method, "client_secret": pi.client_secret,
            "confirmation_method": "automatic", "created": pi.created, "currency": pi.currency,
            "customer": customer, "description": pi.description,
            "last_payment_error": pi.last_payment_error, "latest_charge": latest_charge,
            "livemode": false, "metadata": pi.metadata, "next_action": null,
            "on_behalf_of": null, "payment_method": payment_method,
            "payment_method_options": {"card": {"installments": null, "mandate_options": null,
                "network": null, "request_three_d_secure": "automatic"}},
            "payment_method_types": pi.payment_method_types, "processing": null,
            "receipt_email": null, "review": null, "setup_future_usage": null,
            "shipping": null, "source": null, "statement_descriptor": null,
            "statement_descriptor_suffix": null, "status": pi.status,
            "transfer_data": null, "transfer_group": null,
        })
    }

    fn render_refund(r: &Refund) -> Value {
        json!({
            "id": r.id, "object": "refund", "amount": r.amount, "balance_transaction": null,
            "charge": r.charge, "created": r.created, "currency": r.currency,
            "failure_reason": r.failure_reason, "metadata": r.metadata,
            "payment_intent": r.payment_intent, "reason": r.reason,
            "receipt_number": null, "source_transfer_reversal": null, "status": r.status,
            "transfer_reversal": null,
        })
    }

    // ----- snapshots for tests ----------------------------------------------------------

    pub fn customers_json(&self) -> Vec<Value> {
        let mut all: Vec<&Customer> = self.customers.values().filter(|c| !c.deleted).collect();
        all.sort_by_key(|c| std::cmp::Reverse(c.seq));
        all.into_iter().map(Self::render_customer).collect()
    }

    pub fn intents_json(&self) -> Vec<Value> {
        let mut all: Vec<&PaymentIntent> = self.intents.values().collect();
        all.sort_by_key(|p| std::cmp::Reverse(p.seq));
        let expand = ["latest_charge".to_string()];
        all.into_iter()
            .map(|p| self.render_intent(p, &expand))
            .collect()
    }

    pub fn refunds_json(&self) -> Vec<Value> {
        let mut all: Vec<&Refund> = self.refunds.values().collect();
        all.sort_by_key(|r| std::cmp::Reverse(r.seq));
        all.into_iter().map(Self::render_refund).collect()
    }

    // ----- customers ----------------------------------------------------------------------

    const CUSTOMER_PARAMS: &'static [&'static str] = &[
        "email",
        "name",
        "description",
        "phone",
        "metadata",
        "expand",
    ];

    pub fn create_customer(&mut self, params: &Params) -> Result<Value, ApiError> {
        allow(params, Self::CUSTOMER_PARAMS)?;
        expansions(params, &[])?;
        let email = bounded(params, "email", 512)?;
        if let Some(e) = email.as_deref().filter(|e| !e.is_empty()) {
            check_email(e)?;
        }
        let name = bounded(params, "name", 256)?;
        let description = bounded(params, "description", 5000)?;
        let phone = bounded(params, "phone", 20)?;
        let meta = metadata(params)?;
        let seq = self.next_seq();
        let id = self.random_id("cus_", 14);
        let invoice_prefix = self.random_id("", 8).to_uppercase();
        let mut customer = Customer {
            id: id.clone(),
            seq,
            created: now(),
            email: email.filter(|e| !e.is_empty()),
            name: name.filter(|e| !e.is_empty()),
            description: description.filter(|e| !e.is_empty()),
            phone: phone.filter(|e| !e.is_empty()),
            metadata: BTreeMap::new(),
            invoice_prefix,
            deleted: false,
        };
        apply_metadata(&mut customer.metadata, meta);
        let body = Self::render_customer(&customer);
        self.customers.insert(id, customer);
        Ok(body)
    }

    fn customer(&self, id: &str, param: &str, status: u16) -> Result<&Customer, ApiError> {
        self.customers
            .get(id)
            .filter(|c| !c.deleted || param == "id")
            .ok_or_else(|| ApiError::no_such("customer", id, param, status))
    }

    pub fn get_customer(&self, id: &str, params: &Params) -> Result<Value, ApiError> {
        allow(params, &["expand"])?;
        expansions(params, &[])?;
        Ok(Self::render_customer(self.customer(id, "id", 404)?))
    }

    pub fn update_customer(&mut self, id: &str, params: &Params) -> Result<Value, ApiError> {
        allow(params, Self::CUSTOMER_PARAMS)?;
        expansions(params, &[])?;
        let existing = self.customer(id, "id", 404)?;
        if existing.deleted {
            return Err(ApiError::invalid(
                format!(
                    "No such customer: '{id}'; a similar object exists but it has been deleted"
                ),
                Some("id"),
            )
            .code("resource_missing")
            .status(404));
        }
        let email = bounded(params, "email", 512)?;
        if let Some(e) = email.as_deref().filter(|e| !e.is_empty()) {
            check_email(e)?;
        }
        let name = bounded(params, "name", 256)?;
        let description = bounded(params, "description", 5000)?;
        let phone = bounded(params, "phone", 20)?;
        let meta = metadata(params)?;
        let c = self
            .customers
            .get_mut(id)
            .ok_or_else(|| ApiError::no_such("customer", id, "id", 404))?;
        if let Some(v) = unset_empty(email) {
            c.email = v;
        }
        if let Some(v) = unset_empty(name) {
            c.name = v;
        }
        if let Some(v) = unset_empty(description) {
            c.description = v;
        }
        if let Some(v) = unset_empty(phone) {
            c.phone = v;
        }
        apply_metadata(&mut c.metadata, meta);
        Ok(Self::render_customer(c))
    }

    pub fn delete_customer(&mut self, id: &str) -> Result<Value, ApiError> {
        let c = self
            .customers
            .get_mut(id)
            .filter(|c| !c.deleted)
            .ok_or_else(|| ApiError::no_such("customer", id, "id", 404))?;
        c.deleted = true;
        Ok(json!({"id": id, "object": "customer", "deleted": true}))
    }

    pub fn list_customers(&self, params: &Params) -> Result<Value, ApiError> {
        allow(
            params,
            &[
                "limit",
                "starting_after",
                "ending_before",
                "email",
                "expand",
            ],
        )?;
        expansions(params, &[])?;
        let page = page(params)?;
        let email = string(params, "email")?;
        let mut all: Vec<&Customer> = self
            .customers
            .values()
            .filter(|c| !c.deleted)
            .filter(|c| email.is_none() || c.email == email)
            .collect();
        all.sort_by_key(|c| std::cmp::Reverse(c.seq));
        let items = all
            .into_iter()
            .map(|c| (c.id.clone(), Self::render_customer(c)))
            .collect();
        list_page(
            "/v1/customers",
            items,
            &page,
            |id| self.customers.contains_key(id),
            "customer",
        )
    }

    // ----- payment methods ----------------------------------------------------------------

    /// Resolves a `payment_method` parameter: a test shortcut makes a new PaymentMethod (as
    /// Stripe does, with its own `pm_...` id); an id names an existing one.
    fn resolve_payment_method(&mut self, given: &str) -> Result<String, ApiError> {
        if self.payment_methods.contains_key(given) {
            return Ok(given.to_string());
        }
        let Some((brand, last4, behaviour)) = test_card(given) else {
            return Err(ApiError::no_such(
                "PaymentMethod",
                given,
                "payment_method",
                400,
            ));
        };
        let id = self.random_id("pm_1", 23);
        self.payment_methods.insert(
            id.clone(),
            PaymentMethod {
                id: id.clone(),
                created: now(),
                brand,
                last4,
                behaviour,
                customer: None,
                used: false,
            },
        );
        Ok(id)
    }

    /// Checks that `given` would resolve to a usable payment method, without making anything:
    /// unknown ones are `resource_missing`; one used before without a customer is refused, as
    /// Stripe refuses it.
    fn check_payment_method(&self, given: &str) -> Result<(), ApiError> {
        match self.payment_methods.get(given) {
            Some(pm) if pm.used && pm.customer.is_none() => Err(ApiError::invalid(
                "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.",
                Some("payment_method"),
            )),
            Some(_) => Ok(()),
            None if test_card(given).is_some() => Ok(()),
            None => Err(ApiError::no_such("PaymentMethod", given, "payment_method", 400)),
        }
    }

    // ----- payment intents ----------------------------------------------------------------

    const INTENT_EXPAND: &'static [&'static str] = &["latest_charge", "customer", "payment_method"];

    fn intent(&self, id: &str, param: &str, status: u16) -> Result<&PaymentIntent, ApiError> {
        self.intents
            .get(id)
            .ok_or_else(|| ApiError::no_such("payment_intent", id, param, status))
    }

    pub fn create_intent(&mut self, params: &Params) -> Result<Value, ApiError> {
        allow(
            params,
            &[
                "amount",
                "currency",
                "customer",
                "payment_method",
                "payment_method_types",
                "automatic_payment_methods",
                "capture_method",
                "confirm",
                "description",
                "metadata",
                "expand",
                "return_url",
                "receipt_email",
            ],
        )?;
        let expand = expansions(params, Self::INTENT_EXPAND)?;
        let amount = integer(params, "amount")?.ok_or_else(|| ApiError::missing_param("amount"))?;
        let currency = string(params, "currency")?
            .ok_or_else(|| ApiError::missing_param("currency"))?
            .to_ascii_lowercase();
        if !CURRENCIES.contains(&currency.as_str()) {
            return Err(ApiError::invalid(
                format!(
                    "Invalid currency: {currency}. Stripe currently supports these currencies: {}",
                    CURRENCIES.join(", ")
                ),
                Some("currency"),
            ));
        }
        if amount < 1 {
            return Err(ApiError::invalid(
                "This value must be greater than or equal to 1.",
                Some("amount"),
            ));
        }
        let minimum = minimum_amount(&currency);
        if amount < minimum {
            return Err(ApiError::invalid(
                format!(
                    "Amount must be at least {} {currency}",
                    money(minimum, &currency)
                ),
                Some("amount"),
            )
            .code("amount_too_small"));
        }
        if amount > MAX_AMOUNT {
            return Err(ApiError::invalid(
                format!(
                    "Amount must be no more than {}",
                    money(MAX_AMOUNT, &currency)
                ),
                Some("amount"),
            )
            .code("amount_too_large"));
        }
        let customer = string(params, "customer")?;
        if let Some(c) = &customer {
            self.customer(c, "customer", 400)?;
        }
        let pm_given = string(params, "payment_method")?;
        if let Some(pm) = &pm_given {
            self.check_payment_method(pm)?;
        }
        let types = form::list(params, "payment_method_types")
            .map_err(|m| ApiError::invalid(m, Some("payment_method_types")))?;
        if let Some(types) = &types {
            if let Some(bad) = types.iter().find(|t| t.as_str() != "card") {
                return Err(ApiError::invalid(
                    format!(
                        "The payment method type \"{bad}\" is invalid. Please ensure the provided type is activated in your dashboard (https://dashboard.stripe.com/account/payments/settings) and your account is enabled for any preview features that you are trying to use."
                    ),
                    Some("payment_method_types"),
                ));
            }
        }
        let automatic = match params.get("automatic_payment_methods") {
            None => None,
            Some(Value::Object(apm)) => {
                let enabled = apm.get("enabled").and_then(Value::as_str);
                let redirects = apm
                    .get("allow_redirects")
                    .and_then(Value::as_str)
                    .unwrap_or("always");
                match enabled {
                    Some("true") => Some(redirects.to_string()),
                    Some("false") => None,
                    _ => {
                        return Err(ApiError::missing_param(
                            "automatic_payment_methods[enabled]",
                        ))
                    }
                }
            }
            Some(_) => {
                return Err(ApiError::invalid(
                    "Invalid object",
                    Some("automatic_payment_methods"),
                ))
            }
        };
        if types.is_some() && automatic.is_some() {
            return Err(ApiError::invalid(
                "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
                Some("automatic_payment_methods"),
            ));
        }
        // Without payment_method_types, API versions since 2023-08-16 enable automatic payment
        // methods, redirects allowed.
        let automatic = match (&types, automatic) {
            (None, None) => Some("always".to_string()),
            (_, a) => a,
        };
        let capture_method = one_of(
            params,
            "capture_method",
            &["automatic", "automatic_async", "manual"],
        )?
        .unwrap_or_else(|| "automatic_async".into());
        let confirm = boolean(params, "confirm")?.unwrap_or(false);
        let description = bounded(params, "description", 1000)?;
        let meta = metadata(params)?;
        let return_url = string(params, "return_url")?;
        if confirm && pm_given.is_none() {
            return Err(ApiError::invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
                Some("payment_method"),
            )
            .code("payment_intent_unexpected_state"));
        }
        if confirm {
            redirect_check(automatic.as_deref(), return_url.as_deref())?;
        }
        let payment_method = match &pm_given {
            Some(pm) => Some(self.resolve_payment_method(pm)?),
            None => None,
        };
        let seq = self.next_seq();
        let id = self.random_id("pi_3", 24);
        let secret = self.random_id("_secret_", 25);
        let mut pi = PaymentIntent {
            id: id.clone(),
            seq,
            created: now(),
            amount,
            amount_capturable: 0,
            amount_received: 0,
            currency,
            customer,
            status: if payment_method.is_some() {
                "requires_confirmation".into()
            } else {
                "requires_payment_method".into()
            },
            payment_method,
            payment_method_types: types.unwrap_or_else(|| vec!["card".into()]),
            automatic_payment_methods: automatic,
            capture_method,
            description: description.filter(|d| !d.is_empty()),
            metadata: BTreeMap::new(),
            last_payment_error: None,
            cancellation_reason: None,
            canceled_at: None,
            latest_charge: None,
            client_secret: format!("{id}{secret}"),
        };
        apply_metadata(&mut pi.metadata, meta);
        self.intents.insert(id.clone(), pi);
        if confirm {
            self.attempt(&id)?;
        }
        Ok(self.render_intent(&self.intents[&id], &expand))
    }

    pub fn get_intent(&self, id: &str, params: &Params) -> Result<Value, ApiError> {
        allow(params, &["expand", "client_secret"])?;
        let expand = expansions(params, Self::INTENT_EXPAND)?;
        Ok(self.render_intent(self.intent(id, "intent", 404)?, &expand))
    }

    fn unexpected_state(&self, pi: &PaymentIntent, message: String) -> ApiError {
        ApiError::invalid(message, None)
            .code("payment_intent_unexpected_state")
            .with("payment_intent", self.render_intent(pi, &[]))
            .saved()
    }

    pub fn confirm_intent(&mut self, id: &str, params: &Params) -> Result<Value, ApiError> {
        allow(params, &["payment_method", "expand", "return_url"])?;
        let expand = expansions(params, Self::INTENT_EXPAND)?;
        let pm_given = string(params, "payment_method")?;
        let return_url = string(params, "return_url")?;
        let pi = self.intent(id, "intent", 404)?.clone();
        if let Some(pm) = &pm_given {
            self.check_payment_method(pm)?;
        }
        let confirmable = [
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
        ];
        if !confirmable.contains(&pi.status.as_str()) {
            return Err(self.unexpected_state(
                &pi,
                format!(
                    "You cannot confirm this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be confirmed: requires_payment_method, requires_confirmation, requires_action.",
                    pi.status
                ),
            ));
        }
        if pm_given.is_none() && pi.payment_method.is_none() {
            return Err(self.unexpected_state(
                &pi,
                "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.".into(),
            ));
        }
        redirect_check(
            pi.automatic_payment_methods.as_deref(),
            return_url.as_deref(),
        )?;
        if let Some(pm) = &pm_given {
            let resolved = self.resolve_payment_method(pm)?;
            if let Some(p) = self.intents.get_mut(id) {
                p.payment_method = Some(resolved);
            }
        }
        self.attempt(id)?;
        Ok(self.render_intent(&self.intents[id], &expand))
    }

    /// Charges (or authorises) the attached payment method; a decline leaves the PaymentIntent in
    /// `requires_payment_method` and answers Stripe's 402 `card_error`.
    fn attempt(&mut self, id: &str) -> Result<(), ApiError> {
        let Some(pm_id) = self.intents[id].payment_method.clone() else {
            return Err(ApiError::invalid(
                "no payment method",
                Some("payment_method"),
            ));
        };
        let pm = self.payment_methods[&pm_id].clone();
        if let Some(m) = self.payment_methods.get_mut(&pm_id) {
            m.used = true;
        }
        let charge_id = self.random_id("ch_3", 24);
        let pi = self.intents[id].clone();
        let mut charge = Charge {
            id: charge_id.clone(),
            created: now(),
            amount: pi.amount,
            amount_captured: 0,
            amount_refunded: 0,
            captured: false,
            currency: pi.currency.clone(),
            customer: pi.customer.clone(),
            payment_intent: pi.id.clone(),
            payment_method: pm_id.clone(),
            status: "succeeded",
            failure_code: None,
            failure_message: None,
            decline_code: None,
        };
        match pm.behaviour {
            Behaviour::Declines(code, decline_code, message) => {
                charge.status = "failed";
                charge.failure_code = Some(code.into());
                charge.failure_message = Some(message.into());
                charge.decline_code = Some(decline_code.into());
                let pm_json = Self::render_payment_method(&pm);
                let error = json!({
                    "charge": charge_id, "code": code, "decline_code": decline_code,
                    "doc_url": format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-")),
                    "message": message, "payment_method": pm_json, "type": "card_error",
                });
                self.charges.insert(charge_id.clone(), charge);
                let p = self.intents.get_mut(id).expect("intent exists");
                p.status = "requires_payment_method".into();
                p.payment_method = None;
                p.last_payment_error = Some(error);
                p.latest_charge = Some(charge_id.clone());
                let rendered = self.render_intent(&self.intents[id], &[]);
                Err(ApiError::invalid(message, None)
                    .kind("card_error")
                    .status(402)
                    .code(code)
                    .with("decline_code", json!(decline_code))
                    .with("charge", json!(charge_id))
                    .with("payment_intent", rendered)
                    .with("payment_method", Self::render_payment_method(&pm))
                    .saved())
            }
            Behaviour::Succeeds | Behaviour::RefundFails => {
                let manual = pi.capture_method == "manual";
                if !manual {
                    charge.captured = true;
                    charge.amount_captured = pi.amount;
                }
                self.charges.insert(charge_id.clone(), charge);
                let p = self.intents.get_mut(id).expect("intent exists");
                p.last_payment_error = None;
                p.latest_charge = Some(charge_id);
                if manual {
                    p.status = "requires_capture".into();
                    p.amount_capturable = p.amount;
                } else {
                    p.status = "succeeded".into();
                    p.amount_received = p.amount;
                }
                Ok(())
            }
        }
    }

    pub fn capture_intent(&mut self, id: &str, params: &Params) -> Result<Value, ApiError> {
        allow(params, &["amount_to_capture", "expand", "metadata"])?;
        let expand = expansions(params, Self::INTENT_EXPAND)?;
        let amount = positive(params, "amount_to_capture")?;
        let meta = metadata(params)?;
        let pi = self.intent(id, "intent", 404)?.clone();
        if pi.status != "requires_capture" {
            return Err(self.unexpected_state(
                &pi,
                format!(
                    "This PaymentIntent could not be captured because it has a status of {}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
                    pi.status
                ),
            ));
        }
        let amount = amount.unwrap_or(pi.amount_capturable);
        if amount > pi.amount_capturable {
            return Err(ApiError::invalid(
                format!(
                    "The amount to capture ({amount}) must be less than or equal to the amount capturable ({}).",
                    pi.amount_capturable
                ),
                Some("amount_to_capture"),
            )
            .code("amount_too_large"));
        }
        if let Some(charge) = pi
            .latest_charge
            .as_ref()
            .and_then(|c| self.charges.get_mut(c))
        {
            charge.captured = true;
            charge.amount_captured = amount;
            // The uncaptured rest is released: Stripe shows it as refunded on the charge.
            charge.amount_refunded += charge.amount - amount;
        }
        let p = self.intents.get_mut(id).expect("intent exists");
        p.amount_received = amount;
        p.amount_capturable = 0;
        p.status = "succeeded".into();
        apply_metadata(&mut p.metadata, meta);
        Ok(self.render_intent(&self.intents[id], &expand))
    }

    pub fn cancel_intent(&mut self, id: &str, params: &Params) -> Result<Value, ApiError> {
        allow(params, &["cancellation_reason", "expand"])?;
        let expand = expansions(params, Self::INTENT_EXPAND)?;
        let reason = one_of(
            params,
            "cancellation_reason",
            &[
                "duplicate",
                "fraudulent",
                "requested_by_customer",
                "abandoned",
            ],
        )?;
        let pi = self.intent(id, "intent", 404)?.clone();
        let cancelable = [
            "requires_payment_method",
            "requires_capture",
            "requires_confirmation",
            "requires_action",
            "processing",
        ];
        if !cancelable.contains(&pi.status.as_str()) {
            return Err(self.unexpected_state(
                &pi,
                format!(
                    "You cannot cancel this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.",
                    pi.status
                ),
            ));
        }
        if pi.status == "requires_capture" {
            if let Some(charge) = pi
                .latest_charge
                .as_ref()
                .and_then(|c| self.charges.get_mut(c))
            {
                // Releasing the authorisation refunds the uncaptured charge.
                charge.amount_refunded = charge.amount;
            }
        }
        let p = self.intents.get_mut(id).expect("intent exists");
        p.status = "canceled".into();
        p.amount_capturable = 0;
        p.cancellation_reason = reason;
        p.canceled_at = Some(now());
        Ok(self.render_intent(&self.intents[id], &expand))
    }

    pub fn list_intents(&self, params: &Params) -> Result<Value, ApiError> {
        allow(
            params,
            &[
                "limit",
                "starting_after",
                "ending_before",
                "customer",
                "expand",
            ],
        )?;
        let expand = expansions(
            params,
            &["data.latest_charge", "data.customer", "data.payment_method"],
        )?;
        let page = page(params)?;
        let customer = string(params, "customer")?;
        let mut all: Vec<&PaymentIntent> = self
            .intents
            .values()
            .filter(|p| customer.is_none() || p.customer == customer)
            .collect();
        all.sort_by_key(|p| std::cmp::Reverse(p.seq));
        let each = item_expansions(&expand);
        let items = all
            .into_iter()
            .map(|p| (p.id.clone(), self.render_intent(p, &each)))
            .collect();
        list_page(
            "/v1/payment_intents",
            items,
            &page,
            |id| self.intents.contains_key(id),
            "payment_intent",
        )
    }

    pub fn get_charge(&self, id: &str, params: &Params) -> Result<Value, ApiError> {
        allow(params, &["expand"])?;
        expansions(params, &[])?;
        self.charges
            .get(id)
            .map(Self::render_charge)
            .ok_or_else(|| ApiError::no_such("charge", id, "id", 404))
    }

    // ----- refunds ------------------------------------------------------------------------

    pub fn create_refund(&mut self, params: &Params) -> Result<Value, ApiError> {
        allow(
            params,
            &[
                "payment_intent",
                "charge",
                "amount",
                "reason",
                "metadata",
                "expand",
            ],
        )?;
        expansions(params, &[])?;
        let amount = positive(params, "amount")?;
        let reason = one_of(
            params,
            "reason",
            &["duplicate", "fraudulent", "requested_by_customer"],
        )?;
        let meta = metadata(params)?;
        let (pi, charge) = match (
            string(params, "payment_intent")?,
            string(params, "charge")?,
        ) {
            (Some(pi_id), _) => {
                let pi = self.intent(&pi_id, "payment_intent", 400)?.clone();
                let charge = pi
                    .latest_charge
                    .as_ref()
                    .and_then(|c| self.charges.get(c))
                    .filter(|c| pi.status == "succeeded" && c.status == "succeeded")
                    .cloned()
                    .ok_or_else(|| {
                        ApiError::invalid(
                            format!(
                                "This PaymentIntent ({pi_id}) does not have a successful charge to refund."
                            ),
                            Some("payment_intent"),
                        )
                    })?;
                (pi, charge)
            }
            (None, Some(ch_id)) => {
                let charge = self
                    .charges
                    .get(&ch_id)
                    .cloned()
                    .ok_or_else(|| ApiError::no_such("charge", &ch_id, "charge", 400))?;
                let pi = self.intents[&charge.payment_intent].clone();
                if pi.status != "succeeded" || charge.status != "succeeded" {
                    return Err(ApiError::invalid(
                        format!(
                            "This PaymentIntent ({}) does not have a successful charge to refund.",
                            pi.id
                        ),
                        Some("charge"),
                    ));
                }
                (pi, charge)
            }
            (None, None) => {
                return Err(ApiError::invalid(
                    "One of the following params should be provided for this request: payment_intent or charge.",
                    None,
                ))
            }
        };
        let released = charge.amount - charge.amount_captured;
        let left = charge.amount_captured - (charge.amount_refunded - released);
        if left <= 0 {
            return Err(ApiError::invalid(
                format!("Charge {} has already been refunded.", charge.id),
                Some("charge"),
            )
            .code("charge_already_refunded"));
        }
        let amount = amount.unwrap_or(left);
        if amount > left {
            return Err(ApiError::invalid(
                format!(
                    "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                    money(amount, &charge.currency),
                    money(left, &charge.currency)
                ),
                Some("amount"),
            )
            .code("amount_too_large"));
        }
        let fails_later = self
            .payment_methods
            .get(&charge.payment_method)
            .is_some_and(|pm| pm.behaviour == Behaviour::RefundFails);
        let seq = self.next_seq();
        let id = self.random_id("re_3", 24);
        let mut refund = Refund {
            id: id.clone(),
            seq,
            created: now(),
            amount,
            charge: charge.id.clone(),
            currency: charge.currency.clone(),
            payment_intent: pi.id.clone(),
            reason,
            status: "succeeded",
            failure_reason: None,
            metadata: BTreeMap::new(),
        };
        apply_metadata(&mut refund.metadata, meta);
        let body = Self::render_refund(&refund);
        if fails_later {
            // Answered `succeeded`; every later fetch sees it failed and the amount back.
            refund.status = "failed";
            refund.failure_reason = Some("expired_or_canceled_card".into());
        } else if let Some(c) = self.charges.get_mut(&charge.id) {
            c.amount_refunded += amount;
        }
        self.refunds.insert(id, refund);
        Ok(body)
    }

    pub fn get_refund(&self, id: &str, params: &Params) -> Result<Value, ApiError> {
        allow(params, &["expand"])?;
        expansions(params, &[])?;
        self.refunds
            .get(id)
            .map(Self::render_refund)
            .ok_or_else(|| ApiError::no_such("refund", id, "refund", 404))
    }

    pub fn list_refunds(&self, params: &Params) -> Result<Value, ApiError> {
        allow(
            params,
            &[
                "limit",
                "starting_after",
                "ending_before",
                "payment_intent",
                "charge",
                "expand",
            ],
        )?;
        expansions(params, &[])?;
        let page = page(params)?;
        let pi = string(params, "payment_intent")?;
        let charge = string(params, "charge")?;
        let mut all: Vec<&Refund> = self
            .refunds
            .values()
            .filter(|r| pi.as_ref().is_none_or(|p| &r.payment_intent == p))
            .filter(|r| charge.as_ref().is_none_or(|c| &r.charge == c))
            .collect();
        all.sort_by_key(|r| std::cmp::Reverse(r.seq));
        let items = all
            .into_iter()
            .map(|r| (r.id.clone(), Self::render_refund(r)))
            .collect();
        list_page(
            "/v1/refunds",
            items,
            &page,
            |id| self.refunds.contains_key(id),
            "refund",
        )
    }

    pub fn balance(&self) -> Value {
        let captured: i64 = self
            .charges
            .values()
            .filter(|c| c.status == "succeeded")
            .map(|c| c.amount_captured - (c.amount_refunded - (c.amount - c.amount_captured)))
            .sum();
        json!({
            "object": "balance",
            "available": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
            "livemode": false,
            "pending": [{"amount": captured, "currency": "usd", "source_types": {"card": captured}}],
        })
    }
}

/// With automatic payment methods allowing redirects, a server-side confirmation needs a
/// `return_url` (Stripe refuses it otherwise).
fn redirect_check(automatic: Option<&str>, return_url: Option<&str>) -> Result<(), ApiError> {
    match (automatic, return_url) {
        (Some("always"), None) => Err(ApiError::invalid(
            "This PaymentIntent is configured to accept payment methods enabled in your Dashboard, some of which may require a full page redirect to succeed. If you do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents. If you do want to accept redirect-based payment methods, set the `return_url` parameter when confirming the PaymentIntent.",
            Some("return_url"),
        )),
        _ => Ok(()),
    }
}

/// Letters and digits for ids.
pub(super) const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
