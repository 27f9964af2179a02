//! The messaging contract, host-native: queues and topics on the backend a binding's
//! `backend` key picks ([`Broker`]: in-process [`memory`] or [`redis`]), reached by bridge
//! components through [`MessagingView`].
//!
//! - `message`: limits, input checks and the shapes both backends share.
//! - `broker`: one operation on either backend.
//! - `view`: the host side of the `switchyard:messaging/messaging` import.

mod broker;
pub mod memory;
mod message;
pub mod redis;
mod view;

pub use broker::Broker;
pub use message::{
    MAX_BATCH, MAX_BODY, MAX_DELAY_MS, MAX_HEADERS, MAX_NAME, MAX_RECEIVE, MAX_VISIBILITY_MS,
    MAX_WAIT_MS,
};
pub use view::{add_to_linker, Messaging, MessagingView};
