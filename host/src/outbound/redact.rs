//! [`Redactor`]: masks a binding's injected secrets in every response before the guest reads
//! it, so that a provider which echoes a request (an error quoting the query, a debug
//! endpoint, a redirect's `Location`) cannot hand a secret to the adapter.
//!
//! Each credential's secret is looked for in every form its injection put on the wire, and in
//! the common re-encodings an echo would use: as is, percent-encoded (upper and lower case
//! hex), JSON-escaped, base64 (standard and URL-safe, with and without padding), and for
//! Basic auth the base64 of `user:secret`. Every occurrence, in any response header value and
//! anywhere in the body (also across chunk boundaries), is overwritten with `*` of the same
//! length, so `Content-Length` stays right and JSON stays valid. Forms shorter than
//! [`MIN_FORM`] bytes are not masked (they would match everywhere); a secret that short is a
//! configuration mistake.
//!
//! What remains possible (see docs/security.md): a provider that transforms a secret in
//! another way (hashing it, reversing it, splitting it across fields) is not recognised.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use wasmtime_wasi_http::WasiBody;

use crate::credentials::{Credential, Injection};

/// The shortest form masked, in bytes.
pub const MIN_FORM: usize = 4;

/// Characters left as they are when percent-encoding (RFC 3986's unreserved set).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Finds and masks a binding's secrets in responses. Built once per generation.
pub struct Redactor {
    finder: AhoCorasick,
    longest: usize,
}

impl std::fmt::Debug for Redactor {
    /// Never the patterns: they are the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("forms", &self.finder.patterns_len())
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// A redactor for `credentials`' secrets; `None` when there is nothing to look for.
    pub fn new(credentials: &[Credential]) -> Option<Redactor> {
        let mut forms: Vec<Vec<u8>> = credentials.iter().flat_map(forms).collect();
        forms.retain(|f| f.len() >= MIN_FORM);
        forms.sort();
        forms.dedup();
        if forms.is_empty() {
            return None;
        }
        let longest = forms.iter().map(Vec::len).max().unwrap_or(0);
        let finder = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&forms)
            .ok()?;
        Some(Redactor { finder, longest })
    }

    /// Masks every secret in `bytes`; how many were found.
    pub fn mask(&self, bytes: &mut [u8]) -> usize {
        let found: Vec<(usize, usize)> = self
            .finder
            .find_iter(&*bytes)
            .map(|m| (m.start(), m.end()))
            .collect();
        for (start, end) in &found {
            bytes[*start..*end].fill(b'*');
        }
        found.len()
    }

    /// Masks every secret in the values of `headers`; how many were found.
    pub fn headers(&self, headers: &mut HeaderMap) -> usize {
        let mut found = 0;
        for value in headers.values_mut() {
            if !self.finder.is_match(value.as_bytes()) {
                continue;
            }
            let mut bytes = value.as_bytes().to_vec();
            let n = self.mask(&mut bytes);
            if n > 0 {
                found += n;
                // `*` is a valid header value byte, so this cannot fail.
                if let Ok(masked) = HeaderValue::from_bytes(&bytes) {
                    *value = masked;
                }
            }
        }
        found
    }

    /// `body`, with every secret masked as it streams.
    pub fn body(self: &Arc<Self>, body: WasiBody) -> WasiBody {
        Masked {
            inner: body,
            redactor: self.clone(),
            held: BytesMut::new(),
            trailers: None,
            ended: false,
        }
        .boxed_unsync()
    }
}

/// Every byte string `cred`'s secret may take on the wire or in an echo of it.
fn forms(cred: &Credential) -> Vec<Vec<u8>> {
    let secret = cred.secret.expose();
    let mut plain = vec![secret.to_string()];
    if let Injection::Basic { username } = &cred.inject {
        plain.push(format!("{username}:{secret}"));
    }
    let mut out = Vec::new();
    for p in &plain {
        out.push(p.as_bytes().to_vec());
        let upper = utf8_percent_encode(p, UNRESERVED).to_string();
        out.push(upper.as_bytes().to_vec());
        out.push(lower_hex_escapes(&upper).into_bytes());
        if let Ok(json) = serde_json::to_string(p) {
            out.push(json.trim_matches('"').as_bytes().to_vec());
        }
        for engine in [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            out.push(engine.encode(p).into_bytes());
        }
    }
    out
}

/// `%2F` -> `%2f`: the same escapes with lower-case hex digits.
fn lower_hex_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let escape = rest.get(i..i + 3).unwrap_or(&rest[i..]);
        out.push_str(&escape.to_ascii_lowercase());
        rest = &rest[i + escape.len()..];
    }
    out.push_str(rest);
    out
}

/// A response body with secrets masked. The last `longest - 1` bytes read are held back
/// until more arrive (or the body ends), so a secret split across chunks is still found.
struct Masked {
    inner: WasiBody,
    redactor: Arc<Redactor>,
    held: BytesMut,
    trailers: Option<HeaderMap>,
    ended: bool,
}

impl Body for Masked {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        loop {
            if this.ended {
                if !this.held.is_empty() {
                    return Poll::Ready(Some(Ok(Frame::data(this.held.split().freeze()))));
                }
                return Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))));
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => this.ended = true,
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        this.held.extend_from_slice(&data);
                        this.redactor.mask(&mut this.held);
                        let keep = this.redactor.longest.saturating_sub(1).min(this.held.len());
                        let ready = this.held.len() - keep;
                        if ready > 0 {
                            return Poll::Ready(Some(Ok(Frame::data(
                                this.held.split_to(ready).freeze(),
                            ))));
                        }
                    }
                    Err(frame) => {
                        this.trailers = frame.into_trailers().ok().map(|mut t| {
                            this.redactor.headers(&mut t);
                            t
                        });
                        this.ended = true;
                    }
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.held.is_empty() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        // Masking keeps every length.
        let mut hint = self.inner.size_hint();
        let held = self.held.len() as u64;
        hint.set_lower(hint.lower() + held);
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper + held);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::super::target::Target;
    use super::*;
    use crate::credentials::Secret;

    /// A body of the given chunks.
    struct Chunks(std::collections::VecDeque<Bytes>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = wasmtime_wasi_http::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    fn cred(inject: Injection, secret: &str) -> Credential {
        Credential {
            target: Target::parse("https://api.example.com").expect("target"),
            inject,
            secret: Secret::new(secret),
        }
    }

    #[tokio::test]
    async fn every_form_is_masked_in_headers_and_across_chunks() {
        let secret = "sk/live+Q=\"x\"&y";
        let r = Arc::new(
            Redactor::new(&[cred(
                Injection::Basic {
                    username: "AC1".into(),
                },
                secret,
            )])
            .expect("forms"),
        );
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("AC1:{secret}"));
        let mut headers = HeaderMap::new();
        headers.insert(
            "location",
            HeaderValue::from_static("/x?k=sk%2Flive%2BQ%3D%22x%22%26y"),
        );
        headers.insert(
            "x-auth",
            HeaderValue::from_str(&format!("Basic {basic}")).expect("value"),
        );
        assert_eq!(r.headers(&mut headers), 2);
        let encoded = "sk%2Flive%2BQ%3D%22x%22%26y";
        assert_eq!(
            headers["location"],
            format!("/x?k={}", "*".repeat(encoded.len())).as_str()
        );
        assert!(!headers["x-auth"].to_str().expect("ascii").contains(&basic));

        let text = format!("{{\"q\":\"sk/live+Q=\\\"x\\\"&y\",\"raw\":\"{secret}\",\"lower\":\"sk%2flive%2bQ%3d%22x%22%26y\"}}");
        // One byte per chunk: every secret is split across chunks.
        let chunks = text.bytes().map(|b| Bytes::copy_from_slice(&[b])).collect();
        let body: WasiBody = Chunks(chunks).boxed_unsync();
        let out = r.body(body).collect().await.expect("body").to_bytes();
        let out = String::from_utf8(out.to_vec()).expect("utf-8");
        assert_eq!(out.len(), text.len(), "lengths kept");
        assert!(!out.contains("sk/live"), "{out}");
        assert!(!out.contains("sk%2f") && !out.contains("sk%2F"), "{out}");
        assert!(out.starts_with("{\"q\":\"*"), "{out}");
        assert!(
            serde_json::from_str::<serde_json::Value>(&out).is_ok(),
            "{out}"
        );
        assert!(!format!("{r:?}").contains("sk/"), "Debug shows no secret");
    }
}
