//! Tenant-fair CPU: how many of one tenant's guests may compute at once
//! (`runtime.max_computing_per_tenant`).
//!
//! Admission bounds how many calls a tenant runs; it does not bound how much CPU they take.
//! A call that computes for a whole epoch tick (10 ms) is at its guest's every tick made to
//! give up its tenant's compute slot and wait for one again, behind that tenant's other
//! computing calls (tokio's FIFO semaphore). A tenant with fifty spinning guests therefore
//! runs only its share of them at a time and the rest wait off the executor's run queue,
//! so another tenant's call is never queued behind fifty slices of someone else's loop.
//!
//! Calls that do not compute a whole tick (nearly all: adapters wait on I/O) never touch a
//! slot. A call that took a slot keeps it until its next tick or its end, so a computing
//! call that then waits on I/O holds its slot for that wait: the price of knowing only at
//! ticks whether a guest computes.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Every tenant's compute slots.
pub(crate) struct Compute {
    per_tenant: usize,
    tenants: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Compute {
    /// `per_tenant` slots for each tenant (at least one).
    pub fn new(per_tenant: u32) -> Self {
        Compute {
            per_tenant: per_tenant.max(1) as usize,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// A call of `tenant`'s turns at its tenant's slots.
    pub fn turns(&self, tenant: &str) -> Turns {
        let mut tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        let gate = tenants
            .entry(tenant.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant)))
            .clone();
        Turns {
            gate,
            held: Arc::new(Mutex::new(None)),
        }
    }
}

/// One call's turns: the slot it holds since its last tick, if any.
pub(crate) struct Turns {
    gate: Arc<Semaphore>,
    held: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
}

impl Turns {
    /// At a tick: gives up the slot this call holds, yields to the executor, and waits for
    /// a slot again behind the tenant's other computing calls.
    pub fn next(&self) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        drop(self.take());
        let (gate, held) = (self.gate.clone(), self.held.clone());
        Box::pin(async move {
            tokio::task::yield_now().await;
            if let Ok(permit) = gate.acquire_owned().await {
                *held.lock().unwrap_or_else(|p| p.into_inner()) = Some(permit);
            }
        })
    }

    fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tenants_computing_calls_take_turns_and_others_are_apart() {
        let compute = Compute::new(1);
        let (a1, a2) = (compute.turns("a"), compute.turns("a"));
        let b = compute.turns("b");
        a1.next().await;
        assert_eq!(a1.gate.available_permits(), 0, "a1 holds a's only slot");
        // a2 waits while a1 holds the slot; b does not.
        let mut waiting = a2.next();
        assert!(futures::poll!(&mut waiting).is_pending());
        assert!(futures::poll!(&mut waiting).is_pending());
        b.next().await;
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
}
