//! Stripe's request encoding: `application/x-www-form-urlencoded` pairs whose keys nest with
//! brackets, parsed into a JSON tree the handlers read.
//!
//! - `email=a%40b.c` → `{"email": "a@b.c"}`; `+` is a space.
//! - `metadata[order_id]=6735` → `{"metadata": {"order_id": "6735"}}`.
//! - `expand[]=a&expand[]=b` → `{"expand": ["a", "b"]}`; `expand[0]=a` → `{"expand": {"0": "a"}}`
//!   (the handlers read both forms as lists, see [`list`]).
//! - `metadata=` (an empty value) stays the empty string: Stripe's way of unsetting.
//!
//! Every leaf is a string, as on the wire; the handlers parse integers and booleans and answer
//! Stripe's own errors when they do not parse.

use serde_json::{Map, Value};

/// Why a body or query could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FormError(pub String);

/// Parses a form body or query string into a JSON object of strings, objects and arrays.
pub(super) fn parse(input: &str) -> Result<Map<String, Value>, FormError> {
    let mut root = Map::new();
    for pair in input.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(raw_key)?;
        let value = decode(raw_value)?;
        let (name, segments) = split_key(&key)?;
        insert(&mut root, &name, &segments, value)?;
    }
    Ok(root)
}

/// Percent-decodes one component, `+` meaning a space.
fn decode(text: &str) -> Result<String, FormError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| FormError(format!("invalid percent-encoding in {text:?}")))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| FormError(format!("{text:?} is not UTF-8 once decoded")))
}

/// `a[b][]` → (`a`, [`b`, ``]).
fn split_key(key: &str) -> Result<(String, Vec<String>), FormError> {
    let Some(open) = key.find('[') else {
        return Ok((key.to_string(), Vec::new()));
    };
    let name = key[..open].to_string();
    if name.is_empty() {
        return Err(FormError(format!("parameter name missing in {key:?}")));
    }
    let mut segments = Vec::new();
    let mut rest = &key[open..];
    while !rest.is_empty() {
        let inner = rest
            .strip_prefix('[')
            .and_then(|r| r.find(']').map(|close| (&r[..close], &r[close + 1..])));
        match inner {
            Some((segment, after)) => {
                segments.push(segment.to_string());
                rest = after;
            }
            None => return Err(FormError(format!("unbalanced brackets in {key:?}"))),
        }
    }
    Ok((name, segments))
}

fn insert(
    map: &mut Map<String, Value>,
    name: &str,
    segments: &[String],
    value: String,
) -> Result<(), FormError> {
    let Some((first, rest)) = segments.split_first() else {
        map.insert(name.to_string(), Value::String(value));
        return Ok(());
    };
    let slot = map.entry(name.to_string()).or_insert_with(|| {
        if first.is_empty() {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        }
    });
    match (slot, first.is_empty()) {
        (Value::Array(items), true) => {
            if !rest.is_empty() {
                return Err(FormError(format!("`{name}[]` can only hold plain values")));
            }
            items.push(Value::String(value));
            Ok(())
        }
        (Value::Object(inner), false) => insert(inner, first, rest, value),
        _ => Err(FormError(format!(
            "`{name}` is given both as a list and as a hash"
        ))),
    }
}

/// A list parameter: `a[]=x` (an array) or `a[0]=x&a[1]=y` (an object with index keys).
/// `None` when the parameter is absent; an error message when it is not a list of strings.
pub(super) fn list(params: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, String> {
    match params.get(name) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| format!("Invalid array: {name}")),
        Some(Value::Object(indexed)) => {
            let mut entries = Vec::with_capacity(indexed.len());
            for (k, v) in indexed {
                let index: usize = k
                    .parse()
                    .map_err(|_| format!("Invalid array: {name}[{k}] is not an index"))?;
                let value = v
                    .as_str()
                    .ok_or_else(|| format!("Invalid array: {name}[{k}]"))?;
                entries.push((index, value.to_string()));
            }
            entries.sort_by_key(|(i, _)| *i);
            Ok(Some(entries.into_iter().map(|(_, v)| v).collect()))
        }
        Some(Value::String(s)) if s.is_empty() => Ok(Some(Vec::new())),
        Some(_) => Err(format!("Invalid array: {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_keys_lists_and_decoding() {
        let p = parse(
            "email=ada%40example.com&name=Ada+L.&metadata[plan]=pro&metadata[ref]=&expand[]=a&expand[]=b&types[1]=y&types[0]=x",
        )
        .expect("parses");
        assert_eq!(
            Value::Object(p.clone()),
            json!({"email": "ada@example.com", "name": "Ada L.",
                   "metadata": {"plan": "pro", "ref": ""}, "expand": ["a", "b"],
                   "types": {"1": "y", "0": "x"}})
        );
        assert_eq!(
            list(&p, "types").unwrap(),
            Some(vec!["x".into(), "y".into()])
        );
        assert_eq!(
            list(&p, "expand").unwrap(),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(list(&p, "missing").unwrap(), None);
    }

    #[test]
    fn malformed_input_is_refused() {
        assert!(parse("a=%zz").is_err());
        assert!(parse("a[b=1").is_err());
        assert!(parse("[x]=1").is_err());
        assert!(parse("a[]=1&a[k]=2").is_err());
    }
}
