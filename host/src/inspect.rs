//! Inspecting a component file: what it imports, what it exports, which contract it implements.

use std::fmt;

use wasmtime::component::types::ComponentItem;
use wasmtime::component::Component;
use wasmtime::Engine;

use crate::error::{Error, Result};
use crate::service::Service;

/// What a component imports and exports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ComponentReport {
    /// Imported interfaces and functions, by name.
    pub imports: Vec<String>,
    /// Exported interfaces and functions, by name.
    pub exports: Vec<String>,
    /// The contract world it implements, e.g. `switchyard:analytics/adapter@0.1.0`.
    pub contract: Option<String>,
    /// Exported functions of the contract interface.
    pub functions: Vec<String>,
}

/// Compiles `bytes` (without instantiating) and reports its imports, exports and contract.
pub fn inspect(bytes: &[u8]) -> Result<ComponentReport> {
    let engine = Engine::default();
    let component = Component::new(&engine, bytes).map_err(|e| Error::InvalidComponent {
        component: "<inspected>".into(),
        service: "-".into(),
        message: format!("not a valid Wasm component: {}", e.root_cause()),
    })?;
    let ty = component.component_type();
    let imports = ty.imports(&engine).map(|(n, _)| n.to_string()).collect();
    let exports: Vec<String> = ty.exports(&engine).map(|(n, _)| n.to_string()).collect();
    let mut contract = None;
    let mut functions = Vec::new();
    for service in Service::ALL {
        let iface = service.interface();
        if let Some(export) = ty.get_export(&engine, &iface) {
            contract = Some(format!("switchyard:{service}/adapter@0.1.0"));
            if let ComponentItem::ComponentInstance(i) = export.ty {
                functions = i
                    .exports(&engine)
                    .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
                    .map(|(n, _)| n.to_string())
                    .collect();
            }
        }
    }
    Ok(ComponentReport {
        imports,
        exports,
        contract,
        functions,
    })
}

impl fmt::Display for ComponentReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.contract {
            Some(c) => writeln!(f, "implements: {c}")?,
            None => writeln!(f, "implements: no Switchyard contract")?,
        }
        if !self.functions.is_empty() {
            writeln!(f, "functions:  {}", self.functions.join(", "))?;
        }
        writeln!(f, "imports:")?;
        for i in &self.imports {
            writeln!(f, "  {i}")?;
        }
        writeln!(f, "exports:")?;
        for e in &self.exports {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}
