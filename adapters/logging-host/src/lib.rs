#![doc = include_str!("../README.md")]
#![allow(missing_docs, clippy::all)]

switchyard_bindings_base::host_bridge! {
    world: "switchyard:logging/host-bridge@0.1.0",
    contract: "../../wit/logging",
    types: "switchyard:logging/types@0.1.0",
}

use bindings::exports::switchyard::logging::logging::Guest as Logging;
use bindings::switchyard::logging::logging as host;
use bindings::switchyard::logging::types::*;
use switchyard_bindings_base::switchyard::types::types::{Error, HealthStatus, PageRequest};

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
