//! The `switchyard` binary's log sink, from the `[logging]` section: human-readable console
//! lines (coloured on a terminal) or JSON lines, on stderr. Host, guest and app logs all go
//! through it: they share one `tracing` pipeline.

use std::io::IsTerminal;

use switchyard_host::{ColorChoice, LogFormat, LoggingOptions};
use tracing_subscriber::EnvFilter;

use crate::error::ServerError;

/// Installs the process's `tracing` subscriber as `options` say; `RUST_LOG`, when set, wins
/// over `options.level`. An error names a filter that does not parse.
pub fn init(options: &LoggingOptions) -> Result<(), ServerError> {
    let filter = match EnvFilter::try_from_default_env() {
        Ok(filter) => filter,
        Err(_) => EnvFilter::try_new(&options.level).map_err(|e| ServerError::Config {
            origin: "[logging]".into(),
            message: format!(
                "logging.level: {:?} is not a log filter: {e}",
                options.level
            ),
        })?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match options.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Console => builder.with_ansi(colour(options.color)).try_init(),
    };
    // Already installed (a test harness did): keep that one.
    let _ = installed;
    Ok(())
}

/// Whether console lines get ANSI colours.
pub fn colour(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal(),
    }
}
