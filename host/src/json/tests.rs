//! JSON ⇄ WIT conversion, with WIT types read from a component that only imports a function.

use serde_json::json;
use wasmtime::component::types::{ComponentItem, Type};
use wasmtime::component::{Component, Val};
use wasmtime::Engine;

use super::*;

/// A component importing `f` with one parameter of every kind the contracts use.
const WAT: &str = r#"
(component
  (type $rec' (record (field "name" string) (field "max-items" (option u32))))
  (import "rec" (type $rec (eq $rec')))
  (type $kind' (enum "a" "b-c"))
  (import "kind" (type $kind (eq $kind')))
  (type $var' (variant (case "none") (case "some" u8)))
  (import "var" (type $var (eq $var')))
  (type $flags' (flags "x" "y"))
  (import "flags" (type $flags (eq $flags')))
  (import "f" (func
    (param "rec" $rec) (param "kind" $kind) (param "var" $var) (param "flags" $flags)
    (param "bytes" (list u8)) (param "small" s8) (param "pair" (tuple u16 char))
    (param "maybe" (option string)) (param "res" (result u32 (error string)))
  ))
)
"#;

fn params() -> Vec<(String, Type)> {
    let engine = Engine::default();
    let component = Component::new(&engine, WAT).expect("the test component compiles");
    let ty = component.component_type();
    let Some(ComponentItem::ComponentFunc(f)) = ty.get_import(&engine, "f").map(|i| i.ty) else {
        panic!("the test component imports f");
    };
    f.params().map(|(n, t)| (n.to_string(), t)).collect()
}

fn ty(name: &str) -> Type {
    params()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t)
        .expect("a parameter of f")
}

fn err(ty: &Type, v: serde_json::Value) -> String {
    match from_json(ty, &v, "x") {
        Err(BadJson(m)) => m,
        Ok(v) => panic!("{v:?} accepted"),
    }
}

#[test]
fn records_take_kebab_or_snake_case_and_optional_fields_may_be_absent() {
    let rec = ty("rec");
    let v = from_json(&rec, &json!({"name": "n", "max_items": 3}), "rec").expect("valid");
    assert_eq!(
        v,
        Val::Record(vec![
            ("name".into(), Val::String("n".into())),
            ("max-items".into(), Val::Option(Some(Box::new(Val::U32(3))))),
        ])
    );
    let v = from_json(&rec, &json!({"name": "n"}), "rec").expect("valid");
    assert_eq!(to_json(&v), json!({"name": "n", "max-items": null}));
    assert_eq!(err(&rec, json!({})), "missing field 'x.name'");
    assert!(err(&rec, json!({"name": "n", "nope": 1})).contains("unknown field(s) in 'x'"));
}

#[test]
fn scalars_are_checked_for_kind_and_range() {
    let small = ty("small");
    assert_eq!(from_json(&small, &json!(-128), "s"), Ok(Val::S8(-128)));
    assert_eq!(
        err(&small, json!(128)),
        "'x' = 128 is out of range -128..=127"
    );
    assert_eq!(
        err(&small, json!("1")),
        "'x' must be an integer, got a string"
    );
    let pair = ty("pair");
    assert_eq!(
        from_json(&pair, &json!([7, "é"]), "p"),
        Ok(Val::Tuple(vec![Val::U16(7), Val::Char('é')]))
    );
    assert_eq!(err(&pair, json!([7])), "'x' must have 2 elements");
    assert_eq!(
        err(&pair, json!([7, "ab"])),
        "'x[1]' must be a one-character string, got a string"
    );
}

#[test]
fn byte_lists_take_arrays_or_strings() {
    let bytes = ty("bytes");
    let want = Val::List(vec![Val::U8(104), Val::U8(105)]);
    assert_eq!(from_json(&bytes, &json!("hi"), "b"), Ok(want.clone()));
    assert_eq!(from_json(&bytes, &json!([104, 105]), "b"), Ok(want.clone()));
    assert_eq!(to_json(&want), json!([104, 105]));
    assert_eq!(
        err(&bytes, json!([1, 256])),
        "'x[1]' = 256 is out of range 0..=255"
    );
}

#[test]
fn enums_variants_flags_options_and_results_round_trip() {
    for (name, value) in [
        ("kind", json!("b-c")),
        ("var", json!("none")),
        ("var", json!({"some": 9})),
        ("flags", json!(["x", "y"])),
        ("maybe", json!(null)),
        ("maybe", json!("m")),
        ("res", json!({"ok": 1})),
        ("res", json!({"err": "no"})),
    ] {
        let v = from_json(&ty(name), &value, name).expect("valid");
        assert_eq!(to_json(&v), value, "{name}");
    }
    assert_eq!(err(&ty("kind"), json!("z")), "'x' must be one of a, b-c");
    assert_eq!(err(&ty("var"), json!("some")), "'x.some' needs a payload");
    assert_eq!(
        err(&ty("var"), json!({"other": 1})),
        "'x' has no case 'other'"
    );
    assert_eq!(err(&ty("flags"), json!(["z"])), "'x' has no flag 'z'");
}

#[test]
fn strings_take_json_text_of_objects() {
    let maybe = ty("maybe");
    assert_eq!(
        from_json(&maybe, &json!({"a": 1}), "m"),
        Ok(Val::Option(Some(Box::new(Val::String("{\"a\":1}".into())))))
    );
}

#[test]
fn arguments_are_matched_by_name() {
    let ps = params();
    let only = |names: &[&str]| -> Vec<(&str, Type)> {
        ps.iter()
            .filter(|(n, _)| names.contains(&n.as_str()))
            .map(|(n, t)| (n.as_str(), t.clone()))
            .collect()
    };
    let args = json!({"small": 1});
    let Some(args) = args.as_object() else {
        panic!("an object")
    };
    assert_eq!(
        params_from_json(only(&["small", "maybe"]).into_iter(), args),
        Ok(vec![Val::S8(1), Val::Option(None)])
    );
    assert_eq!(
        params_from_json(only(&["small", "bytes"]).into_iter(), args),
        Err(BadJson("missing argument 'bytes'".into()))
    );
    let extra = json!({"small": 1, "big": 2});
    let Some(extra) = extra.as_object() else {
        panic!("an object")
    };
    assert!(params_from_json(only(&["small"]).into_iter(), extra)
        .is_err_and(|e| e.0.starts_with("unknown argument(s) [\"big\"]")));
}

#[test]
fn contract_errors_decode_from_their_record() {
    let record = Val::Record(vec![
        ("kind".into(), Val::Enum("not-found".into())),
        ("retryable".into(), Val::Bool(false)),
        ("message".into(), Val::String("no such key".into())),
        (
            "provider-code".into(),
            Val::Option(Some(Box::new(Val::String("404".into())))),
        ),
        ("provider-message".into(), Val::Option(None)),
        ("retry-after-ms".into(), Val::Option(None)),
    ]);
    let e = decode_error(&record).expect("the contract's error");
    assert_eq!(e.kind, crate::ErrorKind::NotFound);
    assert_eq!(e.provider_code.as_deref(), Some("404"));
    assert!(decode_error(&Val::String("x".into())).is_err());
}

#[test]
fn bytes_come_as_text_arrays_or_base64_and_their_count_is_bounded() {
    let bytes = ty("bytes");
    let list = |v: Val| match v {
        Val::List(items) => items,
        other => panic!("{other:?}"),
    };
    let b64 = from_json(&bytes, &json!({"base64": "aGk="}), "b").expect("base64");
    assert_eq!(list(b64), vec![Val::U8(b'h'), Val::U8(b'i')]);
    assert!(err(&bytes, json!({"base64": "@@"})).contains("not base64"));
    // More values than a request may make: refused before they are made.
    let big = vec![0u8; MAX_VALUES + 1];
    let m = err(
        &bytes,
        json!({ "base64": base64::engine::general_purpose::STANDARD.encode(&big) }),
    );
    assert!(m.contains("signed upload URL"), "{m}");
    let m = err(
        &bytes,
        serde_json::Value::String("a".repeat(MAX_VALUES + 1)),
    );
    assert!(m.contains("more than"), "{m}");
    let text = format!("{{\"bytes\": [{}0]}}", "0,".repeat(MAX_VALUES));
    assert!(check_value_count(text.as_bytes()).is_err());
    // Commas inside strings are text, not values.
    let text = format!("{{\"s\": \"{}\"}}", ",".repeat(MAX_VALUES + 5));
    assert_eq!(check_value_count(text.as_bytes()), Ok(()));
}
