//! A local HTTPS endpoint signed by a test CA made at run time: for the tests of a binding's
//! own trusted CAs (`trusted_ca`) and of pooled HTTPS connections.
//!
//! [`TestCa::new`] makes a CA and, signed by it, a certificate for `localhost` and
//! `127.0.0.1`. [`TlsMock::start`] serves that certificate on `127.0.0.1:0`, offering HTTP/2
//! and HTTP/1.1 by ALPN, and answers every request with 200 `{}`; it counts the connections
//! it accepts and records the HTTP version of each request. Nothing is written to disk but
//! what a test asks for ([`TestCa::write_pem`]).

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::mock::MockError;

/// A test certificate authority and a server certificate it signed.
pub struct TestCa {
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

impl TestCa {
    /// A fresh CA, and a certificate for `localhost` and `127.0.0.1` signed by it.
    pub fn new() -> Result<TestCa, rcgen::Error> {
        let ca_key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Switchyard test CA");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = params.self_signed(&ca_key)?;
        let server_key = rcgen::KeyPair::generate()?;
        let server =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?
                .signed_by(&server_key, &ca, &ca_key)?;
        Ok(TestCa {
            ca_pem: ca.pem(),
            server_chain: vec![server.der().clone()],
            server_key: server_key.serialize_der(),
        })
    }

    /// The CA's certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Writes the CA's certificate to `path` (for a configuration file's `trusted_ca`).
    pub fn write_pem(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, &self.ca_pem)
    }

    fn server_config(&self) -> Result<rustls::ServerConfig, rustls::Error> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(self.server_chain.clone(), key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// What a [`TlsMock`] saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    handshakes: AtomicUsize,
    versions: Mutex<Vec<Version>>,
}

/// A running HTTPS endpoint on `127.0.0.1`, stopped when dropped.
pub struct TlsMock {
    addr: SocketAddr,
    seen: Arc<Seen>,
    task: JoinHandle<()>,
}

impl TlsMock {
    /// Serves `ca`'s server certificate on a free port.
    pub async fn start(ca: &TestCa) -> Result<TlsMock, MockError> {
        let config = ca
            .server_config()
            .map_err(|e| MockError::Bind(std::io::Error::other(e)))?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .map_err(MockError::Bind)?;
        let addr = listener.local_addr().map_err(MockError::Bind)?;
        let seen = Arc::new(Seen::default());
        let task = tokio::spawn(accept(listener, acceptor, seen.clone()));
        Ok(TlsMock { addr, seen, task })
    }

    /// `https://localhost:PORT`.
    pub fn base_url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// TCP connections accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.seen.connections.load(Ordering::SeqCst)
    }

    /// TLS handshakes completed so far.
    pub fn handshakes(&self) -> usize {
        self.seen.handshakes.load(Ordering::SeqCst)
    }

    /// The HTTP version of every request served, in order.
    pub fn versions(&self) -> Vec<Version> {
        self.seen
            .versions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for TlsMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, acceptor: tokio_rustls::TlsAcceptor, seen: Arc<Seen>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        seen.connections.fetch_add(1, Ordering::SeqCst);
        let (acceptor, seen) = (acceptor.clone(), seen.clone());
        connections.spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            seen.handshakes.fetch_add(1, Ordering::SeqCst);
            let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
                let seen = seen.clone();
                async move {
                    seen.versions
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(req.version());
                    let mut res = Response::new(Full::new(Bytes::from_static(b"{}")));
                    res.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(res)
                }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}
