//! Calls to Algolia with its retry strategy, as the official clients do it (`http/retry.py`,
//! `transporter.py` of algoliasearch-client-python v4):
//!
//! - reads go to the read hosts, writes to the write hosts, each list in order;
//! - a time-out moves on to the next host (the host stays up; its time-out grows with
//!   its time-outs so far); a network error or a 3xx/5xx answer marks the host down and
//!   moves on; a 2xx is the answer; a 4xx fails at once, on no other host;
//! - when every host failed, the pass ends with a retryable `unavailable`, and the whole
//!   pass is retried with exponential backoff and full jitter (`switchyard_sdk::retry`);
//!   a 429 is retried the same way, after its `Retry-After`. Down hosts are skipped for the
//!   rest of the call (every host is up again when all are down): a call is one short-lived
//!   instance, so host state does not outlive it.
//!
//! Error answers are mapped by [`crate::error::algolia_error`].

use core::cell::RefCell;
use core::time::Duration;

use serde_json::{json, Value};
use switchyard_sdk::http::{HttpMethod, Request};
use switchyard_sdk::log;
use switchyard_sdk::retry::{retry, sleep};
use switchyard_sdk::search::{IndexSettings, SortOrder};
use switchyard_sdk::types::{Error, ErrorKind};

use crate::config::Config;
use crate::error::{algolia_error, no_index};
use crate::wire;

/// Which hosts a call goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    Read,
    Write,
}

#[derive(Clone, Debug, Default)]
struct HostState {
    down: bool,
    timeouts: u32,
}

/// A client for one contract call.
pub struct Client<'a> {
    pub cfg: &'a Config,
    read: RefCell<Vec<HostState>>,
    write: RefCell<Vec<HostState>>,
}

/// The most waited for one task, whatever the polling settings.
const MAX_POLL_DELAY: Duration = Duration::from_secs(5);

impl<'a> Client<'a> {
    pub fn new(cfg: &'a Config) -> Client<'a> {
        Client {
            cfg,
            read: RefCell::new(vec![HostState::default(); cfg.read_hosts.len()]),
            write: RefCell::new(vec![HostState::default(); cfg.write_hosts.len()]),
        }
    }

    /// `GET path` on the read hosts.
    pub fn get(&self, path: &str) -> Result<Value, Error> {
        self.call(Call::Read, HttpMethod::Get, path, None)
    }

    /// `POST path` with a JSON body, on the read hosts (searches and object lookups are
    /// reads although they are POSTs).
    pub fn post_read(&self, path: &str, body: &Value) -> Result<Value, Error> {
        self.call(Call::Read, HttpMethod::Post, path, Some(body))
    }

    /// A write with a JSON body (or none, for DELETE) on the write hosts.
    pub fn write(
        &self,
        method: HttpMethod,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        self.call(Call::Write, method, path, body)
    }

    /// One request under the retry strategy; answers the 2xx body as JSON.
    pub fn call(
        &self,
        call: Call,
        method: HttpMethod,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let body = match body {
            Some(b) => Some(serde_json::to_vec(b).map_err(|e| {
                Error::internal(format!("serialising the request to Algolia failed: {e}"))
            })?),
            None => None,
        };
        retry(&self.cfg.retry, || {
            self.pass(call, method, path, body.as_deref())
        })
    }

    /// One pass over the hosts.
    fn pass(
        &self,
        call: Call,
        method: HttpMethod,
        path: &str,
        body: Option<&[u8]>,
    ) -> Result<Value, Error> {
        let (hosts, states, base_timeout) = match call {
            Call::Read => (&self.cfg.read_hosts, &self.read, self.cfg.read_timeout),
            Call::Write => (&self.cfg.write_hosts, &self.write, self.cfg.write_timeout),
        };
        {
            let mut states = states.borrow_mut();
            if states.iter().all(|s| s.down) {
                states.iter_mut().for_each(|s| s.down = false);
            }
        }
        let mut failures: Vec<String> = Vec::new();
        let mut retry_after = None;
        for (i, host) in hosts.iter().enumerate() {
            let timeouts = {
                let states = states.borrow();
                if states[i].down {
                    continue;
                }
                states[i].timeouts
            };
            let timeout = base_timeout.saturating_mul(timeouts + 1);
            let url = format!("{host}{path}");
            let mut request = Request::new(method, url.as_str()).timeout(timeout);
            if let Some(b) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(b.to_vec());
            }
            match request.send() {
                Ok(response) if response.is_success() => {
                    return response.json::<Value>();
                }
                Ok(response) if (400..500).contains(&response.status) => {
                    return Err(algolia_error(&response));
                }
                Ok(response) => {
                    // 3xx (a redirect the client could not follow) or 5xx: the host is down.
                    let err = algolia_error(&response);
                    retry_after = err.retry_after_ms.or(retry_after);
                    states.borrow_mut()[i].down = true;
                    failures.push(format!(
                        "{host} answered HTTP {}{}",
                        response.status,
                        err.provider_message
                            .map(|m| format!(" ({m})"))
                            .unwrap_or_default()
                    ));
                }
                Err(err) if err.kind == ErrorKind::Timeout => {
                    states.borrow_mut()[i].timeouts += 1;
                    failures.push(format!("{host} timed out after {} ms", timeout.as_millis()));
                }
                Err(err) if err.kind == ErrorKind::Unavailable => {
                    states.borrow_mut()[i].down = true;
                    failures.push(format!("{host} is unreachable: {}", err.message));
                }
                Err(err) => return Err(err),
            }
            log::warn(
                "an Algolia host failed; trying the next one",
                &[
                    ("host", host),
                    ("failure", failures.last().map(String::as_str).unwrap_or("")),
                ],
            );
        }
        Err(Error::unavailable(format!(
            "every Algolia {} host failed: {}",
            match call {
                Call::Read => "read",
                Call::Write => "write",
            },
            if failures.is_empty() {
                "none is configured".to_string()
            } else {
                failures.join("; ")
            }
        ))
        .with_retry_after_ms(retry_after))
    }

    /// Waits until task `task` of index `full` is published, polling as Algolia's
    /// `wait_for_task`: the delay before poll `n` is `min(n * task_poll, 5 s)`.
    pub fn wait_task(&self, full: &str, answer: &Value) -> Result<(), Error> {
        let Some(task) = answer.get("taskID").and_then(Value::as_u64) else {
            return Err(Error::internal(format!(
                "Algolia answered a write on index {full} without a taskID: {answer}"
            )));
        };
        let path = format!("/1/indexes/{}/task/{task}", encode(full));
        for n in 0..self.cfg.task_max_polls {
            let delay = self.cfg.task_poll.saturating_mul(n).min(MAX_POLL_DELAY);
            sleep(delay);
            let status = self.get(&path)?;
            if status.get("status").and_then(Value::as_str) == Some("published") {
                return Ok(());
            }
        }
        Err(Error::timeout(format!(
            "Algolia task {task} of index {full} was not published after {} polls",
            self.cfg.task_max_polls
        )))
    }
}

/// Percent-encodes a path segment (index names, object ids).
pub fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The settings of the tenant's index `name`: `not-found` naming it when Algolia has no
/// such index (or it is one of the adapter's sort replicas).
pub(crate) fn settings_of(client: &Client, name: &str) -> Result<(String, Value), Error> {
    let full = client.cfg.full_name(name);
    match client.get(&format!("/1/indexes/{}/settings", encode(&full))) {
        Ok(s) if s.get("primary").is_none() => Ok((full, s)),
        Ok(_) => Err(no_index(name, None)),
        Err(e) if e.kind == ErrorKind::NotFound => Err(no_index(name, Some(e))),
        Err(e) => Err(e),
    }
}

/// How many records an index holds: an empty query asking for no hit.
pub(crate) fn count(client: &Client, full: &str) -> Result<u64, Error> {
    let answer = client.post_read(
        &format!("/1/indexes/{}/query", encode(full)),
        &json!({"query": "", "hitsPerPage": 0, "attributesToRetrieve": [], "attributesToHighlight": [], "analytics": false}),
    )?;
    answer
        .get("nbHits")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::internal(format!("Algolia's answer for index {full} has no nbHits")))
}

/// Writes the settings of `full` and of its sort replicas, removes the replicas it no
/// longer needs, and waits for every task.
pub(crate) fn apply_settings(
    client: &Client,
    full: &str,
    settings: &IndexSettings,
    old_replicas: &[String],
) -> Result<(), Error> {
    let answer = client.write(
        HttpMethod::Put,
        &format!(
            "/1/indexes/{}/settings?forwardToReplicas=true",
            encode(full)
        ),
        Some(&wire::primary_settings(full, settings)),
    )?;
    client.wait_task(full, &answer)?;
    for field in &settings.sortable {
        for order in [SortOrder::Ascending, SortOrder::Descending] {
            let replica = wire::replica(full, field, order);
            if old_replicas.contains(&replica) {
                continue;
            }
            let answer = client.write(
                HttpMethod::Put,
                &format!("/1/indexes/{}/settings", encode(&replica)),
                Some(&wire::replica_settings(settings, field, order)),
            )?;
            client.wait_task(&replica, &answer)?;
        }
    }
    let kept = wire::replicas(full, &settings.sortable);
    for gone in old_replicas.iter().filter(|r| !kept.contains(r)) {
        delete(client, gone)?;
    }
    Ok(())
}

/// Deletes Algolia index `full` and waits; an index already gone is fine.
pub(crate) fn delete(client: &Client, full: &str) -> Result<(), Error> {
    match client.write(
        HttpMethod::Delete,
        &format!("/1/indexes/{}", encode(full)),
        None,
    ) {
        Ok(answer) => client.wait_task(full, &answer),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Sends one batch of operations to `full` and waits until it is searchable.
pub(crate) fn batch(client: &Client, full: &str, requests: Vec<Value>) -> Result<(), Error> {
    if requests.is_empty() {
        return Ok(());
    }
    let answer = client.write(
        HttpMethod::Post,
        &format!("/1/indexes/{}/batch", encode(full)),
        Some(&json!({ "requests": requests })),
    )?;
    client.wait_task(full, &answer)
}

/// Every Algolia index the key lists (all pages).
pub(crate) fn all_indexes(client: &Client) -> Result<Vec<Value>, Error> {
    let mut items = Vec::new();
    let mut page = 0u64;
    loop {
        let answer = client.get(&format!("/1/indexes?page={page}&hitsPerPage=100"))?;
        if let Some(list) = answer.get("items").and_then(Value::as_array) {
            items.extend(list.iter().cloned());
        }
        let pages = answer.get("nbPages").and_then(Value::as_u64).unwrap_or(1);
        page += 1;
        if page >= pages {
            return Ok(items);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_segments() {
        assert_eq!(encode("acme_books"), "acme_books");
        assert_eq!(encode("a b/é"), "a%20b%2F%C3%A9");
    }
}
