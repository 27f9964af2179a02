//! [`OutboundRules`]: what one binding may reach and the credentials injected per target.

use http::header::{HeaderName, AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION};
use wasmtime_wasi_http::DEFAULT_FORBIDDEN_HEADERS;

use std::sync::Arc;

use crate::credentials::Credential;

use super::redact::Redactor;
use super::target::Target;

/// The outbound rules of one binding, shared by all its calls.
#[derive(Debug, Default)]
pub struct OutboundRules {
    /// The targets the binding may reach.
    pub allow: Vec<Target>,
    /// The credentials injected per target.
    pub credentials: Vec<Credential>,
    /// Masks the credentials' secrets in responses (none without credentials).
    pub redactor: Option<Arc<Redactor>>,
}

impl OutboundRules {
    /// The rules of a binding allowed `allow`, injecting `credentials`.
    pub fn new(allow: Vec<Target>, credentials: Vec<Credential>) -> Self {
        let redactor = Redactor::new(&credentials).map(Arc::new);
        OutboundRules {
            allow,
            credentials,
            redactor,
        }
    }

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
