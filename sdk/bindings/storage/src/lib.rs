//! `wit-bindgen` bindings of the storage contract, generated for the embedded world
//! `switchyard:storage/embedded-adapter@0.1.0`.
//!
//! Use them through `switchyard_sdk::storage`. The shared types and the log, config and
//! buffer imports are mapped onto `switchyard-bindings-base`, so `Error` is one Rust type
//! in every contract; `wasi:filesystem/{types,preopens}` map onto the `wasi` crate like the
//! other WASI interfaces, so `wasi::filesystem` is the one filesystem API of an adapter.
//! Generated here: the contract's `switchyard:storage/types` interface and the
//! `switchyard:adapter/signing` import (the host signs URLs for the embedded default).
//!
//! One crate serves both storage worlds. `embedded-adapter` is `adapter` plus two imports
//! (the preopened directory, URL signing) and the same export; `wit-component` keeps only
//! the imports a module actually calls, so a cloud adapter built with these bindings that
//! never calls `signing` or `wasi::filesystem` is a component of the plain
//! `switchyard:storage/adapter@0.1.0` world. (A second crate for the plain world could not
//! sit next to this one anyway: both would define the same exported macros.)
#![allow(missing_docs, clippy::all)]

switchyard_bindings_base::generate_contract!({
    wit: "../../../wit",
    world: "switchyard:storage/embedded-adapter@0.1.0",
    contract: "../../../wit/storage",
    with: {
        "wasi:filesystem/types@0.2.4": ::wasi::filesystem::types,
        "wasi:filesystem/preopens@0.2.4": ::wasi::filesystem::preopens,
        "switchyard:storage/types@0.1.0": generate,
        "switchyard:adapter/signing@0.1.0": generate,
    },
    pub_export_macro: true,
    export_macro_name: "export_storage",
    default_bindings_module: "switchyard_sdk::storage::bindings",
});
