//! Structured logging into the host's `tracing` pipeline (the `switchyard:adapter/log`
//! import). The host adds tenant, service, adapter and call id to every record.
//!
//! ```ignore
//! switchyard_sdk::log::info("batch sent", &[("events", "20"), ("status", "200")]);
//! ```
//!
//! Never log a secret: the guest holds none, keep it that way.

use crate::base::bindings::switchyard::adapter::log as wit;

pub use wit::Level;

/// Writes one record at `level` with structured `fields`.
pub fn write(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    wit::write(level, message, &fields);
}

/// Writes a `trace` record.
pub fn trace(message: &str, fields: &[(&str, &str)]) {
    write(Level::Trace, message, fields)
}

/// Writes a `debug` record.
pub fn debug(message: &str, fields: &[(&str, &str)]) {
    write(Level::Debug, message, fields)
}

/// Writes an `info` record.
pub fn info(message: &str, fields: &[(&str, &str)]) {
    write(Level::Info, message, fields)
}

/// Writes a `warn` record.
pub fn warn(message: &str, fields: &[(&str, &str)]) {
    write(Level::Warn, message, fields)
}

/// Writes an `error` record.
pub fn error(message: &str, fields: &[(&str, &str)]) {
    write(Level::Error, message, fields)
}
