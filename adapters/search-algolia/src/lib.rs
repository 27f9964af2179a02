#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `config`: the binding's config keys, validated (hosts, tenant prefix, time-outs).
//! - `transport`: requests under Algolia's retry strategy (host fallback, backoff, 429) and
//!   waiting for tasks.
//! - `validate`: the contract's input rules.
//! - `mapping`: settings, filters, queries and answers between the contract and Algolia.

pub mod config;
pub mod mapping;
pub mod transport;
pub mod validate;

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use switchyard_sdk::http::HttpMethod;
use switchyard_sdk::search::{
    Document, IndexInfo, IndexSettings, Lifecycle, PartialUpdate, Search, SearchRequest,
    SearchResult, SortOrder,
};
use switchyard_sdk::types::{Error, ErrorKind, HealthStatus};

use config::Config;
use transport::{encode, Client};

/// A checked partial update: the document's id and the fields to change.
type Change = (String, Map<String, Value>);

/// The Algolia search adapter.
pub struct Algolia;

/// Algolia's default `paginationLimitedTo`: the last hit a page may reach.
const DEFAULT_WINDOW: usize = 1000;

/// The settings of the tenant's index `name`: `not-found` naming it when Algolia has no
/// such index (or it is one of the adapter's sort replicas).
fn settings_of(client: &Client, name: &str) -> Result<(String, Value), Error> {
    let full = client.cfg.full_name(name);
    match client.get(&format!("/1/indexes/{}/settings", encode(&full))) {
        Ok(s) if s.get("primary").is_none() => Ok((full, s)),
        Ok(_) => Err(no_index(name, None)),
        Err(e) if e.kind == ErrorKind::NotFound => Err(no_index(name, Some(e))),
        Err(e) => Err(e),
    }
}

fn no_index(name: &str, cause: Option<Error>) -> Error {
    let err = Error::not_found(format!("index {name:?} does not exist"));
    match cause {
        Some(c) => err.with_provider(c.provider_code, c.provider_message),
        None => err,
    }
}

/// How many records an index holds: an empty query asking for no hit.
fn count(client: &Client, full: &str) -> Result<u64, Error> {
    let answer = client.post_read(
        &format!("/1/indexes/{}/query", encode(full)),
        &json!({"query": "", "hitsPerPage": 0, "attributesToRetrieve": [], "attributesToHighlight": [], "analytics": false}),
    )?;
    answer
        .get("nbHits")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::internal(format!("Algolia's answer for index {full} has no nbHits")))
}

/// Writes the settings of `full` and of its sort replicas, removes the replicas it no
/// longer needs, and waits for every task.
fn apply_settings(
    client: &Client,
    full: &str,
    settings: &IndexSettings,
    old_replicas: &[String],
) -> Result<(), Error> {
    let answer = client.write(
        HttpMethod::Put,
        &format!(
            "/1/indexes/{}/settings?forwardToReplicas=true",
            encode(full)
        ),
        Some(&mapping::primary_settings(full, settings)),
    )?;
    client.wait_task(full, &answer)?;
    for field in &settings.sortable {
        for order in [SortOrder::Ascending, SortOrder::Descending] {
            let replica = mapping::replica(full, field, order);
            if old_replicas.contains(&replica) {
                continue;
            }
            let answer = client.write(
                HttpMethod::Put,
                &format!("/1/indexes/{}/settings", encode(&replica)),
                Some(&mapping::replica_settings(settings, field, order)),
            )?;
            client.wait_task(&replica, &answer)?;
        }
    }
    let kept = mapping::replicas(full, &settings.sortable);
    for gone in old_replicas.iter().filter(|r| !kept.contains(r)) {
        delete(client, gone)?;
    }
    Ok(())
}

/// Deletes Algolia index `full` and waits; an index already gone is fine.
fn delete(client: &Client, full: &str) -> Result<(), Error> {
    match client.write(
        HttpMethod::Delete,
        &format!("/1/indexes/{}", encode(full)),
        None,
    ) {
        Ok(answer) => client.wait_task(full, &answer),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Sends one batch of operations to `full` and waits until it is searchable.
fn batch(client: &Client, full: &str, requests: Vec<Value>) -> Result<(), Error> {
    if requests.is_empty() {
        return Ok(());
    }
    let answer = client.write(
        HttpMethod::Post,
        &format!("/1/indexes/{}/batch", encode(full)),
        Some(&json!({ "requests": requests })),
    )?;
    client.wait_task(full, &answer)
}

/// Every Algolia index the key lists (all pages).
fn all_indexes(client: &Client) -> Result<Vec<Value>, Error> {
    let mut items = Vec::new();
    let mut page = 0u64;
    loop {
        let answer = client.get(&format!("/1/indexes?page={page}&hitsPerPage=100"))?;
        if let Some(list) = answer.get("items").and_then(Value::as_array) {
            items.extend(list.iter().cloned());
        }
        let pages = answer.get("nbPages").and_then(Value::as_u64).unwrap_or(1);
        page += 1;
        if page >= pages {
            return Ok(items);
        }
    }
}

/// The tenant's own primary indexes among `items`: (tenant's name, Algolia name, entries).
fn own<'a>(cfg: &Config, items: &'a [Value]) -> Vec<(String, &'a str, u64)> {
    let mut out: Vec<(String, &str, u64)> = items
        .iter()
        .filter(|i| i.get("primary").is_none())
        .filter_map(|i| {
            let full = i.get("name")?.as_str()?;
            let name = cfg.own_name(full)?;
            validate::index_name(name).ok()?;
            Some((
                name.to_string(),
                full,
                i.get("entries").and_then(Value::as_u64).unwrap_or(0),
            ))
        })
        .collect();
    out.sort();
    out
}

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
        apply_settings(&client, &full, &settings, &mapping::replica_names(&old))?;
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
            settings: mapping::from_algolia(&full, &settings),
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
                    settings: mapping::from_algolia(full, &settings),
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
        for replica in mapping::replica_names(&settings) {
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
        let settings = mapping::from_algolia(&full, &raw);
        let window = raw
            .get("paginationLimitedTo")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_WINDOW, |w| w as usize);
        let checked = validate::search(&index, &settings, &request, window)?;
        let params = mapping::query_params(&cfg, &settings, &request, &checked);
        let target = mapping::target(&full, &request);
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
        mapping::result(&answer, &settings, &request, &checked, window)
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
