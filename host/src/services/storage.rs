//! The storage contract from the app's side, for what JSON carries badly: object content.
//! Every function is also reachable by name through [`Runtime::invoke_json`].

use std::sync::Arc;

use crate::binding::Binding;
use crate::bindings::storage::Adapter;
use crate::error::{Error, Result};
use crate::runtime::Runtime;
use crate::service::Service;

pub use crate::bindings::storage::switchyard::storage::types::{
    Bucket, Object, ObjectInfo, UploadOptions,
};

/// A tenant's storage binding. Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    rt: Runtime,
    binding: Arc<Binding>,
}

impl Runtime {
    /// The storage service of `tenant`.
    pub fn storage(&self, tenant: &str) -> Result<Storage> {
        Ok(Storage {
            rt: self.clone(),
            binding: self.binding(tenant, Service::Storage)?,
        })
    }
}

impl Storage {
    /// Stores `body` at `key` of `bucket`.
    pub async fn upload(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
        options: &UploadOptions,
    ) -> Result<ObjectInfo> {
        self.rt
            .call(&self.binding, "upload", async |s, i| {
                Adapter::new(&mut *s, i)?
                    .switchyard_storage_storage()
                    .call_upload(s, bucket, key, body, options)
                    .await
            })
            .await?
            .map_err(Error::from)
    }

    /// A bucket's settings.
    pub async fn get_bucket(&self, name: &str) -> Result<Bucket> {
        self.rt
            .call(&self.binding, "get-bucket", async |s, i| {
                Adapter::new(&mut *s, i)?
                    .switchyard_storage_storage()
                    .call_get_bucket(s, name)
                    .await
            })
            .await?
            .map_err(Error::from)
    }

    /// An object with its content.
    pub async fn download(&self, bucket: &str, key: &str) -> Result<Object> {
        self.rt
            .call(&self.binding, "download", async |s, i| {
                Adapter::new(&mut *s, i)?
                    .switchyard_storage_storage()
                    .call_download(s, bucket, key)
                    .await
            })
            .await?
            .map_err(Error::from)
    }
}
