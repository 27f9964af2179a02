//! What a JSON value is, for messages (feature `json`).

use serde_json::Value;

/// What kind of JSON value `v` is, with its article: `null`, `a boolean`, `a number`,
/// `a string`, `an array`, `an object`.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(json_kind(&Value::Null), "null");
        assert_eq!(json_kind(&serde_json::json!([1])), "an array");
    }
}
