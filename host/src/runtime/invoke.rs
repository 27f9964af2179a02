//! Calls by name with JSON: any contract function, its arguments and result mapped through
//! the function's WIT types (read once at load, see `signature`), so a new contract needs no
//! hand-written routes; and the health report, which calls every binding's `health` this way.

use serde_json::Value;
use wasmtime::component::Val;

use crate::error::{Error, Result};
use crate::json::{decode_error, params_from_json, payload_bytes, to_json};
use crate::metrics::Kind;
use crate::service::Service;
use crate::signature::FunctionInfo;

use super::handle::Runtime;
use super::reports::BindingHealth;

impl Runtime {
    /// The functions of `service`'s contract, read from a bound component's types (empty when
    /// no tenant binds the service).
    pub fn functions(&self, service: Service) -> Vec<FunctionInfo> {
        self.all_bindings()
            .into_iter()
            .find(|b| b.service == service)
            .map(|b| b.current().loaded.signatures.functions().to_vec())
            .unwrap_or_default()
    }

    /// Calls `function` of the tenant's `service` with a JSON object of arguments keyed by
    /// parameter name; answers the function's ok value as JSON.
    pub async fn invoke_json(
        &self,
        tenant: &str,
        service: Service,
        function: &str,
        args: Value,
    ) -> Result<Value> {
        let binding = self.binding(tenant, service)?;
        let hold = binding.enter();
        let generation = hold.0.clone();
        // The tenant's own component says which functions exist (versions may differ).
        let signatures = &generation.loaded.signatures;
        let Some(signature) = signatures.get(function) else {
            return Err(Error::UnknownFunction {
                service: service.to_string(),
                function: function.to_string(),
                known: signatures
                    .functions()
                    .iter()
                    .map(|f| f.name.clone())
                    .collect(),
            });
        };
        let bad = |message: String| Error::BadArguments {
            function: function.to_string(),
            message,
        };
        let Value::Object(args) = args else {
            return Err(bad(
                "arguments must be a JSON object keyed by parameter name".into(),
            ));
        };
        let params = params_from_json(
            signature
                .params
                .iter()
                .map(|(n, t)| (n.as_str(), t.clone())),
            &args,
        )
        .map_err(|e| bad(e.0))?;
        drop(args);
        // Input the component cannot take in is the caller's mistake (413), not the
        // component failing (502): refused here when it is over half the memory cap, and
        // blamed when the call runs out of memory with arguments over an eighth of it.
        let bytes = payload_bytes(&params);
        let memory = generation.limits.memory_bytes() as usize;
        let too_large = || Error::ArgumentsTooLarge {
            service: service.to_string(),
            function: function.to_string(),
            bytes,
            memory_mib: generation.limits.memory_mib,
        };
        if bytes > memory / 2 {
            return Err(too_large());
        }
        if self
            .inner
            .stopping
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Err(Error::ShuttingDown);
        }
        let (index, results) = (signature.index, signature.results);
        let outcome = self
            .call_in(&binding, &hold, function, async |store, instance| {
                let func = instance.get_func(&mut *store, index).ok_or_else(|| {
                    wasmtime::Error::msg(format!("the component exports no {function}"))
                })?;
                let mut out = vec![Val::Bool(false); results];
                func.call_async(&mut *store, &params, &mut out).await?;
                Ok(out)
            })
            .await
            .map_err(|e| match e {
                Error::MemoryLimit { .. } if bytes > memory / 8 => too_large(),
                other => other,
            })?;
        let contract = |message: String| Error::Contract {
            tenant: tenant.to_string(),
            service: service.to_string(),
            function: function.to_string(),
            message,
        };
        match outcome.into_iter().next() {
            None => Ok(Value::Null),
            Some(Val::Result(Ok(v))) => Ok(v.map(|v| to_json(&v)).unwrap_or(Value::Null)),
            Some(Val::Result(Err(Some(e)))) => {
                let p = decode_error(&e).map_err(|e| contract(e.0))?;
                self.inner.metrics.record_host(
                    "switchyard_contract_errors_total",
                    Kind::Counter,
                    1.0,
                    &[
                        ("tenant", tenant),
                        ("service", service.as_str()),
                        ("adapter", &generation.adapter),
                        ("kind", p.kind.as_str()),
                    ],
                );
                Err(Error::Provider(p))
            }
            Some(Val::Result(Err(None))) => Err(contract(format!(
                "{function} failed without an error value"
            ))),
            Some(other) => Ok(to_json(&other)),
        }
    }

    /// Calls every binding's `health` function, all at once, each within its own deadline.
    pub async fn health_report(&self) -> Vec<BindingHealth> {
        let bindings = self.all_bindings();
        let checks = bindings.iter().map(|b| async move {
            let adapter = b.current().adapter.to_string();
            let answer = self
                .invoke_json(&b.tenant, b.service, "health", serde_json::json!({}))
                .await;
            let (ok, detail) = match answer {
                Ok(v) => (
                    v["ok"].as_bool().unwrap_or(false),
                    v["detail"].as_str().unwrap_or("").to_string(),
                ),
                Err(e) => (false, format!("health call failed: {e}")),
            };
            BindingHealth {
                tenant: b.tenant.to_string(),
                service: b.service.to_string(),
                adapter,
                ok,
                detail,
            }
        });
        futures::future::join_all(checks).await
    }
}
