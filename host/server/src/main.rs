//! `switchyard`: runs the server, and talks to a running one.
//!
//! ```text
//! switchyard serve --config switchyard.toml [--listen 127.0.0.1:8080] [--log-format console|json]
//! switchyard tenants [--server URL] [--token T]
//! switchyard swap TENANT SERVICE FILE.wasm [--upload] [--server URL] [--token T]
//! switchyard reload [--server URL] [--token T]
//! switchyard inspect FILE.wasm [--json]
//! switchyard call TENANT SERVICE FUNCTION JSON [--server URL] [--key K]
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;
use switchyard_host::Runtime;
use switchyard_server::client::{encode_segment, Client, DEFAULT_SERVER};
use switchyard_server::{serve, ServeOptions, ServerError, ServerSettings};

/// Switchyard: cloud providers behind WIT contracts, adapters as Wasm components.
#[derive(Parser)]
#[command(name = "switchyard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server: the gateway on /v1, the admin API on /admin (when a token is set).
    /// SIGHUP re-reads the configuration file, as `reload` does.
    Serve {
        /// The configuration file (tenants, bindings, [runtime] and [server]).
        #[arg(long)]
        config: PathBuf,
        /// The address to listen on, overriding [server] listen.
        #[arg(long)]
        listen: Option<String>,
        /// The log format, overriding [logging] format (filter with RUST_LOG or [logging] level).
        #[arg(long, value_enum)]
        log_format: Option<LogFormat>,
    },
    /// Lists every binding of a running server.
    Tenants {
        #[command(flatten)]
        remote: Remote,
    },
    /// Hot-swaps the component of a tenant's service on a running server.
    Swap {
        /// The tenant.
        tenant: String,
        /// The service, e.g. analytics.
        service: String,
        /// The new component.
        file: PathBuf,
        /// Send the file's bytes instead of its path (for a server on another machine).
        #[arg(long)]
        upload: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// Makes a running server re-read its configuration file (bindings and gateway keys).
    Reload {
        #[command(flatten)]
        remote: Remote,
    },
    /// Shows what a component imports and exports and which contract it implements (offline).
    Inspect {
        /// The component.
        file: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Calls a contract function through a running server's gateway.
    Call {
        /// The tenant.
        tenant: String,
        /// The service, e.g. analytics.
        service: String,
        /// The function, e.g. track.
        function: String,
        /// The arguments: a JSON object keyed by parameter name.
        json: String,
        /// The server.
        #[arg(long, env = "SWITCHYARD_SERVER", default_value = DEFAULT_SERVER)]
        server: String,
        /// The tenant's gateway key, sent as Authorization: Bearer.
        #[arg(long, env = "SWITCHYARD_KEY", hide_env_values = true)]
        key: Option<String>,
    },
}

/// Where the admin commands send their requests.
#[derive(Args)]
struct Remote {
    /// The server.
    #[arg(long, env = "SWITCHYARD_SERVER", default_value = DEFAULT_SERVER)]
    server: String,
    /// The admin token.
    #[arg(long, env = "SWITCHYARD_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

impl Remote {
    fn client(&self) -> Result<Client, ServerError> {
        Client::new(&self.server, self.token.clone())
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Human-readable lines (colour on a terminal).
    #[value(alias = "text")]
    Console,
    /// One JSON object per line.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve {
            config,
            listen,
            log_format,
        } => cmd_serve(&config, listen, log_format).await,
        Command::Tenants { remote } => cmd_tenants(&remote).await,
        Command::Swap {
            tenant,
            service,
            file,
            upload,
            remote,
        } => cmd_swap(&remote, &tenant, &service, &file, upload).await,
        Command::Reload { remote } => cmd_reload(&remote).await,
        Command::Inspect { file, json } => cmd_inspect(&file, json),
        Command::Call {
            tenant,
            service,
            function,
            json,
            server,
            key,
        } => cmd_call(&server, key, &tenant, &service, &function, &json).await,
    }
}

async fn cmd_serve(
    config: &Path,
    listen: Option<String>,
    log_format: Option<LogFormat>,
) -> anyhow::Result<ExitCode> {
    let mut settings = ServerSettings::load(config)?;
    match log_format {
        Some(LogFormat::Console) => {
            settings.logging.format = switchyard_server::config::LogFormat::Console
        }
        Some(LogFormat::Json) => {
            settings.logging.format = switchyard_server::config::LogFormat::Json
        }
        None => {}
    }
    let _logs = switchyard_server::logs::init(&settings.logging)?;
    let runtime = Runtime::builder().config_file(config)?.build().await?;
    let addr = listen.unwrap_or_else(|| settings.listen.clone());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: addr.clone(),
            source,
        })?;
    let mut opts = ServeOptions::from_settings(&settings, Some(config.to_path_buf()));
    opts.reload_on_sighup = true;
    if let Some(admin_addr) = &settings.admin_listen {
        let admin = tokio::net::TcpListener::bind(admin_addr)
            .await
            .map_err(|source| ServerError::Bind {
                addr: admin_addr.clone(),
                source,
            })?;
        opts.admin_listener = Some(admin);
    }
    let report = serve(runtime, listener, opts, shutdown_signal()).await?;
    if report.undelivered.is_empty() {
        println!("shutdown complete: every binding delivered its buffered work");
        return Ok(ExitCode::SUCCESS);
    }
    println!("shutdown complete, but some buffered work could not be delivered:");
    for (tenant, service, items, error) in &report.undelivered {
        println!("  {tenant}/{service}: {items} items undelivered: {error}");
    }
    Ok(ExitCode::FAILURE)
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(cause = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(cause = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}

async fn cmd_tenants(remote: &Remote) -> anyhow::Result<ExitCode> {
    let body = remote
        .client()?
        .get("/admin/bindings")
        .await?
        .into_result()?;
    let Some(bindings) = body["bindings"].as_array() else {
        bail!("the server's answer has no \"bindings\" list");
    };
    let mut rows = vec![[
        "TENANT".to_string(),
        "SERVICE".into(),
        "ADAPTER".into(),
        "DIGEST".into(),
        "LOADED AT (UTC)".into(),
        "PENDING".into(),
    ]];
    for b in bindings {
        let text = |key: &str| b[key].as_str().unwrap_or("-").to_string();
        let digest = text("digest");
        rows.push([
            text("tenant"),
            text("service"),
            text("adapter"),
            digest.chars().take(12).collect(),
            b["loaded_at"]
                .as_u64()
                .map(utc_time)
                .unwrap_or_else(|| "-".into()),
            b["pending"]
                .as_u64()
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    print!("{}", table(&rows));
    Ok(ExitCode::SUCCESS)
}

async fn cmd_swap(
    remote: &Remote,
    tenant: &str,
    service: &str,
    file: &Path,
    upload: bool,
) -> anyhow::Result<ExitCode> {
    let client = remote.client()?;
    let path = format!(
        "/admin/tenants/{}/{}/swap",
        encode_segment(tenant),
        encode_segment(service)
    );
    let response = if upload {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "upload".into());
        client
            .post_wasm(
                &format!("{path}?name={}", encode_segment(&name)),
                Bytes::from(bytes),
            )
            .await?
    } else {
        let abs = std::fs::canonicalize(file)
            .with_context(|| format!("cannot find {}", file.display()))?;
        client
            .post_json(&path, &serde_json::json!({ "path": abs }))
            .await?
    };
    let report = response.into_result()?;
    let short = |key: &str| -> String {
        report[key]
            .as_str()
            .unwrap_or("-")
            .chars()
            .take(12)
            .collect()
    };
    println!(
        "{tenant}/{service}: {} -> {}",
        short("old_digest"),
        short("new_digest")
    );
    match report["drained"]["ok"].as_bool() {
        Some(true) => println!("old component drained: everything it held was delivered"),
        _ => println!(
            "old component not drained (it stays retiring and is retried): {}",
            report["drained"]["error"]
                .as_str()
                .unwrap_or("unknown error")
        ),
    }
    Ok(ExitCode::SUCCESS)
}

async fn cmd_reload(remote: &Remote) -> anyhow::Result<ExitCode> {
    let report = remote
        .client()?
        .post("/admin/reload")
        .await?
        .into_result()?;
    let lists = [
        ("added", &report["added"]),
        ("replaced", &report["replaced"]),
        ("removed", &report["removed"]),
        ("unchanged", &report["unchanged"]),
        ("keys added", &report["keys"]["added"]),
        ("keys removed", &report["keys"]["removed"]),
        ("keys changed", &report["keys"]["changed"]),
    ];
    for (label, list) in lists {
        let items: Vec<&str> = list
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if items.is_empty() {
            println!("{label}: -");
        } else {
            println!("{label}: {}", items.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_inspect(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let report = switchyard_host::inspect::inspect(&bytes)
        .with_context(|| format!("cannot inspect {}", file.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}:", file.display());
        println!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn cmd_call(
    server: &str,
    key: Option<String>,
    tenant: &str,
    service: &str,
    function: &str,
    json: &str,
) -> anyhow::Result<ExitCode> {
    let args: Value = serde_json::from_str(json).context("the arguments are not valid JSON")?;
    if !args.is_object() {
        bail!("the arguments must be a JSON object keyed by parameter name");
    }
    let path = format!(
        "/v1/tenants/{}/{}/{}",
        encode_segment(tenant),
        encode_segment(service),
        encode_segment(function)
    );
    let body = Client::new(server, key)?
        .post_json(&path, &args)
        .await?
        .into_result()?;
    println!("{}", serde_json::to_string_pretty(&body["result"])?);
    Ok(ExitCode::SUCCESS)
}

/// Left-aligned columns separated by two spaces.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Seconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS` (UTC).
fn utc_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = switchyard_rules::civil::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00");
        assert_eq!(utc_time(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(utc_time(1_700_000_000), "2023-11-14 22:13:20");
    }

    #[test]
    fn tables_align() {
        let t = table(&[["a".to_string(), "bb".into()], ["ccc".into(), "d".into()]]);
        assert_eq!(t, "a    bb\nccc  d\n");
    }
}
