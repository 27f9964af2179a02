//! A local forward proxy that speaks HTTP `CONNECT`, for the tests of the host's outbound
//! proxy: it records the target of every tunnel it opens, then copies bytes both ways.
//!
//! Anything but a `CONNECT` gets `405`; a target it cannot reach gets `502`, as a real proxy
//! answers.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::mock::MockError;

/// The most bytes of a request head the proxy reads.
const MAX_HEAD: usize = 16 * 1024;

/// A running `CONNECT` proxy on `127.0.0.1`, stopped when dropped.
pub struct ConnectProxy {
    addr: SocketAddr,
    tunnels: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl ConnectProxy {
    /// Starts the proxy on a free port.
    pub async fn start() -> Result<ConnectProxy, MockError> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .map_err(MockError::Bind)?;
        let addr = listener.local_addr().map_err(MockError::Bind)?;
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(accept(listener, tunnels.clone()));
        Ok(ConnectProxy {
            addr,
            tunnels,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `host:port` of every tunnel opened so far, in order.
    pub fn tunnels(&self) -> Vec<String> {
        self.tunnels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, tunnels: Arc<Mutex<Vec<String>>>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        connections.spawn(tunnel(stream, tunnels.clone()));
    }
}

/// Reads one `CONNECT host:port` head, connects, answers 200 and copies both ways.
async fn tunnel(mut client: TcpStream, tunnels: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > MAX_HEAD {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut words = text.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        let _ = client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    let target = target.to_string();
    let Ok(mut upstream) = TcpStream::connect(&target).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    tunnels
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(target);
    if client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
