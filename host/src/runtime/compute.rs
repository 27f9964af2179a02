//! Tenant-fair CPU: how many of one tenant's guests may compute at once
//! (`runtime.max_computing_per_tenant`).
//!
//! Off unless the operator sets a cap: the gate is not work-conserving (a tenant gets at
//! most its slots' worth of CPU even on an idle machine), so it suits hosts whose tenants
//! are hostile to each other more than hosts that want every core for whoever is busy.
//!
//! Admission bounds how many calls a tenant runs; it does not bound how much CPU they take.
//! At each epoch tick (10 ms) a running guest yields to the executor. A guest that ran code
//! through the whole tick before this one as well (it resumed less than
//! [`COMPUTING_WITHIN`] ago and is still running) computes: it gives up its tenant's
//! compute slot, if it holds one, and waits for one again behind that tenant's other
//! computing calls (tokio's FIFO semaphore). A tenant with fifty spinning guests therefore
//! runs only its share of them at a time and the rest wait off the executor's run queue,
//! so another tenant's call is never queued behind fifty slices of someone else's loop.
//!
//! A guest's first tick is free, and so is a tick that finds it just back from a long wait
//! on the host (a sleep, a request): the epoch passed while it waited, not while it ran.
//! So calls that mostly wait on I/O (nearly all adapter calls) never touch a slot, and a
//! tenant's burst of short calls is not made to take turns. A call that took a slot keeps
//! it until its next tick or its end, but never longer than [`HOLD_AT_MOST`]: a computing
//! call that then waits on the host (a sleep, a request) ticks no more while it waits, so
//! a timer takes the slot back from it and its tenant's other calls do not wait that out.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::limits::EPOCH_TICK;

/// A tick that comes less than this after the guest resumed finds it computing: one tick
/// of running code plus room for the scheduler's jitter on a loaded machine.
pub(crate) const COMPUTING_WITHIN: Duration = EPOCH_TICK.saturating_mul(3);

/// The longest a call keeps a slot without ticking again: a computing guest ticks every
/// [`EPOCH_TICK`], so one that has not in this long is waiting on the host, not computing.
pub(crate) const HOLD_AT_MOST: Duration = COMPUTING_WITHIN;

/// Every tenant's compute slots.
pub(crate) struct Compute {
    per_tenant: Option<usize>,
    tenants: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Compute {
    /// `per_tenant` slots for each tenant (at least one); `None`: no cap.
    pub fn new(per_tenant: Option<u32>) -> Self {
        Compute {
            per_tenant: per_tenant.map(|n| n.max(1) as usize),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// A call of `tenant`'s turns at its tenant's slots; `None` where there is no cap.
    pub fn turns(&self, tenant: &str) -> Option<Turns> {
        let per_tenant = self.per_tenant?;
        let mut tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        let gate = tenants
            .entry(tenant.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(per_tenant)))
            .clone();
        Some(Turns {
            gate,
            state: Arc::new(Mutex::new(TurnState::default())),
        })
    }
}

/// One call's turns at its tenant's compute slots.
pub(crate) struct Turns {
    gate: Arc<Semaphore>,
    state: Arc<Mutex<TurnState>>,
}

/// What a call's ticks have left behind.
#[derive(Default)]
struct TurnState {
    /// The slot it holds since its last tick, if any.
    held: Option<OwnedSemaphorePermit>,
    /// When its guest last resumed after a tick; `None` before its first tick.
    resumed: Option<Instant>,
    /// How many ticks it has had, so a late timer takes back only the slot it was set for.
    ticks: u64,
}

impl Turns {
    /// At a tick: gives up the slot this call holds, yields to the executor and, if the
    /// guest has been computing since it last resumed, waits for a slot again behind the
    /// tenant's other computing calls.
    pub fn next(&self) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let computing = {
            let mut state = self.lock();
            drop(state.held.take());
            state
                .resumed
                .is_some_and(|at| at.elapsed() < COMPUTING_WITHIN)
        };
        let (gate, state) = (self.gate.clone(), self.state.clone());
        Box::pin(async move {
            tokio::task::yield_now().await;
            let permit = if computing {
                gate.acquire_owned().await.ok()
            } else {
                None
            };
            let held = permit.is_some();
            let tick = {
                let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
                state.held = permit;
                state.resumed = Some(Instant::now());
                state.ticks += 1;
                state.ticks
            };
            if held {
                tokio::spawn(take_back(Arc::downgrade(&state), tick));
            }
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TurnState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(test)]
    fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.lock().held.take()
    }

    /// Makes the guest look as if it resumed `ago` before now.
    #[cfg(test)]
    fn resumed_ago(&self, ago: Duration) {
        self.lock().resumed = Instant::now().checked_sub(ago);
    }
}

/// After [`HOLD_AT_MOST`], takes back the slot a call took at its `tick`th tick if it has
/// not ticked since (it is waiting on the host) and has not ended.
async fn take_back(state: std::sync::Weak<Mutex<TurnState>>, tick: u64) {
    tokio::time::sleep(HOLD_AT_MOST).await;
    if let Some(state) = state.upgrade() {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        if state.ticks == tick {
            drop(state.held.take());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two ticks: the free first one, then one right after it, which finds the guest
    /// computing.
    async fn computing(turns: &Turns) {
        turns.next().await;
        assert!(turns.lock().held.is_none(), "a first tick is free");
        turns.next().await;
    }

    #[tokio::test]
    async fn a_tenants_computing_calls_take_turns_and_others_are_apart() {
        let compute = Compute::new(Some(1));
        let (a1, a2) = (
            compute.turns("a").expect("capped"),
            compute.turns("a").expect("capped"),
        );
        let b = compute.turns("b").expect("capped");
        computing(&a1).await;
        assert_eq!(a1.gate.available_permits(), 0, "a1 holds a's only slot");
        // a2 waits while a1 holds the slot; b does not.
        a2.next().await;
        let mut waiting = a2.next();
        assert!(futures::poll!(&mut waiting).is_pending());
        assert!(futures::poll!(&mut waiting).is_pending());
        computing(&b).await;
        // a1's next tick hands the slot to a2, and a1 queues behind it.
        let mut again = a1.next();
        waiting.await;
        assert!(futures::poll!(&mut again).is_pending());
        assert!(futures::poll!(&mut again).is_pending());
        drop(a2);
        again.await;
        assert!(
            a1.take().is_some(),
            "the slot came back to a1 when a2 ended"
        );
    }

    #[tokio::test]
    async fn a_guest_back_from_a_wait_takes_no_slot_and_frees_its_own() {
        let compute = Compute::new(Some(1));
        let (waiter, other) = (
            compute.turns("a").expect("capped"),
            compute.turns("a").expect("capped"),
        );
        computing(&waiter).await;
        assert!(waiter.lock().held.is_some(), "computing through two ticks");
        // The guest then waited on the host for longer than a tick or two: its next tick
        // finds the epoch passed while it waited, frees the slot and takes none.
        waiter.resumed_ago(COMPUTING_WITHIN * 2);
        waiter.next().await;
        assert!(waiter.lock().held.is_none(), "no slot after a wait");
        assert_eq!(waiter.gate.available_permits(), 1);
        // So the tenant's other computing call does not wait for it.
        computing(&other).await;
        assert!(other.lock().held.is_some());
    }

    /// A computing guest that then waits on the host (to sleep, say) ticks no more; its
    /// slot is taken back after [`HOLD_AT_MOST`], so its tenant's other computing call
    /// does not wait out the sleep.
    #[tokio::test(start_paused = true)]
    async fn a_slot_is_taken_back_from_a_call_that_stops_ticking() {
        let compute = Compute::new(Some(1));
        let (sleeper, other) = (
            compute.turns("a").expect("capped"),
            compute.turns("a").expect("capped"),
        );
        computing(&sleeper).await;
        assert_eq!(
            sleeper.gate.available_permits(),
            0,
            "the sleeper holds the slot"
        );
        other.next().await;
        let mut waiting = other.next();
        assert!(futures::poll!(&mut waiting).is_pending());
        tokio::time::sleep(HOLD_AT_MOST / 2).await;
        assert!(
            futures::poll!(&mut waiting).is_pending(),
            "not before HOLD_AT_MOST"
        );
        tokio::time::timeout(HOLD_AT_MOST * 4, waiting)
            .await
            .expect("the slot is taken back from the sleeper");
        assert!(
            other.lock().held.is_some(),
            "the slot went to the other call"
        );
        assert!(sleeper.lock().held.is_none());
    }
}
