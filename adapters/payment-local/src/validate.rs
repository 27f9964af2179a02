//! Input checks: every failure is `invalid-input` naming the field.

use switchyard_sdk::types::{Error, Metadata};

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

/// Longest `name`.
pub const MAX_NAME: usize = 256;
/// Longest `email`.
pub const MAX_EMAIL: usize = 512;
/// Longest `description`.
pub const MAX_DESCRIPTION: usize = 1000;
/// Longest idempotency key.
pub const MAX_KEY: usize = 255;
/// Most metadata pairs, longest key, longest value.
pub const MAX_METADATA: (usize, usize, usize) = (50, 40, 500);

fn invalid(message: String) -> Error {
    Error::invalid_input(message).with_provider(Some("parameter_invalid".into()), None)
}

/// A positive amount in minor units.
pub fn amount(field: &str, amount: i64) -> Result<i64, Error> {
    if amount <= 0 {
        return Err(invalid(format!(
            "{field} must be a positive integer number of minor units, got {amount}"
        )));
    }
    Ok(amount)
}

/// An ISO 4217 code in upper case that the sandbox knows.
pub fn currency(code: &str) -> Result<(), Error> {
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(format!(
            "currency must be an ISO 4217 code of three upper-case letters (e.g. USD), got {:?}",
            clip(code)
        )));
    }
    if !CURRENCIES.contains(&code) {
        return Err(invalid(format!(
            "currency {code:?} is not an ISO 4217 currency this provider knows"
        )));
    }
    Ok(())
}

/// An optional text field of at most `max` characters.
pub fn text(field: &str, value: Option<&str>, max: usize) -> Result<(), Error> {
    if let Some(v) = value {
        let n = v.chars().count();
        if n > max {
            return Err(invalid(format!(
                "{field} is {n} characters; at most {max} are allowed"
            )));
        }
    }
    Ok(())
}

/// An optional email address (an empty one clears it in updates).
pub fn email(value: Option<&str>, allow_empty: bool) -> Result<(), Error> {
    text("email", value, MAX_EMAIL)?;
    match value {
        Some("") if allow_empty => Ok(()),
        Some(v) if !v.contains('@') || v.trim() != v || v.starts_with('@') || v.ends_with('@') => {
            Err(invalid(format!(
                "email {:?} is not an email address",
                clip(v)
            )))
        }
        _ => Ok(()),
    }
}

/// Metadata within the limits; `allow_empty_values` for updates (an empty value removes).
pub fn metadata(value: Option<&Metadata>, allow_empty_values: bool) -> Result<(), Error> {
    let Some(pairs) = value else { return Ok(()) };
    let (most, key_max, value_max) = MAX_METADATA;
    if pairs.len() > most {
        return Err(invalid(format!(
            "metadata has {} pairs; at most {most} are allowed",
            pairs.len()
        )));
    }
    for (k, v) in pairs {
        if k.is_empty() {
            return Err(invalid("metadata has an empty key".into()));
        }
        if k.chars().count() > key_max || k.contains(['[', ']']) {
            return Err(invalid(format!(
                "metadata key {:?} must be at most {key_max} characters without [ or ]",
                clip(k)
            )));
        }
        if v.chars().count() > value_max {
            return Err(invalid(format!(
                "metadata value of key {k:?} is {} characters; at most {value_max} are allowed",
                v.chars().count()
            )));
        }
        if v.is_empty() && !allow_empty_values {
            return Err(invalid(format!("metadata value of key {k:?} is empty")));
        }
    }
    Ok(())
}

/// An idempotency key: not empty, at most 255 characters, no control characters.
pub fn idempotency_key(key: Option<&str>) -> Result<(), Error> {
    let Some(k) = key else { return Ok(()) };
    if k.is_empty() {
        return Err(invalid(
            "idempotency-key must not be empty (leave it out for none)".into(),
        ));
    }
    if k.chars().count() > MAX_KEY || k.chars().any(char::is_control) {
        return Err(invalid(format!(
            "idempotency-key must be at most {MAX_KEY} characters without control characters"
        )));
    }
    Ok(())
}

/// An object id: empty is `invalid-input`; one this provider could never have made is
/// `not-found` (it names no object), as an unknown one is.
pub fn id(field: &str, value: &str, prefix: &str, what: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    let well_formed = value.len() <= 64
        && value.starts_with(prefix)
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !well_formed {
        return Err(not_found(field, value, what));
    }
    Ok(())
}

/// `not-found` naming the field and the id.
pub fn not_found(field: &str, value: &str, what: &str) -> Error {
    Error::not_found(format!("{field}: no {what} with id {:?}", clip(value)))
        .with_provider(Some("resource_missing".into()), None)
}

/// At most 80 characters of `s`, for messages.
pub fn clip(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(77).collect();
        c.push_str("...");
        c
    }
}
