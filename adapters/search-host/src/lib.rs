#![doc = include_str!("../README.md")]
#![allow(missing_docs, clippy::all)]

mod bindings {
    wit_bindgen::generate!({
        world: "switchyard:search/host-bridge@0.1.0",
        path: [
            "../../wit/deps/io", "../../wit/deps/clocks", "../../wit/deps/random",
            "../../wit/deps/filesystem", "../../wit/deps/sockets", "../../wit/deps/cli",
            "../../wit/deps/http", "../../wit/types", "../../wit/adapter", "../../wit/search",
        ],
        with: {
            "switchyard:types/types@0.1.0": ::switchyard_bindings_base::switchyard::types::types,
            "switchyard:adapter/log@0.1.0": ::switchyard_bindings_base::switchyard::adapter::log,
            "switchyard:adapter/config@0.1.0": ::switchyard_bindings_base::switchyard::adapter::config,
            "switchyard:adapter/buffer@0.1.0": ::switchyard_bindings_base::switchyard::adapter::buffer,
            "wasi:io/error@0.2.4": ::wasi::io::error,
            "wasi:io/poll@0.2.4": ::wasi::io::poll,
            "wasi:io/streams@0.2.4": ::wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.4": ::wasi::clocks::monotonic_clock,
            "wasi:clocks/wall-clock@0.2.4": ::wasi::clocks::wall_clock,
            "wasi:random/random@0.2.4": ::wasi::random::random,
            "wasi:http/types@0.2.4": ::wasi::http::types,
            "wasi:http/outgoing-handler@0.2.4": ::wasi::http::outgoing_handler,
            "switchyard:search/types@0.1.0": generate,
        },
    });
}

use bindings::exports::switchyard::adapter::lifecycle::Guest as Lifecycle;
use bindings::exports::switchyard::search::search::Guest as Search;
use bindings::switchyard::search::search as host;
use bindings::switchyard::search::types::*;
use switchyard_bindings_base::switchyard::types::types::{Error, HealthStatus};

/// The bridge: each export calls the host's import of the same name.
struct Bridge;

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

impl Lifecycle for Bridge {
    fn tick() -> Result<(), Error> {
        Ok(())
    }
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

bindings::export!(Bridge with_types_in bindings);
