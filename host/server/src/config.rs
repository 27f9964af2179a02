//! The server's sections of the configuration file, `[server]` and `[logging]`: the server
//! owns them and parses them itself, with the host's [`parse_toml`] (so its errors name file,
//! line and key the way the host's do). The host reads `[runtime]`, `[tenants]` and the
//! signing keys of `[server]`; any other section is refused here.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"                          # the default
//! admin_token = { env = "SWITCHYARD_ADMIN_TOKEN" }   # or { file = ... }; no token: admin API off
//!
//! [logging]
//! format = "console"   # or "json": one object per line
//! color = "auto"       # colour when stderr is a terminal; "always", "never"
//! level = "info"       # RUST_LOG syntax; RUST_LOG wins when set
//! ```

use std::path::Path;

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_host::config::{parse_toml, DEFAULT_LISTEN};
use switchyard_host::SecretSource;

use crate::error::ServerError;

/// The whole file as the server sees it: its own sections, checked strictly, and the host's
/// (read by the host).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    #[serde(default)]
    server: ServerOptions,
    #[serde(default)]
    logging: LoggingOptions,
    #[serde(default, rename = "runtime")]
    _runtime: Option<IgnoredAny>,
    #[serde(default, rename = "tenants")]
    _tenants: Option<IgnoredAny>,
}

/// The `[logging]` section: the sink of the `switchyard` binary's log (host, guest and app
/// logs alike: they share one `tracing` pipeline). An embedding application installs its own
/// `tracing` subscriber instead.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingOptions {
    /// `console` (human-readable) or `json` (one JSON object per line).
    pub format: LogFormat,
    /// Colour on the console: `auto` (when stderr is a terminal), `always` or `never`.
    pub color: ColorChoice,
    /// The filter, in `RUST_LOG` syntax (`info`, `warn,switchyard=debug`); `RUST_LOG` wins.
    pub level: String,
    /// A Sentry DSN for the host's own errors (an adapter that traps, a component refused):
    /// `error` lines become Sentry events, `warn` and `info` lines their breadcrumbs.
    /// Tenants' captured errors go to their own monitoring binding's `sentry_dsn`.
    pub sentry_dsn: Option<String>,
    /// The `environment` of those events.
    pub sentry_environment: Option<String>,
}

impl Default for LoggingOptions {
    fn default() -> Self {
        LoggingOptions {
            format: LogFormat::Console,
            color: ColorChoice::Auto,
            level: "info".into(),
            sentry_dsn: None,
            sentry_environment: None,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Console,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Whether console lines are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    /// When the output is a terminal.
    Auto,
    /// Always (e.g. under a pager that understands ANSI colours).
    Always,
    /// Never.
    Never,
}

/// The `switchyard serve` options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerOptions {
    /// The address to listen on.
    pub listen: String,
    /// The admin API's bearer token; the admin API is off without one.
    pub admin_token: Option<SecretSource>,
    /// The server's address as clients reach it, for the URLs it signs (default
    /// `http://` + `listen`).
    pub public_url: Option<String>,
    /// The key signed URLs are signed with; a random key per process when none (signed URLs
    /// then stop working at restart).
    pub signing_key: Option<SecretSource>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            listen: DEFAULT_LISTEN.into(),
            admin_token: None,
            public_url: None,
            signing_key: None,
        }
    }
}

impl ServerOptions {
    /// Reads the admin token, if one is configured.
    pub fn resolve_admin_token(&self) -> Result<Option<String>, switchyard_host::Error> {
        self.admin_token
            .as_ref()
            .map(|s| {
                s.resolve()
                    .map(|secret| secret.expose().to_string())
                    .map_err(|m| switchyard_host::Error::config(format!("server.admin_token: {m}")))
            })
            .transpose()
    }
}

/// The server's settings, the admin token read from its secret source.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// `host:port` to listen on.
    pub listen: String,
    /// The admin API's token; `None` turns the admin API off.
    pub admin_token: Option<String>,
    /// The log sink (`[logging]`).
    pub logging: LoggingOptions,
}

impl std::fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSettings")
            .field("listen", &self.listen)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("logging", &self.logging)
            .finish()
    }
}

impl ServerSettings {
    /// Reads the `[server]` section of the configuration file at `path` (defaults when absent).
    pub fn load(path: &Path) -> Result<Self, ServerError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ServerError::Config {
            origin: origin.clone(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, &origin)
    }

    /// Parses the `[server]` section of a configuration's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ServerError> {
        let file: ServerFile = parse_toml(text, origin)?;
        let mut settings = Self::from_options(&file.server, origin)?;
        settings.logging = file.logging.clone();
        Ok(settings)
    }

    /// Resolves [`ServerOptions`]; `origin` names the file in errors.
    pub fn from_options(options: &ServerOptions, origin: &str) -> Result<Self, ServerError> {
        let admin_token = options.resolve_admin_token().map_err(|e| match e {
            switchyard_host::Error::Config { message, .. } => ServerError::Config {
                origin: origin.to_string(),
                message,
            },
            other => ServerError::Host(other),
        })?;
        Ok(ServerSettings {
            listen: options.listen.clone(),
            admin_token,
            logging: LoggingOptions::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_section() {
        let s = ServerSettings::parse("[runtime]\npooling = false\n", "f.toml").ok();
        assert_eq!(
            s,
            Some(ServerSettings {
                listen: "127.0.0.1:8080".into(),
                admin_token: None,
                logging: LoggingOptions::default(),
            })
        );
    }

    #[test]
    fn reads_listen_and_token() {
        let s = ServerSettings::parse(
            "[server]\nlisten = \"0.0.0.0:9\"\nadmin_token = { value = \"t\" }\n",
            "f.toml",
        )
        .ok();
        assert_eq!(
            s,
            Some(ServerSettings {
                listen: "0.0.0.0:9".into(),
                admin_token: Some("t".into()),
                logging: LoggingOptions::default(),
            })
        );
        assert!(!format!("{s:?}").contains("\"t\""));
    }

    #[test]
    fn errors_name_file_and_key() {
        let e = ServerSettings::parse("[server]\nlistn = \"x\"\n", "f.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("f.toml") && e.contains("listn") && e.contains("line 2"),
            "{e}"
        );
        let e = ServerSettings::parse(
            "[server]\nadmin_token = { env = \"SWITCHYARD_TEST_UNSET_TOKEN\" }\n",
            "f.toml",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            e.contains("f.toml")
                && e.contains("server.admin_token")
                && e.contains("SWITCHYARD_TEST_UNSET_TOKEN"),
            "{e}"
        );
    }
}
