//! The analytics contract from the app's side: track, page, identify, alias, flush, health.

use std::sync::Arc;

use crate::binding::Binding;
use crate::bindings::analytics::exports::switchyard::analytics::analytics as wit;
use crate::bindings::analytics::Adapter;
use crate::error::{Error, Result};
use crate::runtime::Runtime;
use crate::service::Service;

pub use crate::bindings::base::switchyard::types::types::{
    HealthStatus, PageInfo, PageRequest, Timestamp,
};
pub use wit::{Event, EventPage, EventQuery, FlushReport, Identity, PageView, RecordedEvent};

/// A tenant's analytics binding. Cheap to clone.
#[derive(Clone)]
pub struct Analytics {
    rt: Runtime,
    binding: Arc<Binding>,
}

impl Runtime {
    /// The analytics service of `tenant`.
    pub fn analytics(&self, tenant: &str) -> Result<Analytics> {
        Ok(Analytics {
            rt: self.clone(),
            binding: self.binding(tenant, Service::Analytics)?,
        })
    }
}

impl Analytics {
    /// Records an event.
    pub async fn track(&self, event: &Event) -> Result<()> {
        self.rt
            .call(&self.binding, "track", async |s, i| {
                Adapter::new(&mut *s, i)?
                    .switchyard_analytics_analytics()
                    .call_track(s, event)
                    .await
            })
            .await?
            .map_err(Error::from)
    }

    /// Records a page view.
    pub async fn page(&self, view: &PageView) -> Result<()> {
        self.rt
            .call(&self.binding, "page", async |s, i| {
                Adapter::new(&mut *s, i)?
                    .switchyard_analytics_analytics()
                    .call_page(s, view)
                    .await
            })
            .await?
            .map_err(Error::from)
    }

    /// Identifies a user.
    pub async fn identify(&self, identity: &Identity) -> Result<()> {
        self.rt
            .call(&self.binding, "identify", async |s, i| {
                Adapter::new(&mut *s, i)?
                    .switchyard_analytics_analytics()
                    .call_identify(s, identity)
                    .await
            })
            .await?
            .map_err(Error::from)
    }

    /// Makes `alias` another id of `distinct_id`.
    pub async fn alias(&self, distinct_id: &str, alias: &str) -> Result<()> {
        self.rt
            .call(&self.binding, "alias", async |s, i| {
                Adapter::new(&mut *s, i)?
                    .switchyard_analytics_analytics()
                    .call_alias(s, distinct_id, alias)
                    .await
            })
            .await?
            .map_err(Error::from)
    }

    /// Delivers everything accepted so far.
    pub async fn flush(&self) -> Result<FlushReport> {
        self.rt
            .call(&self.binding, "flush", async |s, i| {
                Adapter::new(&mut *s, i)?
                    .switchyard_analytics_analytics()
                    .call_flush(s)
                    .await
            })
            .await?
            .map_err(Error::from)
    }

    /// Recorded events matching `query`, oldest first (`unsupported` where the provider cannot).
    pub async fn events(&self, query: &EventQuery, page: &PageRequest) -> Result<EventPage> {
        self.rt
            .call(&self.binding, "events", async |s, i| {
                Adapter::new(&mut *s, i)?
                    .switchyard_analytics_analytics()
                    .call_events(s, query, page)
                    .await
            })
            .await?
            .map_err(Error::from)
    }

    /// Benchmark hook: instantiates once and calls `health` `n` times on that warm instance,
    /// to compare with the fresh instance every normal call gets. Not part of the API.
    #[doc(hidden)]
    pub async fn bench_warm_health(&self, n: u32) -> Result<()> {
        self.rt
            .call(&self.binding, "health", async |s, i| {
                let adapter = Adapter::new(&mut *s, i)?;
                for _ in 0..n {
                    let _ = adapter
                        .switchyard_analytics_analytics()
                        .call_health(&mut *s)
                        .await?;
                }
                Ok(())
            })
            .await
    }

    /// Whether the provider can be reached.
    pub async fn health(&self) -> Result<HealthStatus> {
        self.rt
            .call(&self.binding, "health", async |s, i| {
                Adapter::new(&mut *s, i)?
                    .switchyard_analytics_analytics()
                    .call_health(s)
                    .await
            })
            .await?
            .map_err(Error::from)
    }
}

impl Event {
    /// An event with just a name and a distinct id.
    pub fn new(name: impl Into<String>, distinct_id: impl Into<String>) -> Self {
        Event {
            name: name.into(),
            distinct_id: distinct_id.into(),
            category: None,
            properties: None,
            session_id: None,
            timestamp: None,
            uuid: None,
        }
    }

    /// Sets the properties from a JSON value (an object).
    pub fn properties(mut self, properties: serde_json::Value) -> Self {
        self.properties = Some(properties.to_string());
        self
    }
}
