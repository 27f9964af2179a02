//! The interfaces that only declare types: `switchyard:types/types` and the `types`
//! interface of each contract. They have no functions, so their view borrows nothing.

use wasmtime::component::{HasData, Linker};

use crate::bindings::base::switchyard::types::types as shared;
use crate::bindings::storage::switchyard::storage::types as storage;

/// The view of a type-only interface: nothing.
pub struct Types;

impl HasData for Types {
    type Data<'a> = Types;
}

impl shared::Host for Types {}

impl storage::Host for Types {}

/// Links `switchyard:types/types` and `switchyard:storage/types` (the host-native
/// contracts link their own `types` with their views).
pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    shared::add_to_linker::<T, Types>(linker, |_| Types)?;
    storage::add_to_linker::<T, Types>(linker, |_| Types)
}
