//! The Redis message broker: the messaging contract on a redis-server shared by any number of
//! host processes, with the in-process broker's semantics (priorities, delays, visibility
//! timeouts, retries with backoff, dead letters) and at-least-once delivery.
//!
//! Every operation is one Lua script (`lua/*.lua`, each after `lua/prelude.lua`), so it is
//! atomic on the server: two hosts receiving from one queue never take the same message, and
//! a receipt is valid for exactly one delivery. Times come from the server's clock (`TIME`),
//! so hosts with skewed clocks agree on due times and visibility deadlines. Batches are sent
//! as one pipeline of script calls (one round trip, a result per message).
//!
//! Configuration (binding `config`): `url` (`redis://[:password@]host:port/db`; write
//! `"${REDIS_URL}"` to keep a password out of the file) and `key_prefix` (default
//! `switchyard:<tenant>:messaging:`). Keys are built inside the scripts
//! from the prefix, so this backend needs a standalone (or Sentinel-managed) Redis, not
//! Redis Cluster. Durability is Redis's: run it with `appendonly yes` and `appendfsync always`
//! (or `everysec`, losing at most a second on a crash) and `maxmemory-policy noeviction`;
//! `health` reports when either is off.
//!
//! A waiting `receive` polls the queue at most every [`POLL`] (and wakes at once for
//! messages sent through this process), since Redis cannot block on a sorted set by score.
//!
//! - `broker`: [`RedisBroker`], the contract's operations.
//! - `scripts`: the Lua scripts and how their replies are read.
//! - `stored`: messages as Redis holds them, and the records built from replies.

mod broker;
mod scripts;
mod stored;

pub use broker::{RedisBroker, RedisConfigError, POLL};
