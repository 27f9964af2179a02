//! Input checks: every failure is `invalid-input` naming the field. The contract's rules
//! (amounts, text lengths, email, metadata, idempotency keys, page limits) are
//! [`switchyard_sdk::payment::validate`]'s, re-exported here; the sandbox's own are which
//! currencies it knows and the shape of the ids it makes (`cus_`, `pi_`, `re_`).

use switchyard_sdk::payment::validate as contract;
pub use switchyard_sdk::payment::validate::{
    amount, clip, email, idempotency_key, invalid, metadata, not_found, page_limit, text,
    MAX_DESCRIPTION, MAX_NAME,
};
use switchyard_sdk::types::Error;

/// ISO 4217 codes the sandbox accepts (the currencies Stripe settles, and a few more).
pub const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BWP", "BYN", "BZD", "CAD", "CDF",
    "CHF", "CLP", "CNY", "COP", "CRC", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG",
    "HUF", "IDR", "ILS", "INR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KRW",
    "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK",
    "MNT", "MOP", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR",
    "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB",
    "RWF", "SAR", "SBD", "SCR", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "STD", "SZL", "THB",
    "TJS", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VND",
    "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW",
];

/// An ISO 4217 code in upper case (the contract's rule) that the sandbox knows.
pub fn currency(code: &str) -> Result<(), Error> {
    contract::currency(code)?;
    if !CURRENCIES.contains(&code) {
        return Err(invalid(format!(
            "currency {code:?} is not an ISO 4217 currency this provider knows"
        )));
    }
    Ok(())
}

/// An object id: empty is `invalid-input`; one the sandbox could never have made (not
/// `prefix` + letters, digits and `_`, at most 64 bytes) is `not-found` (it names no
/// object), as an unknown one is.
pub fn id(field: &str, value: &str, prefix: &str, what: &str) -> Result<(), Error> {
    contract::id(field, value, what, |v| {
        v.len() <= 64
            && v.starts_with(prefix)
            && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}
