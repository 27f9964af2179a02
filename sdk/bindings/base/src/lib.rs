//! `wit-bindgen` bindings of the base world, `switchyard:adapter/base@0.1.0`.
//!
//! Use them through `switchyard_sdk::base` and `switchyard_sdk::types`. Each world's
//! bindings live in a crate of their own because every contract world exports
//! `switchyard:adapter/lifecycle`, and `wit-bindgen` names the exported macros after the
//! interface: two worlds in one crate would define the same `#[macro_export]` macro.
//!
//! The imports generated here (`switchyard:types/types`, `log`, `config`, `buffer`) are
//! the ones every contract's bindings reuse through `with`, so their Rust types are the
//! same in every contract.
#![allow(missing_docs, clippy::all)]

pub mod error;

wit_bindgen::generate!({
    world: "switchyard:adapter/base@0.1.0",
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
    ],
    with: {
        "switchyard:types/types@0.1.0": generate,
        "wasi:io/error@0.2.4": ::wasi::io::error,
        "wasi:io/poll@0.2.4": ::wasi::io::poll,
        "wasi:io/streams@0.2.4": ::wasi::io::streams,
        "wasi:clocks/monotonic-clock@0.2.4": ::wasi::clocks::monotonic_clock,
        "wasi:clocks/wall-clock@0.2.4": ::wasi::clocks::wall_clock,
        "wasi:random/random@0.2.4": ::wasi::random::random,
        "wasi:http/types@0.2.4": ::wasi::http::types,
        "wasi:http/outgoing-handler@0.2.4": ::wasi::http::outgoing_handler,
    },
    generate_unused_types: true,
    pub_export_macro: true,
    export_macro_name: "export_base",
    default_bindings_module: "switchyard_sdk::base::bindings",
});
