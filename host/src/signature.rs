//! The contract functions a loaded component exports, read once at load: each one's export
//! index, parameter names and types, so a call by name (the gateway's) looks nothing up in
//! the component's types again.

use std::collections::HashMap;

use wasmtime::component::types::{ComponentItem, Type};
use wasmtime::component::{Component, ComponentExportIndex};
use wasmtime::Engine;

use crate::service::Service;

/// The lifecycle interface every adapter exports.
pub const LIFECYCLE: &str = "switchyard:adapter/lifecycle@0.1.0";

/// A contract function and its parameter names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FunctionInfo {
    /// The function's WIT name.
    pub name: String,
    /// Its parameters' WIT names, in order.
    pub params: Vec<String>,
}

/// One exported function, ready to be called by index.
#[derive(Clone)]
pub struct Signature {
    /// Where the function is among the component's exports.
    pub index: ComponentExportIndex,
    /// Its parameters, in order.
    pub params: Vec<(String, Type)>,
    /// How many results it has.
    pub results: usize,
}

/// Every function of a component's contract export and of its lifecycle export.
#[derive(Clone, Default)]
pub struct Signatures {
    contract: HashMap<String, Signature>,
    /// Contract functions in the component's export order.
    order: Vec<FunctionInfo>,
    tick: Option<ComponentExportIndex>,
    drain: Option<ComponentExportIndex>,
}

impl Signatures {
    /// Reads the functions `component` exports for `service`'s contract and its lifecycle.
    pub fn of(engine: &Engine, component: &Component, service: Service) -> Self {
        let mut out = Signatures::default();
        let interface = service.interface();
        let ty = component.component_type();
        if let (Some(ComponentItem::ComponentInstance(iface)), Some(parent)) = (
            ty.get_export(engine, &interface).map(|e| e.ty),
            component.get_export_index(None, &interface),
        ) {
            for (name, item) in iface.exports(engine) {
                let ComponentItem::ComponentFunc(f) = item.ty else {
                    continue;
                };
                let Some(index) = component.get_export_index(Some(&parent), name) else {
                    continue;
                };
                let params: Vec<(String, Type)> =
                    f.params().map(|(p, t)| (p.to_string(), t)).collect();
                out.order.push(FunctionInfo {
                    name: name.to_string(),
                    params: params.iter().map(|(p, _)| p.clone()).collect(),
                });
                out.contract.insert(
                    name.to_string(),
                    Signature {
                        index,
                        params,
                        results: f.results().len(),
                    },
                );
            }
        }
        if let Some(parent) = component.get_export_index(None, LIFECYCLE) {
            out.tick = component.get_export_index(Some(&parent), "tick");
            out.drain = component.get_export_index(Some(&parent), "drain");
        }
        out
    }

    /// The contract function `name`.
    pub fn get(&self, name: &str) -> Option<&Signature> {
        self.contract.get(name)
    }

    /// The contract's functions, in export order.
    pub fn functions(&self) -> &[FunctionInfo] {
        &self.order
    }

    /// `lifecycle.tick` (`drain` false) or `lifecycle.drain` (`drain` true).
    pub fn lifecycle(&self, drain: bool) -> Option<&ComponentExportIndex> {
        if drain {
            self.drain.as_ref()
        } else {
            self.tick.as_ref()
        }
    }
}
