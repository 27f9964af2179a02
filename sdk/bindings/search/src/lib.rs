//! `wit-bindgen` bindings of the search world, `switchyard:search/adapter@0.1.0`.
//!
//! Use them through `switchyard_sdk::search`. The shared types and the log, config and
//! buffer imports are mapped onto `switchyard-bindings-base`, so `Error` is one Rust type
//! in every contract.
#![allow(missing_docs, clippy::all)]

wit_bindgen::generate!({
    world: "switchyard:search/adapter@0.1.0",
    path: [
        "../../../wit/deps/io",
        "../../../wit/deps/clocks",
        "../../../wit/deps/random",
        "../../../wit/deps/filesystem",
        "../../../wit/deps/sockets",
        "../../../wit/deps/cli",
        "../../../wit/deps/http",
        "../../../wit/types",
        "../../../wit/adapter",
        "../../../wit/search",
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
    pub_export_macro: true,
    export_macro_name: "export_search",
    default_bindings_module: "switchyard_sdk::search::bindings",
});
