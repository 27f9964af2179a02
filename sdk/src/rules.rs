//! The contracts' input rules, written once for adapters and the host's native backends:
//! the `switchyard-rules` crate (limits, names, checks over plain values), re-exported
//! here, plus the JSON helpers that need `serde_json`.
//!
//! A [`RuleError`] becomes the contract's [`Error`] with `?` (same kind and message, not
//! retryable):
//!
//! ```ignore
//! use switchyard_sdk::rules::search;
//! use switchyard_sdk::types::Error;
//!
//! fn delete_documents(index: &str, ids: &[String]) -> Result<(), Error> {
//!     search::index_name(index)?;
//!     search::batch("ids", ids.len())?;
//!     Ok(())
//! }
//! ```

pub use switchyard_rules::json::json_kind;
pub use switchyard_rules::{
    civil, not_json, not_object, notification, percent, search, Kind, RuleError,
};

use serde_json::{Map, Value};

use crate::types::Error;

/// Parses `text` as a JSON object; `at` names it in errors: `invalid-input` for text that
/// is not JSON ([`not_json`]) or JSON that is not an object ([`not_object`]). Check the
/// size first where the contract bounds it.
pub fn json_object(at: &str, text: &str) -> Result<Map<String, Value>, Error> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(other) => Err(not_object(at, json_kind(&other)).into()),
        Err(e) => Err(not_json(at, &e).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ErrorKind;

    #[test]
    fn kinds() {
        for (text, kind) in [
            ("null", "null"),
            ("true", "a boolean"),
            ("1.5", "a number"),
            ("\"s\"", "a string"),
            ("[1]", "an array"),
            ("{}", "an object"),
        ] {
            let v: Value = serde_json::from_str(text).expect("json");
            assert_eq!(json_kind(&v), kind);
        }
    }

    #[test]
    fn objects() {
        assert_eq!(
            json_object("b", "{\"a\": 1}").map(|o| o.len()).ok(),
            Some(1)
        );
        let e = json_object("documents[1].body", "[1, 2]").expect_err("array");
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert_eq!(
            e.message,
            "documents[1].body must be a JSON object, not an array"
        );
        let e = json_object("data", "{").expect_err("not json");
        assert!(
            e.message.starts_with("data is not valid JSON: "),
            "{}",
            e.message
        );
    }
}
