//! JSON ⇄ WIT values, through a function's WIT types: how the gateway and `invoke_json` pass
//! any contract function its arguments and read its result. Pure: no store, no call.
//!
//! Mapping (both ways): records are objects keyed by field name (kebab-case as in WIT;
//! snake_case is accepted on input); `option` is `null` or the value; enums are their case
//! name; variants are `"case"` or `{"case": payload}`; `result` is `{"ok": ..}` / `{"err": ..}`;
//! flags are arrays of names; lists are arrays; `list<u8>` also accepts a UTF-8 string. Where a
//! `string` is expected an object or array is accepted and passed as its JSON text: the
//! contracts' `json` fields (event properties...) are strings in WIT.

use std::cell::Cell;

use base64::Engine as _;
use serde_json::{Map, Number, Value};
use switchyard_rules::RuleError;
use wasmtime::component::types::Type;
use wasmtime::component::Val;

use crate::error::ProviderError;

/// JSON that does not fit a WIT type; the message names the place (`event.name`,
/// `recipients[2]`) and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadJson(pub String);

/// A function's arguments from a JSON object keyed by parameter name (kebab-case as in WIT
/// or snake_case); an absent `option` parameter is `none`.
///
/// At most [`MAX_VALUES`] values are made in all (each byte of a byte list is one), so what
/// one request makes the host hold is bounded whatever its JSON holds.
pub fn params_from_json<'a>(
    params: impl Iterator<Item = (&'a str, Type)>,
    args: &Map<String, Value>,
) -> Result<Vec<Val>, BadJson> {
    let budget = Cell::new(MAX_VALUES);
    let mut out = Vec::new();
    let mut names = Vec::new();
    for (name, ty) in params {
        names.push(name.to_string());
        match lookup(args, name) {
            Some(v) => out.push(from_json_at(&ty, v, name, &budget).map_err(BadJson)?),
            None if matches!(ty, Type::Option(_)) => out.push(Val::Option(None)),
            None => return Err(BadJson(format!("missing argument '{name}'"))),
        }
    }
    let extra: Vec<&String> = args
        .keys()
        .filter(|k| !names.iter().any(|n| n == *k || n.replace('-', "_") == **k))
        .collect();
    if !extra.is_empty() {
        return Err(BadJson(format!(
            "unknown argument(s) {extra:?}; parameters: {}",
            names.join(", ")
        )));
    }
    Ok(out)
}

fn lookup<'a>(obj: &'a Map<String, Value>, wit_name: &str) -> Option<&'a Value> {
    obj.get(wit_name)
        .or_else(|| obj.get(&wit_name.replace('-', "_")))
}

/// Parses `text` as a JSON object; the error (the contract's rule) names `at`.
pub fn parse_object(at: &str, text: &str) -> Result<Map<String, Value>, RuleError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(other) => Err(switchyard_rules::not_object(at, json_kind(&other))),
        Err(e) => Err(switchyard_rules::not_json(at, &e)),
    }
}

/// The contract's `error` record, decoded from its WIT value.
pub fn decode_error(v: &Val) -> Result<ProviderError, BadJson> {
    let json = to_json(v);
    let mut fields = Map::new();
    if let Value::Object(o) = &json {
        for (k, v) in o {
            fields.insert(k.replace('-', "_"), v.clone());
        }
    }
    serde_json::from_value::<ProviderError>(Value::Object(fields)).map_err(|e| {
        BadJson(format!(
            "adapter returned an error that is not the contract's: {e}: {json}"
        ))
    })
}

/// JSON to a WIT value of type `ty`; `at` names the place in errors.
pub fn from_json(ty: &Type, v: &Value, at: &str) -> Result<Val, BadJson> {
    from_json_at(ty, v, at, &Cell::new(MAX_VALUES)).map_err(BadJson)
}

/// The most values one call's arguments may make (about 40 MiB of host memory).
pub const MAX_VALUES: usize = 1 << 20;

/// Checks, before parsing, that the JSON text `body` holds at most [`MAX_VALUES`] values
/// (counted from its commas and brackets outside strings, an upper bound), so that parsing it
/// cannot make the host hold more than about 32 bytes per value either.
pub fn check_value_count(body: &[u8]) -> Result<(), BadJson> {
    let (mut values, mut in_string, mut escaped) = (1usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b',' | b'[' | b'{' => values += 1,
            _ => {}
        }
        if values > MAX_VALUES {
            return Err(BadJson(format!(
                "the body holds more than {MAX_VALUES} JSON values; send large objects \
                 through a signed upload URL"
            )));
        }
    }
    Ok(())
}

/// Takes `n` values from `budget`, or says the arguments are too big.
fn spend(budget: &Cell<usize>, n: usize, at: &str) -> Result<(), String> {
    match budget.get().checked_sub(n) {
        Some(left) => {
            budget.set(left);
            Ok(())
        }
        None => Err(format!(
            "'{at}': the arguments hold more than {MAX_VALUES} values (each byte of a byte \
             list is one); send large objects through a signed upload URL"
        )),
    }
}

fn from_json_at(ty: &Type, v: &Value, at: &str, budget: &Cell<usize>) -> Result<Val, String> {
    spend(budget, 1, at)?;
    let want = |what: &str| format!("'{at}' must be {what}, got {}", json_kind(v));
    let int = |lo: i128, hi: i128| -> Result<i128, String> {
        let n = v
            .as_i64()
            .map(i128::from)
            .or_else(|| v.as_u64().map(i128::from))
            .ok_or_else(|| want("an integer"))?;
        if n < lo || n > hi {
            return Err(format!("'{at}' = {n} is out of range {lo}..={hi}"));
        }
        Ok(n)
    };
    Ok(match ty {
        Type::Bool => Val::Bool(v.as_bool().ok_or_else(|| want("a boolean"))?),
        Type::S8 => Val::S8(int(i8::MIN.into(), i8::MAX.into())? as i8),
        Type::U8 => Val::U8(int(0, u8::MAX.into())? as u8),
        Type::S16 => Val::S16(int(i16::MIN.into(), i16::MAX.into())? as i16),
        Type::U16 => Val::U16(int(0, u16::MAX.into())? as u16),
        Type::S32 => Val::S32(int(i32::MIN.into(), i32::MAX.into())? as i32),
        Type::U32 => Val::U32(int(0, u32::MAX.into())? as u32),
        Type::S64 => Val::S64(int(i64::MIN.into(), i64::MAX.into())? as i64),
        Type::U64 => Val::U64(int(0, u64::MAX.into())? as u64),
        Type::Float32 => Val::Float32(v.as_f64().ok_or_else(|| want("a number"))? as f32),
        Type::Float64 => Val::Float64(v.as_f64().ok_or_else(|| want("a number"))?),
        Type::Char => {
            let s = v.as_str().ok_or_else(|| want("a one-character string"))?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return Err(want("a one-character string")),
            }
        }
        Type::String => match v {
            Value::String(s) => Val::String(s.clone()),
            Value::Object(_) | Value::Array(_) => Val::String(v.to_string()),
            _ => return Err(want("a string")),
        },
        Type::List(l) => {
            let elem = l.ty();
            match (v, &elem) {
                (Value::String(s), Type::U8) => {
                    spend(budget, s.len(), at)?;
                    Val::List(s.bytes().map(Val::U8).collect())
                }
                // The compact form of bytes: `{"base64": "..."}`.
                (Value::Object(o), Type::U8) if o.len() == 1 && o.contains_key("base64") => {
                    let text = o["base64"].as_str().ok_or_else(|| want("base64 text"))?;
                    spend(budget, text.len() / 4 * 3, at)?;
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .map_err(|e| format!("'{at}.base64' is not base64: {e}"))?;
                    Val::List(bytes.into_iter().map(Val::U8).collect())
                }
                (Value::Array(items), _) => Val::List(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| from_json_at(&elem, item, &format!("{at}[{i}]"), budget))
                        .collect::<Result<_, _>>()?,
                ),
                _ => return Err(want("an array")),
            }
        }
        Type::Record(r) => {
            let Value::Object(obj) = v else {
                return Err(want("an object"));
            };
            let mut fields = Vec::new();
            let mut used = 0;
            for field in r.fields() {
                let path = format!("{at}.{}", field.name);
                match lookup(obj, field.name) {
                    Some(Value::Null) | None if matches!(field.ty, Type::Option(_)) => {
                        used += usize::from(lookup(obj, field.name).is_some());
                        fields.push((field.name.to_string(), Val::Option(None)));
                    }
                    Some(fv) => {
                        used += 1;
                        fields.push((
                            field.name.to_string(),
                            from_json_at(&field.ty, fv, &path, budget)?,
                        ));
                    }
                    None => return Err(format!("missing field '{path}'")),
                }
            }
            if used < obj.len() {
                let known: Vec<String> = r.fields().map(|f| f.name.to_string()).collect();
                let extra: Vec<&String> = obj
                    .keys()
                    .filter(|k| {
                        !known
                            .iter()
                            .any(|n| *n == **k || n.replace('-', "_") == **k)
                    })
                    .collect();
                return Err(format!(
                    "unknown field(s) in '{at}': {extra:?}; known: {}",
                    known.join(", ")
                ));
            }
            Val::Record(fields)
        }
        Type::Tuple(t) => {
            let Value::Array(items) = v else {
                return Err(want("an array"));
            };
            let types: Vec<Type> = t.types().collect();
            if items.len() != types.len() {
                return Err(format!("'{at}' must have {} elements", types.len()));
            }
            Val::Tuple(
                types
                    .iter()
                    .zip(items)
                    .enumerate()
                    .map(|(i, (t, item))| from_json_at(t, item, &format!("{at}[{i}]"), budget))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Enum(e) => {
            let s = v.as_str().ok_or_else(|| want("a string"))?;
            if !e.names().any(|n| n == s) {
                return Err(format!(
                    "'{at}' must be one of {}",
                    e.names().collect::<Vec<_>>().join(", ")
                ));
            }
            Val::Enum(s.to_string())
        }
        Type::Variant(var) => {
            let (case, payload) = match v {
                Value::String(s) => (s.as_str(), None),
                Value::Object(o) if o.len() == 1 => {
                    let (k, p) = o.iter().next().ok_or_else(|| want("a variant"))?;
                    (k.as_str(), Some(p))
                }
                _ => return Err(want("a case name or {\"case\": payload}")),
            };
            let c = var
                .cases()
                .find(|c| c.name == case)
                .ok_or_else(|| format!("'{at}' has no case '{case}'"))?;
            let payload = match (&c.ty, payload) {
                (Some(t), Some(p)) => Some(Box::new(from_json_at(
                    t,
                    p,
                    &format!("{at}.{case}"),
                    budget,
                )?)),
                (None, None) | (None, Some(Value::Null)) => None,
                (Some(_), None) => return Err(format!("'{at}.{case}' needs a payload")),
                (None, Some(_)) => return Err(format!("'{at}.{case}' takes no payload")),
            };
            Val::Variant(case.to_string(), payload)
        }
        Type::Option(o) => match v {
            Value::Null => Val::Option(None),
            other => Val::Option(Some(Box::new(from_json_at(&o.ty(), other, at, budget)?))),
        },
        Type::Result(r) => {
            let Value::Object(o) = v else {
                return Err(want("{\"ok\": ..} or {\"err\": ..}"));
            };
            let conv = |t: Option<Type>, p: Option<&Value>, side: &str| match (t, p) {
                (Some(t), Some(p)) => {
                    from_json_at(&t, p, &format!("{at}.{side}"), budget).map(|v| Some(Box::new(v)))
                }
                _ => Ok(None),
            };
            if o.contains_key("ok") {
                Val::Result(Ok(conv(r.ok(), o.get("ok"), "ok")?))
            } else if o.contains_key("err") {
                Val::Result(Err(conv(r.err(), o.get("err"), "err")?))
            } else {
                return Err(want("{\"ok\": ..} or {\"err\": ..}"));
            }
        }
        Type::Flags(f) => {
            let Value::Array(items) = v else {
                return Err(want("an array of flag names"));
            };
            let names: Vec<&str> = f.names().collect();
            let mut out = Vec::new();
            for item in items {
                let s = item
                    .as_str()
                    .ok_or_else(|| want("an array of flag names"))?;
                if !names.contains(&s) {
                    return Err(format!("'{at}' has no flag '{s}'"));
                }
                out.push(s.to_string());
            }
            Val::Flags(out)
        }
        _ => return Err(format!("'{at}' has a type that cannot be passed as JSON")),
    })
}

/// A WIT value as JSON.
pub fn to_json(v: &Val) -> Value {
    match v {
        Val::Bool(b) => Value::Bool(*b),
        Val::S8(n) => (*n).into(),
        Val::U8(n) => (*n).into(),
        Val::S16(n) => (*n).into(),
        Val::U16(n) => (*n).into(),
        Val::S32(n) => (*n).into(),
        Val::U32(n) => (*n).into(),
        Val::S64(n) => (*n).into(),
        Val::U64(n) => (*n).into(),
        Val::Float32(f) => Number::from_f64(f64::from(*f))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Val::Float64(f) => Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Val::Char(c) => Value::String(c.to_string()),
        Val::String(s) => Value::String(s.clone()),
        Val::List(items) | Val::Tuple(items) => Value::Array(items.iter().map(to_json).collect()),
        Val::Record(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
        Val::Enum(name) => Value::String(name.clone()),
        Val::Variant(name, None) => Value::String(name.clone()),
        Val::Variant(name, Some(p)) => {
            let mut m = Map::new();
            m.insert(name.clone(), to_json(p));
            Value::Object(m)
        }
        Val::Option(o) => o.as_ref().map(|v| to_json(v)).unwrap_or(Value::Null),
        Val::Result(r) => {
            let (side, v) = match r {
                Ok(v) => ("ok", v),
                Err(v) => ("err", v),
            };
            let mut m = Map::new();
            m.insert(
                side.into(),
                v.as_ref().map(|v| to_json(v)).unwrap_or(Value::Null),
            );
            Value::Object(m)
        }
        Val::Flags(names) => Value::Array(names.iter().cloned().map(Value::String).collect()),
        _ => Value::Null,
    }
}

/// About how many bytes `vals` take in a component's memory once passed in: strings and
/// lists their contents (and a pointer and length each), scalars their size.
pub fn payload_bytes(vals: &[Val]) -> usize {
    vals.iter().map(val_bytes).sum()
}

fn val_bytes(v: &Val) -> usize {
    let boxed = |v: &Option<Box<Val>>| 4 + v.as_deref().map_or(0, val_bytes);
    match v {
        Val::String(s) => 8 + s.len(),
        Val::List(items) | Val::Tuple(items) => 8 + items.iter().map(val_bytes).sum::<usize>(),
        Val::Record(fields) => fields.iter().map(|(_, v)| val_bytes(v)).sum(),
        Val::Variant(_, v) | Val::Option(v) => boxed(v),
        Val::Result(Ok(v)) | Val::Result(Err(v)) => boxed(v),
        Val::Bool(_) | Val::U8(_) | Val::S8(_) => 1,
        Val::U16(_) | Val::S16(_) => 2,
        Val::U32(_) | Val::S32(_) | Val::Float32(_) | Val::Char(_) | Val::Enum(_) => 4,
        Val::Flags(names) => 4 + names.len(),
        _ => 8,
    }
}

/// What kind of JSON value `v` is, for messages (`a string`, `an array`...).
pub use switchyard_rules::json::json_kind;

#[cfg(test)]
mod tests;
