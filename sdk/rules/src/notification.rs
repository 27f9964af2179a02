//! The notification contract's rules (`switchyard:notification`): the checks of a message
//! that every notification provider (`adapters/notification-local`,
//! `adapters/notification-twilio`) applies before sending.
//!
//! Errors name the field (`to`, `sender`, `body`, `idempotency-key`, `send-at`). What stays
//! with each provider: what it cannot carry (`unsupported`), and its own bounds beyond
//! these (Twilio schedules at least 15 minutes ahead).

use crate::RuleError;

/// The longest SMS body, in characters (Twilio's limit, error 21617 beyond).
pub const MAX_SMS_CHARS: usize = 1600;
/// The longest recipient or sender, in bytes (an email address's limit).
pub const MAX_ADDRESS_BYTES: usize = 320;
/// The longest idempotency key, in bytes.
pub const MAX_KEY_BYTES: usize = 100;
/// How far ahead `send-at` may be: 35 days, in milliseconds.
pub const MAX_SCHEDULE_MS: u64 = 35 * 24 * 3600 * 1000;
/// How many characters of a bad recipient an error shows.
const SHOWN_CHARS: usize = 40;

/// Checks a recipient of any channel: not empty, at most [`MAX_ADDRESS_BYTES`].
pub fn to(to: &str) -> Result<(), RuleError> {
    if to.is_empty() {
        return Err(RuleError::invalid_input("to must not be empty"));
    }
    if to.len() > MAX_ADDRESS_BYTES {
        return Err(RuleError::invalid_input(format!(
            "to is longer than {MAX_ADDRESS_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Checks an `sms` recipient: E.164, `+` and 2 to 15 digits, not starting with 0.
pub fn phone_number(to: &str) -> Result<(), RuleError> {
    let digits = to.strip_prefix('+').unwrap_or("");
    let ok = (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        return Ok(());
    }
    let shown: String = to.chars().take(SHOWN_CHARS).collect();
    Err(RuleError::invalid_input(format!(
        "to must be a phone number in E.164 form (+ and 2 to 15 digits, e.g. +15558675310) \
         for sms, not {shown:?}"
    )))
}

/// Checks an `email` recipient: `local@domain.tld`, without spaces or control characters.
pub fn email_address(to: &str) -> Result<(), RuleError> {
    let ok = match to.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !to.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if ok {
        return Ok(());
    }
    let shown: String = to.chars().take(SHOWN_CHARS).collect();
    Err(RuleError::invalid_input(format!(
        "to must be an email address (name@domain.tld) for email, not {shown:?}"
    )))
}

/// Checks a `push` or `in-app` recipient (`what` is `device token` or `user or inbox id`):
/// not blank, no control characters.
pub fn token(to: &str, what: &str) -> Result<(), RuleError> {
    if to.trim().is_empty() || to.chars().any(char::is_control) {
        return Err(RuleError::invalid_input(format!(
            "to must be a non-empty {what} without control characters"
        )));
    }
    Ok(())
}

/// Checks a sender, when one is given: not blank, at most [`MAX_ADDRESS_BYTES`].
pub fn sender(sender: &str) -> Result<(), RuleError> {
    if sender.trim().is_empty() {
        return Err(RuleError::invalid_input(
            "sender must not be empty when given (leave it out for the binding's default)",
        ));
    }
    if sender.len() > MAX_ADDRESS_BYTES {
        return Err(RuleError::invalid_input(format!(
            "sender is longer than {MAX_ADDRESS_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Checks a body: not blank.
pub fn body(body: &str) -> Result<(), RuleError> {
    if body.trim().is_empty() {
        return Err(RuleError::invalid_input("body must not be empty"));
    }
    Ok(())
}

/// Checks an SMS body's length: `too-large` above [`MAX_SMS_CHARS`] characters.
pub fn sms_body(body: &str) -> Result<(), RuleError> {
    let chars = body.chars().count();
    if chars > MAX_SMS_CHARS {
        return Err(RuleError::too_large(format!(
            "body is {chars} characters; an SMS takes at most {MAX_SMS_CHARS}"
        )));
    }
    Ok(())
}

/// Checks an idempotency key, when one is given: 1 to [`MAX_KEY_BYTES`] bytes.
pub fn idempotency_key(key: &str) -> Result<(), RuleError> {
    if key.is_empty() {
        return Err(RuleError::invalid_input(
            "idempotency-key must not be empty when given",
        ));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(RuleError::invalid_input(format!(
            "idempotency-key is {} bytes; at most {MAX_KEY_BYTES} are taken",
            key.len()
        )));
    }
    Ok(())
}

/// Checks `send-at` (a timestamp of `seconds` and `nanoseconds` since the Unix epoch)
/// against `now_ms`, and answers it in Unix milliseconds: [`send_at_ms`], then
/// [`schedule`].
pub fn send_at(seconds: u64, nanoseconds: u32, now_ms: u64) -> Result<u64, RuleError> {
    let at = send_at_ms(seconds, nanoseconds)?;
    schedule(at, now_ms)?;
    Ok(at)
}

/// Checks the form of `send-at` (nanoseconds below 10^9) and answers it in Unix
/// milliseconds.
pub fn send_at_ms(seconds: u64, nanoseconds: u32) -> Result<u64, RuleError> {
    if nanoseconds >= 1_000_000_000 {
        return Err(RuleError::invalid_input(
            "send-at.nanoseconds must be below 1000000000",
        ));
    }
    Ok(seconds
        .saturating_mul(1000)
        .saturating_add(u64::from(nanoseconds / 1_000_000)))
}

/// Checks the time to send, `at_ms`, against `now_ms` (both Unix milliseconds): in the
/// future, at most [`MAX_SCHEDULE_MS`] ahead.
pub fn schedule(at_ms: u64, now_ms: u64) -> Result<(), RuleError> {
    if at_ms <= now_ms {
        return Err(RuleError::invalid_input(
            "send-at must be in the future (leave it out to send now)",
        ));
    }
    if at_ms - now_ms > MAX_SCHEDULE_MS {
        return Err(RuleError::invalid_input(
            "send-at is more than 35 days ahead",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Kind;

    fn invalid<T: std::fmt::Debug>(r: Result<T, RuleError>, starts: &str) {
        let e = r.expect_err(starts);
        assert_eq!(e.kind, Kind::InvalidInput, "{e}");
        assert!(e.message.starts_with(starts), "{starts}: {e}");
    }

    #[test]
    fn recipients() {
        assert!(to("x").is_ok());
        assert!(to(&"x".repeat(MAX_ADDRESS_BYTES)).is_ok());
        invalid(to(""), "to must not be empty");
        invalid(
            to(&"x".repeat(MAX_ADDRESS_BYTES + 1)),
            "to is longer than 320",
        );

        assert!(phone_number("+15558675310").is_ok());
        assert!(phone_number("+12").is_ok());
        assert!(phone_number(&format!("+1{}", "2".repeat(14))).is_ok());
        for bad in [
            "",
            "+1",
            "5558675310",
            "+1 555",
            "+0123",
            "+1555abc",
            "555-not-e164",
        ] {
            invalid(phone_number(bad), "to must be a phone number");
        }
        invalid(
            phone_number(&format!("+1{}", "2".repeat(15))),
            "to must be a phone number",
        );
        let long = "x".repeat(300);
        let e = phone_number(&long).unwrap_err();
        assert!(e.message.ends_with(&format!("{:?}", "x".repeat(40))), "{e}");

        assert!(email_address("ada@example.com").is_ok());
        for bad in [
            "no-at-sign",
            "@example.com",
            "ada@",
            "ada@localhost",
            "ada@.example.com",
            "ada@example.com.",
            "a da@example.com",
        ] {
            invalid(email_address(bad), "to must be an email address");
        }

        assert!(token("user_42", "user or inbox id").is_ok());
        invalid(
            token(" ", "device token"),
            "to must be a non-empty device token",
        );
        invalid(
            token("a\tb", "user or inbox id"),
            "to must be a non-empty user",
        );
    }

    #[test]
    fn sender_body_key() {
        assert!(sender("+15005550006").is_ok());
        assert!(sender(&"s".repeat(MAX_ADDRESS_BYTES)).is_ok());
        invalid(sender(" "), "sender must not be empty");
        invalid(
            sender(&"s".repeat(MAX_ADDRESS_BYTES + 1)),
            "sender is longer",
        );

        assert!(body("hi").is_ok());
        invalid(body(" \n"), "body must not be empty");
        assert!(sms_body(&"é".repeat(MAX_SMS_CHARS - 1)).is_ok());
        assert!(sms_body(&"é".repeat(MAX_SMS_CHARS)).is_ok());
        let e = sms_body(&"x".repeat(MAX_SMS_CHARS + 1)).unwrap_err();
        assert_eq!(e.kind, Kind::TooLarge);
        assert!(e.message.starts_with("body is 1601 characters"), "{e}");

        assert!(idempotency_key("k").is_ok());
        assert!(idempotency_key(&"k".repeat(MAX_KEY_BYTES)).is_ok());
        invalid(idempotency_key(""), "idempotency-key must not be empty");
        invalid(
            idempotency_key(&"k".repeat(MAX_KEY_BYTES + 1)),
            "idempotency-key is 101 bytes",
        );
    }

    #[test]
    fn send_at_window() {
        let now = 1_710_513_000_000;
        assert_eq!(send_at(1_710_513_001, 500_000_000, now), Ok(now + 1500));
        invalid(
            send_at(1_710_513_001, 1_000_000_000, now),
            "send-at.nanoseconds",
        );
        invalid(
            send_at(1_710_513_000, 0, now),
            "send-at must be in the future",
        );
        invalid(
            send_at(1_710_512_999, 999_999_999, now),
            "send-at must be in the future",
        );
        let max_s = MAX_SCHEDULE_MS / 1000;
        assert!(send_at(1_710_513_000 + max_s - 1, 0, now).is_ok());
        assert!(send_at(1_710_513_000 + max_s, 0, now).is_ok());
        invalid(
            send_at(1_710_513_000 + max_s, 1_000_000, now),
            "send-at is more than",
        );
        invalid(send_at(u64::MAX, 0, now), "send-at is more than 35 days");
        assert_eq!(send_at_ms(2, 999_999_999), Ok(2999));
        invalid(send_at_ms(2, 1_000_000_000), "send-at.nanoseconds");
        assert!(schedule(now + 1, now).is_ok());
        assert!(schedule(now + MAX_SCHEDULE_MS, now).is_ok());
        invalid(schedule(now, now), "send-at must be in the future");
        invalid(
            schedule(now + MAX_SCHEDULE_MS + 1, now),
            "send-at is more than",
        );
    }
}
