//! `wit-bindgen` bindings of the email world, `switchyard:email/adapter@0.1.0`.
//!
//! Use them through `switchyard_sdk::email`. The shared types and the log, config and
//! buffer imports are mapped onto `switchyard-bindings-base`, so `Error` is one Rust type
//! in every contract.
#![allow(missing_docs, clippy::all)]

switchyard_bindings_base::generate_contract!({
    wit: "../../../wit",
    world: "switchyard:email/adapter@0.1.0",
    contract: "../../../wit/email",
    with: {},
    pub_export_macro: true,
    export_macro_name: "export_email",
    default_bindings_module: "switchyard_sdk::email::bindings",
});
