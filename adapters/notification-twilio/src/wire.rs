//! Twilio's request bodies: `application/x-www-form-urlencoded` forms. The contract message
//! as Twilio's create form, and Twilio's Message resource as the contract's status, are in
//! [`crate::message`].

/// Encodes pairs as `application/x-www-form-urlencoded` (RFC 3986 unreserved characters
/// kept, everything else percent-encoded, so `+` in a phone number is `%2B`).
pub fn encode_form(pairs: &[(String, String)]) -> Vec<u8> {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, k);
        out.push('=');
        percent_encode_into(&mut out, v);
    }
    out.into_bytes()
}

fn percent_encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        let form = vec![
            ("To".to_string(), "+15558675310".to_string()),
            ("Body".to_string(), "hi & bye=1 é".to_string()),
        ];
        let text = String::from_utf8(encode_form(&form)).unwrap();
        assert_eq!(text, "To=%2B15558675310&Body=hi%20%26%20bye%3D1%20%C3%A9");
    }
}
