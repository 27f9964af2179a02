//! `events(query, page)`: filtering and paging over the lines of the events file.
//!
//! Events come in file order (the order they were recorded). The cursor is the byte offset
//! of the first line of the next page, as decimal text; it stays valid while events are
//! appended, since lines are never rewritten. `total` counts every matching event in the
//! file. Lines that are not events (torn by a crash) are skipped; the caller logs them.

use serde_json::Value;
use switchyard_sdk::analytics::events::CanonicalEvent;
use switchyard_sdk::analytics::{EventPage, EventQuery, RecordedEvent};
use switchyard_sdk::time;
use switchyard_sdk::types::{Error, PageInfo, PageRequest};

/// The page size when the caller gives none.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page; a larger `limit` is lowered to it.
pub const MAX_LIMIT: u32 = 1000;

/// Collects one page while the file's lines stream past.
pub struct Pager {
    distinct_id: Option<String>,
    name: Option<String>,
    since_ms: Option<u64>,
    limit: usize,
    cursor: u64,
    cursor_found: bool,
    events: Vec<RecordedEvent>,
    next_cursor: Option<u64>,
    total: u64,
}

impl Pager {
    /// Validates the page request: `cursor` must be a cursor this adapter gave, `limit` at
    /// least 1.
    pub fn new(query: &EventQuery, page: &PageRequest) -> Result<Pager, Error> {
        let cursor = match page.cursor.as_deref() {
            None => 0,
            Some(text) => text.trim().parse::<u64>().map_err(|_| bad_cursor(text))?,
        };
        let limit = match page.limit {
            None => DEFAULT_LIMIT,
            Some(0) => return Err(Error::invalid_input("`limit` must be at least 1")),
            Some(n) => n.min(MAX_LIMIT),
        };
        Ok(Pager {
            distinct_id: query.distinct_id.clone(),
            name: query.name.clone(),
            since_ms: query.since.as_ref().map(time::unix_millis),
            limit: limit as usize,
            cursor,
            cursor_found: cursor == 0,
            events: Vec::new(),
            next_cursor: None,
            total: 0,
        })
    }

    /// Takes the line that starts at byte `start`; an error when it is not an event.
    pub fn line(&mut self, start: u64, bytes: &[u8]) -> Result<(), String> {
        if start == self.cursor {
            self.cursor_found = true;
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let value: Value = serde_json::from_slice(bytes).map_err(|err| err.to_string())?;
        let event = CanonicalEvent::from_json(&value)?;
        if !self.matches(&event) {
            return Ok(());
        }
        self.total += 1;
        if start < self.cursor {
            return Ok(());
        }
        if self.events.len() < self.limit {
            self.events.push(RecordedEvent {
                properties: Value::Object(event.recorded_properties()).to_string(),
                name: event.name,
                distinct_id: event.distinct_id,
                timestamp: event.timestamp,
                uuid: event.uuid,
            });
        } else if self.next_cursor.is_none() {
            self.next_cursor = Some(start);
        }
        Ok(())
    }

    /// The page, once every line was seen; `end` is the offset past the last complete line.
    /// A cursor that is not the start of a line (nor the end) is `invalid-input`.
    pub fn finish(self, end: u64) -> Result<EventPage, Error> {
        if !self.cursor_found && self.cursor != end {
            return Err(bad_cursor(&self.cursor.to_string()));
        }
        Ok(EventPage {
            events: self.events,
            page: PageInfo {
                next_cursor: self.next_cursor.map(|c| c.to_string()),
                total: Some(self.total),
            },
        })
    }

    fn matches(&self, event: &CanonicalEvent) -> bool {
        self.distinct_id
            .as_ref()
            .is_none_or(|id| *id == event.distinct_id)
            && self.name.as_ref().is_none_or(|name| *name == event.name)
            && self
                .since_ms
                .is_none_or(|since| time::unix_millis(&event.timestamp) >= since)
    }
}

fn bad_cursor(text: &str) -> Error {
    Error::invalid_input(format!(
        "`cursor` `{text}` is not a cursor of this event listing: pass the `next-cursor` of a \
         previous page, or none for the first page"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_sdk::types::{ErrorKind, Timestamp};

    fn line(name: &str, who: &str, seconds: u64) -> String {
        format!(
            r#"{{"name":"{name}","distinct_id":"{who}","properties":{{"n":{seconds}}},"timestamp":"{}","uuid":"u{seconds}","session_id":"s"}}"#,
            time::to_rfc3339_millis(&Timestamp {
                seconds,
                nanoseconds: 0
            })
        )
    }

    /// A file of `lines` (joined with newlines) and the pager run over it.
    fn run(lines: &[String], query: EventQuery, page: PageRequest) -> Result<EventPage, Error> {
        let mut pager = Pager::new(&query, &page)?;
        let mut start = 0u64;
        for l in lines {
            let _ = pager.line(start, l.as_bytes());
            start += l.len() as u64 + 1;
        }
        pager.finish(start)
    }

    fn all() -> EventQuery {
        EventQuery {
            distinct_id: None,
            name: None,
            since: None,
        }
    }

    fn page(cursor: Option<String>, limit: Option<u32>) -> PageRequest {
        PageRequest { cursor, limit }
    }

    fn file() -> Vec<String> {
        vec![
            line("a", "u1", 1_000),
            "{\"name\":\"torn".to_string(),
            line("b", "u2", 2_000),
            String::new(),
            line("a", "u2", 3_000),
            line("a", "u1", 4_000),
        ]
    }

    #[test]
    fn pages_follow_the_cursor() {
        let first = run(&file(), all(), page(None, Some(2))).unwrap();
        assert_eq!(first.page.total, Some(4));
        let names: Vec<_> = first.events.iter().map(|e| e.uuid.as_str()).collect();
        assert_eq!(names, ["u1000", "u2000"]);
        let second = run(&file(), all(), page(first.page.next_cursor, Some(2))).unwrap();
        let names: Vec<_> = second.events.iter().map(|e| e.uuid.as_str()).collect();
        assert_eq!(names, ["u3000", "u4000"]);
        assert_eq!(second.page.next_cursor, None);
        assert!(second.events[0]
            .properties
            .contains("\"$session_id\":\"s\""));
    }

    #[test]
    fn filters() {
        let q = EventQuery {
            distinct_id: Some("u1".into()),
            name: Some("a".into()),
            since: Some(Timestamp {
                seconds: 2_000,
                nanoseconds: 0,
            }),
        };
        let p = run(&file(), q, page(None, None)).unwrap();
        assert_eq!(p.page.total, Some(1));
        assert_eq!(p.events[0].uuid, "u4000");
        assert_eq!(p.events[0].timestamp.seconds, 4_000);
    }

    #[test]
    fn bad_cursors_and_limits() {
        for cursor in ["x", "-1", "3", "99999"] {
            let err = run(&file(), all(), page(Some(cursor.into()), None)).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidInput);
            assert!(err.message.contains("`cursor`"), "{}", err.message);
        }
        let err = run(&file(), all(), page(None, Some(0))).unwrap_err();
        assert!(err.message.contains("`limit`"));
        let end: u64 = file().iter().map(|l| l.len() as u64 + 1).sum();
        let p = run(&file(), all(), page(Some(end.to_string()), None)).unwrap();
        assert!(p.events.is_empty() && p.page.next_cursor.is_none());
    }

    #[test]
    fn torn_lines_are_reported() {
        let mut pager = Pager::new(&all(), &page(None, None)).unwrap();
        assert!(pager.line(0, b"{\"name\":").is_err());
        assert!(pager.line(9, b"[1]").is_err());
        assert!(pager.line(13, b"  ").is_ok());
    }
}
