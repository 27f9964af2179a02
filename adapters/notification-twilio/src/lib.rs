#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `config`: the binding's config keys, validated.
//! - `message`: checks a contract message and builds Twilio's create form; maps Twilio's
//!   Message resource to the contract's status.
//! - `wire`: Twilio's form encoding.
//! - `client`: the HTTP calls and retries.
//! - `error`: Twilio's error answers as the contract's errors.
//! - `list`: paging over Twilio's list with the adapter's own filters and cursor.
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
pub mod list;
pub mod message;
pub mod wire;

use client::Client;
use config::{is_sid, Config};
use error::not_found_as_id;
use message::Outgoing;
use switchyard_sdk::notification::{
    BulkResult, DeliveryStatus, Lifecycle, Message, MessagePage, MessageQuery, MessageStatus,
    Notification,
};
use switchyard_sdk::types::{Error, ErrorKind, HealthStatus, PageRequest};
use switchyard_sdk::{log, time};

/// The most messages one `send-bulk` takes (each is its own request to Twilio).
pub const MAX_BULK: usize = 1000;

/// The Twilio notification adapter.
pub struct Twilio;

/// Checks a message id given by a caller: a Twilio message SID (`SM` or `MM` and 32 hex
/// digits), or `invalid-input` naming `id`.
fn check_id(id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::invalid_input("id must not be empty"));
    }
    if !(is_sid(id, "SM") || is_sid(id, "MM")) {
        let shown: String = id.chars().take(80).collect();
        return Err(Error::invalid_input(format!(
            "id {shown:?} is not a Twilio message SID (SM or MM followed by 32 hex digits)"
        )));
    }
    Ok(())
}

/// Checks and sends one message.
fn send_one(client: &Client, config: &Config, m: &Message) -> Result<MessageStatus, Error> {
    let now = time::now();
    let outgoing: Outgoing = message::prepare(m, config, &now)?;
    let created = client.create_message(&outgoing.form)?;
    let status = message::to_status(&created, Some(&outgoing), &now)?;
    log::debug(
        "message accepted by Twilio",
        &[
            ("id", &status.id),
            ("status", message::status_name(status.status)),
        ],
    );
    Ok(status)
}

impl Notification for Twilio {
    fn send(message: Message) -> Result<MessageStatus, Error> {
        let config = Config::load()?;
        send_one(&Client::new(&config), &config, &message)
    }

    fn send_bulk(messages: Vec<Message>) -> Result<Vec<BulkResult>, Error> {
        if messages.is_empty() {
            return Err(Error::invalid_input("messages must not be empty"));
        }
        if messages.len() > MAX_BULK {
            return Err(Error::too_large(format!(
                "messages has {} entries; at most {MAX_BULK} are taken per call (one Twilio \
                 request each)",
                messages.len()
            )));
        }
        let config = Config::load()?;
        let client = Client::new(&config);
        Ok(messages
            .iter()
            .enumerate()
            .map(|(i, m)| BulkResult {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                to: m.to.clone(),
                outcome: send_one(&client, &config, m),
            })
            .collect())
    }

    fn status(id: String) -> Result<MessageStatus, Error> {
        check_id(&id)?;
        let config = Config::load()?;
        let resource = Client::new(&config)
            .fetch_message(&id)
            .map_err(|err| not_found_as_id(err, &id))?;
        message::to_status(&resource, None, &time::now())
    }

    fn cancel(id: String) -> Result<MessageStatus, Error> {
        check_id(&id)?;
        let config = Config::load()?;
        let client = Client::new(&config);
        let form = [("Status".to_string(), "canceled".to_string())];
        match client.update_message(&id, &form) {
            Ok(resource) => message::to_status(&resource, None, &time::now()),
            // Twilio answers 30409 for a message that is not (or no longer) scheduled,
            // canceled ones included: read it to tell "already canceled" from the rest.
            Err(err) if err.kind == ErrorKind::Conflict => {
                let resource = client
                    .fetch_message(&id)
                    .map_err(|e| not_found_as_id(e, &id))?;
                let current = message::to_status(&resource, None, &time::now())?;
                match current.status {
                    DeliveryStatus::Canceled => Ok(current),
                    other => Err(Error::conflict(format!(
                        "message {id} is {}; Twilio can cancel only scheduled messages",
                        message::status_name(other)
                    ))
                    .with_provider(err.provider_code, err.provider_message)),
                }
            }
            Err(err) => Err(not_found_as_id(err, &id)),
        }
    }

    fn list(query: MessageQuery, page: PageRequest) -> Result<MessagePage, Error> {
        let config = Config::load()?;
        list::list(&Client::new(&config), &query, &page, &time::now())
    }

    fn health() -> Result<HealthStatus, Error> {
        let config = Config::load()?;
        let url = format!(
            "{}/{}/Accounts/{}.json",
            config.base_url,
            client::API_VERSION,
            config.account_sid
        );
        Ok(match Client::new(&config).fetch_account() {
            Ok(account) => {
                let status = account
                    .get("status")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("unknown");
                HealthStatus {
                    ok: status == "active",
                    detail: format!("{url} answered: the account is {status}"),
                }
            }
            Err(err) => HealthStatus {
                ok: false,
                detail: format!("{url} failed: {}", err.describe()),
            },
        })
    }
}

impl Lifecycle for Twilio {
    /// Nothing is buffered: every call talks to Twilio at once.
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    /// Nothing is buffered: nothing to deliver.
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

switchyard_sdk::export_notification!(Twilio);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(check_id("SM0123456789abcdef0123456789abcdef").is_ok());
        assert!(check_id("MM0123456789abcdef0123456789abcdef").is_ok());
        for bad in [
            "",
            "../messages/x",
            "msg_0000000000000000000000000000000",
            "SM0123",
        ] {
            assert!(check_id(bad).unwrap_err().message.contains("id"), "{bad}");
        }
    }
}
