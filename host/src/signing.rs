//! Signed URLs of the Switchyard server: made for adapters through the
//! `switchyard:adapter/signing` import, verified by the server before it serves them.
//!
//! A URL names the tenant, service, method and resource, and carries an expiry and an
//! HMAC-SHA256 over all of them with a key the host holds. The resource is signed as its
//! exact list of path segments (each length-prefixed), so a URL whose decoded segments split
//! it differently (`docs%2Fsub/a.txt` for `docs/sub/a.txt`) does not verify (`server.signing_key`; a random key
//! per process when none is configured, so URLs then stop working at restart). The adapter
//! asks for a URL and never sees the key.
//!
//! `{public_url}/v1/signed/{tenant}/{service}/{resource}?expires={unix seconds}&sig={hex}`,
//! every resource segment percent-encoded.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;

/// The longest a signed URL may live: 7 days.
pub const MAX_EXPIRY_S: u32 = 7 * 24 * 3600;

/// Characters of a path segment left as they are.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Signs and verifies URLs with a host-held key.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
    public_url: String,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("key", &"<redacted>")
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// Why a signed URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The `expires` or `sig` query parameter is missing or malformed.
    #[error("the URL is not a complete signed URL: {0}")]
    Malformed(String),
    /// The expiry has passed.
    #[error("the signed URL expired at {0} (unix seconds)")]
    Expired(u64),
    /// The signature does not match: the URL was altered or signed with another key.
    #[error("the signature does not match this URL")]
    BadSignature,
}

impl Signer {
    /// A signer with `key` making URLs under `public_url` (the server's address as clients
    /// reach it, e.g. `https://switchyard.example.com`).
    pub fn new(key: impl Into<Vec<u8>>, public_url: &str) -> Self {
        Signer {
            key: key.into(),
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// A signer with a random key (URLs stop working when the process exits).
    pub fn random(public_url: &str) -> Self {
        let mut key = [0u8; 32];
        if getrandom::getrandom(&mut key).is_err() {
            // No OS randomness: fall back on uuid's generator (also OS-seeded) and time.
            let a = uuid::Uuid::new_v4();
            key[..16].copy_from_slice(a.as_bytes());
            let now = unix_now().to_le_bytes();
            key[16..24].copy_from_slice(&now);
        }
        Signer::new(key.to_vec(), public_url)
    }

    /// The base URL signed URLs start with.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    fn mac(
        &self,
        tenant: &str,
        service: &str,
        method: &str,
        segments: &[&str],
        expires: u64,
    ) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        let head = ["switchyard-signed-url-v2", tenant, service, method];
        mac.update(&(segments.len() as u64).to_le_bytes());
        for part in head.iter().chain(segments) {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part.as_bytes());
        }
        mac.update(&expires.to_le_bytes());
        mac
    }

    /// A URL allowing `method` on `resource` of (tenant, service) until `expires` (unix s).
    pub fn sign(
        &self,
        tenant: &str,
        service: &str,
        method: &str,
        resource: &str,
        expires: u64,
    ) -> String {
        let segments: Vec<&str> = resource.split('/').collect();
        let sig = hex::encode(
            self.mac(tenant, service, method, &segments, expires)
                .finalize()
                .into_bytes(),
        );
        let path: Vec<String> = segments
            .iter()
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect();
        format!(
            "{}/v1/signed/{}/{}/{}?expires={expires}&sig={sig}",
            self.public_url,
            utf8_percent_encode(tenant, SEGMENT),
            utf8_percent_encode(service, SEGMENT),
            path.join("/"),
        )
    }

    /// Checks a signed URL's parts against the clock: `segments` are the resource's path
    /// segments, each decoded on its own (never joined first).
    pub fn verify(
        &self,
        tenant: &str,
        service: &str,
        method: &str,
        segments: &[&str],
        query: Option<&str>,
    ) -> Result<(), SignatureError> {
        let mut expires = None;
        let mut sig = None;
        for pair in query.unwrap_or("").split('&') {
            match pair.split_once('=') {
                Some(("expires", v)) => expires = Some(v),
                Some(("sig", v)) => sig = Some(v),
                _ => {}
            }
        }
        let expires: u64 = expires
            .ok_or_else(|| SignatureError::Malformed("no expires parameter".into()))?
            .parse()
            .map_err(|_| SignatureError::Malformed("expires is not a number".into()))?;
        let sig =
            hex::decode(sig.ok_or_else(|| SignatureError::Malformed("no sig parameter".into()))?)
                .map_err(|_| SignatureError::Malformed("sig is not hex".into()))?;
        self.mac(tenant, service, method, segments, expires)
            .verify_slice(&sig)
            .map_err(|_| SignatureError::BadSignature)?;
        if unix_now() >= expires {
            return Err(SignatureError::Expired(expires));
        }
        Ok(())
    }
}

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_url_verifies_and_any_change_breaks_it() {
        let s = Signer::new(b"k".to_vec(), "http://h:1/");
        let exp = unix_now() + 60;
        let url = s.sign("acme", "storage", "GET", "b/a b/ü.png", exp);
        assert!(url.starts_with("http://h:1/v1/signed/acme/storage/b/a%20b/%C3%BC.png?expires="));
        let query = url.split_once('?').map(|(_, q)| q);
        assert_eq!(
            s.verify("acme", "storage", "GET", &["b", "a b", "ü.png"], query),
            Ok(())
        );
        for (t, m, r) in [
            ("globex", "GET", &["b", "a b", "ü.png"][..]),
            ("acme", "PUT", &["b", "a b", "ü.png"]),
            ("acme", "GET", &["b", "other"]),
            // The same text split another way (`b%2Fa b/ü.png`): another resource.
            ("acme", "GET", &["b/a b", "ü.png"]),
            ("acme", "GET", &["b", "a b/ü.png"]),
        ] {
            assert_eq!(
                s.verify(t, "storage", m, r, query),
                Err(SignatureError::BadSignature)
            );
        }
        let other = Signer::new(b"other".to_vec(), "http://h:1");
        assert_eq!(
            other.verify("acme", "storage", "GET", &["b", "a b", "ü.png"], query),
            Err(SignatureError::BadSignature)
        );
        let longer = query.map(|q| q.replacen(&exp.to_string(), &(exp + 1000).to_string(), 1));
        assert_eq!(
            s.verify(
                "acme",
                "storage",
                "GET",
                &["b", "a b", "ü.png"],
                longer.as_deref()
            ),
            Err(SignatureError::BadSignature)
        );
    }

    #[test]
    fn an_expired_url_is_refused() {
        let s = Signer::new(b"k".to_vec(), "http://h");
        let exp = unix_now() - 1;
        let url = s.sign("t", "storage", "GET", "b/k", exp);
        let query = url.split_once('?').map(|(_, q)| q);
        assert_eq!(
            s.verify("t", "storage", "GET", &["b", "k"], query),
            Err(SignatureError::Expired(exp))
        );
        assert!(matches!(
            s.verify("t", "storage", "GET", &["b", "k"], Some("sig=00")),
            Err(SignatureError::Malformed(_))
        ));
    }
}
