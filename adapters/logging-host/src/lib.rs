#![doc = include_str!("../README.md")]
#![allow(missing_docs, clippy::all)]

mod bindings {
    wit_bindgen::generate!({
        world: "switchyard:logging/host-bridge@0.1.0",
        path: [
            "../../wit/deps/io", "../../wit/deps/clocks", "../../wit/deps/random",
            "../../wit/deps/filesystem", "../../wit/deps/sockets", "../../wit/deps/cli",
            "../../wit/deps/http", "../../wit/types", "../../wit/adapter", "../../wit/logging",
        ],
        with: {
            "switchyard:types/types@0.1.0": ::switchyard_bindings_base::switchyard::types::types,
            "switchyard:adapter/log@0.1.0": ::switchyard_bindings_base::switchyard::adapter::log,
            "switchyard:adapter/config@0.1.0": ::switchyard_bindings_base::switchyard::adapter::config,
            "switchyard:adapter/buffer@0.1.0": ::switchyard_bindings_base::switchyard::adapter::buffer,
            "wasi:io/error@0.2.4": ::wasi::io::error,
            "wasi:io/poll@0.2.4": ::wasi::io::poll,
            "wasi:io/streams@0.2.4": ::wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.4": ::wasi::clocks::monotonic_clock,
            "wasi:clocks/wall-clock@0.2.4": ::wasi::clocks::wall_clock,
            "wasi:random/random@0.2.4": ::wasi::random::random,
            "wasi:http/types@0.2.4": ::wasi::http::types,
            "wasi:http/outgoing-handler@0.2.4": ::wasi::http::outgoing_handler,
            "switchyard:logging/types@0.1.0": generate,
        },
    });
}

use bindings::exports::switchyard::adapter::lifecycle::Guest as Lifecycle;
use bindings::exports::switchyard::logging::logging::Guest as Logging;
use bindings::switchyard::logging::logging as host;
use bindings::switchyard::logging::types::*;
use switchyard_bindings_base::switchyard::types::types::{Error, HealthStatus, PageRequest};

/// The bridge: each export calls the host's import of the same name.
struct Bridge;

impl Logging for Bridge {
    fn create_logger(
        name: String,
        context: String,
        parent: Option<String>,
    ) -> Result<LoggerInfo, Error> {
        host::create_logger(&name, &context, parent.as_deref())
    }
    fn log(logger: Option<String>, entry: Entry) -> Result<bool, Error> {
        host::log(logger.as_deref(), &entry)
    }
    fn log_many(logger: Option<String>, entries: Vec<Entry>) -> Result<u32, Error> {
        host::log_many(logger.as_deref(), &entries)
    }
    fn set_min_level(level: Level) -> Result<(), Error> {
        host::set_min_level(level)
    }
    fn min_level() -> Result<Level, Error> {
        host::min_level()
    }
    fn query(query: LogQuery, page: PageRequest) -> Result<LogPage, Error> {
        host::query(&query, &page)
    }
    fn health() -> HealthStatus {
        host::health()
    }
}

impl Lifecycle for Bridge {
    fn tick() -> Result<(), Error> {
        Ok(())
    }
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

bindings::export!(Bridge with_types_in bindings);
