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

crate::generate_contract!({
    wit: "../../../wit",
    world: "switchyard:adapter/base@0.1.0",
    with: {
        "switchyard:types/types@0.1.0": generate,
    },
    generate_unused_types: true,
    pub_export_macro: true,
    export_macro_name: "export_base",
    default_bindings_module: "switchyard_sdk::base::bindings",
});

/// `wit_bindgen::generate!` for a Switchyard world, with what every world's bindings share:
///
/// - `wit` names the workspace's `wit/` folder from the calling crate (`"../../wit"` from
///   `adapters/<name>`, `"../../../wit"` from `sdk/bindings/<name>`); the WASI, types and
///   adapter folders under it are on the path, and the WASI interfaces map onto the `wasi`
///   crate.
/// - `contract` (every world but the base one) adds the contract's folder, and maps the shared
///   types and the log, config and buffer imports onto this crate, so `Error` is one Rust type
///   in every contract.
/// - `with` adds entries to that map; anything after it goes to `generate!` as is.
///
/// The calling crate depends on `wit-bindgen`, `wasi` and this crate.
#[macro_export]
macro_rules! generate_contract {
    ({ wit: "../../wit", $($rest:tt)* }) => {
        $crate::generate_contract!(@paths [
            "../../wit/deps/io", "../../wit/deps/clocks", "../../wit/deps/random",
            "../../wit/deps/filesystem", "../../wit/deps/sockets", "../../wit/deps/cli",
            "../../wit/deps/http", "../../wit/types", "../../wit/adapter",
        ] $($rest)*);
    };
    ({ wit: "../../../wit", $($rest:tt)* }) => {
        $crate::generate_contract!(@paths [
            "../../../wit/deps/io", "../../../wit/deps/clocks", "../../../wit/deps/random",
            "../../../wit/deps/filesystem", "../../../wit/deps/sockets", "../../../wit/deps/cli",
            "../../../wit/deps/http", "../../../wit/types", "../../../wit/adapter",
        ] $($rest)*);
    };
    // The base world: the WIT folders and the WASI interfaces only.
    (@paths [$($path:tt,)*]
        world: $world:tt,
        with: { $($with:tt)* }
        $(, $($option:tt)*)?
    ) => {
        ::wit_bindgen::generate!({
            world: $world,
            path: [$($path),*],
            with: {
                "wasi:io/error@0.2.4": ::wasi::io::error,
                "wasi:io/poll@0.2.4": ::wasi::io::poll,
                "wasi:io/streams@0.2.4": ::wasi::io::streams,
                "wasi:clocks/monotonic-clock@0.2.4": ::wasi::clocks::monotonic_clock,
                "wasi:clocks/wall-clock@0.2.4": ::wasi::clocks::wall_clock,
                "wasi:random/random@0.2.4": ::wasi::random::random,
                "wasi:http/types@0.2.4": ::wasi::http::types,
                "wasi:http/outgoing-handler@0.2.4": ::wasi::http::outgoing_handler,
                $($with)*
            },
            $($($option)*)?
        });
    };
    // A contract's world: its folder added, the base world's interfaces mapped onto this crate.
    (@paths [$($path:tt,)*]
        world: $world:tt,
        contract: $contract:tt,
        with: { $($with:tt)* }
        $(, $($option:tt)*)?
    ) => {
        $crate::generate_contract!(@paths [$($path,)* $contract,]
            world: $world,
            with: {
                "switchyard:types/types@0.1.0": ::switchyard_bindings_base::switchyard::types::types,
                "switchyard:adapter/log@0.1.0": ::switchyard_bindings_base::switchyard::adapter::log,
                "switchyard:adapter/config@0.1.0": ::switchyard_bindings_base::switchyard::adapter::config,
                "switchyard:adapter/buffer@0.1.0": ::switchyard_bindings_base::switchyard::adapter::buffer,
                $($with)*
            }
            $(, $($option)*)?
        );
    };
}

/// A host bridge (`adapters/<contract>-host`): the bindings of its `host-bridge` world in a
/// `bindings` module (`types` is the contract's own types interface), a `Bridge` type whose
/// lifecycle does nothing (the host holds all state), and the component's exports. The bridge
/// then implements its contract's `Guest` on `Bridge`, each function calling the host's import
/// of the same name.
#[macro_export]
macro_rules! host_bridge {
    (world: $world:tt, contract: $contract:tt, types: $types:tt $(,)?) => {
        mod bindings {
            $crate::generate_contract!({
                wit: "../../wit",
                world: $world,
                contract: $contract,
                with: { $types: generate },
            });
        }

        /// The bridge: each export calls the host's import of the same name.
        struct Bridge;

        impl bindings::exports::switchyard::adapter::lifecycle::Guest for Bridge {
            fn tick() -> Result<(), $crate::switchyard::types::types::Error> {
                Ok(())
            }
            fn drain() -> Result<(), $crate::switchyard::types::types::Error> {
                Ok(())
            }
        }

        bindings::export!(Bridge with_types_in bindings);
    };
}
