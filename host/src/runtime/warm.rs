//! Warm instances: a generation's idle instances, kept for its next calls, so a call that
//! finds one skips making a store and instantiating (`limits.instance_reuse`).
//!
//! An instance is only ever reused by the generation that made it: the same tenant, the same
//! binding, the same component, configuration and credentials. It goes back to its pool only
//! after a call that returned normally and left no host resource behind; a trap, a deadline,
//! the memory cap or a host error discards it, as does reaching `limits.calls_per_instance`.
//! An idle one is dropped after `limits.warm_idle_ms`, so an idle tenant costs nearly
//! nothing, and a swap retires the old generation's pool at once. Runtime-wide, at most
//! `runtime.max_warm_instances` wait idle (the pooling allocator is sized for them on top of
//! `runtime.max_instances`, so running calls never find it full).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::Instance;
use wasmtime::Store;

use crate::state::CallState;

/// An idle instance and the store it lives in.
pub(crate) struct Warm {
    pub store: Store<CallState>,
    pub instance: Instance,
    /// Calls it has served.
    pub calls: u32,
    idle_since: Instant,
    _place: WarmPlace,
}

impl Warm {
    /// `instance` in `store`, idle from now in `place`, having served `calls`.
    pub fn new(store: Store<CallState>, instance: Instance, calls: u32, place: WarmPlace) -> Self {
        Warm {
            store,
            instance,
            calls,
            idle_since: Instant::now(),
            _place: place,
        }
    }
}

/// One generation's idle instances (most recently used first out).
#[derive(Default)]
pub(crate) struct WarmPool {
    idle: Mutex<Vec<Warm>>,
    retired: AtomicBool,
}

impl WarmPool {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Warm>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The most recently used idle instance, if any.
    pub fn take(&self) -> Option<Warm> {
        self.lock().pop()
    }

    /// Keeps `warm` for a later call, unless the pool is retired or holds `keep` already
    /// (then it is dropped, outside the lock).
    pub fn put(&self, warm: Warm, keep: u32) {
        let mut idle = self.lock();
        // Checked under the lock that `retire` takes, so none slips in after it.
        if self.retired.load(Ordering::SeqCst) || idle.len() >= keep as usize {
            drop(idle);
            drop(warm);
            return;
        }
        idle.push(warm);
    }

    /// Drops every idle instance and keeps none from now on (the generation was replaced).
    pub fn retire(&self) {
        let mut idle = self.lock();
        self.retired.store(true, Ordering::SeqCst);
        let dropped = std::mem::take(&mut *idle);
        drop(idle);
        drop(dropped);
    }

    /// Drops the instances idle for longer than `idle`; returns how many are left.
    pub fn shrink(&self, idle: Duration) -> usize {
        let now = Instant::now();
        let mut pool = self.lock();
        if pool.is_empty() {
            return 0;
        }
        let (keep, old): (Vec<Warm>, Vec<Warm>) = std::mem::take(&mut *pool)
            .into_iter()
            .partition(|w| now.duration_since(w.idle_since) < idle);
        *pool = keep;
        let left = pool.len();
        drop(pool);
        drop(old);
        left
    }
}

/// The runtime-wide room for idle instances (`runtime.max_warm_instances`).
pub(crate) struct WarmPlaces {
    used: Arc<AtomicU32>,
    max: u32,
}

/// One place in [`WarmPlaces`], given back when the instance holding it is dropped.
pub(crate) struct WarmPlace(Arc<AtomicU32>);

impl Drop for WarmPlace {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl WarmPlaces {
    /// Room for `max` idle instances.
    pub fn new(max: u32) -> Self {
        WarmPlaces {
            used: Arc::new(AtomicU32::new(0)),
            max,
        }
    }

    /// A place, if one is free.
    pub fn take(&self) -> Option<WarmPlace> {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| WarmPlace(self.used.clone()))
    }

    /// How many are taken.
    pub fn used(&self) -> u32 {
        self.used.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_bounded_and_given_back() {
        let places = WarmPlaces::new(2);
        let a = places.take().expect("first");
        let _b = places.take().expect("second");
        assert!(places.take().is_none(), "only two");
        drop(a);
        assert_eq!(places.used(), 1);
        assert!(places.take().is_some(), "a place was given back");
    }
}
