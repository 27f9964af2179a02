//! A real `redis-server` for tests: started on a free loopback port with its data in a
//! temporary directory, stopped (killed) when dropped.
//!
//! It runs with the persistence the Redis messaging backend needs to lose nothing it
//! acknowledged: `appendonly yes`, `appendfsync always`, `maxmemory-policy noeviction`.
//! [`RedisServer::kill`] and [`RedisServer::restart`] stop it hard (SIGKILL, as a crash would)
//! and start it again on the same port over the same data.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why a redis-server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum RedisError {
    /// The binary is not installed.
    #[error(
        "redis-server is not installed: `make test` installs it (Debian package redis-server), \
         or install it by hand: {0}"
    )]
    Missing(#[source] std::io::Error),
    /// It started but never answered PING.
    #[error("redis-server on port {port} did not answer PING within {waited:?}")]
    NoAnswer {
        /// Its port.
        port: u16,
        /// How long the wait lasted.
        waited: Duration,
    },
    /// Its temporary directory could not be made.
    #[error("cannot create redis-server's data directory: {0}")]
    Dir(#[source] std::io::Error),
}

/// A running redis-server, killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one on a free port.
    pub fn start() -> Result<RedisServer, RedisError> {
        let dir = std::env::temp_dir().join(format!(
            "switchyard-redis-{}-{}",
            std::process::id(),
            uuid_ish()
        ));
        std::fs::create_dir_all(&dir).map_err(RedisError::Dir)?;
        let port = free_port().map_err(RedisError::Dir)?;
        let mut server = RedisServer {
            port,
            dir,
            child: None,
        };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> Result<(), RedisError> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(RedisError::Missing)?;
        self.child = Some(child);
        let waited = Duration::from_secs(10);
        let start = Instant::now();
        while start.elapsed() < waited {
            if ping(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(RedisError::NoAnswer {
            port: self.port,
            waited,
        })
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills it (SIGKILL: no chance to save anything more) and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port over the same data (after [`RedisServer::kill`]).
    pub fn restart(&mut self) -> Result<(), RedisError> {
        self.kill();
        self.spawn()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

fn uuid_ish() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    format!("{nanos:x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}
