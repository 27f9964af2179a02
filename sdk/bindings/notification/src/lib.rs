//! `wit-bindgen` bindings of the notification world, `switchyard:notification/adapter@0.1.0`.
//!
//! Use them through `switchyard_sdk::notification`. The shared types and the log, config and
//! buffer imports are mapped onto `switchyard-bindings-base`, so `Error` is one Rust type
//! in every contract.
#![allow(missing_docs, clippy::all)]

switchyard_bindings_base::generate_contract!({
    wit: "../../../wit",
    world: "switchyard:notification/adapter@0.1.0",
    contract: "../../../wit/notification",
    with: {},
    pub_export_macro: true,
    export_macro_name: "export_notification",
    default_bindings_module: "switchyard_sdk::notification::bindings",
});
