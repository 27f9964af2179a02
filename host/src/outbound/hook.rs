//! Capability-scoped outbound HTTP: the allowlist and the `wasi:http` hook that enforces it.
//!
//! Every request an adapter sends reaches [`OutboundPolicy::send_request`]. The real target
//! (scheme, host, port of the request URI, never a `Host` header) is checked against the
//! binding's allowlist; anything else is refused with `HttpRequestDenied`, which the guest sees
//! as that error code, and the host logs a warning naming tenant, adapter and target.
//! Redirects are not followed by the host: an adapter that follows one sends a new request,
//! which is checked again. Allowed requests get the binding's credentials for their target.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION};
use http_body_util::{BodyExt, Full, Limited};
use wasmtime_wasi_http::{
    ForbiddenHeaderFilter, RequestOptions, WasiBody, WasiHttpHooks, DEFAULT_FORBIDDEN_HEADERS,
};

use crate::credentials::{Credential, MAX_JSON_BODY};

/// An allowed outbound target: `scheme://host[:port]`, or `scheme://*.domain[:port]` for any
/// subdomain of `domain`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// `http` or `https`.
    pub scheme: String,
    /// The host, lower-case; may start with `*.`.
    pub host: String,
    /// The port, the scheme's default when not written.
    pub port: u16,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

fn normalise_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

impl Target {
    /// Parses `scheme://host[:port]` (a trailing `/` is allowed; nothing else after the host).
    pub fn parse(s: &str) -> Result<Self, String> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| format!("'{s}' is not scheme://host[:port]"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default =
            default_port(&scheme).ok_or_else(|| format!("'{s}': scheme must be http or https"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(format!(
                "'{s}': write only scheme://host[:port], no path or user"
            ));
        }
        let (host, port) = split_host_port(rest).ok_or_else(|| format!("'{s}': bad port"))?;
        if host == "*" || host.is_empty() {
            return Err(format!("'{s}': allow-all is not supported; name the host"));
        }
        let wildcard_body = host.strip_prefix("*.").unwrap_or(&host);
        if wildcard_body.contains('*') {
            return Err(format!(
                "'{s}': '*' may only stand as the first label, as in *.example.com"
            ));
        }
        Ok(Target {
            scheme,
            host: normalise_host(&host),
            port: port.unwrap_or(default),
        })
    }

    /// The target of a request URI, if it has scheme and host.
    pub fn of_uri(uri: &http::Uri) -> Option<Self> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default = default_port(&scheme)?;
        let host = uri.host()?;
        Some(Target {
            scheme,
            host: normalise_host(host.trim_start_matches('[').trim_end_matches(']')),
            port: uri.port_u16().unwrap_or(default),
        })
    }

    /// Whether a concrete request target matches this (possibly wildcard) rule.
    pub fn matches(&self, concrete: &Target) -> bool {
        if self.scheme != concrete.scheme || self.port != concrete.port {
            return false;
        }
        match self.host.strip_prefix("*.") {
            Some(domain) => concrete
                .host
                .strip_suffix(domain)
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
            None => self.host == concrete.host,
        }
    }
}

fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), Some(p.parse().ok()?))),
        None => Some((s.to_string(), None)),
    }
}

/// Who is calling: carried into every log line of a call.
#[derive(Debug, Clone)]
pub struct CallIdentity {
    /// The tenant.
    pub tenant: Arc<str>,
    /// The service (contract).
    pub service: Arc<str>,
    /// The adapter, named after its component file.
    pub adapter: Arc<str>,
    /// The call's id, unique in this process.
    pub call_id: u64,
}

/// The outbound rules of one binding, shared by all its calls.
#[derive(Debug, Default)]
pub struct OutboundRules {
    /// The targets the binding may reach.
    pub allow: Vec<Target>,
    /// The credentials injected per target.
    pub credentials: Vec<Credential>,
}

impl OutboundRules {
    /// Whether a request to `target` is allowed.
    pub fn allows(&self, target: &Target) -> bool {
        self.allow.iter().any(|rule| rule.matches(target))
    }

    /// The headers the guest may not set: wasi-http's defaults, authorization and cookies, and
    /// every header a credential of this binding injects.
    pub fn forbidden_headers(&self) -> Vec<HeaderName> {
        let mut out: Vec<HeaderName> = DEFAULT_FORBIDDEN_HEADERS.to_vec();
        out.extend([AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE]);
        out.extend(self.credentials.iter().filter_map(Credential::header));
        out.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        out.dedup();
        out
    }
}

/// The per-call `wasi:http` hooks: enforces [`OutboundRules`] and injects credentials.
pub struct OutboundPolicy {
    rules: Arc<OutboundRules>,
    forbidden: Arc<[HeaderName]>,
    who: CallIdentity,
    metrics: Arc<crate::native::monitoring::TenantMonitor>,
}

impl OutboundPolicy {
    /// Hooks for one call of a binding.
    pub(crate) fn new(
        rules: Arc<OutboundRules>,
        forbidden: Arc<[HeaderName]>,
        who: CallIdentity,
        metrics: Arc<crate::native::monitoring::TenantMonitor>,
    ) -> Self {
        OutboundPolicy {
            rules,
            forbidden,
            who,
            metrics,
        }
    }

    /// The host's own metrics, where the binding's host-side counts go.
    pub(crate) fn metrics(&self) -> &crate::native::monitoring::TenantMonitor {
        &self.metrics
    }

    /// Counts a refused request in `switchyard_denied_requests_total`.
    fn count_denial(&self, reason: &str) {
        self.metrics.record_host(
            "switchyard_denied_requests_total",
            crate::bindings::monitoring::switchyard::monitoring::types::MetricKind::Counter,
            1.0,
            &[
                ("tenant", &self.who.tenant),
                ("service", &self.who.service),
                ("adapter", &self.who.adapter),
                ("reason", reason),
            ],
        );
    }
}

type SendFuture = Box<
    dyn std::future::Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

impl WasiHttpHooks for OutboundPolicy {
    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        let forbidden = self.forbidden.clone();
        Arc::new(move |name| forbidden.contains(name))
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn std::future::Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> SendFuture {
        let who = self.who.clone();
        let target = Target::of_uri(request.uri());
        let allowed = target.as_ref().is_some_and(|t| self.rules.allows(t));
        if !allowed {
            let shown = target
                .map(|t| t.to_string())
                .unwrap_or_else(|| request.uri().to_string());
            tracing::warn!(
                tenant = %who.tenant, service = %who.service, adapter = %who.adapter,
                call_id = who.call_id, target = %shown,
                "outbound request denied: target not in the binding's allowlist"
            );
            self.count_denial("not-allowed");
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        let rules = self.rules.clone();
        Box::new(async move {
            let target = Target::of_uri(request.uri())
                .ok_or(wasmtime_wasi_http::Error::HttpRequestDenied)?;
            let (mut parts, body) = request.into_parts();
            let mut body: Option<WasiBody> = Some(body);
            for cred in rules
                .credentials
                .iter()
                .filter(|c| c.target.matches(&target))
            {
                let applied = match cred.needs_body() {
                    false => cred.apply_head(&mut parts),
                    true => match body.take() {
                        Some(b) => match Limited::new(b, MAX_JSON_BODY).collect().await {
                            Ok(collected) => {
                                let bytes = collected.to_bytes();
                                if bytes.is_empty() {
                                    // A request without a body (a GET) has no field to carry it.
                                    body = Some(full(bytes));
                                    Ok(())
                                } else {
                                    cred.apply_body(&mut parts, bytes)
                                        .map(|bytes| body = Some(full(bytes)))
                                }
                            }
                            Err(e) => Err(format!("cannot read the request body: {e}")),
                        },
                        None => Ok(()),
                    },
                };
                if let Err(message) = applied {
                    tracing::warn!(
                        tenant = %who.tenant, service = %who.service, adapter = %who.adapter,
                        call_id = who.call_id, target = %target, %message,
                        "outbound request refused: credential could not be injected"
                    );
                    return Err(wasmtime_wasi_http::Error::HttpRequestDenied);
                }
            }
            let body = body.unwrap_or_else(|| full(Bytes::new()));
            tracing::debug!(
                tenant = %who.tenant, service = %who.service, adapter = %who.adapter,
                call_id = who.call_id, method = %parts.method, url.full = %redacted_uri(&parts.uri),
                "outbound request"
            );
            let request = http::Request::from_parts(parts, body);
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                res.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn std::future::Future<Output = _> + Send>,
            ))
        })
    }
}

fn full(bytes: Bytes) -> WasiBody {
    Full::new(bytes)
        .map_err(|never: std::convert::Infallible| match never {})
        .boxed_unsync()
}

/// The URI without its query, which may hold an injected credential.
fn redacted_uri(uri: &http::Uri) -> String {
    format!(
        "{}://{}{}",
        uri.scheme_str().unwrap_or(""),
        uri.authority().map(|a| a.as_str()).unwrap_or(""),
        uri.path()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Target {
        Target::parse(s).expect("valid target")
    }

    #[test]
    fn parse_normalises_default_ports_and_case() {
        assert_eq!(
            t("https://US.i.PostHog.com/"),
            t("https://us.i.posthog.com:443")
        );
        assert_eq!(t("http://127.0.0.1:8099").port, 8099);
        assert_eq!(t("http://[::1]:9").host, "::1");
        for bad in [
            "us.i.posthog.com",
            "ftp://x",
            "https://*",
            "https://x/path",
            "https://a.*.b",
            "https://x:port",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn matching_checks_scheme_host_and_port() {
        let uri = |s: &str| Target::of_uri(&s.parse().expect("uri")).expect("target");
        assert!(t("https://api.x.com").matches(&uri("https://api.x.com/v1?q")));
        assert!(!t("https://api.x.com").matches(&uri("http://api.x.com/")));
        assert!(!t("https://api.x.com").matches(&uri("https://api.x.com:8443/")));
        assert!(!t("https://api.x.com").matches(&uri("https://api.x.com.evil.io/")));
        assert!(t("https://*.x.com").matches(&uri("https://a.b.x.com/")));
        assert!(!t("https://*.x.com").matches(&uri("https://x.com/")));
        assert!(!t("https://*.x.com").matches(&uri("https://evilx.com/")));
        assert!(!t("http://localhost:1").matches(&uri("http://127.0.0.1:1/")));
    }
}
