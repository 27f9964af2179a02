//! # switchyard-rules
//!
//! The Switchyard contracts' input rules, written once: limits, name formats and checks
//! that every provider of a contract applies before it does any work, so that a Wasm
//! adapter and a host-native backend refuse the same input with the same error.
//!
//! - [`search`]: index and field names, settings lists, document ids and bodies, batch
//!   sizes, and every check of a search request (query, filters, facet filters, facets,
//!   highlight, sort, cursor, page limit);
//! - [`notification`]: recipients (E.164 numbers, email addresses, tokens), sender, body,
//!   idempotency key, the `send-at` window;
//! - [`civil`]: days since 1970-01-01 to a calendar date and back;
//! - [`not_object`] and [`not_json`]: the errors for a JSON text that is not an object;
//! - `json` (feature `json`): `json_kind`, what a `serde_json::Value` is, for messages;
//! - `percent` (feature `percent`): `%XX` decoding, strict (paths) or lenient (forms).
//!
//! Who uses it: the guest side through `switchyard_sdk::rules` (which re-exports this
//! crate, converts [`RuleError`] into the contracts' `Error` with `?`, and adds a
//! `json_kind` over `serde_json::Value`), and the host's native backends
//! (`host/src/native/...`), which convert [`RuleError`] into their own WIT error.
//!
//! The crate has no dependencies by default, so it builds for the host and for `wasm32` guests alike
//! and cheaply. Checks therefore take plain Rust values (`&str`, `usize`, `Option<u32>`,
//! slices of `String`), never WIT binding types or JSON values; a caller borrows its own
//! types into the small views this crate defines ([`search::Request`]...).
//!
//! ## Adding a rule
//!
//! 1. Put the limit in a `pub const` with a doc comment saying its unit, in the contract's
//!    module (add a module for a new contract and list it above).
//! 2. Write the check as a function of plain values returning `Result<_, RuleError>`; the
//!    message names the field (the caller passes `at`, such as `documents[3].id`, when the
//!    place varies) and the limit. Messages are part of the contract's behaviour: tests
//!    compare them, so change one only on purpose.
//! 3. Test it one below, at and one above each limit, and with a bad value.
//! 4. Call it from both sides (the SDK-using adapters and the host backend) and delete
//!    their copies.
//!
//! A rule that only one provider has (Algolia's replica-name mark, Twilio's 15-minute
//! scheduling minimum) stays in that provider's crate.
#![warn(missing_docs)]

#[cfg(feature = "json")]
pub mod json;
#[cfg(feature = "percent")]
pub mod percent;

pub mod civil;
pub mod notification;
pub mod search;

use std::fmt;

/// The contract error kinds a rule can answer; each maps onto the WIT `error-kind` of the
/// same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `invalid-input`: the value breaks a rule (a bad name, an empty id, a limit of 0).
    InvalidInput,
    /// `too-large`: a body or batch is larger than the contract takes.
    TooLarge,
}

impl Kind {
    /// The WIT name of the kind (`invalid-input`, `too-large`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::InvalidInput => "invalid-input",
            Kind::TooLarge => "too-large",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a value broke a rule: the contract error kind to answer and a message that names
/// the field and the limit. Never retryable: the same input fails the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The contract error kind.
    pub kind: Kind,
    /// What was wrong, naming the field (e.g. ``documents[3].id must not be empty``).
    pub message: String,
}

impl RuleError {
    /// An `invalid-input` error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        RuleError {
            kind: Kind::InvalidInput,
            message: message.into(),
        }
    }

    /// A `too-large` error.
    pub fn too_large(message: impl Into<String>) -> Self {
        RuleError {
            kind: Kind::TooLarge,
            message: message.into(),
        }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

/// `invalid-input`: the JSON text at `at` parsed, but to something other than an object;
/// `kind` says what, with its article (`an array`, `a string`, `null`...).
pub fn not_object(at: &str, kind: &str) -> RuleError {
    RuleError::invalid_input(format!("{at} must be a JSON object, not {kind}"))
}

/// `invalid-input`: the text at `at` is not JSON; `why` is the parser's error.
pub fn not_json(at: &str, why: &dyn fmt::Display) -> RuleError {
    RuleError::invalid_input(format!("{at} is not valid JSON: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_show_their_message_and_kind() {
        let e = RuleError::invalid_input("x must not be empty");
        assert_eq!(e.kind, Kind::InvalidInput);
        assert_eq!(e.to_string(), "x must not be empty");
        assert_eq!(RuleError::too_large("big").kind.to_string(), "too-large");
        assert_eq!(Kind::InvalidInput.as_str(), "invalid-input");
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert_eq!(boxed.to_string(), "x must not be empty");
    }

    #[test]
    fn json_shape_errors() {
        assert_eq!(
            not_object("documents[1].body", "an array").message,
            "documents[1].body must be a JSON object, not an array"
        );
        let e = not_json("data", &"EOF while parsing");
        assert_eq!(e.message, "data is not valid JSON: EOF while parsing");
        assert_eq!(e.kind, Kind::InvalidInput);
    }
}
