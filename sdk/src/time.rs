//! Time and ids without an OS: the wall clock comes from `wasi:clocks/wall-clock`,
//! randomness from `wasi:random` (`std::time::SystemTime::now()` does not exist on
//! `wasm32-unknown-unknown`).

use crate::types::Timestamp;

/// The current time, from the host's wall clock.
pub fn now() -> Timestamp {
    let now = wasi::clocks::wall_clock::now();
    Timestamp {
        seconds: now.seconds,
        nanoseconds: now.nanoseconds,
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_millis(ts: &Timestamp) -> u64 {
    ts.seconds
        .saturating_mul(1000)
        .saturating_add(u64::from(ts.nanoseconds / 1_000_000))
}

/// RFC 3339 with milliseconds in UTC, as JavaScript's `toISOString()` writes it:
/// `2024-03-15T14:30:00.000Z`. Times past year 9999 are clamped to the latest one chrono
/// can represent.
pub fn to_rfc3339_millis(ts: &Timestamp) -> String {
    let seconds = i64::try_from(ts.seconds).unwrap_or(i64::MAX);
    let dt = chrono::DateTime::from_timestamp(seconds, ts.nanoseconds.min(999_999_999))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    dt.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 time (any offset, any fraction) into a UTC [`Timestamp`]; `None` when
/// the text is not one, or is before the Unix epoch.
pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let dt = chrono::DateTime::parse_from_rfc3339(text.trim()).ok()?;
    Some(Timestamp {
        seconds: u64::try_from(dt.timestamp()).ok()?,
        nanoseconds: dt.timestamp_subsec_nanos(),
    })
}

/// A new UUID version 7 (time-ordered, as PostHog and most ingestion APIs expect), from the
/// wall clock and `wasi:random`.
pub fn uuid_v7() -> String {
    uuid_v7_at(&now())
}

/// A UUID version 7 for the time `ts`, with random bits from `wasi:random`.
pub fn uuid_v7_at(ts: &Timestamp) -> String {
    let random = crate::random::bytes(10);
    let mut bytes = [0u8; 10];
    for (dst, src) in bytes.iter_mut().zip(random.iter()) {
        *dst = *src;
    }
    uuid_v7_sortable(ts, bytes)
}

/// A UUID version 7 for `ts` whose 12 `rand_a` bits carry the fraction of the millisecond
/// (RFC 9562, 6.2 method 3), so ids made one after another sort in the order they were
/// made, to about 0.25 µs; the other random bits come from `random`.
pub fn uuid_v7_sortable(ts: &Timestamp, mut random: [u8; 10]) -> String {
    let fraction = u64::from(ts.nanoseconds % 1_000_000) * 4096 / 1_000_000;
    random[0] = ((fraction >> 8) & 0x0f) as u8;
    random[1] = (fraction & 0xff) as u8;
    uuid_v7_from(unix_millis(ts), &random)
}

/// A UUID version 7 from a time in milliseconds and 10 random bytes (deterministic).
pub fn uuid_v7_from(unix_millis: u64, random: &[u8; 10]) -> String {
    uuid::Builder::from_unix_timestamp_millis(unix_millis, random)
        .into_uuid()
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v7_sorts_within_a_millisecond() {
        let at = |nanoseconds| Timestamp {
            seconds: 1_710_513_000,
            nanoseconds,
        };
        // Same millisecond, later fraction: sorts after, whatever the random bits say.
        let early = uuid_v7_sortable(&at(123_000_500), [0xff; 10]);
        let late = uuid_v7_sortable(&at(123_100_000), [0x00; 10]);
        assert!(early < late, "{early} < {late}");
        assert_eq!(&early[14..15], "7", "version 7: {early}");
        // A later millisecond sorts after any fraction of an earlier one.
        assert!(late < uuid_v7_sortable(&at(124_000_000), [0x00; 10]));
    }

    #[test]
    fn rfc3339_millis() {
        let ts = Timestamp {
            seconds: 1_710_513_000,
            nanoseconds: 123_456_789,
        };
        assert_eq!(to_rfc3339_millis(&ts), "2024-03-15T14:30:00.123Z");
        assert_eq!(unix_millis(&ts), 1_710_513_000_123);
    }

    #[test]
    fn parse_rfc3339_round_trips() {
        let ts = Timestamp {
            seconds: 1_710_513_000,
            nanoseconds: 123_000_000,
        };
        let pair = |t: Option<Timestamp>| t.map(|t| (t.seconds, t.nanoseconds));
        assert_eq!(
            pair(parse_rfc3339(&to_rfc3339_millis(&ts))),
            Some((ts.seconds, ts.nanoseconds))
        );
        assert_eq!(
            pair(parse_rfc3339("2024-03-15T16:30:00.123+02:00")),
            Some((ts.seconds, ts.nanoseconds))
        );
        assert!(parse_rfc3339("yesterday").is_none());
        assert!(parse_rfc3339("1960-01-01T00:00:00Z").is_none());
    }

    #[test]
    fn uuid_v7_shape() {
        let id = uuid_v7_from(1_710_513_000_123, &[7; 10]);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "7");
        assert!(id.starts_with("018e4285-0ebb-7"), "{id}");
    }
}
