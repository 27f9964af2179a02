//! Twilio's wire details for the mock: form bodies, basic auth, dates, error bodies and the
//! magic test numbers.

use serde_json::{json, Value};
use switchyard_rules::civil::{civil_from_days, days_from_civil};

/// Decodes an `application/x-www-form-urlencoded` body or query into pairs, in order
/// (repeated keys kept, `+` is a space, bad escapes kept as written).
pub fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decodes one form component.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes.get(i + 1..i + 3) {
                Some(h) if h.iter().all(u8::is_ascii_hexdigit) => {
                    let hex = std::str::from_utf8(h).unwrap_or("00");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes one query component (RFC 3986 unreserved kept).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (padding required, as HTTP basic auth sends it); `None` when invalid.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.is_empty() || !text.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| B64.iter().position(|&b| b == c).map(|p| p as u32);
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let chunks: Vec<&[u8]> = text.as_bytes().chunks(4).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != chunks.len()) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// The user name and password of an `Authorization: Basic ...` header.
pub fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(rest)?).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Unix milliseconds as Twilio writes dates: RFC 2822 in GMT, `Fri, 13 Aug 2010 01:16:24 +0000`.
pub fn rfc2822(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses an ISO 8601 date-time with an offset (`2021-11-30T20:36:27Z`,
/// `2021-11-30T20:36:27.123+01:00`) into Unix milliseconds.
pub fn parse_iso8601(text: &str) -> Option<u64> {
    let b = text.trim().as_bytes();
    let num = |s: &[u8]| -> Option<i64> {
        if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (hour, minute, second) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let frac = &b[start..i];
        if frac.is_empty() {
            return None;
        }
        let mut digits = [b'0'; 3];
        for (d, s) in digits.iter_mut().zip(frac) {
            *d = *s;
        }
        millis = num(&digits)?;
    }
    let offset_secs = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let off = num(&[*h1, *h2])? * 3600 + num(&[*m1, *m2])? * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month as u32, day as u32);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    u64::try_from(secs * 1000 + millis).ok()
}

/// Twilio's error body: `{"code", "message", "more_info", "status"}`.
pub fn error_body(status: u16, code: u32, message: &str) -> Value {
    json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
}

/// How a magic test `To` number is refused at create time, as with Twilio's test
/// credentials: `(code, message)`.
pub fn magic_to(to: &str, from: &str) -> Option<(u32, String)> {
    Some(match to {
        "+15005550001" => (
            21211,
            format!("The 'To' number {to} is not a valid phone number."),
        ),
        "+15005550002" => (
            21612,
            format!(
                "The 'To' phone number: {to}, is not currently reachable using the 'From' \
                 phone number: {from} via SMS."
            ),
        ),
        "+15005550003" => (
            21408,
            format!(
                "Permission to send an SMS has not been enabled for the region indicated by \
                 the 'To' number: {to}."
            ),
        ),
        "+15005550004" => (
            21610,
            "Attempt to send to unsubscribed recipient".to_string(),
        ),
        "+15005550009" => (
            21614,
            "'To' number is not a valid mobile number".to_string(),
        ),
        _ => return None,
    })
}

/// How a magic test `From` number is refused at create time: `(code, message)`.
pub fn magic_from(from: &str) -> Option<(u32, String)> {
    Some(match from {
        "+15005550001" => (
            21212,
            format!(
                "The 'From' number {from} is not a valid phone number, shortcode, or \
                 alphanumeric sender ID."
            ),
        ),
        "+15005550007" => (
            21606,
            format!(
                "The From phone number {from} is not a valid, SMS-capable inbound phone number \
                 or short code for your account."
            ),
        ),
        "+15005550008" => (
            21611,
            "This 'From' number has exceeded the maximum number of queued messages".to_string(),
        ),
        _ => return None,
    })
}

/// Whether `to` looks like a number Twilio would try: E.164 (`+`, 2 to 15 digits, no
/// leading 0).
pub fn is_e164(to: &str) -> bool {
    let digits = to.strip_prefix('+').unwrap_or("");
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_round_trip() {
        let pairs = parse_form("To=%2B15558675310&Body=hi+there%21&Empty=&Bad=%zz");
        assert_eq!(
            pairs,
            vec![
                ("To".into(), "+15558675310".into()),
                ("Body".into(), "hi there!".into()),
                ("Empty".into(), String::new()),
                ("Bad".into(), "%zz".into()),
            ]
        );
        assert_eq!(decode(&encode("a+b c/é")), "a+b c/é");
    }

    #[test]
    fn base64_and_basic_auth() {
        for s in ["", "a", "ab", "abc", "abcd", "AC123:token/+="] {
            assert_eq!(
                base64_decode(&base64_encode(s.as_bytes())).unwrap_or_default(),
                s.as_bytes()
            );
        }
        assert_eq!(base64_encode(b"AC1:tok"), "QUMxOnRvaw==");
        assert_eq!(
            basic_credentials("Basic QUMxOnRvaw=="),
            Some(("AC1".into(), "tok".into()))
        );
        assert_eq!(basic_credentials("Bearer QUMxOnRvaw=="), None);
        assert_eq!(basic_credentials("Basic !!!!"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(
            rfc2822(1_281_662_184_000),
            "Fri, 13 Aug 2010 01:16:24 +0000"
        );
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(
            parse_iso8601("2010-08-13T01:16:24Z"),
            Some(1_281_662_184_000)
        );
        assert_eq!(
            parse_iso8601("2010-08-13T03:16:24.5+02:00"),
            Some(1_281_662_184_500)
        );
        assert_eq!(parse_iso8601("2010-08-13 01:16:24"), None);
        assert_eq!(parse_iso8601("tomorrow"), None);
        assert_eq!(
            parse_iso8601("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
    }
}
