//! The ledger's layout under the binding's preopened `/data` directory; the file helpers
//! are `switchyard_sdk::files`.
//!
//! Objects are one JSON file each, written whole to a temporary name and renamed into place,
//! so a reader sees the old or the new version, never a torn one. Uniqueness (idempotency
//! keys) and short locks (one per object changed) are files created with `EXCLUSIVE`
//! (`O_EXCL`): of concurrent creators exactly one succeeds.

use serde::{de::DeserializeOwned, Serialize};
use wasi::filesystem::types::Descriptor;

use switchyard_sdk::files::{self, Lock};
use switchyard_sdk::log;
use switchyard_sdk::types::{Error, PageInfo, PageRequest};

use crate::model::{StoredCustomer, StoredPayment};
use crate::validate;

/// The sub-directories of the ledger.
pub const DIRS: [&str; 5] = ["customers", "payments", "refunds", "idempotency", "locks"];

/// The preopened `/data` directory, with the ledger's sub-directories created;
/// `denied` when the host gave this binding none.
pub fn open() -> Result<Descriptor, Error> {
    let dir = files::data_dir("ledger")?;
    for sub in DIRS {
        files::create_dir(&dir, sub)?;
    }
    Ok(dir)
}

/// Takes the lock on the object `id` (`locks/<id>`), waiting for another call holding it;
/// see `files::lock`.
pub fn lock<'a>(dir: &'a Descriptor, id: &str) -> Result<Lock<'a>, Error> {
    files::lock(dir, &format!("locks/{id}"), id)
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::internal(format!("serialising failed: {e}")))
}

/// Loads `sub/id.json`; none when missing.
pub(crate) fn load<T: DeserializeOwned>(
    dir: &Descriptor,
    sub: &str,
    id: &str,
) -> Result<Option<T>, Error> {
    let path = format!("{sub}/{id}.json");
    files::read_json(dir, &path, |e| {
        Error::internal(format!(
            "{}/{path} is not a ledger object: {e}",
            files::DATA_DIR
        ))
    })
}

pub(crate) fn save<T: Serialize>(
    dir: &Descriptor,
    sub: &str,
    id: &str,
    value: &T,
) -> Result<(), Error> {
    files::write_atomic(dir, &format!("{sub}/{id}.json"), &to_json(value)?)
}

pub(crate) fn load_customer(
    dir: &Descriptor,
    field: &str,
    id: &str,
) -> Result<StoredCustomer, Error> {
    validate::id(field, id, "cus_", "customer")?;
    load(dir, "customers", id)?.ok_or_else(|| validate::not_found(field, id, "customer"))
}

pub(crate) fn load_payment(
    dir: &Descriptor,
    field: &str,
    id: &str,
) -> Result<StoredPayment, Error> {
    validate::id(field, id, "pi_", "payment")?;
    load(dir, "payments", id)?.ok_or_else(|| validate::not_found(field, id, "payment"))
}

/// Every object in `sub`, newest first; unreadable files are skipped and logged.
pub(crate) fn load_all<T: DeserializeOwned>(dir: &Descriptor, sub: &str) -> Result<Vec<T>, Error> {
    let mut out = Vec::new();
    for name in files::list(dir, sub)? {
        let Some(id) = name.strip_suffix(".json") else {
            continue;
        };
        match load::<T>(dir, sub, id) {
            Ok(Some(v)) => out.push(v),
            Ok(None) => {}
            Err(err) => log::warn(
                "skipping a ledger file that is not an object",
                &[("file", &format!("{sub}/{name}")), ("reason", &err.message)],
            ),
        }
    }
    Ok(out)
}

/// One page of `items` (sorted newest first here) by the caller's cursor and limit.
pub(crate) fn page_of<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> ((u64, u32), String),
    page: &PageRequest,
) -> Result<(Vec<T>, PageInfo), Error> {
    let limit = validate::page_limit(page)? as usize;
    items.sort_by_key(|item| std::cmp::Reverse(key(item)));
    let total = items.len() as u64;
    let start = match page.cursor.as_deref() {
        None => 0,
        Some(cursor) => {
            items
                .iter()
                .position(|item| key(item).1 == cursor)
                .ok_or_else(|| {
                    Error::invalid_input(format!(
                        "page.cursor {:?} is not a cursor this listing gave",
                        validate::clip(cursor)
                    ))
                })?
                + 1
        }
    };
    let rest: Vec<T> = items.into_iter().skip(start).collect();
    let more = rest.len() > limit;
    let page_items: Vec<T> = rest.into_iter().take(limit).collect();
    let next_cursor = if more {
        page_items.last().map(|item| key(item).1)
    } else {
        None
    };
    Ok((
        page_items,
        PageInfo {
            next_cursor,
            total: Some(total),
        },
    ))
}
