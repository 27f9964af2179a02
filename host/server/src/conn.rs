//! Connection limits: how many connections a listener holds open, overall and per client
//! address, and a small reserve that keeps `/healthz`, `/readyz`, `/metrics` and `/admin`
//! reachable while the gateway is saturated. Also fits the limits to the process's
//! file-descriptor limit.
//!
//! Every accepted connection is admitted in one of three ways ([`Admission`]):
//! - **full**: under `max_connections` overall and under `max_connections_per_address` for
//!   its address; it is served normally;
//! - **reserve**: over one of those limits but within `reserved_connections` (and within a
//!   quarter of the reserve for its address, so one address cannot take all of it); it is
//!   served one request with keep-alive off and a short header timeout, and only for the
//!   health, metrics and admin routes: anything else answers 503 `overloaded`;
//! - **refused**: it gets a canned 503 if the socket takes it at once, and is closed.
//!
//! The accounting is written here rather than taken from a crate: tower's `ConcurrencyLimit`
//! bounds requests in flight (not open connections, which is what runs out of file
//! descriptors), makes callers wait instead of refusing them, and knows nothing of peer
//! addresses; hyper-util's server has no connection limit.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `[server] max_connections` by default: connections open at once on the gateway listener.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// `[server] max_connections_per_address` by default.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 256;
/// `[server] reserved_connections` by default.
pub const DEFAULT_RESERVED_CONNECTIONS: usize = 32;
/// `[server] header_timeout_ms` by default: the time a client gets to send a request's
/// headers (also how long an idle keep-alive connection stays open).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// `[server] body_timeout_ms` by default: the time a request's whole body may take to arrive.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// The header timeout of a connection of the reserve.
pub const RESERVE_HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The connections the admin listener (`[server] admin_listen`) holds at most. It has no
/// per-address limit: it is meant for a private interface.
pub const ADMIN_MAX_CONNECTIONS: usize = 256;
/// File descriptors kept for everything but client connections (component files, outbound
/// HTTP, Redis, logs, search indexes), at most; a quarter of a small limit.
pub const FD_HEADROOM: u64 = 1024;

/// The answer a refused connection gets, when its socket takes it without waiting.
pub const REFUSED_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\nconnection: close\r\nretry-after: 1\r\ncontent-length: 80\r\n\r\n\
{\"error\":{\"code\":\"overloaded\",\"message\":\"too many connections\",\"provider\":null}}";

/// The connection and timeout settings of the gateway listener (`[server]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections open at once, at most (at least 1).
    pub max_connections: usize,
    /// Connections open at once from one client address (an IPv6 address counts per /64);
    /// 0: no per-address limit (behind a proxy, every client has the proxy's address).
    pub max_connections_per_address: usize,
    /// Connections over those limits still accepted for the health, metrics and admin routes.
    pub reserved_connections: usize,
    /// How long a client may take to send a request's headers, or stay idle between requests.
    pub header_timeout: Duration,
    /// How long a request's whole body may take to arrive (408 and the connection closed).
    pub body_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            reserved_connections: DEFAULT_RESERVED_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `max_connections` (and the reserve) are in use.
    Total,
    /// Its address holds `max_connections_per_address` (and its share of the reserve).
    PerAddress,
}

impl Refusal {
    /// The `reason` label of `switchyard_connections_refused_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Total => "max_connections",
            Refusal::PerAddress => "per_address",
        }
    }
}

/// How a connection was admitted (see the module's documentation).
#[derive(Debug)]
pub enum Admission {
    /// Served normally.
    Full(ConnGuard),
    /// Served one health, metrics or admin request.
    Reserve(ConnGuard),
    /// Not served.
    Refused(Refusal),
}

/// Counts the open connections of one listener; cheap to share.
#[derive(Debug)]
pub struct ConnTracker {
    max: usize,
    per_address: usize,
    reserved: usize,
    reserve_per_address: usize,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    full: usize,
    reserve: usize,
    by_address: HashMap<IpAddr, PerAddress>,
}

#[derive(Debug, Default, Clone, Copy)]
struct PerAddress {
    full: usize,
    reserve: usize,
}

impl ConnTracker {
    /// A tracker for `max` connections, `per_address` per client address (0: no limit) and
    /// `reserved` more for the health, metrics and admin routes.
    pub fn new(max: usize, per_address: usize, reserved: usize) -> Arc<Self> {
        Arc::new(ConnTracker {
            max: max.max(1),
            per_address,
            reserved,
            reserve_per_address: if reserved == 0 {
                0
            } else {
                (reserved / 4).max(1)
            },
            counts: Mutex::new(Counts::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a connection from `peer`; the guard of an admitted one counts it until dropped.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Admission {
        let key = address_key(peer);
        let mut counts = self.lock();
        let full_open = counts.full;
        let reserve_open = counts.reserve;
        let mine = counts.by_address.get(&key).copied().unwrap_or_default();
        let address_full = self.per_address != 0 && mine.full >= self.per_address;
        let reserve = if full_open < self.max && !address_full {
            false
        } else if reserve_open < self.reserved && mine.reserve < self.reserve_per_address {
            true
        } else if full_open >= self.max {
            return Admission::Refused(Refusal::Total);
        } else {
            return Admission::Refused(Refusal::PerAddress);
        };
        let entry = counts.by_address.entry(key).or_default();
        if reserve {
            entry.reserve += 1;
            counts.reserve += 1;
        } else {
            entry.full += 1;
            counts.full += 1;
        }
        drop(counts);
        let guard = ConnGuard {
            tracker: self.clone(),
            key,
            reserve,
        };
        if reserve {
            Admission::Reserve(guard)
        } else {
            Admission::Full(guard)
        }
    }

    /// The connections open now: (served normally, from the reserve).
    pub fn open(&self) -> (usize, usize) {
        let counts = self.lock();
        (counts.full, counts.reserve)
    }

    fn release(&self, key: IpAddr, reserve: bool) {
        let mut counts = self.lock();
        if reserve {
            counts.reserve = counts.reserve.saturating_sub(1);
        } else {
            counts.full = counts.full.saturating_sub(1);
        }
        if let Some(entry) = counts.by_address.get_mut(&key) {
            if reserve {
                entry.reserve = entry.reserve.saturating_sub(1);
            } else {
                entry.full = entry.full.saturating_sub(1);
            }
            if entry.full == 0 && entry.reserve == 0 {
                counts.by_address.remove(&key);
            }
        }
    }
}

/// Counts one open connection until dropped.
#[derive(Debug)]
pub struct ConnGuard {
    tracker: Arc<ConnTracker>,
    key: IpAddr,
    reserve: bool,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.tracker.release(self.key, self.reserve);
    }
}

/// The address a connection is counted under: IPv4 as is (also when mapped into IPv6), IPv6
/// by its /64 (the block one client usually has to itself).
pub fn address_key(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(_) => peer,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Lowers `limits.max_connections` to what the open-file limit allows, after raising the
/// soft limit towards the hard one when that helps (as Go's runtime does at start). `extra`
/// is what other listeners may hold (the admin listener's). Logs what it changed.
pub fn fit_to_fd_limit(limits: &mut ConnectionLimits, extra: usize) {
    let Some(soft) = open_file_limit(limits, extra) else {
        return;
    };
    let headroom = FD_HEADROOM.min(soft / 4);
    let others = (limits.reserved_connections as u64)
        .saturating_add(extra as u64)
        .saturating_add(headroom);
    let room = soft.saturating_sub(others).max(1);
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    if room < limits.max_connections {
        tracing::warn!(
            configured = limits.max_connections,
            allowed = room,
            open_files = soft,
            "max_connections lowered to fit the open-file limit (raise it with ulimit -n or \
             LimitNOFILE=)"
        );
        limits.max_connections = room;
    }
}

/// The soft open-file limit after trying to raise it to what `limits` need; `None` when
/// unlimited or unknown.
#[cfg(unix)]
fn open_file_limit(limits: &ConnectionLimits, extra: usize) -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let need = (limits.max_connections as u64)
        .saturating_add(limits.reserved_connections as u64)
        .saturating_add(extra as u64)
        .saturating_add(FD_HEADROOM);
    let now = getrlimit(Resource::Nofile);
    let soft = now.current?;
    if soft >= need {
        return Some(soft);
    }
    let target = now.maximum.map_or(need, |hard| hard.min(need));
    if target > soft {
        let raised = Rlimit {
            current: Some(target),
            maximum: now.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                tracing::info!(from = soft, to = target, "raised the open-file limit");
                return Some(target);
            }
            Err(e) => tracing::debug!(cause = %e, "cannot raise the open-file limit"),
        }
    }
    Some(soft)
}

#[cfg(not(unix))]
fn open_file_limit(_limits: &ConnectionLimits, _extra: usize) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn per_address_limit_then_reserve_then_refusal() {
        let tracker = ConnTracker::new(100, 2, 8);
        let a = ip("10.0.0.1");
        let first = tracker.admit(a);
        let second = tracker.admit(a);
        assert!(matches!(first, Admission::Full(_)));
        assert!(matches!(second, Admission::Full(_)));
        // A quarter of the reserve (2) per address, then refused.
        let r1 = tracker.admit(a);
        let r2 = tracker.admit(a);
        assert!(matches!(r1, Admission::Reserve(_)));
        assert!(matches!(r2, Admission::Reserve(_)));
        assert!(matches!(
            tracker.admit(a),
            Admission::Refused(Refusal::PerAddress)
        ));
        // Another address is not affected.
        assert!(matches!(tracker.admit(ip("10.0.0.2")), Admission::Full(_)));
        assert_eq!(tracker.open(), (2, 2));
        drop(first);
        assert!(matches!(tracker.admit(a), Admission::Full(_)));
        drop((second, r1, r2));
        assert_eq!(tracker.open(), (0, 0));
        assert!(tracker.lock().by_address.is_empty());
    }

    #[test]
    fn total_limit() {
        let tracker = ConnTracker::new(2, 0, 0);
        let _a = tracker.admit(ip("10.0.0.1"));
        let _b = tracker.admit(ip("10.0.0.2"));
        assert!(matches!(
            tracker.admit(ip("10.0.0.3")),
            Admission::Refused(Refusal::Total)
        ));
    }

    #[test]
    fn ipv6_counts_per_64() {
        assert_eq!(
            address_key(ip("2001:db8:1:2:3:4:5:6")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(address_key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(address_key(ip("10.1.2.3")), ip("10.1.2.3"));
    }

    #[test]
    fn refused_response_is_well_formed() {
        let text = String::from_utf8_lossy(REFUSED_RESPONSE);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{text}"
        );
        assert!(serde_json::from_str::<serde_json::Value>(body).is_ok());
    }

    #[test]
    fn limits_fit_the_fd_limit() {
        let mut limits = ConnectionLimits {
            max_connections: usize::MAX / 4,
            ..ConnectionLimits::default()
        };
        fit_to_fd_limit(&mut limits, 0);
        assert!(limits.max_connections >= 1);
        #[cfg(unix)]
        if rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .is_some()
        {
            assert!(limits.max_connections < usize::MAX / 4);
        }
    }
}
