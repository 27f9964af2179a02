//! The payment contract's input rules, so every provider refuses the same input with the same
//! errors: `invalid-input` (provider code `parameter_invalid`) with a message that names the
//! field, e.g. `amount must be a positive integer number of minor units, got 0`, or `not-found`
//! (provider code `resource_missing`) for an id that names nothing.
//!
//! Limits are Stripe's, which the contract is modelled on: metadata of at most
//! [`MAX_METADATA_PAIRS`] pairs, idempotency keys of at most [`MAX_IDEMPOTENCY_KEY`]
//! characters, pages of [`DEFAULT_LIMIT`] items unless asked, at most [`MAX_LIMIT`].
//!
//! What stays with each provider: the shape of its ids (passed to [`id`] as a predicate), its
//! page cursors, and which currencies it takes ([`currency`] checks only the form).

use crate::types::{Error, Metadata, PageRequest};

/// The longest `name`, in characters.
pub const MAX_NAME: usize = 256;
/// The longest `email`, in characters.
pub const MAX_EMAIL: usize = 512;
/// The longest `description`, in characters.
pub const MAX_DESCRIPTION: usize = 1000;
/// The longest idempotency key, in characters.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// The most metadata pairs of one object.
pub const MAX_METADATA_PAIRS: usize = 50;
/// The longest metadata key, in characters.
pub const MAX_METADATA_KEY: usize = 40;
/// The longest metadata value, in characters.
pub const MAX_METADATA_VALUE: usize = 500;
/// Items per page when the caller gives no limit.
pub const DEFAULT_LIMIT: u32 = 10;
/// The most items per page; a larger limit is lowered to it.
pub const MAX_LIMIT: u32 = 100;
/// The longest value [`clip`] leaves whole, in characters.
pub const CLIP_CHARS: usize = 80;

/// `invalid-input` with the provider code `parameter_invalid`, as every rule here answers.
pub fn invalid(message: impl Into<String>) -> Error {
    Error::invalid_input(message).with_provider(Some("parameter_invalid".into()), None)
}

/// `not-found` naming the field and the id (provider code `resource_missing`), e.g.
/// `customer: no customer with id "cus_unknown"`.
pub fn not_found(field: &str, value: &str, what: &str) -> Error {
    Error::not_found(format!("{field}: no {what} with id {:?}", clip(value)))
        .with_provider(Some("resource_missing".into()), None)
}

/// At most [`CLIP_CHARS`] characters of `s` (longer ones end in `...`), for messages.
pub fn clip(s: &str) -> String {
    if s.chars().count() <= CLIP_CHARS {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(CLIP_CHARS - 3).collect();
        c.push_str("...");
        c
    }
}

/// A positive amount in minor units (`amount` of a payment, a capture or a refund).
pub fn amount(field: &str, amount: i64) -> Result<(), Error> {
    if amount <= 0 {
        return Err(invalid(format!(
            "{field} must be a positive integer number of minor units, got {amount}"
        )));
    }
    Ok(())
}

/// The form of a currency: an ISO 4217 code of three upper-case ASCII letters. Which codes a
/// provider takes is the provider's to say.
pub fn currency(code: &str) -> Result<(), Error> {
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(format!(
            "currency must be an ISO 4217 code of three upper-case letters (e.g. USD), got {:?}",
            clip(code)
        )));
    }
    Ok(())
}

/// An optional text field of at most `max` characters ([`MAX_NAME`], [`MAX_DESCRIPTION`]...).
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

/// An optional email address: at most [`MAX_EMAIL`] characters, one `@` with something on
/// both sides, no whitespace. An empty one clears the address in updates (`allow_empty`).
pub fn email(value: Option<&str>, allow_empty: bool) -> Result<(), Error> {
    text("email", value, MAX_EMAIL)?;
    match value {
        Some("") if allow_empty => Ok(()),
        Some(v)
            if v.matches('@').count() != 1
                || v.starts_with('@')
                || v.ends_with('@')
                || v.chars().any(char::is_whitespace) =>
        {
            Err(invalid(format!(
                "email {:?} is not an email address",
                clip(v)
            )))
        }
        _ => Ok(()),
    }
}

/// Metadata within the limits: at most [`MAX_METADATA_PAIRS`] pairs, keys of 1 to
/// [`MAX_METADATA_KEY`] characters without `[` or `]`, values of at most
/// [`MAX_METADATA_VALUE`] characters. Values may be empty only in updates
/// (`allow_empty_values`), where an empty value removes the key.
pub fn metadata(value: Option<&Metadata>, allow_empty_values: bool) -> Result<(), Error> {
    let Some(pairs) = value else { return Ok(()) };
    if pairs.len() > MAX_METADATA_PAIRS {
        return Err(invalid(format!(
            "metadata has {} pairs; at most {MAX_METADATA_PAIRS} are allowed",
            pairs.len()
        )));
    }
    for (k, v) in pairs {
        if k.is_empty() {
            return Err(invalid("metadata has an empty key"));
        }
        if k.chars().count() > MAX_METADATA_KEY || k.contains(['[', ']']) {
            return Err(invalid(format!(
                "metadata key {:?} must be at most {MAX_METADATA_KEY} characters without [ or ]",
                clip(k)
            )));
        }
        if v.chars().count() > MAX_METADATA_VALUE {
            return Err(invalid(format!(
                "metadata value of key {:?} is {} characters; at most {MAX_METADATA_VALUE} are \
                 allowed",
                clip(k),
                v.chars().count()
            )));
        }
        if v.is_empty() && !allow_empty_values {
            return Err(invalid(format!(
                "metadata value of key {:?} is empty",
                clip(k)
            )));
        }
    }
    Ok(())
}

/// An optional idempotency key: not empty, at most [`MAX_IDEMPOTENCY_KEY`] characters, no
/// control characters.
pub fn idempotency_key(key: Option<&str>) -> Result<(), Error> {
    let Some(k) = key else { return Ok(()) };
    if k.is_empty() {
        return Err(invalid(
            "idempotency-key must not be empty (leave it out for none)",
        ));
    }
    if k.chars().count() > MAX_IDEMPOTENCY_KEY || k.chars().any(char::is_control) {
        return Err(invalid(format!(
            "idempotency-key must be at most {MAX_IDEMPOTENCY_KEY} characters without control \
             characters"
        )));
    }
    Ok(())
}

/// An object id given by the caller (`id`, `customer`, `payment`...): empty is
/// `invalid-input`; one that is not `well_formed` for this provider (`../x`, a foreign
/// prefix...) names no object, so it is [`not_found`] without asking anyone, as an unknown
/// one is. `what` names the kind of object (`customer`, `payment`, `refund`).
pub fn id(
    field: &str,
    value: &str,
    what: &str,
    well_formed: impl FnOnce(&str) -> bool,
) -> Result<(), Error> {
    if value.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if !well_formed(value) {
        return Err(not_found(field, value, what));
    }
    Ok(())
}

/// The page size to use: [`DEFAULT_LIMIT`] when none is given, at most [`MAX_LIMIT`]; `0` is
/// `invalid-input`. The cursor is the provider's.
pub fn page_limit(page: &PageRequest) -> Result<u32, Error> {
    match page.limit {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(invalid(
            "page.limit must be at least 1 (leave it out for the default)",
        )),
        Some(n) => Ok(n.min(MAX_LIMIT)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;

    #[test]
    fn fields_are_named() {
        assert!(amount("amount", 0).unwrap_err().message.contains("amount"));
        assert!(amount("amount", i64::MIN).is_err());
        assert!(amount("amount", 1).is_ok());
        assert!(currency("usd").unwrap_err().message.contains("currency"));
        assert!(currency("€UR").is_err());
        assert!(currency("USDX").is_err());
        assert!(
            currency("XYZ").is_ok(),
            "the provider decides which codes it takes"
        );
        let e = text("name", Some(&"x".repeat(MAX_NAME + 1)), MAX_NAME).unwrap_err();
        assert!(e.message.contains("name"));
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert_eq!(e.provider_code.as_deref(), Some("parameter_invalid"));
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@example.com"] {
            assert!(email(Some(ok), false).is_ok(), "{ok}");
        }
        for bad in [
            "not-an-address",
            "@b.co",
            "a@",
            "a@b@c",
            "a b@c.co",
            " a@b.co",
            "",
        ] {
            assert!(email(Some(bad), false).is_err(), "{bad}");
        }
        assert!(
            email(Some(""), true).is_ok(),
            "an empty email clears in updates"
        );
        assert!(email(None, false).is_ok());
    }

    #[test]
    fn metadata_and_keys() {
        let many: Metadata = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(metadata(Some(&many), false)
            .unwrap_err()
            .message
            .contains("metadata"));
        let bracket: Metadata = vec![("a[b]".into(), "v".into())];
        assert!(metadata(Some(&bracket), false).is_err());
        let empty: Metadata = vec![("a".into(), String::new())];
        assert!(metadata(Some(&empty), false).is_err());
        assert!(
            metadata(Some(&empty), true).is_ok(),
            "an empty value removes"
        );
        assert!(idempotency_key(Some(""))
            .unwrap_err()
            .message
            .contains("idempotency-key"));
        assert!(idempotency_key(Some(&"k".repeat(256))).is_err());
        assert!(idempotency_key(Some(&"k".repeat(255))).is_ok());
        assert!(idempotency_key(Some("a\nb")).is_err());
    }

    #[test]
    fn ids_pages_and_clips() {
        let shaped = |v: &str| v.starts_with("pi_");
        let e = id("id", "", "payment", shaped).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        let e = id("id", "../../etc/passwd", "payment", shaped).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.message, "id: no payment with id \"../../etc/passwd\"");
        assert_eq!(e.provider_code.as_deref(), Some("resource_missing"));
        assert!(id("id", "pi_1", "payment", shaped).is_ok());
        let p = |limit| PageRequest {
            limit,
            cursor: None,
        };
        assert_eq!(page_limit(&p(None)).unwrap(), DEFAULT_LIMIT);
        assert_eq!(page_limit(&p(Some(500))).unwrap(), MAX_LIMIT);
        assert_eq!(page_limit(&p(Some(3))).unwrap(), 3);
        assert!(page_limit(&p(Some(0)))
            .unwrap_err()
            .message
            .contains("limit"));
        assert_eq!(clip("short"), "short");
        let long = clip(&"é".repeat(100));
        assert_eq!(long.chars().count(), CLIP_CHARS);
        assert!(long.ends_with("..."));
    }
}
