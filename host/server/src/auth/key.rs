//! One gateway key: its configuration, its scope, its hash; and how the admin API shows it.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use switchyard_host::{SecretSource, Service};

use crate::error::ApiError;

/// The shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// One `[[server.keys]]` entry as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// The key's name, to list and revoke it: 1 to 128 of `[A-Za-z0-9._-]`, unique.
    pub id: String,
    /// The tenant the key opens.
    pub tenant: String,
    /// The key itself, as a secret source (`{ env = "..." }`, `{ file = "..." }`, `{ value = "..." }`).
    pub key: SecretSource,
    /// The services it may call (all when absent).
    pub services: Option<Vec<String>>,
    /// The functions it may call, as `function` (in any service of its scope) or
    /// `service/function` (all when absent).
    pub functions: Option<Vec<String>>,
}

/// What a key may call within its tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The services, or all of them.
    pub services: Option<Vec<Service>>,
    /// The functions (`function` or `service/function`), or all of them.
    pub functions: Option<Vec<String>>,
}

impl Scope {
    /// Checks the lists; an empty list is refused (leave it out to allow everything).
    pub fn new(services: Option<&[String]>, functions: Option<&[String]>) -> Result<Self, String> {
        let services = services
            .map(|list| {
                if list.is_empty() {
                    return Err("services must not be empty (leave it out to allow all)".into());
                }
                list.iter()
                    .map(|s| {
                        s.parse::<Service>()
                            .map_err(|_| format!("services: no service named {s:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let functions = functions
            .map(|list| {
                if list.is_empty() {
                    return Err("functions must not be empty (leave it out to allow all)".into());
                }
                for f in list {
                    let name = match f.split_once('/') {
                        Some((service, name)) => {
                            service.parse::<Service>().map_err(|_| {
                                format!("functions: {f:?} names no service {service:?}")
                            })?;
                            name
                        }
                        None => f.as_str(),
                    };
                    if name.is_empty() || name.contains('/') {
                        return Err(format!(
                            "functions: {f:?} is not `function` or `service/function`"
                        ));
                    }
                }
                Ok(list.to_vec())
            })
            .transpose()?;
        Ok(Scope {
            services,
            functions,
        })
    }

    /// Whether `service`/`function` is in scope.
    pub fn allows(&self, service: Service, function: &str) -> bool {
        let service_ok = self
            .services
            .as_ref()
            .is_none_or(|list| list.contains(&service));
        let function_ok = self.functions.as_ref().is_none_or(|list| {
            list.iter().any(|f| match f.split_once('/') {
                Some((s, name)) => s == service.as_str() && name == function,
                None => f == function,
            })
        });
        service_ok && function_ok
    }

    pub(super) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(services) = &self.services {
            let names: Vec<&str> = services.iter().map(Service::as_str).collect();
            parts.push(format!("services {}", names.join(", ")));
        }
        if let Some(functions) = &self.functions {
            parts.push(format!("functions {}", functions.join(", ")));
        }
        parts.join("; ")
    }
}

/// A gateway key, held as its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct GatewayKey {
    /// Its name.
    pub id: String,
    /// The tenant it opens.
    pub tenant: String,
    /// What it may call.
    pub scope: Scope,
    pub(super) hash: [u8; 32],
}

impl std::fmt::Debug for GatewayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayKey")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl GatewayKey {
    /// A key named `id` opening `tenant` within `scope`; `secret` is hashed and forgotten.
    pub fn new(id: &str, tenant: &str, secret: &str, scope: Scope) -> Result<Self, String> {
        if id.is_empty()
            || id.len() > 128
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(format!(
                "id {id:?} must be 1 to 128 letters, digits, '-', '_' or '.'"
            ));
        }
        if tenant.is_empty() {
            return Err("tenant must not be empty".into());
        }
        if secret.len() < MIN_KEY_BYTES {
            return Err(format!("the key must be at least {MIN_KEY_BYTES} bytes"));
        }
        Ok(GatewayKey {
            id: id.to_string(),
            tenant: tenant.to_string(),
            scope,
            hash: Sha256::digest(secret.as_bytes()).into(),
        })
    }
}

/// A new random key: `sy_` and 64 hex digits (256 bits from the OS).
pub fn generate_key() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        ApiError::new(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("no randomness for a key: {e}"),
        )
    })?;
    Ok(format!("sy_{}", hex::encode(bytes)))
}

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// The configuration file: replaced on reload.
    File,
    /// The admin API: in memory until revoked or the process ends.
    Admin,
}

/// A key as the admin API lists it: never its secret nor its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Its name.
    pub id: String,
    /// Its tenant.
    pub tenant: String,
    /// What it may call.
    pub scope: Scope,
    /// Where it came from.
    pub origin: KeyOrigin,
}

impl KeyInfo {
    /// `{"id", "tenant", "services", "functions", "origin"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let services = self
            .scope
            .services
            .as_ref()
            .map(|s| s.iter().map(Service::as_str).collect::<Vec<_>>());
        serde_json::json!({
            "id": self.id,
            "tenant": self.tenant,
            "services": services,
            "functions": self.scope.functions,
            "origin": match self.origin { KeyOrigin::File => "file", KeyOrigin::Admin => "admin" },
        })
    }
}
