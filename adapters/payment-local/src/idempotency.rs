//! Idempotency keys: each key's record (`idempotency/<fnv>.json`, created exclusively by the
//! first call) holds the request's fingerprint and its outcome, so a retry with the key
//! answers the same object or decline, and a key reused with other parameters is `conflict`.

use std::time::Duration;

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use wasi::filesystem::types::Descriptor;

use switchyard_sdk::files;
use switchyard_sdk::types::Error;

use crate::payments::StoredDecline;
use crate::store::{load, to_json};
use crate::validate;

/// How long a retried create waits for the first call with its key to finish.
const REPLAY_WAIT: Duration = Duration::from_secs(10);

/// What an idempotency key's file holds: the first request's fingerprint and its outcome.
#[derive(Serialize, Deserialize)]
pub(crate) struct KeyRecord {
    pub(crate) key: String,
    pub(crate) fingerprint: String,
    pub(crate) kind: String,
    pub(crate) id: String,
    pub(crate) error: Option<StoredDecline>,
}

/// FNV-1a over `bytes` from `seed`.
pub(crate) fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(seed, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

pub(crate) fn key_path(key: &str) -> String {
    let a = fnv(0xcbf2_9ce4_8422_2325, key.as_bytes());
    let b = fnv(0x6c62_272e_07bb_0142, key.as_bytes());
    format!("idempotency/{a:016x}{b:016x}.json")
}

pub(crate) fn idempotency_conflict(key: &str) -> Error {
    Error::conflict(format!(
        "idempotency-key {:?} was already used with different parameters or for another \
         kind of object; use a new key",
        validate::clip(key)
    ))
    .with_provider(
        Some("idempotency_error".into()),
        Some("Keys for idempotent requests can only be used with the same parameters they were first used with.".into()),
    )
}

/// What the first call with `key` answered, once it has finished; `Ok(None)` when no call
/// used the key yet.
pub(crate) fn replay<T: DeserializeOwned>(
    dir: &Descriptor,
    key: &str,
    fingerprint: &str,
    kind: &str,
    wait: bool,
) -> Result<Option<Result<T, Error>>, Error> {
    let path = key_path(key);
    let start = wasi::clocks::monotonic_clock::now();
    loop {
        let Some(bytes) = files::read(dir, &path)? else {
            return Ok(None);
        };
        // An empty or partial record: its creator is still writing it.
        if let Ok(rec) = serde_json::from_slice::<KeyRecord>(&bytes) {
            if rec.key != key || rec.fingerprint != fingerprint || rec.kind != kind {
                return Err(idempotency_conflict(key));
            }
            if let Some(decline) = rec.error {
                return Ok(Some(Err(decline.to_error())));
            }
            if let Some(obj) = load::<T>(dir, kind, &rec.id)? {
                return Ok(Some(Ok(obj)));
            }
        }
        let waited = wasi::clocks::monotonic_clock::now().saturating_sub(start);
        if !wait || u128::from(waited) > REPLAY_WAIT.as_nanos() {
            return Err(Error::conflict(format!(
                "another request with idempotency-key {:?} is still in progress; retry",
                validate::clip(key)
            ))
            .with_retryable(true)
            .with_provider(Some("idempotency_error".into()), None));
        }
        switchyard_sdk::retry::sleep(Duration::from_millis(5));
    }
}

/// Claims `key` for the object `id` (exclusive create); when another call claimed it first,
/// answers what that call made.
pub(crate) fn claim<T: DeserializeOwned>(
    dir: &Descriptor,
    key: &str,
    fingerprint: &str,
    kind: &str,
    id: &str,
    error: Option<StoredDecline>,
) -> Result<Option<Result<T, Error>>, Error> {
    let rec = KeyRecord {
        key: key.to_string(),
        fingerprint: fingerprint.to_string(),
        kind: kind.to_string(),
        id: id.to_string(),
        error,
    };
    if files::create_exclusive(dir, &key_path(key), &to_json(&rec)?)? {
        return Ok(None);
    }
    match replay(dir, key, fingerprint, kind, true)? {
        Some(answer) => Ok(Some(answer)),
        None => Err(Error::conflict(format!(
            "idempotency-key {:?} was released while this call ran; retry",
            validate::clip(key)
        ))
        .with_retryable(true)),
    }
}
