//! [`CallIdentity`]: who is calling, carried into every log line, span and metric of a call.

use std::sync::Arc;

/// Who is calling: carried into every log line of a call.
#[derive(Debug, Clone)]
pub struct CallIdentity {
    /// The tenant.
    pub tenant: Arc<str>,
    /// The service (contract).
    pub service: Arc<str>,
    /// The adapter, named after its component file.
    pub adapter: Arc<str>,
    /// The call's id, unique in this process.
    pub call_id: u64,
}
