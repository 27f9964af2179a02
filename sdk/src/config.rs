//! The binding's configuration (the `switchyard:adapter/config` import): the keys the
//! operator wrote for this adapter. It holds no secret; credentials stay in the host.
//!
//! ```ignore
//! let host = switchyard_sdk::config::require("host")?;
//! let flush_at: u32 = switchyard_sdk::config::parse("flush_at", 20)?;
//! ```

use core::str::FromStr;

use crate::base::bindings::switchyard::adapter::config as wit;
use crate::types::Error;

/// The value of `key`, if the binding sets it.
pub fn get(key: &str) -> Option<String> {
    wit::get(key)
}

/// The value of `key`; an `invalid-input` error naming the key when it is missing or blank.
pub fn require(key: &str) -> Result<String, Error> {
    match get(key) {
        Some(value) if !value.trim().is_empty() => Ok(value),
        Some(_) => Err(Error::invalid_input(format!(
            "config key `{key}` is empty: the binding must set it"
        ))),
        None => Err(Error::invalid_input(format!(
            "config key `{key}` is missing: the binding must set it"
        ))),
    }
}

/// The value of `key` parsed as `T`, or `default` when the key is missing or blank; an
/// `invalid-input` error naming the key and the bad value when it does not parse.
pub fn parse<T: FromStr>(key: &str, default: T) -> Result<T, Error> {
    match get(key) {
        None => Ok(default),
        Some(value) if value.trim().is_empty() => Ok(default),
        Some(value) => parse_value(key, &value),
    }
}

/// Parses `value` (the value of config key `key`) as `T`; the error names key and value.
pub fn parse_value<T: FromStr>(key: &str, value: &str) -> Result<T, Error> {
    value.trim().parse::<T>().map_err(|_| {
        Error::invalid_input(format!(
            "config key `{key}` has the value `{value}`, which is not a valid {}",
            short_type_name::<T>()
        ))
    })
}

/// Every key and value the binding sets, sorted by key.
pub fn all() -> Vec<(String, String)> {
    wit::all()
}

fn short_type_name<T>() -> &'static str {
    let name = core::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_value_names_key_and_value() {
        let err = parse_value::<u32>("flush_at", "lots").unwrap_err();
        assert!(err.message.contains("flush_at"), "{}", err.message);
        assert!(err.message.contains("lots"), "{}", err.message);
        assert_eq!(parse_value::<u32>("flush_at", " 7 ").unwrap(), 7);
    }
}
