//! [`RedisBroker`]: the messaging contract's operations on one tenant's keys in Redis, each one
//! Lua script (batches as one pipeline of script calls).

use std::time::{Duration, Instant, UNIX_EPOCH};

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::Value;
use tokio::sync::{Notify, OnceCell};

use crate::bindings::base::switchyard::types::types::ErrorKind;
use crate::bindings::messaging::switchyard::messaging::types::{
    DeadLetter, Delivery, NackOutcome, Outgoing, QueueInfo,
};
use crate::contract::{error, timestamp};
use crate::native::messaging::message::{Options, WitError};

use super::scripts::{check, unavailable, Lua, Reply, Scripts};
use super::stored::{delivery, info_of, Stored};

/// The longest a waiting `receive` goes without looking at the queue again.
pub const POLL: Duration = Duration::from_millis(100);

/// The broker of one tenant on one Redis.
pub struct RedisBroker {
    client: ::redis::Client,
    conn: OnceCell<ConnectionManager>,
    prefix: String,
    scripts: Scripts,
    /// Woken when this process sends a message (other processes' sends are seen by polling).
    changed: Notify,
    /// Where the server is, for messages (never the password).
    addr: String,
    /// The URL it was made from, to tell whether a new grant changes it.
    url: String,
}

/// A Redis backend configuration that cannot be used. Its message names the key (`url: ...`).
#[derive(Debug, thiserror::Error)]
pub enum RedisConfigError {
    /// `url` is not a Redis URL.
    #[error("url: not a Redis URL: {0}")]
    InvalidUrl(::redis::RedisError),
}

/// A fresh receipt token.
fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

impl RedisBroker {
    /// A broker on the Redis at `url` keeping its keys under `prefix`; an error names a bad
    /// URL. It connects on first use (and reconnects by itself after a failure).
    pub fn new(url: &str, prefix: &str) -> Result<Self, RedisConfigError> {
        let client = ::redis::Client::open(url).map_err(RedisConfigError::InvalidUrl)?;
        let addr = client.get_connection_info().addr().to_string();
        Ok(RedisBroker {
            client,
            conn: OnceCell::new(),
            prefix: prefix.to_string(),
            scripts: Scripts::new(),
            changed: Notify::new(),
            addr,
            url: url.to_string(),
        })
    }

    /// Whether this broker is the one `url` and `prefix` describe.
    pub fn is(&self, url: &str, prefix: &str) -> bool {
        self.prefix == prefix && self.url == url
    }

    /// The shared connection, made on first use; it reconnects by itself after a failure.
    async fn conn(&self) -> Result<ConnectionManager, WitError> {
        self.conn
            .get_or_try_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(2)))
                    .set_response_timeout(Some(Duration::from_secs(5)))
                    .set_number_of_retries(3)
                    .set_max_delay(Duration::from_secs(1));
                self.client.get_connection_manager_with_config(config)
            })
            .await
            .cloned()
            .map_err(|e| unavailable(&self.addr, e))
    }

    /// Runs `script` with the prefix, then `args`; answers its reply, or the error its status
    /// names (`no-queue` for `queue`, `stale` for `receipt`).
    async fn run(
        &self,
        lua: &Lua,
        args: &[&str],
        queue: &str,
        receipt: &str,
    ) -> Result<Reply, WitError> {
        let mut conn = self.conn().await?;
        let mut call = lua.script.prepare_invoke();
        call.arg(&self.prefix);
        for a in args {
            call.arg(*a);
        }
        let value: Value = call
            .invoke_async(&mut conn)
            .await
            .map_err(|e| unavailable(&self.addr, e))?;
        check(value, queue, receipt)
    }

    pub(in crate::native::messaging) async fn declare_queue(
        &self,
        queue: &str,
        o: Options,
    ) -> Result<QueueInfo, WitError> {
        let [vt, max, bo, bomax] = [
            o.visibility_timeout_ms,
            o.max_attempts.into(),
            o.retry_backoff_ms,
            o.retry_backoff_max_ms,
        ]
        .map(|n| n.to_string());
        let mut r = self
            .run(
                &self.scripts.declare,
                &[queue, &vt, &max, &bo, &bomax],
                queue,
                "",
            )
            .await?;
        Ok(info_of(queue, &mut r))
    }

    pub(in crate::native::messaging) async fn delete_queue(
        &self,
        queue: &str,
    ) -> Result<(), WitError> {
        self.run(&self.scripts.delete, &[queue], queue, "").await?;
        Ok(())
    }

    pub(in crate::native::messaging) async fn describe_queue(
        &self,
        queue: &str,
    ) -> Result<QueueInfo, WitError> {
        let mut r = self
            .run(&self.scripts.describe, &[queue], queue, "")
            .await?;
        Ok(info_of(queue, &mut r))
    }

    pub(in crate::native::messaging) async fn queues(&self) -> Result<Vec<QueueInfo>, WitError> {
        let mut conn = self.conn().await?;
        let mut names: Vec<String> = ::redis::cmd("SMEMBERS")
            .arg(format!("{}queues", self.prefix))
            .query_async(&mut conn)
            .await
            .map_err(|e| unavailable(&self.addr, e))?;
        names.sort();
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            match self.describe_queue(&name).await {
                Ok(info) => out.push(info),
                // Deleted since the listing.
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    pub(in crate::native::messaging) async fn subscribe(
        &self,
        topic: &str,
        queue: &str,
        on: bool,
    ) -> Result<(), WitError> {
        let on = if on { "1" } else { "0" };
        self.run(&self.scripts.subscribe, &[queue, topic, on], queue, "")
            .await?;
        Ok(())
    }

    /// Publishes each `(id, message)` to `topic` in one pipeline; a result per message (how
    /// many queues got a copy).
    pub(in crate::native::messaging) async fn publish(
        &self,
        topic: &str,
        messages: &[(String, &Outgoing)],
    ) -> Result<Vec<Result<u32, WitError>>, WitError> {
        let args = messages
            .iter()
            .map(|(id, m)| {
                let stored = Stored::new(m, Some(topic));
                vec![
                    topic.to_string(),
                    id.clone(),
                    stored.json(),
                    stored.priority.to_string(),
                    m.delay_ms.unwrap_or(0).to_string(),
                ]
            })
            .collect();
        let replies = self.pipeline(&self.scripts.publish, args).await?;
        self.changed.notify_waiters();
        Ok(replies
            .into_iter()
            .map(|r| r.and_then(|v| check(v, "", "")).map(|mut r| r.int() as u32))
            .collect())
    }

    /// Sends each `(id, message)` to `queue` in one pipeline; a result per message.
    pub(in crate::native::messaging) async fn send(
        &self,
        queue: &str,
        messages: &[(String, &Outgoing)],
    ) -> Result<Vec<Result<(), WitError>>, WitError> {
        let args = messages
            .iter()
            .map(|(id, m)| {
                let stored = Stored::new(m, None);
                vec![
                    queue.to_string(),
                    id.clone(),
                    stored.json(),
                    stored.priority.to_string(),
                    m.delay_ms.unwrap_or(0).to_string(),
                ]
            })
            .collect();
        let replies = self.pipeline(&self.scripts.send, args).await?;
        self.changed.notify_waiters();
        Ok(replies
            .into_iter()
            .map(|r| r.and_then(|v| check(v, queue, "")).map(|_| ()))
            .collect())
    }

    /// One call of `script` per argument list, pipelined: the script is loaded first in the
    /// same round trip, so a restarted server (empty script cache) still runs them.
    async fn pipeline(
        &self,
        lua: &Lua,
        calls: Vec<Vec<String>>,
    ) -> Result<Vec<Result<Value, WitError>>, WitError> {
        let mut conn = self.conn().await?;
        let mut pipe = ::redis::pipe();
        pipe.ignore_errors();
        pipe.cmd("SCRIPT").arg("LOAD").arg(&lua.code);
        for args in &calls {
            pipe.cmd("EVALSHA")
                .arg(lua.script.get_hash())
                .arg(0)
                .arg(&self.prefix)
                .arg(args);
        }
        let mut results: Vec<::redis::RedisResult<Value>> = pipe
            .query_async(&mut conn)
            .await
            .map_err(|e| unavailable(&self.addr, e))?;
        if results.is_empty() {
            return Err(error(ErrorKind::Unavailable, "redis answered no results"));
        }
        results.remove(0).map_err(|e| unavailable(&self.addr, e))?;
        Ok(results
            .into_iter()
            .map(|r| r.map_err(|e| unavailable(&self.addr, e)))
            .collect())
    }

    pub(in crate::native::messaging) async fn receive(
        &self,
        queue: &str,
        max: u32,
        wait: Duration,
        visibility_ms: Option<u64>,
    ) -> Result<Vec<Delivery>, WitError> {
        let give_up = Instant::now() + wait;
        let vis = visibility_ms.map(|v| v.to_string()).unwrap_or_default();
        let max_s = max.to_string();
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let tokens: Vec<String> = (0..max).map(|_| token()).collect();
            let mut args: Vec<&str> = vec![queue, &max_s, &vis];
            args.extend(tokens.iter().map(String::as_str));
            let mut r = self.run(&self.scripts.receive, &args, queue, "").await?;
            let next_due = r.int();
            let mut out = Vec::new();
            while r.more() {
                let (id, receipt, attempt, json, last_error) =
                    (r.str(), r.str(), r.int(), r.str(), r.str());
                out.push(delivery(id, receipt, attempt as u32, &json, last_error));
            }
            let now = Instant::now();
            if !out.is_empty() || now >= give_up {
                return Ok(out);
            }
            let mut until = give_up.min(now + POLL);
            if next_due >= 0 {
                until = until.min(now + Duration::from_millis(next_due as u64));
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(until.into()) => {}
            }
        }
    }

    pub(in crate::native::messaging) async fn ack(
        &self,
        queue: &str,
        receipt: &str,
    ) -> Result<(), WitError> {
        self.run(&self.scripts.ack, &[queue, receipt], queue, receipt)
            .await?;
        Ok(())
    }

    pub(in crate::native::messaging) async fn nack(
        &self,
        queue: &str,
        receipt: &str,
        reason: &str,
        retry_in_ms: Option<u64>,
    ) -> Result<NackOutcome, WitError> {
        let retry = retry_in_ms.map(|d| d.to_string()).unwrap_or_default();
        let mut r = self
            .run(
                &self.scripts.nack,
                &[queue, receipt, reason, &retry],
                queue,
                receipt,
            )
            .await?;
        Ok(match r.str().as_str() {
            "dead" => NackOutcome::DeadLettered,
            _ => NackOutcome::RetryInMs(r.int().max(0) as u64),
        })
    }

    pub(in crate::native::messaging) async fn extend(
        &self,
        queue: &str,
        receipt: &str,
        ms: u64,
    ) -> Result<(), WitError> {
        self.run(
            &self.scripts.extend,
            &[queue, receipt, &ms.to_string()],
            queue,
            receipt,
        )
        .await?;
        Ok(())
    }

    /// Dead letters from `offset`, at most `limit`; and how many there are in all.
    pub(in crate::native::messaging) async fn dead_letters(
        &self,
        queue: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<DeadLetter>, usize), WitError> {
        let mut r = self
            .run(
                &self.scripts.dead,
                &[queue, &offset.to_string(), &limit.to_string()],
                queue,
                "",
            )
            .await?;
        let total = r.int().max(0) as usize;
        let mut items = Vec::new();
        while r.more() {
            let (id, json, attempts, last_error, dead_ms) =
                (r.str(), r.str(), r.int(), r.str(), r.int());
            let d = delivery(id, String::new(), attempts as u32, &json, String::new());
            items.push(DeadLetter {
                id: d.id,
                body: d.body,
                headers: d.headers,
                priority: d.priority,
                topic: d.topic,
                published_at: d.published_at,
                attempts: d.attempt,
                last_error,
                dead_at: timestamp(UNIX_EPOCH + Duration::from_millis(dead_ms as u64)),
            });
        }
        Ok((items, total))
    }

    pub(in crate::native::messaging) async fn replay(
        &self,
        queue: &str,
        ids: &[String],
    ) -> Result<u32, WitError> {
        let mut args: Vec<&str> = vec![queue];
        args.extend(ids.iter().map(String::as_str));
        let mut r = self.run(&self.scripts.replay, &args, queue, "").await?;
        Ok(r.int().max(0) as u32)
    }

    pub(in crate::native::messaging) async fn purge(&self, queue: &str) -> Result<u64, WitError> {
        let mut r = self.run(&self.scripts.purge, &[queue], queue, "").await?;
        Ok(r.int().max(0) as u64)
    }

    /// Whether the server answers, and whether it is set up to keep what it acknowledged.
    pub(in crate::native::messaging) async fn health(&self) -> (bool, String) {
        let mut conn = match self.conn().await {
            Ok(c) => c,
            Err(e) => return (false, e.message),
        };
        let info: Result<String, _> = ::redis::cmd("INFO")
            .arg("persistence")
            .arg("memory")
            .query_async(&mut conn)
            .await;
        match info {
            Err(e) => (false, unavailable(&self.addr, e).message),
            Ok(info) => {
                let field = |name: &str| {
                    info.lines()
                        .find_map(|l| l.strip_prefix(&format!("{name}:")))
                        .map(|v| v.trim().to_string())
                        .unwrap_or_default()
                };
                let mut warnings = Vec::new();
                if field("aof_enabled") != "1" {
                    warnings.push("appendonly is off: a restart loses recent messages");
                }
                let policy = field("maxmemory_policy");
                if !policy.is_empty() && policy != "noeviction" {
                    warnings.push("maxmemory-policy evicts keys: messages can be lost");
                }
                let mut detail = format!("redis at {}", self.addr);
                if !warnings.is_empty() {
                    detail.push_str("; ");
                    detail.push_str(&warnings.join("; "));
                }
                (true, detail)
            }
        }
    }
}
