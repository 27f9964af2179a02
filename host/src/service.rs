//! The nine Switchyard services, each a WIT contract under `wit/<service>/`.

use std::fmt;
use std::str::FromStr;

/// A service contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// `switchyard:storage`.
    Storage,
    /// `switchyard:notification`.
    Notification,
    /// `switchyard:analytics`.
    Analytics,
    /// `switchyard:search`.
    Search,
    /// `switchyard:email`.
    Email,
    /// `switchyard:payment`.
    Payment,
    /// `switchyard:logging`.
    Logging,
    /// `switchyard:messaging`.
    Messaging,
    /// `switchyard:monitoring`.
    Monitoring,
}

impl Service {
    /// Every service.
    pub const ALL: [Service; 9] = [
        Service::Storage,
        Service::Notification,
        Service::Analytics,
        Service::Search,
        Service::Email,
        Service::Payment,
        Service::Logging,
        Service::Messaging,
        Service::Monitoring,
    ];

    /// The service's name, as in configuration and URLs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Service::Storage => "storage",
            Service::Notification => "notification",
            Service::Analytics => "analytics",
            Service::Search => "search",
            Service::Email => "email",
            Service::Payment => "payment",
            Service::Logging => "logging",
            Service::Messaging => "messaging",
            Service::Monitoring => "monitoring",
        }
    }

    /// The contract interface an adapter exports, e.g. `switchyard:analytics/analytics@0.1.0`.
    pub fn interface(&self) -> String {
        format!("switchyard:{0}/{0}@0.1.0", self.as_str())
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the contracts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown service '{0}'")]
pub struct UnknownService(pub String);

impl FromStr for Service {
    type Err = UnknownService;
    fn from_str(s: &str) -> Result<Self, UnknownService> {
        Service::ALL
            .into_iter()
            .find(|svc| svc.as_str() == s)
            .ok_or_else(|| UnknownService(s.to_string()))
    }
}
