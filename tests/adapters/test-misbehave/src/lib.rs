//! A test adapter that misbehaves on demand, to test the host's sandbox. `track` picks the
//! behaviour from the event name:
//!
//! - `loop`: spins forever (the host's deadline must stop it);
//! - `alloc`: allocates 1 MiB blocks forever, keeping them all (the memory cap must stop it);
//! - `panic`: panics (a trap);
//! - `sleep` with properties `{"ms": N}`: blocks N ms on the monotonic clock;
//! - `fetch` with properties `{"url": U, "method"?: M, "header"?: [name, value], "body"?: S}`:
//!   sends that request with the SDK client; `Ok` on 2xx, the SDK's error otherwise (a
//!   request the host denies returns kind `denied`);
//! - `leak` with properties `{"url": U}`: gathers everything the guest can see (every config
//!   key and value, the buffer's items it can take, without acking) and whether the host
//!   forbids it to set `authorization` and `x-api-key`, and POSTs that as JSON to U;
//! - `relay` with properties `{"url": U, "to": T, "body"?: S}`: sends S (or nothing) to U with
//!   POST (GET without a body), then POSTs everything it read of the answer (status, headers,
//!   body) as JSON to T: what an adapter could learn from a provider that echoes requests;
//! - `fields` with properties `{"count": N, "size": S}`: creates N `wasi:http` header maps,
//!   each holding one S-byte value, and keeps them all (host memory a guest can cause);
//!   `Ok` when all were made, `invalid-input` naming the first refused otherwise;
//! - `chatter` with properties `{"lines": N}`: logs N info lines as fast as it can;
//! - anything else (`ok`...): `Ok`.
//!
//! Other functions succeed; `flush` reports `{0, pending}`.

use core::time::Duration;

use serde_json::{json, Map, Value};
use switchyard_sdk::analytics::{
    Analytics, Event, EventPage, EventQuery, FlushReport, Identity, Lifecycle, PageView,
};
use switchyard_sdk::http::{HttpMethod, Request};
use switchyard_sdk::types::PageRequest;
use switchyard_sdk::types::{Error, ErrorKind, HealthStatus};
use switchyard_sdk::{buffer, config, retry};

/// The misbehaving adapter.
struct Misbehave;

impl Analytics for Misbehave {
    fn track(event: Event) -> Result<(), Error> {
        let props = properties(&event)?;
        match event.name.as_str() {
            "loop" => spin(),
            "alloc" => hoard(),
            "panic" => panic!("test-misbehave: panicking on purpose"),
            "sleep" => {
                let ms = props.get("ms").and_then(Value::as_u64).unwrap_or(1000);
                retry::sleep(Duration::from_millis(ms));
                Ok(())
            }
            "fetch" => fetch(&props),
            "leak" => leak(&props),
            "relay" => relay(&props),
            "fields" => fields(&props),
            "chatter" => {
                let lines = props.get("lines").and_then(Value::as_u64).unwrap_or(100);
                for i in 0..lines {
                    switchyard_sdk::log::info("chatter", &[("line", &i.to_string())]);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn page(_: PageView) -> Result<(), Error> {
        Ok(())
    }

    fn identify(_: Identity) -> Result<(), Error> {
        Ok(())
    }

    fn alias(_: String, _: String) -> Result<(), Error> {
        Ok(())
    }

    fn events(_query: EventQuery, _page: PageRequest) -> Result<EventPage, Error> {
        Err(Error::unsupported("test-misbehave records nothing"))
    }

    fn flush() -> Result<FlushReport, Error> {
        Ok(FlushReport {
            sent: 0,
            pending: buffer::stats().pending,
        })
    }

    fn health() -> Result<HealthStatus, Error> {
        Ok(HealthStatus {
            ok: true,
            detail: "misbehaves only when asked".into(),
        })
    }
}

impl Lifecycle for Misbehave {
    fn tick() -> Result<(), Error> {
        Ok(())
    }

    fn drain() -> Result<(), Error> {
        Ok(())
    }
}

fn properties(event: &Event) -> Result<Map<String, Value>, Error> {
    match event
        .properties
        .as_deref()
        .map(serde_json::from_str::<Value>)
    {
        None => Ok(Map::new()),
        Some(Ok(Value::Object(map))) => Ok(map),
        Some(_) => Err(Error::invalid_input("`properties` must be a JSON object")),
    }
}

fn spin() -> Result<(), Error> {
    let mut counter: u64 = 0;
    loop {
        counter = core::hint::black_box(counter.wrapping_add(1));
    }
}

fn hoard() -> Result<(), Error> {
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        // Touch every page so the memory is really committed.
        kept.push(vec![0xA5; 1024 * 1024]);
        core::hint::black_box(&kept);
    }
}

fn url(props: &Map<String, Value>) -> Result<String, Error> {
    props
        .get("url")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::invalid_input("`properties.url` (a string) is required"))
}

fn fetch(props: &Map<String, Value>) -> Result<(), Error> {
    let url = url(props)?;
    let method = match props.get("method").and_then(Value::as_str).unwrap_or("GET") {
        m if m.eq_ignore_ascii_case("GET") => HttpMethod::Get,
        m if m.eq_ignore_ascii_case("HEAD") => HttpMethod::Head,
        m if m.eq_ignore_ascii_case("POST") => HttpMethod::Post,
        m if m.eq_ignore_ascii_case("PUT") => HttpMethod::Put,
        m if m.eq_ignore_ascii_case("PATCH") => HttpMethod::Patch,
        m if m.eq_ignore_ascii_case("DELETE") => HttpMethod::Delete,
        other => {
            return Err(Error::invalid_input(format!(
                "unsupported method `{other}`"
            )))
        }
    };
    let mut request = Request::new(method, url);
    if let Some(header) = props.get("header").and_then(Value::as_array) {
        match (
            header.first().and_then(Value::as_str),
            header.get(1).and_then(Value::as_str),
        ) {
            (Some(name), Some(value)) => request = request.header(name, value),
            _ => {
                return Err(Error::invalid_input(
                    "`properties.header` must be [name, value]",
                ))
            }
        }
    }
    if let Some(body) = props.get("body").and_then(Value::as_str) {
        request = request.body(body.as_bytes().to_vec());
    }
    request.send()?.error_for_status()?;
    Ok(())
}

/// Whether the host refuses to let the guest set header `name` (the request is not sent:
/// the header is rejected while the request is built).
fn forbidden(url: &str, name: &str) -> Value {
    match Request::get(url).header(name, "guest-was-here").send() {
        Err(err) if err.kind == ErrorKind::Denied && err.message.contains("header") => json!(true),
        Err(err) => json!({ "forbidden": false, "error": err.describe() }),
        Ok(response) => json!({ "forbidden": false, "status": response.status }),
    }
}

fn leak(props: &Map<String, Value>) -> Result<(), Error> {
    let url = url(props)?;
    let config: Map<String, Value> = config::all()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let items: Vec<Value> = buffer::take(u32::MAX)
        .into_iter()
        .map(|item| Value::String(String::from_utf8_lossy(&item).into_owned()))
        .collect();
    let authorization = forbidden(&url, "authorization");
    let x_api_key = forbidden(&url, "x-api-key");
    let report = json!({
        "config": config,
        "buffer_items": items,
        "buffer_stats": {
            "pending": buffer::stats().pending,
            "in_flight": buffer::stats().in_flight,
        },
        "authorization_forbidden": authorization == json!(true),
        "authorization_attempt": authorization,
        "x_api_key_forbidden": x_api_key == json!(true),
        "x_api_key_attempt": x_api_key,
    });
    Request::post(url)
        .json(&report)
        .send()?
        .error_for_status()?;
    Ok(())
}

fn fields(props: &Map<String, Value>) -> Result<(), Error> {
    let count = props.get("count").and_then(Value::as_u64).unwrap_or(100);
    let size = props.get("size").and_then(Value::as_u64).unwrap_or(1024) as usize;
    let value = vec![b'a'; size];
    let name = "x-fill".to_string();
    let mut kept = Vec::new();
    for i in 0..count {
        let fields = wasi::http::types::Fields::new();
        if let Err(e) = fields.append(&name, &value) {
            return Err(Error::invalid_input(format!(
                "header map {i} of {count} refused: {e:?}"
            )));
        }
        kept.push(fields);
    }
    Ok(())
}

fn relay(props: &Map<String, Value>) -> Result<(), Error> {
    let url = url(props)?;
    let to = props
        .get("to")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid_input("`properties.to` is required"))?;
    let request = match props.get("body").and_then(Value::as_str) {
        Some(body) => Request::post(url)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec()),
        None => Request::get(url),
    };
    let answer = request.send()?;
    let report = json!({
        "status": answer.status,
        "headers": answer.headers,
        "body": answer.text(),
    });
    Request::post(to).json(&report).send()?.error_for_status()?;
    Ok(())
}

switchyard_sdk::export_analytics!(Misbehave);
