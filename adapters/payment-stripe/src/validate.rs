//! The contract's input rules, checked before anything is sent to Stripe: every failure is
//! `invalid-input` naming the field (or `not-found` for an id that names nothing). Stripe checks
//! again (unknown currencies, minimum amounts, unknown ids...), and its refusals are mapped in
//! `error`.

use switchyard_sdk::types::{Error, Metadata, PageRequest};

/// Longest `name`.
pub const MAX_NAME: usize = 256;
/// Longest `email`.
pub const MAX_EMAIL: usize = 512;
/// Longest `description`.
pub const MAX_DESCRIPTION: usize = 1000;
/// Longest idempotency key (Stripe's limit too).
pub const MAX_KEY: usize = 255;
/// Most metadata pairs, longest key, longest value (Stripe's limits too).
pub const MAX_METADATA: (usize, usize, usize) = (50, 40, 500);
/// Items per page when the caller gives no limit (Stripe's default).
pub const DEFAULT_LIMIT: u32 = 10;
/// The most items per page (Stripe's limit); a larger limit is lowered to it.
pub const MAX_LIMIT: u32 = 100;

fn invalid(message: String) -> Error {
    Error::invalid_input(message).with_provider(Some("parameter_invalid".into()), None)
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

/// A positive amount in minor units.
pub fn amount(field: &str, amount: i64) -> Result<(), Error> {
    if amount <= 0 {
        return Err(invalid(format!(
            "{field} must be a positive integer number of minor units, got {amount}"
        )));
    }
    Ok(())
}

/// Three upper-case ASCII letters; whether Stripe takes the currency is Stripe's to say.
pub fn currency(code: &str) -> Result<(), Error> {
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(format!(
            "currency must be an ISO 4217 code of three upper-case letters (e.g. USD), got {:?}",
            clip(code)
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

/// An optional email address; an empty one clears it in updates (`allow_empty`).
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

/// Metadata within Stripe's limits; `allow_empty_values` for updates (an empty value removes
/// the key). Keys cannot hold `[` or `]`: Stripe's form encoding could not carry them.
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
                "metadata value of key {:?} is {} characters; at most {value_max} are allowed",
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

/// Whether `value` could be a Stripe object id (letters, digits, `_`; at most 255).
fn id_shaped(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 255
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// An object id given by the caller: empty is `invalid-input`; one that cannot be a Stripe id
/// (`../x`, spaces...) is `not-found` without asking Stripe, so it never reaches a URL path.
pub fn id(field: &str, value: &str, what: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if !id_shaped(value) {
        return Err(not_found(field, value, what));
    }
    Ok(())
}

/// `not-found` naming the field and the id.
pub fn not_found(field: &str, value: &str, what: &str) -> Error {
    Error::not_found(format!("{field}: no {what} with id {:?}", clip(value)))
        .with_provider(Some("resource_missing".into()), None)
}

/// The page limit to send (1..=100) and the cursor (an id of the listing, one of `prefixes`).
pub fn page(page: &PageRequest, prefixes: &[&str]) -> Result<(u32, Option<String>), Error> {
    let limit = match page.limit {
        None => DEFAULT_LIMIT,
        Some(0) => {
            return Err(invalid(
                "page.limit must be at least 1 (leave it out for the default)".into(),
            ))
        }
        Some(n) => n.min(MAX_LIMIT),
    };
    let cursor = match page.cursor.as_deref() {
        None => None,
        Some(c) if id_shaped(c) && prefixes.iter().any(|p| c.starts_with(p)) => Some(c.to_string()),
        Some(c) => {
            return Err(invalid(format!(
                "page.cursor {:?} is not a cursor this listing gave",
                clip(c)
            )))
        }
    };
    Ok((limit, cursor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named() {
        assert!(amount("amount", 0).unwrap_err().message.contains("amount"));
        assert!(currency("usd").unwrap_err().message.contains("currency"));
        assert!(currency("€UR").is_err());
        assert!(
            currency("XYZ").is_ok(),
            "Stripe decides which codes it takes"
        );
        assert!(email(Some("not-an-address"), false).is_err());
        assert!(email(Some(""), true).is_ok());
        assert!(email(Some("a@b@c"), false).is_err());
        let many: Metadata = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(metadata(Some(&many), false)
            .unwrap_err()
            .message
            .contains("metadata"));
        let bracket: Metadata = vec![("a[b]".into(), "v".into())];
        assert!(metadata(Some(&bracket), false).is_err());
        assert!(idempotency_key(Some(""))
            .unwrap_err()
            .message
            .contains("idempotency-key"));
        assert!(idempotency_key(Some(&"k".repeat(256))).is_err());
    }

    #[test]
    fn ids_and_pages() {
        assert_eq!(
            id("id", "", "payment").unwrap_err().kind,
            switchyard_sdk::types::ErrorKind::InvalidInput
        );
        let e = id("id", "../../etc/passwd", "payment").unwrap_err();
        assert_eq!(e.kind, switchyard_sdk::types::ErrorKind::NotFound);
        assert!(e.message.contains("id"));
        assert!(id("id", "pi_3Abc", "payment").is_ok());
        let p = |limit, cursor: Option<&str>| PageRequest {
            limit,
            cursor: cursor.map(str::to_string),
        };
        assert_eq!(page(&p(None, None), &["pi_"]).unwrap(), (10, None));
        assert_eq!(page(&p(Some(500), None), &["pi_"]).unwrap().0, 100);
        assert!(page(&p(Some(0), None), &["pi_"])
            .unwrap_err()
            .message
            .contains("limit"));
        let e = page(&p(None, Some("not-a-cursor")), &["pi_"]).unwrap_err();
        assert!(e.message.contains("cursor"));
        assert!(page(&p(None, Some("cus_1")), &["pi_"]).is_err());
        assert_eq!(
            page(&p(Some(3), Some("pi_1")), &["pi_"]).unwrap(),
            (3, Some("pi_1".into()))
        );
    }
}
