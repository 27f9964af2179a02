//! The contract's input rules, checked before anything is sent to Stripe: every failure is
//! `invalid-input` naming the field (or `not-found` for an id that names nothing). The rules
//! are [`switchyard_sdk::payment::validate`]'s (re-exported here), whose limits are Stripe's
//! own; what is Stripe's alone is the shape of its ids and its page cursors. Stripe checks
//! again (unknown currencies, minimum amounts, unknown ids...), and its refusals are mapped in
//! `error`.

use switchyard_sdk::payment::validate as contract;
pub use switchyard_sdk::payment::validate::{
    amount, clip, currency, email, idempotency_key, invalid, metadata, not_found, text,
    MAX_DESCRIPTION, MAX_NAME,
};
use switchyard_sdk::types::{Error, PageRequest};

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
    contract::id(field, value, what, id_shaped)
}

/// The page limit to send (the contract's: 1..=100, 10 by default, which are Stripe's too)
/// and the cursor (an id of the listing, one of `prefixes`).
pub fn page(page: &PageRequest, prefixes: &[&str]) -> Result<(u32, Option<String>), Error> {
    let limit = contract::page_limit(page)?;
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
