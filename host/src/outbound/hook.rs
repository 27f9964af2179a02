//! The per-call `wasi:http` hook enforcing a binding's [`OutboundRules`].
//!
//! Every request an adapter sends reaches [`OutboundPolicy::send_request`]. The real target
//! (scheme, host, port of the request URI, never a `Host` header) is checked against the
//! binding's allowlist; anything else is refused with `HttpRequestDenied`, which the guest sees
//! as that error code, and the host logs a warning naming tenant, adapter and target.
//! Redirects are not followed by the host: an adapter that follows one sends a new request,
//! which is checked again. Allowed requests get the binding's credentials for their target,
//! and go out on the binding's pooled connections ([`super::egress`]).

use std::sync::Arc;

use bytes::Bytes;
use http::header::HeaderName;
use http_body_util::{BodyExt, Full, Limited};
use wasmtime_wasi_http::{ForbiddenHeaderFilter, RequestOptions, WasiBody, WasiHttpHooks};

use crate::credentials::{InjectError, MAX_JSON_BODY};
use crate::identity::CallIdentity;
use crate::metrics::{Kind, Registry};

use super::egress::LazyEgress;
use super::rules::OutboundRules;
use super::target::Target;

/// The per-call `wasi:http` hooks: enforces [`OutboundRules`] and injects credentials.
pub struct OutboundPolicy {
    rules: Arc<OutboundRules>,
    forbidden: Arc<[HeaderName]>,
    egress: Arc<LazyEgress>,
    who: CallIdentity,
    metrics: Arc<Registry>,
}

impl OutboundPolicy {
    /// Hooks for one call of a binding.
    pub(crate) fn new(
        rules: Arc<OutboundRules>,
        forbidden: Arc<[HeaderName]>,
        egress: Arc<LazyEgress>,
        who: CallIdentity,
        metrics: Arc<Registry>,
    ) -> Self {
        OutboundPolicy {
            rules,
            forbidden,
            egress,
            who,
            metrics,
        }
    }

    /// Counts a refused request in `switchyard_denied_requests_total`.
    fn count_denial(&self, reason: &str) {
        self.metrics.record_host(
            "switchyard_denied_requests_total",
            Kind::Counter,
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
        let egress = self.egress.clone();
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
                            Err(e) => Err(InjectError::Body(e.to_string())),
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
            let mut res = egress.get()?.send(request, options).await?;
            // The guest never reads an injected secret back: not in a header, not in the body.
            if let Some(redactor) = &rules.redactor {
                let masked = redactor.headers(res.headers_mut());
                if masked > 0 {
                    tracing::warn!(
                        tenant = %who.tenant, service = %who.service, adapter = %who.adapter,
                        call_id = who.call_id, target = %target, masked,
                        "a response header echoed an injected secret; masked"
                    );
                }
                res = res.map(|body| redactor.body(body));
            }
            // The pooled client drives its connections itself: nothing for the guest to await.
            let io = async { Ok(()) };
            Ok((
                res,
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
