//! Small wire helpers several mocks share: the clock, ISO 8601 dates and `%XX` decoding.

use std::time::{SystemTime, UNIX_EPOCH};

use switchyard_rules::civil::civil_from_days;

/// Milliseconds since the Unix epoch, now (0 before it).
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Unix milliseconds as ISO 8601 in UTC with milliseconds (`2024-03-15T14:30:00.000Z`).
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

pub use switchyard_rules::percent::{decode_strict as percent_decode_strict, form_decode};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(form_decode("a+b%2Bc%zz%4"), "a b+c%zz%4");
        assert_eq!(percent_decode_strict("a%20b+c").as_deref(), Some("a b+c"));
        assert_eq!(percent_decode_strict("%zz"), None);
        assert_eq!(percent_decode_strict("%4"), None);
        assert_eq!(percent_decode_strict("%ff"), None);
        assert_eq!(iso8601(1_710_513_000_500), "2024-03-15T14:30:00.500Z");
    }
}
