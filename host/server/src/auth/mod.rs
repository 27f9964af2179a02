//! Gateway keys: who may call `/v1/tenants/{tenant}/...`.
//!
//! A key belongs to one tenant and may be scoped to some of its services and functions. It is
//! sent as `Authorization: Bearer <key>` and held only as its SHA-256, compared in constant
//! time ([`subtle`]). Keys come from the configuration file (`[[server.keys]]`, re-read on
//! reload) and from the admin API (`/admin/keys`, in memory until revoked or the process
//! ends).
//!
//! Whether `/v1` needs a key at all is `[server] require_keys`: `true` always, `false` never
//! (every caller may call every tenant, as without keys), unset: as soon as any key exists,
//! and from then on for the life of the process, so that revoking the last key never opens
//! the gateway. Signed and public storage URLs never need one: their signature (or the
//! bucket's public setting) is their authorization.

use std::collections::HashSet;
use std::sync::RwLock;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use switchyard_host::Service;

use crate::error::ApiError;
use crate::metrics::{AuthFailure, ServerMetrics};

mod key;
#[cfg(test)]
mod tests;

pub use key::{generate_key, GatewayKey, KeyConfig, KeyInfo, KeyOrigin, Scope, MIN_KEY_BYTES};

/// The keys of the configuration file, and whether `/v1` requires one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySettings {
    /// `[server] require_keys`; unset: required once any key exists.
    pub require_keys: Option<bool>,
    /// `[[server.keys]]`, resolved.
    pub keys: Vec<GatewayKey>,
}

/// Why a key could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddKeyError {
    /// A key of that id exists.
    #[error("a key named {0:?} exists; revoke it first or pick another id")]
    DuplicateId(String),
    /// A key with that secret exists.
    #[error("that key is already in use")]
    DuplicateSecret,
}

/// What a reload changed, by key id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyChanges {
    /// Keys new in the file.
    pub added: Vec<String>,
    /// Keys no longer in the file.
    pub removed: Vec<String>,
    /// Keys whose secret, tenant or scope changed.
    pub changed: Vec<String>,
}

/// What `/v1` asks of a key.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Any valid key (`GET /v1/services`).
    Any,
    /// A key of `tenant` whose scope has `service`/`function`.
    Call {
        /// The tenant called.
        tenant: &'a str,
        /// The service called.
        service: Service,
        /// The function called.
        function: &'a str,
    },
}

/// The gateway's keys; shared by every request, changed by the admin API and reloads.
#[derive(Debug, Default)]
pub struct KeyStore {
    inner: RwLock<Keys>,
}

#[derive(Debug, Default)]
struct Keys {
    entries: Vec<(GatewayKey, KeyOrigin)>,
    require: Option<bool>,
    /// Unset `require_keys`: whether a key has existed (then keys stay required).
    seen_keys: bool,
    /// File keys revoked through the admin API (id, hash): a reload does not bring them back.
    revoked: HashSet<(String, [u8; 32])>,
}

impl Keys {
    fn required(&self) -> bool {
        self.require.unwrap_or(self.seen_keys)
    }
}

impl KeyStore {
    /// A store holding the file's keys.
    pub fn new(settings: KeySettings) -> Self {
        let store = KeyStore::default();
        store.reload(settings);
        store
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Keys> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Keys> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `/v1` requires a key now.
    pub fn required(&self) -> bool {
        self.read().required()
    }

    /// Checks the request's bearer key for `target`; counts a refusal in `metrics`. 401 for
    /// no key or an unknown one, 403 for a key of another tenant or outside its scope.
    pub fn authorize(
        &self,
        headers: &http::HeaderMap,
        target: Target<'_>,
        metrics: &ServerMetrics,
    ) -> Result<(), ApiError> {
        let keys = self.read();
        if !keys.required() {
            return Ok(());
        }
        let refuse = |reason: AuthFailure, error: ApiError| {
            metrics.auth_failure(reason);
            Err(error)
        };
        let token = match crate::http::bearer(headers) {
            Ok(Some(token)) => token,
            Ok(None) => {
                return refuse(
                    AuthFailure::Missing,
                    ApiError::unauthorized(
                        "the gateway needs a key: send Authorization: Bearer <key>",
                    ),
                )
            }
            Err(message) => return refuse(AuthFailure::Invalid, ApiError::unauthorized(message)),
        };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Every key is compared, each in constant time.
        let mut found = None;
        for (key, _) in &keys.entries {
            if bool::from(key.hash.ct_eq(&digest)) {
                found = Some(key);
            }
        }
        let Some(key) = found else {
            return refuse(
                AuthFailure::Invalid,
                ApiError::unauthorized("unknown or revoked key"),
            );
        };
        let Target::Call {
            tenant,
            service,
            function,
        } = target
        else {
            return Ok(());
        };
        if key.tenant != tenant {
            return refuse(
                AuthFailure::WrongTenant,
                ApiError::forbidden(format!(
                    "key {:?} belongs to tenant {:?}; it cannot call tenant {tenant:?}",
                    key.id, key.tenant
                )),
            );
        }
        if !key.scope.allows(service, function) {
            return refuse(
                AuthFailure::OutOfScope,
                ApiError::forbidden(format!(
                    "key {:?} may not call {service}/{function}: it is limited to {}",
                    key.id,
                    key.scope.describe()
                )),
            );
        }
        Ok(())
    }

    /// Every key, file keys first.
    pub fn list(&self) -> Vec<KeyInfo> {
        self.read()
            .entries
            .iter()
            .map(|(key, origin)| KeyInfo {
                id: key.id.clone(),
                tenant: key.tenant.clone(),
                scope: key.scope.clone(),
                origin: *origin,
            })
            .collect()
    }

    /// Adds a key of the admin API; it works at once.
    pub fn add(&self, key: GatewayKey) -> Result<(), AddKeyError> {
        let mut keys = self.write();
        if keys.entries.iter().any(|(k, _)| k.id == key.id) {
            return Err(AddKeyError::DuplicateId(key.id));
        }
        if keys
            .entries
            .iter()
            .any(|(k, _)| bool::from(k.hash.ct_eq(&key.hash)))
        {
            return Err(AddKeyError::DuplicateSecret);
        }
        keys.entries.push((key, KeyOrigin::Admin));
        keys.seen_keys = true;
        Ok(())
    }

    /// Revokes the key `id` at once; a file key stays revoked across reloads until its
    /// secret changes or it leaves the file. `None` when there is no such key.
    pub fn revoke(&self, id: &str) -> Option<KeyInfo> {
        let mut keys = self.write();
        let at = keys.entries.iter().position(|(k, _)| k.id == id)?;
        let (key, origin) = keys.entries.remove(at);
        if origin == KeyOrigin::File {
            keys.revoked.insert((key.id.clone(), key.hash));
        }
        Some(KeyInfo {
            id: key.id,
            tenant: key.tenant,
            scope: key.scope,
            origin,
        })
    }

    /// Replaces the file's keys and `require_keys` with `settings` (the admin API's keys
    /// stay, unless the file now has their id or secret).
    pub fn reload(&self, settings: KeySettings) -> KeyChanges {
        let mut keys = self.write();
        keys.require = settings.require_keys;
        keys.revoked
            .retain(|(id, hash)| settings.keys.iter().any(|k| &k.id == id && &k.hash == hash));
        let old: Vec<GatewayKey> = keys
            .entries
            .iter()
            .filter(|(_, origin)| *origin == KeyOrigin::File)
            .map(|(k, _)| k.clone())
            .collect();
        let mut entries: Vec<(GatewayKey, KeyOrigin)> = Vec::new();
        for key in settings.keys {
            if keys.revoked.contains(&(key.id.clone(), key.hash)) {
                tracing::warn!(key = %key.id, "key revoked through the admin API stays revoked; remove it from the file or change its secret");
                continue;
            }
            entries.push((key, KeyOrigin::File));
        }
        for (key, origin) in keys.entries.drain(..) {
            if origin == KeyOrigin::File {
                continue;
            }
            let clash = entries
                .iter()
                .any(|(k, _)| k.id == key.id || k.hash == key.hash);
            if clash {
                tracing::warn!(key = %key.id, "a key added through the admin API gives way to the file's key of the same id or secret");
                continue;
            }
            entries.push((key, origin));
        }
        let mut changes = KeyChanges::default();
        for (key, origin) in &entries {
            if *origin != KeyOrigin::File {
                continue;
            }
            match old.iter().find(|k| k.id == key.id) {
                None => changes.added.push(key.id.clone()),
                Some(before) if before != key => changes.changed.push(key.id.clone()),
                Some(_) => {}
            }
        }
        for key in &old {
            if !entries
                .iter()
                .any(|(k, o)| *o == KeyOrigin::File && k.id == key.id)
            {
                changes.removed.push(key.id.clone());
            }
        }
        keys.seen_keys |= !entries.is_empty();
        keys.entries = entries;
        changes
    }
}
