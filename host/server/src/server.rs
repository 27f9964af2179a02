//! The HTTP/1.1 server: the accept loops (the gateway's listener and, when configured, the
//! admin listener), connection limits, graceful shutdown and reload on SIGHUP. Routing is in
//! [`crate::router`].

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use switchyard_host::{Runtime, ShutdownReport};
use tokio::net::{TcpListener, TcpStream};

use crate::admin::AdminToken;
use crate::auth::{KeySettings, KeyStore};
use crate::config::ServerSettings;
use crate::conn::{
    self, Admission, ConnTracker, ConnectionLimits, ADMIN_MAX_CONNECTIONS, REFUSED_RESPONSE,
    RESERVE_HEADER_TIMEOUT,
};
use crate::error::ServerError;
use crate::metrics::ServerMetrics;
use crate::router::{self, ConnInfo, Role};

/// How long requests in flight get to finish once shutdown starts; after that their
/// connections are closed. Calls already inside the runtime still finish (the runtime's
/// shutdown waits for them), they just cannot answer.
pub const GRACE_PERIOD: Duration = Duration::from_secs(30);

/// What [`serve`] needs besides the runtime and the gateway's listener.
#[derive(Debug, Default)]
pub struct ServeOptions {
    /// The admin API's bearer token; `None` turns the admin API off (404).
    pub admin_token: Option<String>,
    /// The configuration file the runtime was built from, for `POST /admin/reload`.
    pub config_path: Option<PathBuf>,
    /// Connection limits and timeouts of the gateway's listener.
    pub limits: ConnectionLimits,
    /// The gateway keys, and whether `/v1` requires one.
    pub keys: KeySettings,
    /// Whether `/metrics` and the detail of `/readyz` need the admin token.
    pub protect_ops: bool,
    /// A listener for `/healthz`, `/readyz`, `/metrics` and `/admin` alone (with its own
    /// connection budget); those then leave the gateway's listener, but for `/healthz` and
    /// `/readyz`.
    pub admin_listener: Option<TcpListener>,
    /// Re-read the configuration file on SIGHUP (Unix), as `POST /admin/reload` does.
    pub reload_on_sighup: bool,
}

impl ServeOptions {
    /// The options `settings` describe; `config_path` is the file they came from. The admin
    /// listener is left to the caller to bind (`settings.admin_listen`).
    pub fn from_settings(settings: &ServerSettings, config_path: Option<PathBuf>) -> Self {
        ServeOptions {
            admin_token: settings.admin_token.clone(),
            config_path,
            limits: settings.limits,
            keys: settings.keys.clone(),
            protect_ops: settings.protect_ops,
            admin_listener: None,
            reload_on_sighup: false,
        }
    }
}

/// What every request sees.
pub(crate) struct State {
    pub(crate) runtime: Runtime,
    pub(crate) admin_token: Option<AdminToken>,
    pub(crate) config_path: Option<Arc<PathBuf>>,
    pub(crate) keys: KeyStore,
    pub(crate) protect_ops: bool,
    pub(crate) metrics: Arc<ServerMetrics>,
    /// Whether an admin listener serves `/metrics` and `/admin` (then the gateway's does not).
    pub(crate) split_admin: bool,
    pub(crate) body_timeout: Duration,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("admin", &self.admin_token.is_some())
            .field("config_path", &self.config_path)
            .field("keys_required", &self.keys.required())
            .finish_non_exhaustive()
    }
}

/// One listener and what its connections get.
struct Listener {
    socket: TcpListener,
    role: Role,
    tracker: Arc<ConnTracker>,
}

/// Serves HTTP/1.1 on `listener` (and `opts.admin_listener`) until `shutdown` resolves; then
/// stops accepting, lets the requests in flight finish (for at most [`GRACE_PERIOD`]), shuts
/// the runtime down (which delivers buffered work) and returns the runtime's report.
///
/// `opts.limits.max_connections` is lowered to what the process's open-file limit allows,
/// after raising its soft limit towards the hard one if needed.
pub async fn serve(
    runtime: Runtime,
    listener: TcpListener,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<ShutdownReport, ServerError> {
    let addr = listener.local_addr().map_err(ServerError::Listener)?;
    let mut limits = opts.limits;
    let admin_budget = opts
        .admin_listener
        .as_ref()
        .map_or(0, |_| ADMIN_MAX_CONNECTIONS);
    conn::fit_to_fd_limit(&mut limits, admin_budget);
    let metrics = Arc::new(ServerMetrics::default());
    let mut listeners = vec![Listener {
        socket: listener,
        role: Role::Gateway,
        tracker: ConnTracker::new(
            limits.max_connections,
            limits.max_connections_per_address,
            limits.reserved_connections,
        ),
    }];
    if let Some(admin) = opts.admin_listener {
        let admin_addr = admin.local_addr().map_err(ServerError::Listener)?;
        tracing::info!(%admin_addr, "admin listener: /healthz, /readyz, /metrics, /admin");
        listeners.push(Listener {
            socket: admin,
            role: Role::Admin,
            tracker: ConnTracker::new(ADMIN_MAX_CONNECTIONS, 0, 0),
        });
    }
    for l in &listeners {
        metrics.watch(l.role.label(), l.tracker.clone());
    }
    let state = Arc::new(State {
        runtime: runtime.clone(),
        admin_token: opts
            .admin_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(AdminToken::new),
        config_path: opts.config_path.map(Arc::new),
        keys: KeyStore::new(opts.keys),
        protect_ops: opts.protect_ops,
        metrics,
        split_admin: listeners.len() > 1,
        body_timeout: limits.body_timeout,
    });
    tracing::info!(
        %addr,
        admin = state.admin_token.is_some(),
        keys_required = state.keys.required(),
        max_connections = limits.max_connections,
        max_connections_per_address = limits.max_connections_per_address,
        "switchyard listening"
    );
    let mut full = http1::Builder::new();
    full.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut reserve = http1::Builder::new();
    reserve
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout.min(RESERVE_HEADER_TIMEOUT))
        .keep_alive(false);
    let builders = [full, reserve];
    let graceful = GracefulShutdown::new();
    let mut hangups = Hangups::new(opts.reload_on_sighup);
    let mut shutdown = std::pin::pin!(shutdown);
    let admin = listeners.get(1);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listeners[0].socket.accept() => {
                admit(&state, &listeners[0], &builders, &graceful, accepted).await;
            }
            accepted = accept(admin) => {
                if let Some(admin) = admin {
                    admit(&state, admin, &builders, &graceful, accepted).await;
                }
            }
            () = hangups.next() => {
                let state = state.clone();
                tokio::spawn(async move { crate::admin::reload_logged(&state, "SIGHUP").await });
            }
        }
    }
    drop(listeners);
    tracing::info!("shutting down: no new connections; finishing requests in flight");
    if tokio::time::timeout(GRACE_PERIOD, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(grace = ?GRACE_PERIOD, "requests still in flight after the grace period; closing them");
    }
    tracing::info!("delivering buffered work");
    Ok(runtime.shutdown().await)
}

/// Accepts on the admin listener, or never when there is none.
async fn accept(listener: Option<&Listener>) -> std::io::Result<(TcpStream, std::net::SocketAddr)> {
    match listener {
        Some(l) => l.socket.accept().await,
        None => std::future::pending().await,
    }
}

/// Admits (or refuses) an accepted connection and serves it on its own task.
async fn admit(
    state: &Arc<State>,
    listener: &Listener,
    builders: &[http1::Builder; 2],
    graceful: &GracefulShutdown,
    accepted: std::io::Result<(TcpStream, std::net::SocketAddr)>,
) {
    let (stream, peer) = match accepted {
        Ok(conn) => conn,
        Err(err) => {
            // Usually out of file descriptors: back off instead of spinning.
            tracing::warn!(cause = %err, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
            return;
        }
    };
    let (guard, reserve) = match listener.tracker.admit(peer.ip()) {
        Admission::Full(guard) => (guard, false),
        Admission::Reserve(guard) => (guard, true),
        Admission::Refused(reason) => {
            state.metrics.refused(listener.role.label(), reason);
            tracing::debug!(%peer, reason = reason.as_str(), "connection refused");
            // Only what the socket takes at once: the accept loop never waits on a client.
            let _ = stream.try_write(REFUSED_RESPONSE);
            return;
        }
    };
    let info = ConnInfo {
        role: listener.role,
        reserve,
    };
    let service_state = state.clone();
    let service = service_fn(move |req| {
        let state = service_state.clone();
        async move { Ok::<_, Infallible>(router::route(&state, info, req).await) }
    });
    let builder = &builders[usize::from(reserve)];
    let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
    tokio::spawn(async move {
        let _counted = guard;
        if let Err(err) = conn.await {
            tracing::debug!(cause = %err, %peer, "connection ended with an error");
        }
    });
}

/// SIGHUP, when asked for and on Unix; otherwise never.
struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangups {
    fn new(enabled: bool) -> Self {
        #[cfg(unix)]
        {
            let signal = enabled
                .then(|| {
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                        .map_err(|e| tracing::error!(cause = %e, "cannot listen for SIGHUP"))
                        .ok()
                })
                .flatten();
            Hangups { signal }
        }
        #[cfg(not(unix))]
        {
            let _ = enabled;
            Hangups {}
        }
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
            self.signal = None;
        }
        std::future::pending::<()>().await
    }
}
