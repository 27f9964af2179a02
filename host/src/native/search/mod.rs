//! The search contract, host-native: an embedded tantivy index per search index, and the host
//! side of the `switchyard:search/search` import that `adapters/search-host` forwards to.
//!
//! Each tenant has one [`Engine`], kept in its binding's `files` directory under `search/` (so
//! it survives restarts) and in the [`crate::native::Backends`] registry (so it survives
//! swaps). Every function checks its input first, so the engine sees only valid requests.
//!
//! - `checks`: the contract's limits and input checks.
//! - `grant`: the tenant's engine for a binding's `files` directory.
//! - `view`: the host side of the import ([`SearchView`]).
//! - `engine`: one tenant's indexes and the operations on them.
//! - `index`: one index on disk, its settings file and current generation.
//! - `schema`: settings, the tantivy schema they give, and documents.
//! - `query`: a checked search run on an index; highlights.
//! - `collect`: facet counts and sort keys.

mod checks;
mod collect;
mod engine;
mod grant;
mod index;
mod query;
mod schema;
mod view;

pub use checks::{
    DEFAULT_FACET_VALUES, DEFAULT_LIMIT, MAX_BATCH, MAX_BODY, MAX_CONDITIONS, MAX_FACET_VALUES,
    MAX_FIELDS, MAX_ID, MAX_LIMIT, MAX_NAME, MAX_QUERY, MAX_TAG,
};
pub use engine::Engine;
pub use grant::{grant, GrantError};
pub use query::MAX_WINDOW;
pub use schema::MAX_KEYWORD;
pub use view::{add_to_linker, Search, SearchView};
