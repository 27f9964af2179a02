//! [`Target`]: an allowlist entry, `scheme://host[:port]` or `scheme://*.domain[:port]`, and
//! the concrete target of a request URI it is matched against.

use std::fmt;

/// Why a string is not an allowlist target; each message quotes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not `scheme://...`.
    #[error("'{0}' is not scheme://host[:port]")]
    NotATarget(String),
    /// A scheme other than http or https.
    #[error("'{0}': scheme must be http or https")]
    Scheme(String),
    /// A path, query or user part.
    #[error("'{0}': write only scheme://host[:port], no path or user")]
    PathOrUser(String),
    /// A port that is not a number.
    #[error("'{0}': bad port")]
    Port(String),
    /// `*` alone, or no host.
    #[error("'{0}': allow-all is not supported; name the host")]
    AllowAll(String),
    /// `*` anywhere but as the first label.
    #[error("'{0}': '*' may only stand as the first label, as in *.example.com")]
    Wildcard(String),
}

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
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| TargetError::NotATarget(s.to_string()))?;
        let scheme = scheme.to_ascii_lowercase();
        let default = default_port(&scheme).ok_or_else(|| TargetError::Scheme(s.to_string()))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(TargetError::PathOrUser(s.to_string()));
        }
        let (host, port) = split_host_port(rest).ok_or_else(|| TargetError::Port(s.to_string()))?;
        if host == "*" || host.is_empty() {
            return Err(TargetError::AllowAll(s.to_string()));
        }
        let wildcard_body = host.strip_prefix("*.").unwrap_or(&host);
        if wildcard_body.contains('*') {
            return Err(TargetError::Wildcard(s.to_string()));
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
