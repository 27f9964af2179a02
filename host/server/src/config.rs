//! The `[server]` and `[logging]` sections of the configuration file, read through the host's
//! [`FileConfig`] (one parser for the whole file, so its errors name file, line and key the
//! same way everywhere).
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

use switchyard_host::{FileConfig, LoggingOptions, ServerOptions};

use crate::error::ServerError;

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
        let file = FileConfig::load(path)?;
        Self::from_file(&file, &path.display().to_string())
    }

    /// Parses the `[server]` section of a configuration's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ServerError> {
        let file = FileConfig::parse(text, origin)?;
        Self::from_file(&file, origin)
    }

    fn from_file(file: &FileConfig, origin: &str) -> Result<Self, ServerError> {
        let mut settings = Self::from_options(&file.server, origin)?;
        settings.logging = file.logging.clone();
        Ok(settings)
    }

    /// Resolves the host's [`ServerOptions`]; `origin` names the file in errors.
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
