//! The outbound proxy: where the host's egress must go through a forward proxy (a corporate
//! network), every request a binding sends is carried in an HTTP `CONNECT` tunnel to its
//! real target, which the allowlist has already checked ([`super::hook`]): the proxy only
//! ever carries bytes to an allowed target, and TLS runs end to end inside the tunnel.
//!
//! Which requests go through which proxy is hyper-util's `Matcher`, which reads the
//! variables curl reads (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`, upper or lower
//! case). Both `http://` and `https://` targets are tunnelled; a proxy URL's
//! `user:password@` becomes the tunnel's `Proxy-Authorization` (Basic).

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Which outbound requests go through a proxy (the runtime's, shared by every binding).
#[derive(Clone, Default)]
pub struct OutboundProxy {
    matcher: Option<Arc<Matcher>>,
    /// Whether loopback targets skip the proxy (the environment's proxy cannot reach the
    /// host's own loopback); an explicitly given proxy is taken as it is.
    loopback_direct: bool,
}

impl std::fmt::Debug for OutboundProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The matcher's Debug would show the proxy URL, which may hold a password.
        f.debug_struct("OutboundProxy")
            .field("proxied", &self.matcher.is_some())
            .finish()
    }
}

impl OutboundProxy {
    /// No proxy: every request connects straight to its target.
    pub fn none() -> Self {
        OutboundProxy::default()
    }

    /// The proxy the environment names (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, minus
    /// `NO_PROXY`), as curl reads them; none when they are unset. Loopback targets
    /// (`localhost`, `127.0.0.0/8`, `::1`) always connect directly.
    pub fn from_env() -> Self {
        let set = [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
        OutboundProxy {
            matcher: set.then(|| Arc::new(Matcher::from_env())),
            loopback_direct: true,
        }
    }

    /// Every request through the proxy at `url` (`http://[user:password@]host:port`),
    /// except those to the hosts of `no_proxy` (comma-separated, as in `NO_PROXY`).
    pub fn url(url: &str, no_proxy: &str) -> Self {
        let matcher = Matcher::builder().all(url).no(no_proxy).build();
        OutboundProxy {
            matcher: Some(Arc::new(matcher)),
            loopback_direct: false,
        }
    }

    /// The connector that opens connections for a binding's client.
    pub(crate) fn connector(&self, http: HttpConnector) -> ProxyConnector {
        ProxyConnector {
            http,
            proxy: self.clone(),
        }
    }

    /// The proxy `dst` goes through, if any.
    fn intercept(&self, dst: &Uri) -> Option<hyper_util::client::proxy::matcher::Intercept> {
        let matcher = self.matcher.as_ref()?;
        if self.loopback_direct && dst.host().is_some_and(is_loopback) {
            return None;
        }
        matcher.intercept(dst)
    }
}

/// Whether `host` names this machine's loopback.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Connects straight to a target, or through a `CONNECT` tunnel of the proxy.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    http: HttpConnector,
    proxy: OutboundProxy,
}

impl Service<Uri> for ProxyConnector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        match self.proxy.intercept(&dst) {
            None => {
                let connecting = self.http.call(dst);
                Box::pin(async move { connecting.await.map_err(Into::into) })
            }
            Some(proxy) => {
                let mut tunnel = Tunnel::new(proxy.uri().clone(), self.http.clone());
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                let dst = with_port(dst);
                Box::pin(async move { tunnel.call(dst).await.map_err(Into::into) })
            }
        }
    }
}

/// `dst` with its scheme's port written out (the tunnel would otherwise assume 443).
fn with_port(dst: Uri) -> Uri {
    if dst.port().is_some() {
        return dst;
    }
    let port = match dst.scheme_str() {
        Some("http") => 80,
        _ => 443,
    };
    let Some(host) = dst.host() else {
        return dst;
    };
    let scheme = dst.scheme_str().unwrap_or("https");
    format!("{scheme}://{host}:{port}/").parse().unwrap_or(dst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_skips_the_environments_proxy_but_not_an_explicit_one() {
        let env = OutboundProxy {
            matcher: Some(Arc::new(
                Matcher::builder().all("http://proxy:3128").build(),
            )),
            loopback_direct: true,
        };
        for local in [
            "http://localhost:8080/x",
            "http://127.0.0.1/",
            "https://[::1]:9/",
        ] {
            assert!(env.intercept(&local.parse().unwrap()).is_none(), "{local}");
        }
        assert!(env
            .intercept(&"https://api.stripe.com/".parse().unwrap())
            .is_some());
        let explicit = OutboundProxy::url("http://proxy:3128", "internal.example");
        assert!(explicit
            .intercept(&"http://localhost:8080/".parse().unwrap())
            .is_some());
        assert!(explicit
            .intercept(&"https://internal.example/".parse().unwrap())
            .is_none());
        assert_eq!(
            with_port("http://example.com/a".parse().unwrap()),
            "http://example.com:80/".parse::<Uri>().unwrap()
        );
        assert!(
            format!("{:?}", OutboundProxy::url("http://u:hunter2@p:1", ""))
                .find("hunter2")
                .is_none()
        );
    }
}
