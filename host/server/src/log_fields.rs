//! Console log fields that cannot forge a line: [`EscapedFields`] writes every field of an
//! event or span (the message too) with control characters escaped.
//!
//! Log text comes from outside the process: a guest's log message and field names, a
//! logging-contract entry sent by any gateway caller, a provider's error quoted in a host
//! warning. `tracing-subscriber`'s default console fields write messages and `%`-formatted
//! values as they are, so a CR or LF in them starts what looks like a new record. Here each
//! value goes through [`escape_controls`] first, so one event is always one line. (The JSON
//! format needs nothing: `serde_json` escapes control characters in strings.)

use std::fmt::{self, Debug, Write as _};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::FormatFields;

/// The console format's field formatter: `message name=value name=value`, every value (and
/// the message) with control characters escaped by [`escape_controls`].
#[derive(Debug, Default, Clone, Copy)]
pub struct EscapedFields;

impl<'w> FormatFields<'w> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut visitor = Visitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct Visitor<'w> {
    writer: Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Visitor<'_> {
    fn write(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        let separator = if self.first { "" } else { " " };
        self.first = false;
        let value = escape_controls(value);
        self.result = if field.name() == "message" {
            write!(self.writer, "{separator}{value}")
        } else {
            write!(self.writer, "{separator}{}={value}", field.name())
        };
    }
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.write(field, value);
        } else {
            // Quoted, as tracing-subscriber writes strings; the quoting escapes as well.
            self.write(field, &format!("{value:?}"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.write(field, &format!("{value:?}"));
    }
}

/// `text` with every control character (CR, LF, tab, escape, the C1 controls) and the
/// Unicode line and paragraph separators written as Rust escapes (`\n`, `\u{1b}`), so that
/// it can neither end a log line nor drive a terminal.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_controls("plain é"), "plain é");
        assert_eq!(
            escape_controls("a\r\nb\tc\u{1b}[31m\u{85}\u{2028}"),
            "a\\r\\nb\\tc\\u{1b}[31m\\u{85}\\u{2028}"
        );
    }
}
