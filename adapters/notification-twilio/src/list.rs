//! `list` over Twilio's paged Messages list.
//!
//! Twilio pages with `PageSize`, `Page` and an opaque `PageToken` taken from the answer's
//! `next_page_uri`, newest message first, and filters by `To` itself. The contract's other
//! filters (`status`, and `channel`, which is always `sms` here) are applied by the adapter,
//! so a contract page may end in the middle of a Twilio page. The cursor therefore says
//! which Twilio page to fetch and how many of its items were already gone through:
//!
//! `{page}-{page_size}-{skip}-{page_token}` (the token empty for the first page), e.g.
//! `1-50-0-PASM0123…`. A cursor of any other shape is `invalid-input` naming `cursor`; the
//! adapter builds the request from its parts, so a cursor cannot steer the request elsewhere.

use serde_json::Value;
use switchyard_sdk::log;
use switchyard_sdk::notification::{Channel, MessagePage, MessageQuery, MessageStatus};
use switchyard_sdk::types::{Error, PageInfo, PageRequest, Timestamp};

use crate::client::Client;
use crate::message;

/// The page size when none is asked for (Twilio's default).
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page (Twilio's largest `PageSize`).
pub const MAX_LIMIT: u32 = 1000;
/// The most Twilio pages one `list` call reads while filtering by itself; past that it
/// answers what it found with a cursor to go on from.
pub const MAX_PAGES_PER_CALL: usize = 20;

/// Where a listing goes on: the Twilio page to fetch and the items of it already seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Twilio's `Page` (informational for Twilio, but it is sent back as given).
    pub page: u32,
    /// Twilio's `PageSize` the page was read with (a position in a page depends on it).
    pub page_size: u32,
    /// How many items of that page were already gone through.
    pub skip: u32,
    /// Twilio's `PageToken`; none for the first page.
    pub token: Option<String>,
}

impl Cursor {
    /// Parses a cursor this adapter returned.
    pub fn parse(text: &str) -> Result<Cursor, Error> {
        let bad = || {
            let shown: String = text.chars().take(80).collect();
            Error::invalid_input(format!(
                "cursor {shown:?} is not a cursor this adapter returned"
            ))
        };
        let mut parts = text.splitn(4, '-');
        let mut number = |max: u32| -> Result<u32, Error> {
            let part = parts.next().ok_or_else(bad)?;
            if part.is_empty() || part.len() > 7 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse::<u32>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(bad)
        };
        let page = number(1_000_000)?;
        let page_size = number(MAX_LIMIT)?;
        let skip = number(MAX_LIMIT)?;
        let token = parts.next().ok_or_else(bad)?;
        if page_size == 0
            || skip >= page_size
            || token.len() > 128
            || !token.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(bad());
        }
        Ok(Cursor {
            page,
            page_size,
            skip,
            token: (!token.is_empty()).then(|| token.to_string()),
        })
    }

    /// The cursor's text.
    pub fn render(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            self.page,
            self.page_size,
            self.skip,
            self.token.as_deref().unwrap_or("")
        )
    }
}

// Decodes one `application/x-www-form-urlencoded` value (`+` is a space).
use switchyard_sdk::rules::percent::form_decode as percent_decode;

/// `Page` and `PageToken` from a `next_page_uri`
/// (`/2010-04-01/Accounts/AC…/Messages.json?PageSize=50&Page=1&PageToken=PASM…`).
pub fn next_position(next_page_uri: &str) -> Option<(u32, Option<String>)> {
    let query = next_page_uri.split_once('?')?.1;
    let mut page = None;
    let mut token = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match percent_decode(k).as_str() {
            "Page" => page = percent_decode(v).parse::<u32>().ok(),
            "PageToken" => {
                let v = percent_decode(v);
                if !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    token = Some(v);
                }
            }
            _ => {}
        }
    }
    Some((page?, token))
}

/// One contract page of the account's outbound messages matching `query`, newest first
/// (Twilio's order). `total` is unknown: Twilio does not count its lists.
pub fn list(
    client: &Client,
    query: &MessageQuery,
    page: &PageRequest,
    now: &Timestamp,
) -> Result<MessagePage, Error> {
    let limit = page.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 {
        return Err(Error::invalid_input("limit must be at least 1"));
    }
    let limit = limit.min(MAX_LIMIT);
    let cursor = page.cursor.as_deref().map(Cursor::parse).transpose()?;
    if query.channel.is_some_and(|c| c != Channel::Sms) {
        // Twilio Programmable Messaging has only sms messages.
        return Ok(MessagePage {
            messages: Vec::new(),
            page: PageInfo {
                next_cursor: None,
                total: Some(0),
            },
        });
    }
    let self_filtered = query.status.is_some();
    let mut position = cursor.unwrap_or(Cursor {
        page: 0,
        page_size: if self_filtered {
            limit.max(DEFAULT_LIMIT)
        } else {
            limit
        },
        skip: 0,
        token: None,
    });
    let mut messages: Vec<MessageStatus> = Vec::new();
    for _ in 0..MAX_PAGES_PER_CALL {
        let mut params = vec![("PageSize".to_string(), position.page_size.to_string())];
        if let Some(to) = &query.to {
            params.push(("To".into(), to.clone()));
        }
        if let Some(token) = &position.token {
            params.push(("Page".into(), position.page.to_string()));
            params.push(("PageToken".into(), token.clone()));
        }
        let answer = client.list_messages(&params)?;
        let items = answer
            .get("messages")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::internal("Twilio answered a list without `messages`"))?;
        let next = answer
            .get("next_page_uri")
            .and_then(Value::as_str)
            .and_then(next_position)
            .filter(|(_, token)| token.is_some());
        for (i, item) in items.iter().enumerate().skip(position.skip as usize) {
            if let Some(status) = keep(item, query, now) {
                messages.push(status);
            }
            if messages.len() as u32 >= limit {
                let seen = i as u32 + 1;
                let next_cursor = if (seen as usize) < items.len() && seen < position.page_size {
                    Some(Cursor {
                        skip: seen,
                        ..position.clone()
                    })
                } else {
                    next.map(|(page, token)| Cursor {
                        page,
                        page_size: position.page_size,
                        skip: 0,
                        token,
                    })
                };
                return Ok(done(messages, next_cursor));
            }
        }
        match next {
            Some((page, token)) => {
                position = Cursor {
                    page,
                    page_size: position.page_size,
                    skip: 0,
                    token,
                }
            }
            None => return Ok(done(messages, None)),
        }
    }
    // Filtering read many pages without filling this one: answer what was found and where
    // to go on.
    Ok(done(messages, Some(position)))
}

fn done(messages: Vec<MessageStatus>, next: Option<Cursor>) -> MessagePage {
    MessagePage {
        messages,
        page: PageInfo {
            next_cursor: next.map(|c| c.render()),
            total: None,
        },
    }
}

/// The item as a status when it is an outbound message matching the query's status.
fn keep(item: &Value, query: &MessageQuery, now: &Timestamp) -> Option<MessageStatus> {
    if message::is_inbound(item) {
        return None;
    }
    let status = match message::to_status(item, None, now) {
        Ok(s) => s,
        Err(err) => {
            log::warn(
                "skipping a Twilio message the adapter cannot read",
                &[("reason", &err.message)],
            );
            return None;
        }
    };
    if query.status.is_some_and(|s| s != status.status) {
        return None;
    }
    Some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let c = Cursor {
            page: 2,
            page_size: 50,
            skip: 7,
            token: Some("PASM0123456789abcdef0123456789abcdef".into()),
        };
        assert_eq!(Cursor::parse(&c.render()).unwrap(), c);
        let first = Cursor {
            page: 0,
            page_size: 2,
            skip: 1,
            token: None,
        };
        assert_eq!(first.render(), "0-2-1-");
        assert_eq!(Cursor::parse("0-2-1-").unwrap(), first);
        for junk in [
            "",
            "../../etc",
            "1-2-3",
            "1-0-0-PA",
            "1-2-2-PA",
            "1-2-0-PA/../x",
            "1-2000-0-PA",
            "x-2-0-PA",
            "1-2-0-PA%2F",
        ] {
            let err = Cursor::parse(junk).unwrap_err();
            assert!(err.message.contains("cursor"), "{junk}");
        }
    }

    #[test]
    fn reads_next_page_uri() {
        assert_eq!(
            next_position(
                "/2010-04-01/Accounts/AC1/Messages.json?To=%2B1555&PageSize=2&Page=1&PageToken=PASMab12"
            ),
            Some((1, Some("PASMab12".into())))
        );
        assert_eq!(next_position("/x.json"), None);
        assert_eq!(percent_decode("PA%2Bx+y%zz%4"), "PA+x y%zz%4");
    }
}
