//! `switchyard:adapter/config`: the binding's configuration, read-only.

use std::collections::BTreeMap;

use wasmtime::component::{HasData, Linker};

use crate::bindings::base::switchyard::adapter::config::{self, Host};

/// What a call may read: its binding's configuration.
pub struct ConfigView<'a> {
    /// The binding's `config` table.
    pub config: &'a BTreeMap<String, String>,
}

/// The [`HasData`] marker linking [`ConfigView`].
pub struct Config;

impl HasData for Config {
    type Data<'a> = ConfigView<'a>;
}

/// Links `switchyard:adapter/config`, reached through `view`.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> ConfigView<'_>,
) -> wasmtime::Result<()> {
    config::add_to_linker::<T, Config>(linker, view)
}

impl Host for ConfigView<'_> {
    fn get(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }

    fn all(&mut self) -> Vec<(String, String)> {
        self.config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}
