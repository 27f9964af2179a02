//! `%XX` decoding over the `percent-encoding` crate (feature `percent`): strict, for path
//! segments and query values that must decode exactly, and lenient, for
//! `application/x-www-form-urlencoded` text.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// `%XX` decoding of a path segment or query value; `None` when an escape is malformed (not
/// `%` and two hex digits) or the bytes are not UTF-8. `+` stays a `+`.
pub fn decode_strict(s: &str) -> Option<String> {
    let well_formed = s.split('%').skip(1).all(|after| {
        after
            .get(..2)
            .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    if !well_formed {
        return None;
    }
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(Cow::into_owned)
}

/// Form decoding: `+` is a space, `%XX` a byte; a malformed escape stays as written and bytes
/// that are not UTF-8 are replaced.
pub fn form_decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_and_form() {
        assert_eq!(decode_strict("a%20b+c").as_deref(), Some("a b+c"));
        assert_eq!(decode_strict("%zz"), None);
        assert_eq!(decode_strict("%4"), None);
        assert_eq!(decode_strict("%ff"), None);
        assert_eq!(form_decode("a+b%2Bc%zz%4"), "a b+c%zz%4");
    }
}
