//! `wit-bindgen` bindings of the payment world, `switchyard:payment/adapter@0.1.0`.
//!
//! Use them through `switchyard_sdk::payment`. The shared types and the log, config and
//! buffer imports are mapped onto `switchyard-bindings-base`, so `Error` is one Rust type
//! in every contract.
#![allow(missing_docs, clippy::all)]

switchyard_bindings_base::generate_contract!({
    wit: "../../../wit",
    world: "switchyard:payment/adapter@0.1.0",
    contract: "../../../wit/payment",
    with: {},
    pub_export_macro: true,
    export_macro_name: "export_payment",
    default_bindings_module: "switchyard_sdk::payment::bindings",
});
