#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - `config`: the binding's config keys, validated.
//! - `wire`: a contract message as a SendGrid Mail Send body; SendGrid's error fields in
//!   the contract's terms.
//! - `client`: the requests, retries within the call's budget, health.
//! - `error`: SendGrid's error answers as the contract's errors.
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
pub mod wire;

use switchyard_sdk::email::{
    validate, DeliveryStatus, Email, Lifecycle, Message, MessagePage, MessageStatus, SendReceipt,
    SentMessage,
};
use switchyard_sdk::time;
use switchyard_sdk::types::{Error, HealthStatus, PageRequest};

use client::{Budget, Failure};
use config::Config;

/// The SendGrid email adapter.
pub struct SendGrid;

impl Email for SendGrid {
    fn send(message: Message) -> Result<SendReceipt, Error> {
        let config = Config::load()?;
        let budget = Budget::start(config.budget_ms);
        send_one(&config, message, &budget).map_err(|f| f.error)
    }

    /// One request per message, in order (see the README for why not one request with
    /// several personalizations). Messages after a failure that would repeat (the key
    /// refused, rate limits or outages outlasting the retries, the call's budget spent) are
    /// not sent and answer that error, so the caller can send them again.
    fn send_bulk(messages: Vec<Message>) -> Result<Vec<Result<SendReceipt, Error>>, Error> {
        validate::bulk(&messages)?;
        let config = Config::load()?;
        let budget = Budget::start(config.budget_ms);
        let mut held: Option<(usize, Error)> = None;
        let mut results = Vec::with_capacity(messages.len());
        for (i, message) in messages.into_iter().enumerate() {
            let at = format!("messages[{i}]");
            if let Err(err) = check(&message) {
                results.push(Err(err.context(&at)));
                continue;
            }
            if held.is_none() && budget.spent() {
                held = Some((
                    i,
                    Error::timeout("the call's budget (config budget_ms) was spent"),
                ));
            }
            if let Some((first, cause)) = &held {
                let mut err = cause.clone();
                err.message = format!(
                    "{at}: not sent, send it again: {} ({})",
                    if *first == i {
                        "stopped here".to_string()
                    } else {
                        format!("held back after messages[{first}] failed")
                    },
                    cause.message
                );
                results.push(Err(err));
                continue;
            }
            match send_one(&config, message, &budget) {
                Ok(receipt) => results.push(Ok(receipt)),
                Err(Failure { error, stop_batch }) => {
                    if stop_batch {
                        held = Some((i, error.clone()));
                    }
                    results.push(Err(error.context(&at)));
                }
            }
        }
        Ok(results)
    }

    fn status(id: String) -> Result<MessageStatus, Error> {
        validate::id(&id)?;
        Err(Error::unsupported(
            "SendGrid's Mail Send API reports delivery status only through its Event Webhook \
             (events carry sg_message_id, which starts with the id `send` answered); its Email \
             Activity API is a paid add-on, rate limited and indexed per recipient, and this \
             adapter does not use it",
        ))
    }

    fn get(id: String) -> Result<SentMessage, Error> {
        validate::id(&id)?;
        Err(Error::unsupported(
            "SendGrid does not keep sent messages (bodies, attachments): keep your own copy, \
             or use an outbox provider such as email-local",
        ))
    }

    fn list(_page: PageRequest) -> Result<MessagePage, Error> {
        Err(Error::unsupported(
            "SendGrid does not keep sent messages to list: keep your own record, or use an \
             outbox provider such as email-local",
        ))
    }

    fn health() -> Result<HealthStatus, Error> {
        let config = Config::load()?;
        let (ok, detail) = client::health(&config);
        Ok(HealthStatus { ok, detail })
    }
}

impl Lifecycle for SendGrid {
    /// Nothing is buffered: every send happens within its call.
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    /// Nothing is buffered: nothing to deliver.
    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

/// The contract's checks, then what SendGrid cannot do: an idempotency key.
fn check(message: &Message) -> Result<(), Error> {
    validate::message(message)?;
    if message.idempotency_key.is_some() {
        return Err(Error::unsupported(
            "idempotency-key: SendGrid's Mail Send API cannot deduplicate sends; send without \
             one (and keep your own record of what was sent)",
        ));
    }
    Ok(())
}

/// Checks, builds and sends one message. The message is dropped once its body is built, so
/// a large message is not held twice while it is sent.
fn send_one(config: &Config, message: Message, budget: &Budget) -> Result<SendReceipt, Failure> {
    check(&message)?;
    let built = wire::build(&message, config.custom_args.as_ref())?;
    drop(message);
    let id = client::send_mail(config, &built.body, &built.layout, budget)?;
    Ok(SendReceipt {
        id,
        status: DeliveryStatus::Queued,
        accepted_at: time::now(),
    })
}

switchyard_sdk::export_email!(SendGrid);
