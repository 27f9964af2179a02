//! Which servers a binding's outbound TLS trusts: the platform's roots, plus the binding's
//! own CAs (`trusted_ca`, PEM) for self-hosted providers and corporate gateways.
//!
//! The platform's roots (`/etc/ssl/certs` and the like, through rustls-native-certs) are
//! read once per process; where the platform has none (a bare container), Mozilla's roots
//! (webpki-roots) stand in, so a binding never ends up trusting nothing by accident. A
//! binding's extra CAs add to these roots; they never replace them, and they apply to that
//! binding only.

use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

/// A binding's extra trusted CAs, parsed from PEM; empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedCa {
    certs: Arc<[CertificateDer<'static>]>,
}

/// A `trusted_ca` that is not a PEM file of certificates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustedCaError {
    /// The PEM text does not parse.
    #[error("not a PEM certificate: {0}")]
    Pem(String),
    /// The file holds no `CERTIFICATE` block.
    #[error("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    Empty,
    /// A certificate is not one rustls can use as a trust anchor.
    #[error("certificate {index} cannot be a trust anchor: {message}")]
    Anchor {
        /// Which certificate of the file, from 1.
        index: usize,
        /// Why not.
        message: String,
    },
}

impl TrustedCa {
    /// The certificates of a PEM file (one or more `CERTIFICATE` blocks; other blocks are
    /// skipped), each checked to be usable as a trust anchor.
    pub fn from_pem(pem: &[u8]) -> Result<Self, TrustedCaError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TrustedCaError::Pem(e.to_string()))?;
        if certs.is_empty() {
            return Err(TrustedCaError::Empty);
        }
        // Each must parse as a trust anchor (the store is only the check).
        let mut anchors = RootCertStore::empty();
        for (i, cert) in certs.iter().enumerate() {
            anchors
                .add(cert.clone())
                .map_err(|e| TrustedCaError::Anchor {
                    index: i + 1,
                    message: e.to_string(),
                })?;
        }
        Ok(TrustedCa {
            certs: certs.into(),
        })
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// A rustls client configuration trusting the platform's roots and these CAs, with
    /// the ring provider and rustls's safe default protocol versions.
    pub(crate) fn client_config(&self) -> Result<rustls::ClientConfig, rustls::Error> {
        let mut roots = platform_roots().as_ref().clone();
        for cert in self.certs.iter() {
            roots.add(cert.clone())?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }
}

/// The platform's trusted roots, read once; Mozilla's where the platform has none.
fn platform_roots() -> &'static Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut store = RootCertStore::empty();
        let found = rustls_native_certs::load_native_certs();
        let (added, _ignored) = store.add_parsable_certificates(found.certs);
        if added == 0 {
            tracing::warn!(
                errors = found.errors.len(),
                "no platform TLS roots found; trusting Mozilla's (webpki-roots) instead"
            );
            store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        Arc::new(store)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_is_named_and_good_pem_is_taken() {
        assert_eq!(TrustedCa::from_pem(b""), Err(TrustedCaError::Empty));
        assert_eq!(
            TrustedCa::from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            Err(TrustedCaError::Empty)
        );
        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            TrustedCa::from_pem(garbage),
            Err(TrustedCaError::Anchor { index: 1, .. })
        ));
        // A platform root, as PEM, is taken.
        let roots = platform_roots();
        assert!(!roots.is_empty(), "some roots to trust");
    }
}
