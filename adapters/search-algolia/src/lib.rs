#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `config`: the binding's config keys, validated (hosts, tenant prefix, time-outs).
//! - `client`: requests under Algolia's retry strategy (host fallback, backoff, 429),
//!   waiting for tasks, and the index calls made of several requests.
//! - `validate`: the contract's input rules.
//! - `wire`: settings, filters, queries and answers between the contract and Algolia.
//! - `error`: Algolia's error answers as the contract's errors.

pub mod client;
pub mod config;
pub mod error;
pub mod validate;
pub mod wire;

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use switchyard_sdk::search::{
    Document, IndexInfo, IndexSettings, Lifecycle, PartialUpdate, Search, SearchRequest,
    SearchResult,
};
use switchyard_sdk::types::{Error, ErrorKind, HealthStatus};

use client::{all_indexes, apply_settings, batch, count, delete, encode, settings_of, Client};
use config::Config;
use wire::own;

/// A checked partial update: the document's id and the fields to change.
type Change = (String, Map<String, Value>);

/// The Algolia search adapter.
pub struct Algolia;

/// Algolia's default `paginationLimitedTo`: the last hit a page may reach.
const DEFAULT_WINDOW: usize = 1000;

impl Search for Algolia {
    fn create_index(name: String, settings: IndexSettings) -> Result<IndexInfo, Error> {
        validate::index_name(&name)?;
        validate::settings(&settings)?;
        let cfg = Config::load()?;
        let client = Client::new(&cfg);
        match settings_of(&client, &name) {
            Ok(_) => {
                return Err(Error::conflict(format!("index {name:?} already exists")));
            }
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let full = cfg.full_name(&name);
        apply_settings(&client, &full, &settings, &[])?;
        Ok(IndexInfo {
            name,
            settings,
            documents: 0,
        })
    }

    fn update_settings(name: String, settings: IndexSettings) -> Result<IndexInfo, Error> {
        validate::index_name(&name)?;
        validate::settings(&settings)?;
        let cfg = Config::load()?;
        let client = Client::new(&cfg);
        let (full, old) = settings_of(&client, &name)?;
        apply_settings(&client, &full, &settings, &wire::replica_names(&old))?;
        let documents = count(&client, &full)?;
        Ok(IndexInfo {
            name,
            settings,
            documents,
        })
    }

    fn get_index(name: String) -> Result<IndexInfo, Error> {
        validate::index_name(&name)?;
        let cfg = Config::load()?;
        let client = Client::new(&cfg);
        let (full, settings) = settings_of(&client, &name)?;
        let documents = count(&client, &full)?;
        Ok(IndexInfo {
            settings: wire::from_algolia(&full, &settings),
            name,
            documents,
        })
    }

    fn list_indexes() -> Result<Vec<IndexInfo>, Error> {
        let cfg = Config::load()?;
        let client = Client::new(&cfg);
        let items = all_indexes(&client)?;
        let mut out = Vec::new();
        for (name, full, documents) in own(&cfg, &items) {
            match client.get(&format!("/1/indexes/{}/settings", encode(full))) {
                Ok(settings) => out.push(IndexInfo {
                    settings: wire::from_algolia(full, &settings),
                    name,
                    documents,
                }),
                // Deleted since it was listed.
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    fn delete_index(name: String) -> Result<(), Error> {
        validate::index_name(&name)?;
        let cfg = Config::load()?;
        let client = Client::new(&cfg);
        let (full, settings) = settings_of(&client, &name)?;
        delete(&client, &full)?;
        for replica in wire::replica_names(&settings) {
            delete(&client, &replica)?;
        }
        Ok(())
    }

    fn index_documents(
        index: String,
        documents: Vec<Document>,
    ) -> Result<Vec<Result<String, Error>>, Error> {
        validate::index_name(&index)?;
        validate::batch("documents", documents.len())?;
        let cfg = Config::load()?;
        let client = Client::new(&cfg);
        let (full, _) = settings_of(&client, &index)?;
        let mut results = Vec::with_capacity(documents.len());
        let mut requests = Vec::new();
        for (i, d) in documents.into_iter().enumerate() {
            let at = format!("documents[{i}].body");
            let checked = validate::id(&format!("documents[{i}].id"), &d.id)
                .and_then(|()| validate::object(&at, &d.body))
                .and_then(|body| validate::no_other_object_id(&at, &d.id, &body).map(|()| body));
            match checked {
                Ok(mut body) => {
                    body.insert("objectID".into(), json!(d.id));
                    requests.push(json!({"action": "addObject", "body": body}));
                    results.push(Ok(d.id));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        batch(&client, &full, requests)?;
        Ok(results)
    }

    fn update_documents(
        index: String,
        updates: Vec<PartialUpdate>,
    ) -> Result<Vec<Result<String, Error>>, Error> {
        validate::index_name(&index)?;
        validate::batch("updates", updates.len())?;
        let cfg = Config::load()?;
        let client = Client::new(&cfg);
        let (full, _) = settings_of(&client, &index)?;
        let checked: Vec<Result<Change, Error>> = updates
            .into_iter()
            .enumerate()
            .map(|(i, u)| {
                validate::id(&format!("updates[{i}].id"), &u.id)?;
                let at = format!("updates[{i}].changes");
                let changes = validate::object(&at, &u.changes)?;
                validate::no_other_object_id(&at, &u.id, &changes)?;
                Ok((u.id, changes))
            })
            .collect();
        // The stored documents, to answer not-found per item and check merged sizes
        // (Algolia's partialUpdateObjectNoCreate would silently skip a missing one).
        let mut wanted: Vec<&str> = Vec::new();
        for (id, _) in checked.iter().flatten() {
            if !wanted.contains(&id.as_str()) {
                wanted.push(id);
            }
        }
        let mut stored: HashMap<String, Value> = HashMap::new();
        if !wanted.is_empty() {
            let requests: Vec<Value> = wanted
                .iter()
                .map(|id| json!({"indexName": full, "objectID": id}))
                .collect();
            let answer =
                client.post_read("/1/indexes/*/objects", &json!({ "requests": requests }))?;
            let found = answer
                .get("results")
                .and_then(Value::as_array)
                .ok_or_else(|| Error::internal("Algolia's getObjects answer has no results"))?;
            for (id, record) in wanted.iter().zip(found) {
                if let Value::Object(mut o) = record.clone() {
                    o.remove("objectID");
                    stored.insert(id.to_string(), Value::Object(o));
                }
            }
        }
        let mut results = Vec::with_capacity(checked.len());
        let mut requests = Vec::new();
        for item in checked {
            let (id, changes) = match item {
                Ok(v) => v,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let Some(Value::Object(current)) = stored.get(&id) else {
                results.push(Err(Error::not_found(format!(
                    "document {id:?} does not exist in index {index:?}"
                ))));
                continue;
            };
            let mut merged = current.clone();
            for (k, v) in &changes {
                merged.insert(k.clone(), v.clone());
            }
            let merged = Value::Object(merged);
            if let Err(e) = validate::merged(&id, &merged) {
                results.push(Err(e));
                continue;
            }
            stored.insert(id.clone(), merged);
            let mut body = changes;
            body.insert("objectID".into(), json!(id));
            requests.push(json!({"action": "partialUpdateObjectNoCreate", "body": body}));
            results.push(Ok(id));
        }
        batch(&client, &full, requests)?;
        Ok(results)
    }

    fn delete_documents(
        index: String,
        ids: Vec<String>,
    ) -> Result<Vec<Result<String, Error>>, Error> {
        validate::index_name(&index)?;
        validate::batch("ids", ids.len())?;
        let cfg = Config::load()?;
        let client = Client::new(&cfg);
        let (full, _) = settings_of(&client, &index)?;
        let mut results = Vec::with_capacity(ids.len());
        let mut requests = Vec::new();
        for (i, id) in ids.into_iter().enumerate() {
            match validate::id(&format!("ids[{i}]"), &id) {
                Ok(()) => {
                    requests.push(json!({"action": "deleteObject", "body": {"objectID": id}}));
                    results.push(Ok(id));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        batch(&client, &full, requests)?;
        Ok(results)
    }

    fn get_document(index: String, id: String) -> Result<Document, Error> {
        validate::index_name(&index)?;
        validate::id("id", &id)?;
        let cfg = Config::load()?;
        let client = Client::new(&cfg);
        let full = cfg.full_name(&index);
        match client.get(&format!("/1/indexes/{}/{}", encode(&full), encode(&id))) {
            Ok(Value::Object(mut record)) => {
                record.remove("objectID");
                Ok(Document {
                    id,
                    body: Value::Object(record).to_string(),
                })
            }
            Ok(other) => Err(Error::internal(format!(
                "Algolia answered a record that is not an object: {other}"
            ))),
            Err(e) if e.kind == ErrorKind::NotFound => {
                let index_missing = e
                    .provider_message
                    .as_deref()
                    .is_some_and(|m| m.contains("Index does not exist"));
                let err = if index_missing {
                    Error::not_found(format!("index {index:?} does not exist"))
                } else {
                    Error::not_found(format!("document {id:?} does not exist in index {index:?}"))
                };
                Err(err.with_provider(e.provider_code, e.provider_message))
            }
            Err(e) => Err(e),
        }
    }

    fn search(index: String, request: SearchRequest) -> Result<SearchResult, Error> {
        validate::index_name(&index)?;
        let cfg = Config::load()?;
        let client = Client::new(&cfg);
        let (full, raw) = settings_of(&client, &index)?;
        let settings = wire::from_algolia(&full, &raw);
        let window = raw
            .get("paginationLimitedTo")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_WINDOW, |w| w as usize);
        let checked = validate::search(&index, &settings, &request, window)?;
        let params = wire::query_params(&cfg, &settings, &request, &checked);
        let target = wire::target(&full, &request);
        let answer = client
            .post_read(&format!("/1/indexes/{}/query", encode(&target)), &params)
            .map_err(|e| {
                if e.kind == ErrorKind::NotFound && target != full {
                    Error::not_found(format!(
                        "the replica index that sorts {index:?} does not exist; run update-settings to make it"
                    ))
                    .with_provider(e.provider_code, e.provider_message)
                } else {
                    e
                }
            })?;
        wire::result(&answer, &settings, &request, &checked, window)
    }

    fn health() -> HealthStatus {
        let cfg = match Config::load() {
            Ok(c) => c,
            Err(e) => {
                return HealthStatus {
                    ok: false,
                    detail: e.describe(),
                }
            }
        };
        let client = Client::new(&cfg);
        match all_indexes(&client) {
            Ok(items) => {
                let own = own(&cfg, &items);
                HealthStatus {
                    ok: true,
                    detail: format!(
                        "Algolia application {}: {} indexes with prefix {}, {} documents",
                        cfg.app_id.as_deref().unwrap_or("(hosts from config)"),
                        own.len(),
                        cfg.index_prefix,
                        own.iter().map(|(_, _, n)| n).sum::<u64>()
                    ),
                }
            }
            Err(e) => HealthStatus {
                ok: false,
                detail: e.describe(),
            },
        }
    }
}

impl Lifecycle for Algolia {
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

switchyard_sdk::export_search!(Algolia);
