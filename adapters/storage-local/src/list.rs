//! A bucket's listing: its objects and common prefixes (under a delimiter) in name order, in
//! pages; the cursor is the last name of a page, hex-encoded behind `k`.

use std::collections::BTreeMap;

use switchyard_sdk::storage::{validate, ListQuery, ObjectPage};
use switchyard_sdk::types::{Error, ErrorKind, PageInfo, PageRequest};

use crate::store::{self, keys, load_bucket, load_object};

fn encode_cursor(name: &str) -> String {
    format!("k{}", hex::encode(name.as_bytes()))
}

fn decode_cursor(cursor: &str) -> Result<String, Error> {
    cursor
        .strip_prefix('k')
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            let shown: String = cursor.chars().take(80).collect();
            Error::invalid_input(format!(
                "page.cursor '{}' is not a cursor this listing gave",
                shown.escape_debug()
            ))
        })
}

/// One page of `bucket`'s listing: objects and common prefixes by name, after the cursor.
pub(crate) fn list_objects(
    bucket: String,
    query: ListQuery,
    page: PageRequest,
) -> Result<ObjectPage, Error> {
    let limit = validate::list_objects(&bucket, &query, &page)? as usize;
    let after = page.cursor.as_deref().map(decode_cursor).transpose()?;
    let dir = store::open()?;
    load_bucket(&dir, "bucket", &bucket)?;
    let prefix = query.prefix.unwrap_or_default();
    // Every entry of the listing by name: an object (false) or a common prefix (true).
    let mut entries: BTreeMap<String, bool> = BTreeMap::new();
    for key in keys(&dir, &bucket)? {
        let Some(rest) = key.strip_prefix(prefix.as_str()) else {
            continue;
        };
        match query.delimiter.as_deref().and_then(|d| {
            rest.find(d)
                .map(|at| format!("{prefix}{}", &rest[..at + d.len()]))
        }) {
            Some(common) => {
                entries.insert(common, true);
            }
            None => {
                entries.insert(key, false);
            }
        }
    }
    let total = entries.len() as u64;
    let mut rest = entries
        .into_iter()
        .filter(|(name, _)| after.as_ref().is_none_or(|after| name > after));
    let chosen: Vec<(String, bool)> = rest.by_ref().take(limit).collect();
    let more = rest.next().is_some();
    let mut items = Vec::new();
    let mut prefixes = Vec::new();
    for (name, is_prefix) in &chosen {
        if *is_prefix {
            prefixes.push(name.clone());
            continue;
        }
        // An object deleted since the directory was read is left out.
        match load_object(&dir, &bucket, name, false) {
            Ok((header, _)) => items.push(header.info(&bucket)),
            Err(err) if err.kind == ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    let next_cursor = if more {
        chosen.last().map(|(name, _)| encode_cursor(name))
    } else {
        None
    };
    Ok(ObjectPage {
        items,
        prefixes,
        page: PageInfo {
            next_cursor,
            total: Some(total),
        },
    })
}
