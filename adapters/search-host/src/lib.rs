#![doc = include_str!("../README.md")]
#![allow(missing_docs, clippy::all)]

switchyard_bindings_base::host_bridge! {
    world: "switchyard:search/host-bridge@0.1.0",
    contract: "../../wit/search",
    types: "switchyard:search/types@0.1.0",
}

use bindings::exports::switchyard::search::search::Guest as Search;
use bindings::switchyard::search::search as host;
use bindings::switchyard::search::types::*;
use switchyard_bindings_base::switchyard::types::types::{Error, HealthStatus};

impl Search for Bridge {
    fn create_index(name: String, settings: IndexSettings) -> Result<IndexInfo, Error> {
        host::create_index(&name, &settings)
    }
    fn update_settings(name: String, settings: IndexSettings) -> Result<IndexInfo, Error> {
        host::update_settings(&name, &settings)
    }
    fn get_index(name: String) -> Result<IndexInfo, Error> {
        host::get_index(&name)
    }
    fn list_indexes() -> Result<Vec<IndexInfo>, Error> {
        host::list_indexes()
    }
    fn delete_index(name: String) -> Result<(), Error> {
        host::delete_index(&name)
    }
    fn index_documents(
        index: String,
        documents: Vec<Document>,
    ) -> Result<Vec<Result<String, Error>>, Error> {
        host::index_documents(&index, &documents)
    }
    fn update_documents(
        index: String,
        updates: Vec<PartialUpdate>,
    ) -> Result<Vec<Result<String, Error>>, Error> {
        host::update_documents(&index, &updates)
    }
    fn delete_documents(
        index: String,
        ids: Vec<String>,
    ) -> Result<Vec<Result<String, Error>>, Error> {
        host::delete_documents(&index, &ids)
    }
    fn get_document(index: String, id: String) -> Result<Document, Error> {
        host::get_document(&index, &id)
    }
    fn search(index: String, request: SearchRequest) -> Result<SearchResult, Error> {
        host::search(&index, &request)
    }
    fn health() -> HealthStatus {
        host::health()
    }
}
