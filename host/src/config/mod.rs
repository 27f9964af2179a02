//! Configuration: the TOML file and the Rust API's [`BindingSpec`].
//!
//! Every string value may name environment variables as `${NAME}`; secrets should come from
//! `{ env = "NAME" }` or `{ file = "..." }` sources. docs/configuration.md documents every key.
//!
//! ```toml
//! [server]                  # the server's section; the host reads its signing keys
//! public_url = "https://files.example.com"
//! signing_key = { env = "SWITCHYARD_SIGNING_KEY" }
//!
//! [runtime]
//! pooling = true            # pooling instance allocator (see RuntimeOptions)
//! watch = true              # hot-swap a binding when its component file changes
//!
//! [tenants.acme.analytics]
//! component = "../target/components/analytics-posthog.wasm"  # relative to this file
//! allow = ["https://us.i.posthog.com"]
//! config = { host = "https://us.i.posthog.com", flush_at = 20 }
//! limits = { deadline_ms = 10000, memory_mib = 64 }
//! credentials = [
//!   { host = "https://us.i.posthog.com", inject = "json-body", field = "api_key", secret = { env = "POSTHOG_API_KEY" } },
//! ]
//! ```

//!
//! - [`file`]: the file ([`FileConfig`], [`RuntimeOptions`], [`SigningOptions`]).
//! - [`binding`]: one binding ([`BindingConfig`], [`BindingSpec`], [`ComponentSource`]).
//! - [`env`]: `${NAME}` expansion.

pub mod binding;
pub mod env;
pub mod file;

pub use crate::native::{Backend, BackendSettings};
pub use binding::{BindingConfig, BindingSpec, ComponentSource, FILES_GUEST_PATH};
pub use env::{expand_env, EnvError};
pub use file::{parse_toml, FileConfig, RuntimeOptions, SigningOptions, DEFAULT_LISTEN};
