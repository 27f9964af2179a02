//! Admission: how many calls run at once — per binding (`limits.max_concurrent`), per tenant
//! (`runtime.max_instances_per_tenant`) and overall (`runtime.max_instances`, the instance
//! pool) — each a first-come, first-served queue (tokio's fair semaphore) with a bounded wait
//! (`runtime.queue_ms`).
//!
//! A call takes its binding's permit, then its tenant's, then one of the pool's. A tenant
//! holds at most its share of the pool, so however many slow calls it sends, the others
//! still find instances; its own calls over its share wait in its queue, and past the wait
//! get a retryable [`Error::Busy`] naming the limit. No call ever reaches the pool's hard
//! limit (a trap that would look like the adapter's own failure).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::RuntimeOptions;
use crate::error::{Error, Result};

/// The queues every call goes through.
pub(crate) struct Admission {
    pool: Arc<Semaphore>,
    pool_size: u32,
    per_tenant: u32,
    tenants: Mutex<HashMap<String, Arc<Semaphore>>>,
    wait: Duration,
}

/// What a running call holds; dropped when it ends.
pub(crate) struct Admitted {
    _binding: Option<OwnedSemaphorePermit>,
    _tenant: Option<OwnedSemaphorePermit>,
    _pool: OwnedSemaphorePermit,
}

impl Admission {
    /// The queues for `options`.
    pub fn new(options: &RuntimeOptions) -> Self {
        let pool_size = options.max_instances.max(1);
        Admission {
            pool: Arc::new(Semaphore::new(pool_size as usize)),
            pool_size,
            per_tenant: options.tenant_share(),
            tenants: Mutex::new(HashMap::new()),
            wait: options.queue_wait(),
        }
    }

    /// Waits for a place for one call of `tenant`'s `service` binding (whose own queue is
    /// `binding`, when it has a limit), at most the queue wait in all.
    pub async fn admit(
        &self,
        tenant: &str,
        service: &str,
        binding: Option<(&Arc<Semaphore>, u32)>,
    ) -> Result<Admitted> {
        let until = Instant::now() + self.wait;
        let busy = |limit: String| Error::Busy {
            tenant: tenant.to_string(),
            service: service.to_string(),
            limit,
            waited: self.wait,
        };
        let binding = match binding {
            Some((queue, n)) => Some(
                take(queue, until)
                    .await
                    .ok_or_else(|| busy(format!("limits.max_concurrent = {n}")))?,
            ),
            None => None,
        };
        let tenant_queue = self.tenant(tenant);
        let tenant_permit = take(&tenant_queue, until).await.ok_or_else(|| {
            busy(format!(
                "runtime.max_instances_per_tenant = {}",
                self.per_tenant
            ))
        })?;
        let pool = take(&self.pool, until)
            .await
            .ok_or_else(|| busy(format!("runtime.max_instances = {}", self.pool_size)))?;
        Ok(Admitted {
            _binding: binding,
            _tenant: Some(tenant_permit),
            _pool: pool,
        })
    }

    /// A place in the pool only (a component tried once before it is bound).
    pub async fn admit_to_pool(&self, tenant: &str, service: &str) -> Result<Admitted> {
        let pool = take(&self.pool, Instant::now() + self.wait)
            .await
            .ok_or_else(|| Error::Busy {
                tenant: tenant.to_string(),
                service: service.to_string(),
                limit: format!("runtime.max_instances = {}", self.pool_size),
                waited: self.wait,
            })?;
        Ok(Admitted {
            _binding: None,
            _tenant: None,
            _pool: pool,
        })
    }

    fn tenant(&self, tenant: &str) -> Arc<Semaphore> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|p| p.into_inner());
        tenants
            .entry(tenant.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant as usize)))
            .clone()
    }
}

/// A permit of `queue`, waiting in line until `until` at the latest.
async fn take(queue: &Arc<Semaphore>, until: Instant) -> Option<OwnedSemaphorePermit> {
    let wait = until.saturating_duration_since(Instant::now());
    match tokio::time::timeout(wait, queue.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Some(permit),
        _ => None,
    }
}
