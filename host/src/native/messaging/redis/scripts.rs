//! The broker's Lua scripts (`lua/*.lua`, each after `lua/prelude.lua`) and how their
//! replies are read: the status each answers first, then its values in order.

use ::redis::{Script, Value};

use crate::bindings::base::switchyard::types::types::ErrorKind;
use crate::contract::error;
use crate::native::messaging::message::{stale, unknown, WitError};

/// A script and its text (a pipeline loads it by text).
pub(super) struct Lua {
    pub(super) code: String,
    pub(super) script: Script,
}

/// The broker's scripts, each with the prelude.
pub(super) struct Scripts {
    pub(super) declare: Lua,
    pub(super) describe: Lua,
    pub(super) delete: Lua,
    pub(super) subscribe: Lua,
    pub(super) publish: Lua,
    pub(super) send: Lua,
    pub(super) receive: Lua,
    pub(super) ack: Lua,
    pub(super) nack: Lua,
    pub(super) extend: Lua,
    pub(super) dead: Lua,
    pub(super) replay: Lua,
    pub(super) purge: Lua,
}

impl Scripts {
    /// Every script, loaded from the files built into the host.
    pub(super) fn new() -> Self {
        let prelude = include_str!("lua/prelude.lua");
        let s = |body: &str| {
            let code = format!("{prelude}\n{body}");
            Lua {
                script: Script::new(&code),
                code,
            }
        };
        Scripts {
            declare: s(include_str!("lua/declare.lua")),
            describe: s(include_str!("lua/describe.lua")),
            delete: s(include_str!("lua/delete.lua")),
            subscribe: s(include_str!("lua/subscribe.lua")),
            publish: s(include_str!("lua/publish.lua")),
            send: s(include_str!("lua/send.lua")),
            receive: s(include_str!("lua/receive.lua")),
            ack: s(include_str!("lua/ack.lua")),
            nack: s(include_str!("lua/nack.lua")),
            extend: s(include_str!("lua/extend.lua")),
            dead: s(include_str!("lua/dead.lua")),
            replay: s(include_str!("lua/replay.lua")),
            purge: s(include_str!("lua/purge.lua")),
        }
    }
}

/// What a script answered, read in order.
pub(super) struct Reply {
    items: std::vec::IntoIter<Value>,
}

impl Reply {
    /// The next value as text (empty when there is none).
    pub(super) fn str(&mut self) -> String {
        match self.items.next() {
            Some(Value::BulkString(b)) => String::from_utf8_lossy(&b).into_owned(),
            Some(Value::SimpleString(s)) => s,
            Some(Value::Int(n)) => n.to_string(),
            _ => String::new(),
        }
    }

    /// The next value as a number (0 when there is none).
    pub(super) fn int(&mut self) -> i64 {
        match self.items.next() {
            Some(Value::Int(n)) => n,
            Some(Value::BulkString(b)) => String::from_utf8_lossy(&b).parse().unwrap_or(0),
            _ => 0,
        }
    }

    /// The next value as a list of texts.
    pub(super) fn list(&mut self) -> Vec<String> {
        match self.items.next() {
            Some(Value::Array(items)) => Reply {
                items: items.into_iter(),
            }
            .rest(),
            _ => Vec::new(),
        }
    }

    fn rest(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while self.items.len() > 0 {
            out.push(self.str());
        }
        out
    }

    /// Whether any value is left.
    pub(super) fn more(&self) -> bool {
        self.items.len() > 0
    }
}

/// A Redis failure as the contract's error: the server is unreachable or refused.
pub(super) fn unavailable(addr: &str, e: ::redis::RedisError) -> WitError {
    if e.code() == Some("OOM") {
        let mut err = error(
            ErrorKind::TooLarge,
            format!("redis at {addr} is out of memory (maxmemory): {e}"),
        );
        err.retryable = true;
        err.retry_after_ms = Some(1000);
        return err;
    }
    let mut err = error(
        ErrorKind::Unavailable,
        format!("redis at {addr} did not answer: {e}"),
    );
    err.retry_after_ms = Some(500);
    err
}

/// The reply of a script, or the error its status names.
pub(super) fn check(value: Value, queue: &str, receipt: &str) -> Result<Reply, WitError> {
    let items = match value {
        Value::Array(items) => items,
        other => {
            return Err(error(
                ErrorKind::Unavailable,
                format!("redis answered {other:?} where the broker's script answers a list"),
            ))
        }
    };
    let mut r = Reply {
        items: items.into_iter(),
    };
    match r.str().as_str() {
        "no-queue" => Err(unknown(queue)),
        "stale" => Err(stale(receipt)),
        "missing" => Err(error(
            ErrorKind::NotFound,
            format!(
                "no dead letter in queue '{queue}' with id {}; nothing was replayed",
                r.rest()
                    .iter()
                    .map(|s| format!("'{s}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        "ok" => Ok(r),
        // `nack` answers its outcome as the status; put it back in front.
        status @ ("dead" | "retry") => {
            let rest: Vec<Value> = std::iter::once(Value::BulkString(status.as_bytes().to_vec()))
                .chain(r.items)
                .collect();
            Ok(Reply {
                items: rest.into_iter(),
            })
        }
        other => Err(error(
            ErrorKind::Unavailable,
            format!("the broker's script answered an unknown status {other:?}"),
        )),
    }
}
