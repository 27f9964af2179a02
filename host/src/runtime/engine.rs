//! The wasmtime engine (epoch interruption, the pooling allocator) and the linker: WASI
//! granting nothing, `wasi:http` through the outbound hook, and every host import through its
//! view (see `imports` and `native`).

use wasmtime::component::Linker;
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::compile_cache::CompileCache;
use crate::config::RuntimeOptions;
use crate::error::{Error, Result};
use crate::imports;
use crate::native::{logging, messaging, monitoring, search};
use crate::state::CallState;

/// The engine for `options`, compiling through `cache` when there is one.
pub(super) fn engine(options: &RuntimeOptions, cache: Option<&CompileCache>) -> Result<Engine> {
    let mut cfg = wasmtime::Config::new();
    cfg.cache(cache.map(CompileCache::wasmtime_cache));
    cfg.wasm_component_model(true);
    cfg.epoch_interruption(true);
    if options.pooling {
        // Running calls, plus the idle instances kept warm.
        let n = options
            .max_instances
            .max(1)
            .saturating_add(options.max_warm_instances);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(n);
        pool.total_core_instances(n.saturating_mul(8));
        pool.total_memories(n.saturating_mul(2));
        pool.total_tables(n.saturating_mul(8));
        pool.max_memory_size((options.max_memory_mib as usize).saturating_mul(1024 * 1024));
        cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&cfg).map_err(Error::wasmtime)
}

/// A linker with everything an adapter or bridge may import.
pub(super) fn linker(engine: &Engine) -> Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    link(&mut linker).map_err(Error::wasmtime)?;
    Ok(linker)
}

fn link(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    // Full WASI p2 so components built for wasm32-wasip2 instantiate; the context grants nothing.
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    crate::outbound::handler::add_to_linker(linker)?;
    imports::types::add_to_linker(linker)?;
    imports::log::add_to_linker(linker, CallState::log)?;
    imports::config::add_to_linker(linker, CallState::config)?;
    imports::buffer::add_to_linker(linker, CallState::buffer)?;
    imports::signing::add_to_linker(linker, CallState::signing)?;
    // The host-native contracts, for bridge components (see `native`).
    logging::add_to_linker(linker, CallState::logging)?;
    messaging::add_to_linker(linker, CallState::messaging)?;
    monitoring::add_to_linker(linker, CallState::monitoring)?;
    search::add_to_linker(linker, CallState::search)
}
