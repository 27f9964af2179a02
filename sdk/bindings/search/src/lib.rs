//! `wit-bindgen` bindings of the search world, `switchyard:search/adapter@0.1.0`.
//!
//! Use them through `switchyard_sdk::search`. The shared types and the log, config and
//! buffer imports are mapped onto `switchyard-bindings-base`, so `Error` is one Rust type
//! in every contract.
#![allow(missing_docs, clippy::all)]

switchyard_bindings_base::generate_contract!({
    wit: "../../../wit",
    world: "switchyard:search/adapter@0.1.0",
    contract: "../../../wit/search",
    with: {
        "switchyard:search/types@0.1.0": generate,
    },
    pub_export_macro: true,
    export_macro_name: "export_search",
    default_bindings_module: "switchyard_sdk::search::bindings",
});
