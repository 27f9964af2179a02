//! Every `bindgen!` call of the host, generated from `wit/` (the single source of truth).
//!
//! `base` holds the interfaces every adapter world shares (shared types, the log, config and
//! buffer imports, the lifecycle export); each contract module reuses them through `with`, so
//! one Rust type stands for each WIT type whatever the contract.

/// The `switchyard:adapter/base` world: shared types and the capabilities every adapter gets.
pub mod base {
    wasmtime::component::bindgen!({
        path: [
            "../wit/deps/io", "../wit/deps/clocks", "../wit/deps/random", "../wit/deps/filesystem",
            "../wit/deps/sockets", "../wit/deps/cli", "../wit/deps/http",
            "../wit/types", "../wit/adapter",
        ],
        world: "switchyard:adapter/base@0.1.0",
        exports: { default: async },
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        },
    });
}

/// One contract's `adapter` world, reusing `base` for everything the contracts share.
macro_rules! contract {
    ($(#[$doc:meta])* $module:ident, $dir:literal, $world:literal) => {
        $(#[$doc])*
        pub mod $module {
            wasmtime::component::bindgen!({
                path: [
                    "../wit/deps/io", "../wit/deps/clocks", "../wit/deps/random",
                    "../wit/deps/filesystem", "../wit/deps/sockets", "../wit/deps/cli",
                    "../wit/deps/http", "../wit/types", "../wit/adapter", $dir,
                ],
                world: $world,
                exports: { default: async },
                with: {
                    "wasi": wasmtime_wasi::p2::bindings,
                    "wasi:http": wasmtime_wasi_http::p2::bindings::http,
                    "switchyard:types": crate::bindings::base::switchyard::types,
                    "switchyard:adapter/log": crate::bindings::base::switchyard::adapter::log,
                    "switchyard:adapter/config": crate::bindings::base::switchyard::adapter::config,
                    "switchyard:adapter/buffer": crate::bindings::base::switchyard::adapter::buffer,
                },
            });
        }
    };
}

contract!(
    /// The `switchyard:analytics/adapter` world.
    analytics, "../wit/analytics", "switchyard:analytics/adapter@0.1.0"
);
contract!(
    /// The `switchyard:notification/adapter` world.
    notification, "../wit/notification", "switchyard:notification/adapter@0.1.0"
);
contract!(
    /// The `switchyard:email/adapter` world.
    email, "../wit/email", "switchyard:email/adapter@0.1.0"
);
contract!(
    /// The `switchyard:payment/adapter` world.
    payment, "../wit/payment", "switchyard:payment/adapter@0.1.0"
);

contract!(
    /// The `switchyard:storage/adapter` world.
    storage, "../wit/storage", "switchyard:storage/adapter@0.1.0"
);

/// `switchyard:adapter/signing`: signed server URLs, imported by the embedded storage default.
pub mod signing {
    wasmtime::component::bindgen!({
        path: [
            "../wit/deps/io", "../wit/deps/clocks", "../wit/deps/random", "../wit/deps/filesystem",
            "../wit/deps/sockets", "../wit/deps/cli", "../wit/deps/http",
            "../wit/types", "../wit/adapter",
        ],
        inline: "
            package switchyard:host-signing;
            world signing {
                import switchyard:adapter/signing@0.1.0;
            }
        ",
        world: "switchyard:host-signing/signing",
        with: {
            "switchyard:types": crate::bindings::base::switchyard::types,
        },
    });
}

contract!(
    /// The `switchyard:messaging/adapter` world.
    messaging, "../wit/messaging", "switchyard:messaging/adapter@0.1.0"
);

/// A contract's `host-bridge` world: the host implements the contract interface as an import
/// (see `native`); the contract's types are the `contract!` module's, so one Rust type stands
/// for each of them.
macro_rules! bridge {
    ($(#[$doc:meta])* $module:ident, $dir:literal, $world:literal, $types:literal => $types_path:path) => {
        $(#[$doc])*
        pub mod $module {
            wasmtime::component::bindgen!({
                path: [
                    "../wit/deps/io", "../wit/deps/clocks", "../wit/deps/random",
                    "../wit/deps/filesystem", "../wit/deps/sockets", "../wit/deps/cli",
                    "../wit/deps/http", "../wit/types", "../wit/adapter", $dir,
                ],
                world: $world,
                imports: { default: async },
                exports: { default: async },
                with: {
                    "wasi": wasmtime_wasi::p2::bindings,
                    "wasi:http": wasmtime_wasi_http::p2::bindings::http,
                    "switchyard:types": crate::bindings::base::switchyard::types,
                    "switchyard:adapter/log": crate::bindings::base::switchyard::adapter::log,
                    "switchyard:adapter/config": crate::bindings::base::switchyard::adapter::config,
                    "switchyard:adapter/buffer": crate::bindings::base::switchyard::adapter::buffer,
                    $types: $types_path,
                },
            });
        }
    };
}

contract!(
    /// The `switchyard:logging/adapter` world.
    logging, "../wit/logging", "switchyard:logging/adapter@0.1.0"
);
contract!(
    /// The `switchyard:monitoring/adapter` world.
    monitoring, "../wit/monitoring", "switchyard:monitoring/adapter@0.1.0"
);

bridge!(
    /// The `switchyard:logging/host-bridge` world: the host side of `adapters/logging-host`.
    logging_bridge, "../wit/logging", "switchyard:logging/host-bridge@0.1.0",
    "switchyard:logging/types" => crate::bindings::logging::switchyard::logging::types
);
bridge!(
    /// The `switchyard:monitoring/host-bridge` world: the host side of `adapters/monitoring-host`.
    monitoring_bridge, "../wit/monitoring", "switchyard:monitoring/host-bridge@0.1.0",
    "switchyard:monitoring/types" => crate::bindings::monitoring::switchyard::monitoring::types
);
bridge!(
    /// The `switchyard:messaging/host-bridge` world: the host side of `adapters/messaging-host`.
    messaging_bridge, "../wit/messaging", "switchyard:messaging/host-bridge@0.1.0",
    "switchyard:messaging/types" => crate::bindings::messaging::switchyard::messaging::types
);

contract!(
    /// The `switchyard:search/adapter` world.
    search, "../wit/search", "switchyard:search/adapter@0.1.0"
);
bridge!(
    /// The `switchyard:search/host-bridge` world: the host side of `adapters/search-host`.
    search_bridge, "../wit/search", "switchyard:search/host-bridge@0.1.0",
    "switchyard:search/types" => crate::bindings::search::switchyard::search::types
);
