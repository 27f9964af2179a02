//! The logging contract, host-native: entries go through `tracing` (target
//! `switchyard::app`, with tenant, logger and fields), next to the host's own logs and the
//! adapters', and the most recent ones are kept per tenant to be read back with `query`.
//!
//! Each tenant has a minimum level (the binding's `min_level` setting, or `set-min-level`),
//! loggers with context inherited by their children, and a ring of its last
//! [`KEEP_RECORDS`] entries.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use wasmtime::component::{HasData, Linker};

use serde_json::{Map, Value};

use crate::bindings::base::switchyard::types::types::{
    self, ErrorKind, HealthStatus, PageInfo, PageRequest,
};
use crate::bindings::logging::switchyard::logging::types::{
    self as logging_types, Entry, ErrorInfo, Level, LogPage, LogQuery, LogRecord, LoggerInfo,
};
use crate::bindings::logging_bridge::switchyard::logging::logging::{self, Host};
use crate::contract::{error, no_backend, now, rule_error};

type WitError = types::Error;

/// Entries kept per tenant for `query`.
pub const KEEP_RECORDS: usize = 10_000;
/// Loggers per tenant.
pub const MAX_LOGGERS: usize = 10_000;
/// The longest message.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// The most entries in one `log-many`.
pub const MAX_BATCH: usize = 1000;

/// One tenant's logging state.
pub struct TenantLog {
    state: Mutex<State>,
}

struct State {
    min_level: Level,
    loggers: HashMap<String, Logger>,
    records: VecDeque<LogRecord>,
    seq: u64,
}

struct Logger {
    name: String,
    context: Map<String, Value>,
}

impl TenantLog {
    /// A tenant's log with `min_level`.
    pub fn new(min_level: Level) -> Self {
        TenantLog {
            state: Mutex::new(State {
                min_level,
                loggers: HashMap::new(),
                records: VecDeque::new(),
                seq: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the minimum level (from the binding's configuration).
    pub fn set_min_level(&self, level: Level) {
        self.lock().min_level = level;
    }
}

/// Parses a level name (`debug` ... `fatal`).
/// A `min_level` that names no level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("min_level must be debug, info, warn, error or fatal, not {0:?}")]
pub struct UnknownLevel(pub String);

pub fn parse_level(s: &str) -> Result<Level, UnknownLevel> {
    Ok(match s {
        "debug" => Level::Debug,
        "info" => Level::Info,
        "warn" => Level::Warn,
        "error" => Level::Error,
        "fatal" => Level::Fatal,
        other => return Err(UnknownLevel(other.to_string())),
    })
}

fn rank(level: Level) -> u8 {
    match level {
        Level::Debug => 0,
        Level::Info => 1,
        Level::Warn => 2,
        Level::Error => 3,
        Level::Fatal => 4,
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Debug => "debug",
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
        Level::Fatal => "fatal",
    }
}

fn invalid(message: String) -> WitError {
    error(ErrorKind::InvalidInput, message)
}

/// Parses `text` as a JSON object; `what` names it in errors.
fn object(what: &str, text: &str) -> Result<Map<String, Value>, WitError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    crate::json::parse_object(what, text).map_err(rule_error)
}

/// Checks an entry and parses its fields; `at` names it in errors.
fn check(at: &str, entry: &Entry) -> Result<Map<String, Value>, WitError> {
    if entry.message.is_empty() {
        return Err(invalid(format!("{at}.message is empty")));
    }
    if entry.message.len() > MAX_MESSAGE {
        return Err(error(
            ErrorKind::TooLarge,
            format!(
                "{at}.message is {} bytes; the most is {MAX_MESSAGE}",
                entry.message.len()
            ),
        ));
    }
    if let Some(e) = &entry.error {
        if e.kind.is_empty() {
            return Err(invalid(format!("{at}.error.kind is empty")));
        }
    }
    object(
        &format!("{at}.fields"),
        entry.fields.as_deref().unwrap_or(""),
    )
}

impl State {
    /// Records and emits one checked entry; false when below the minimum level.
    fn emit(
        &mut self,
        tenant: &str,
        logger: Option<&str>,
        entry: &Entry,
        fields: Map<String, Value>,
    ) -> bool {
        if rank(entry.level) < rank(self.min_level) {
            return false;
        }
        let (name, mut merged) = match logger.and_then(|id| self.loggers.get(id)) {
            Some(l) => (Some(l.name.clone()), l.context.clone()),
            None => (None, Map::new()),
        };
        merged.extend(fields);
        let fields_text = Value::Object(merged).to_string();
        emit_tracing(tenant, name.as_deref(), entry, &fields_text);
        self.seq += 1;
        if self.records.len() == KEEP_RECORDS {
            self.records.pop_front();
        }
        self.records.push_back(LogRecord {
            seq: self.seq,
            at: now(),
            level: entry.level,
            message: entry.message.clone(),
            logger: name,
            fields: fields_text,
            error: entry.error.clone(),
        });
        true
    }
}

/// One entry into the host's `tracing` pipeline.
fn emit_tracing(tenant: &str, logger: Option<&str>, entry: &Entry, fields: &str) {
    let logger = logger.unwrap_or("");
    let error = entry
        .error
        .as_ref()
        .map(|e| ErrorChain(e).to_string())
        .unwrap_or_default();
    let message = &entry.message;
    macro_rules! emit {
        ($lvl:expr) => {
            tracing::event!(
                target: "switchyard::app", $lvl,
                tenant = %tenant, logger = %logger, fields = %fields, error = %error,
                level_name = level_name(entry.level),
                "{message}"
            )
        };
    }
    match entry.level {
        Level::Debug => emit!(tracing::Level::DEBUG),
        Level::Info => emit!(tracing::Level::INFO),
        Level::Warn => emit!(tracing::Level::WARN),
        Level::Error | Level::Fatal => emit!(tracing::Level::ERROR),
    }
}

/// `kind: message: cause: cause`.
struct ErrorChain<'a>(&'a ErrorInfo);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.kind, self.0.message)?;
        for cause in &self.0.causes {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

/// What one call may reach of the logging backend: the tenant's log, when the binding has a
/// backend.
pub struct LoggingView<'a> {
    /// The tenant's log; `None` when the binding names no backend.
    pub log: Option<&'a Arc<TenantLog>>,
    /// The tenant, on every entry.
    pub tenant: &'a str,
}

/// The [`HasData`] marker linking [`LoggingView`].
pub struct Logging;

impl HasData for Logging {
    type Data<'a> = LoggingView<'a>;
}

/// Links `switchyard:logging/logging` and its types, reached through `view`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> LoggingView<'_>,
) -> wasmtime::Result<()> {
    logging_types::add_to_linker::<T, Logging>(linker, view)?;
    logging::add_to_linker::<T, Logging>(linker, view)
}

impl logging_types::Host for LoggingView<'_> {}

impl<'a> LoggingView<'a> {
    fn tenant_log(&self) -> Result<&'a TenantLog, WitError> {
        self.log.map(|l| &**l).ok_or_else(|| no_backend("logging"))
    }
}

impl Host for LoggingView<'_> {
    async fn create_logger(
        &mut self,
        name: String,
        context: String,
        parent: Option<String>,
    ) -> Result<LoggerInfo, WitError> {
        if name.is_empty() || name.chars().count() > 128 {
            return Err(invalid(format!(
                "logger name must be 1 to 128 characters, not {}",
                name.chars().count()
            )));
        }
        let own = object("context", &context)?;
        let log = self.tenant_log()?;
        let mut state = log.lock();
        if state.loggers.len() >= MAX_LOGGERS {
            return Err(error(
                ErrorKind::TooLarge,
                format!("the tenant has {MAX_LOGGERS} loggers already; reuse them"),
            ));
        }
        let mut merged = match &parent {
            Some(p) => state
                .loggers
                .get(p)
                .ok_or_else(|| {
                    error(
                        ErrorKind::NotFound,
                        format!("no parent logger with id '{p}'"),
                    )
                })?
                .context
                .clone(),
            None => Map::new(),
        };
        merged.extend(own);
        let id = uuid::Uuid::now_v7().simple().to_string();
        let info = LoggerInfo {
            id: id.clone(),
            name: name.clone(),
            context: Value::Object(merged.clone()).to_string(),
            parent,
        };
        state.loggers.insert(
            id,
            Logger {
                name,
                context: merged,
            },
        );
        Ok(info)
    }

    async fn log(&mut self, logger: Option<String>, entry: Entry) -> Result<bool, WitError> {
        let fields = check("entry", &entry)?;
        let log = self.tenant_log()?;
        let mut state = log.lock();
        known_logger(&state, logger.as_deref())?;
        Ok(state.emit(self.tenant, logger.as_deref(), &entry, fields))
    }

    async fn log_many(
        &mut self,
        logger: Option<String>,
        entries: Vec<Entry>,
    ) -> Result<u32, WitError> {
        if entries.len() > MAX_BATCH {
            return Err(error(
                ErrorKind::TooLarge,
                format!(
                    "entries has {} items; the most is {MAX_BATCH}",
                    entries.len()
                ),
            ));
        }
        let checked = entries
            .iter()
            .enumerate()
            .map(|(i, e)| check(&format!("entries[{i}]"), e))
            .collect::<Result<Vec<_>, _>>()?;
        let log = self.tenant_log()?;
        let mut state = log.lock();
        known_logger(&state, logger.as_deref())?;
        let mut logged = 0;
        for (entry, fields) in entries.iter().zip(checked) {
            if state.emit(self.tenant, logger.as_deref(), entry, fields) {
                logged += 1;
            }
        }
        Ok(logged)
    }

    async fn set_min_level(&mut self, level: Level) -> Result<(), WitError> {
        self.tenant_log()?.set_min_level(level);
        Ok(())
    }

    async fn min_level(&mut self) -> Result<Level, WitError> {
        Ok(self.tenant_log()?.lock().min_level)
    }

    async fn query(&mut self, query: LogQuery, page: PageRequest) -> Result<LogPage, WitError> {
        // The cursor is the seq to continue below (newest first).
        let below = match &page.cursor {
            None => u64::MAX,
            Some(c) => c
                .parse::<u64>()
                .map_err(|_| invalid(format!("page.cursor {c:?} is not a cursor this log gave")))?,
        };
        let limit = page.limit.unwrap_or(50).clamp(1, 1000) as usize;
        let log = self.tenant_log()?;
        let state = log.lock();
        let matches = |r: &&LogRecord| {
            query.min_level.is_none_or(|m| rank(r.level) >= rank(m))
                && query
                    .logger
                    .as_ref()
                    .is_none_or(|l| r.logger.as_deref() == Some(l))
                && query
                    .contains
                    .as_ref()
                    .is_none_or(|c| r.message.contains(c.as_str()))
                && query
                    .field
                    .as_ref()
                    .is_none_or(|(k, v)| field_is(&r.fields, k, v))
        };
        let mut items: Vec<LogRecord> = state
            .records
            .iter()
            .rev()
            .filter(|r| r.seq < below)
            .filter(matches)
            .take(limit + 1)
            .cloned()
            .collect();
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if more {
            items.last().map(|r| r.seq.to_string())
        } else {
            None
        };
        Ok(LogPage {
            items,
            page: PageInfo {
                next_cursor,
                total: None,
            },
        })
    }

    async fn health(&mut self) -> HealthStatus {
        match self.tenant_log() {
            Ok(_) => HealthStatus {
                ok: true,
                detail: "host log pipeline".into(),
            },
            Err(e) => HealthStatus {
                ok: false,
                detail: e.message,
            },
        }
    }
}

fn known_logger(state: &State, logger: Option<&str>) -> Result<(), WitError> {
    match logger {
        Some(id) if !state.loggers.contains_key(id) => Err(error(
            ErrorKind::NotFound,
            format!("no logger with id '{id}' (create it with create-logger)"),
        )),
        _ => Ok(()),
    }
}

/// Whether the JSON object `fields` has `key` equal to `value` (strings as they are, other
/// values as JSON text).
fn field_is(fields: &str, key: &str, value: &str) -> bool {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(fields) else {
        return false;
    };
    match map.get(key) {
        Some(Value::String(s)) => s == value,
        Some(other) => serde_json::to_string(other).is_ok_and(|text| text == value),
        None => false,
    }
}
