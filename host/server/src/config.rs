//! The server's sections of the configuration file, `[server]` and `[logging]`: the server
//! owns them and parses them itself, with the host's [`parse_toml`] (so its errors name file,
//! line and key the way the host's do). The host reads `[runtime]`, `[tenants]` and the
//! signing keys of `[server]`; any other section is refused here.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"                          # the default
//! admin_token = { env = "SWITCHYARD_ADMIN_TOKEN" }   # or { file = ... }; no token: admin API off
//! admin_listen = "10.0.0.5:9090"       # health, metrics and admin on their own listener
//! max_connections = 10000              # open at once on the gateway listener
//! max_connections_per_address = 256    # from one client address (IPv6: per /64); 0: no limit
//! reserved_connections = 32            # more, for /healthz, /readyz, /metrics, /admin only
//! header_timeout_ms = 30000            # to send a request's headers (and idle keep-alive)
//! body_timeout_ms = 30000              # for a request's whole body: 408, connection closed
//! require_keys = true                  # unset: /v1 needs a key once any key exists
//! protect_ops = false                  # true: /metrics and /readyz's detail need the admin token
//!
//! [[server.keys]]                      # a gateway key: Authorization: Bearer <key>
//! id = "acme-web"
//! tenant = "acme"
//! key = { env = "ACME_WEB_KEY" }
//! services = ["storage"]               # optional; functions = ["upload", "storage/download"]
//!
//! [logging]
//! format = "console"   # or "json": one object per line
//! color = "auto"       # colour when stderr is a terminal; "always", "never"
//! level = "info"       # RUST_LOG syntax; RUST_LOG wins when set
//! ```

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::Deserialize;
use switchyard_host::config::{parse_toml, DEFAULT_LISTEN};
use switchyard_host::SecretSource;

use crate::auth::{GatewayKey, KeyConfig, KeySettings, Scope};
use crate::conn::ConnectionLimits;
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
    #[serde(default)]
    tenants: BTreeMap<String, IgnoredAny>,
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
    /// A second listener for `/healthz`, `/readyz`, `/metrics` and `/admin` (then off the
    /// gateway's listener, but `/healthz` and `/readyz`).
    pub admin_listen: Option<String>,
    /// Connections open at once on the gateway listener.
    pub max_connections: usize,
    /// Connections open at once from one client address; 0: no limit.
    pub max_connections_per_address: usize,
    /// Connections over those limits still accepted for the health, metrics and admin routes.
    pub reserved_connections: usize,
    /// Milliseconds a client gets to send a request's headers.
    pub header_timeout_ms: u64,
    /// Milliseconds a request's whole body may take to arrive.
    pub body_timeout_ms: u64,
    /// Whether `/v1` requires a gateway key; unset: once any key exists.
    pub require_keys: Option<bool>,
    /// Whether `/metrics` and the detail of `/readyz` need the admin token.
    pub protect_ops: bool,
    /// The gateway keys.
    pub keys: Vec<KeyConfig>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        let limits = ConnectionLimits::default();
        ServerOptions {
            listen: DEFAULT_LISTEN.into(),
            admin_token: None,
            public_url: None,
            signing_key: None,
            admin_listen: None,
            max_connections: limits.max_connections,
            max_connections_per_address: limits.max_connections_per_address,
            reserved_connections: limits.reserved_connections,
            header_timeout_ms: millis(limits.header_timeout),
            body_timeout_ms: millis(limits.body_timeout),
            require_keys: None,
            protect_ops: false,
            keys: Vec::new(),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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
    /// `host:port` of the admin listener, if any.
    pub admin_listen: Option<String>,
    /// Connection limits and timeouts.
    pub limits: ConnectionLimits,
    /// The gateway keys and whether `/v1` requires one.
    pub keys: KeySettings,
    /// Whether `/metrics` and the detail of `/readyz` need the admin token.
    pub protect_ops: bool,
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
            .field("admin_listen", &self.admin_listen)
            .field("limits", &self.limits)
            .field("keys", &self.keys)
            .field("protect_ops", &self.protect_ops)
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
    /// Every gateway key must name a tenant of the file.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ServerError> {
        let file: ServerFile = parse_toml(text, origin)?;
        let tenants: BTreeSet<String> = file.tenants.keys().cloned().collect();
        let mut settings = Self::resolve(&file.server, Some(&tenants), origin)?;
        settings.logging = file.logging.clone();
        Ok(settings)
    }

    /// Resolves [`ServerOptions`] (secrets read, keys hashed, limits checked); `origin` names
    /// the file in errors.
    pub fn from_options(options: &ServerOptions, origin: &str) -> Result<Self, ServerError> {
        Self::resolve(options, None, origin)
    }

    fn resolve(
        options: &ServerOptions,
        tenants: Option<&BTreeSet<String>>,
        origin: &str,
    ) -> Result<Self, ServerError> {
        let bad = |message: String| ServerError::Config {
            origin: origin.to_string(),
            message,
        };
        let admin_token = options.resolve_admin_token().map_err(|e| match e {
            switchyard_host::Error::Config { message, .. } => bad(message),
            other => ServerError::Host(other),
        })?;
        if options.max_connections == 0 {
            return Err(bad("server.max_connections must be at least 1".into()));
        }
        if options.header_timeout_ms == 0 || options.body_timeout_ms == 0 {
            return Err(bad(
                "server.header_timeout_ms and server.body_timeout_ms must be at least 1".into(),
            ));
        }
        if options.protect_ops && admin_token.is_none() {
            return Err(bad(
                "server.protect_ops needs server.admin_token (the token that opens /metrics)"
                    .into(),
            ));
        }
        let limits = ConnectionLimits {
            max_connections: options.max_connections,
            max_connections_per_address: options.max_connections_per_address,
            reserved_connections: options.reserved_connections,
            header_timeout: Duration::from_millis(options.header_timeout_ms),
            body_timeout: Duration::from_millis(options.body_timeout_ms),
        };
        let keys = resolve_keys(&options.keys, tenants).map_err(bad)?;
        Ok(ServerSettings {
            listen: options.listen.clone(),
            admin_token,
            admin_listen: options.admin_listen.clone(),
            limits,
            keys: KeySettings {
                require_keys: options.require_keys,
                keys,
            },
            protect_ops: options.protect_ops,
            logging: LoggingOptions::default(),
        })
    }
}

/// Reads and hashes `[[server.keys]]`; ids and secrets must be unique, tenants (when known)
/// configured.
fn resolve_keys(
    configs: &[KeyConfig],
    tenants: Option<&BTreeSet<String>>,
) -> Result<Vec<GatewayKey>, String> {
    let mut keys: Vec<GatewayKey> = Vec::with_capacity(configs.len());
    let mut ids = HashSet::new();
    let mut secrets = HashSet::new();
    for (i, c) in configs.iter().enumerate() {
        let at = format!("server.keys[{i}] ({:?})", c.id);
        if !ids.insert(c.id.as_str()) {
            return Err(format!("{at}: another key has this id"));
        }
        if tenants.is_some_and(|t| !t.contains(&c.tenant)) {
            return Err(format!(
                "{at}: tenant {:?} is not configured in [tenants]",
                c.tenant
            ));
        }
        let secret = c.key.resolve().map_err(|e| format!("{at}.key: {e}"))?;
        let scope = Scope::new(c.services.as_deref(), c.functions.as_deref())
            .map_err(|e| format!("{at}: {e}"))?;
        let key = GatewayKey::new(&c.id, &c.tenant, secret.expose(), scope)
            .map_err(|e| format!("{at}: {e}"))?;
        if !secrets.insert(secret.expose().to_string()) {
            return Err(format!("{at}: another key has the same secret"));
        }
        keys.push(key);
    }
    Ok(keys)
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
                admin_listen: None,
                limits: ConnectionLimits::default(),
                keys: KeySettings::default(),
                protect_ops: false,
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
        assert_eq!(s.as_ref().map(|s| s.listen.as_str()), Some("0.0.0.0:9"));
        assert_eq!(s.as_ref().and_then(|s| s.admin_token.as_deref()), Some("t"));
        assert!(!format!("{s:?}").contains("\"t\""));
    }

    #[test]
    fn reads_limits_and_keys() {
        let text = r#"
[server]
admin_token = { value = "t" }
admin_listen = "127.0.0.1:9090"
max_connections = 100
max_connections_per_address = 4
reserved_connections = 0
header_timeout_ms = 1000
body_timeout_ms = 250
require_keys = true
protect_ops = true

[[server.keys]]
id = "acme-web"
tenant = "acme"
key = { value = "acme-web-key-0123456789" }
services = ["storage"]
functions = ["upload", "storage/download"]

[tenants.acme.storage]
component = "x.wasm"
"#;
        let s = ServerSettings::parse(text, "f.toml").map_err(|e| e.to_string());
        let s = match s {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(s.admin_listen.as_deref(), Some("127.0.0.1:9090"));
        assert_eq!(
            s.limits,
            ConnectionLimits {
                max_connections: 100,
                max_connections_per_address: 4,
                reserved_connections: 0,
                header_timeout: Duration::from_millis(1000),
                body_timeout: Duration::from_millis(250),
            }
        );
        assert!(s.protect_ops);
        assert_eq!(s.keys.require_keys, Some(true));
        assert_eq!(s.keys.keys.len(), 1);
        assert_eq!(s.keys.keys[0].tenant, "acme");
        assert!(!format!("{s:?}").contains("acme-web-key"));
    }

    #[test]
    fn bad_keys_and_limits_are_named() {
        let error = |server: &str| {
            let text =
                format!("[server]\n{server}\n[tenants.acme.storage]\ncomponent = \"x.wasm\"\n");
            ServerSettings::parse(&text, "f.toml")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let key = |id: &str, tenant: &str, secret: &str| {
            format!("[[server.keys]]\nid = \"{id}\"\ntenant = \"{tenant}\"\nkey = {{ value = \"{secret}\" }}\n")
        };
        let e = error(&key("k", "globex", "0123456789abcdef"));
        assert!(e.contains("server.keys[0]") && e.contains("globex"), "{e}");
        let e = error(&format!(
            "{}{}",
            key("k", "acme", "0123456789abcdef"),
            key("k", "acme", "fedcba9876543210")
        ));
        assert!(e.contains("server.keys[1]") && e.contains("id"), "{e}");
        let e = error(&format!(
            "{}{}",
            key("k", "acme", "0123456789abcdef"),
            key("j", "acme", "0123456789abcdef")
        ));
        assert!(e.contains("same secret"), "{e}");
        let e = error(&key("k", "acme", "short"));
        assert!(e.contains("16 bytes"), "{e}");
        let e = error("[[server.keys]]\nid = \"k\"\ntenant = \"acme\"\nkey = { env = \"SWITCHYARD_TEST_UNSET_KEY\" }\n");
        assert!(e.contains("SWITCHYARD_TEST_UNSET_KEY"), "{e}");
        let e = error(&format!(
            "{}services = [\"nope\"]\n",
            key("k", "acme", "0123456789abcdef")
        ));
        assert!(e.contains("nope"), "{e}");
        assert!(error("max_connections = 0").contains("max_connections"));
        assert!(error("body_timeout_ms = 0").contains("body_timeout_ms"));
        assert!(error("protect_ops = true").contains("admin_token"));
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
