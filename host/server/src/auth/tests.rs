use http::{header, HeaderMap, HeaderValue};

use super::*;

fn key(id: &str, tenant: &str, secret: &str) -> GatewayKey {
    GatewayKey::new(id, tenant, secret, Scope::default()).expect("valid key")
}

fn bearer(secret: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {secret}")) {
        headers.insert(header::AUTHORIZATION, v);
    }
    headers
}

fn call<'a>(tenant: &'a str, service: Service, function: &'a str) -> Target<'a> {
    Target::Call {
        tenant,
        service,
        function,
    }
}

fn status(result: Result<(), ApiError>) -> u16 {
    result.err().map_or(200, |e| e.status.as_u16())
}

#[test]
fn scopes_parse_and_match() {
    let scope = Scope::new(
        Some(&["storage".into(), "analytics".into()]),
        Some(&["track".into(), "storage/download".into()]),
    )
    .expect("valid scope");
    assert!(scope.allows(Service::Analytics, "track"));
    assert!(scope.allows(Service::Storage, "download"));
    assert!(!scope.allows(Service::Storage, "upload"));
    assert!(!scope.allows(Service::Analytics, "download"));
    assert!(!scope.allows(Service::Email, "track"));
    assert!(Scope::new(Some(&[]), None).is_err());
    assert!(Scope::new(Some(&["nope".into()]), None).is_err());
    assert!(Scope::new(None, Some(&["nope/track".into()])).is_err());
    assert!(Scope::new(None, Some(&["storage/".into()])).is_err());
    assert!(GatewayKey::new("a b", "acme", "0123456789abcdef", Scope::default()).is_err());
    assert!(GatewayKey::new("a", "acme", "short", Scope::default()).is_err());
    assert!(!format!("{:?}", key("a", "acme", "0123456789abcdef")).contains("0123"));
}

#[test]
fn keys_open_their_tenant_within_their_scope() {
    let metrics = ServerMetrics::default();
    let scoped = GatewayKey::new(
        "acme-ro",
        "acme",
        "acme-read-only-key-0000",
        Scope::new(None, Some(&["storage/download".into()])).expect("scope"),
    )
    .expect("key");
    let store = KeyStore::new(KeySettings {
        require_keys: None,
        keys: vec![key("acme", "acme", "acme-key-0000000000"), scoped],
    });
    let track = call("acme", Service::Analytics, "track");
    assert_eq!(
        status(store.authorize(&HeaderMap::new(), track, &metrics)),
        401
    );
    assert_eq!(
        status(store.authorize(&bearer("wrong-key-00000000"), track, &metrics)),
        401
    );
    assert_eq!(
        status(store.authorize(&bearer("acme-key-0000000000"), track, &metrics)),
        200
    );
    let globex = call("globex", Service::Analytics, "track");
    assert_eq!(
        status(store.authorize(&bearer("acme-key-0000000000"), globex, &metrics)),
        403
    );
    assert_eq!(
        status(store.authorize(&bearer("acme-read-only-key-0000"), track, &metrics)),
        403
    );
    let download = call("acme", Service::Storage, "download");
    assert_eq!(
        status(store.authorize(&bearer("acme-read-only-key-0000"), download, &metrics)),
        200
    );
    assert_eq!(
        status(store.authorize(&bearer("acme-key-0000000000"), Target::Any, &metrics)),
        200
    );
    let text = metrics.render();
    assert!(
        text.contains("switchyard_gateway_auth_failures_total{reason=\"missing\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("switchyard_gateway_auth_failures_total{reason=\"wrong_tenant\"} 1"),
        "{text}"
    );
}

#[test]
fn requirement_follows_the_setting_and_stays_once_keys_existed() {
    let metrics = ServerMetrics::default();
    let none = HeaderMap::new();
    let target = call("acme", Service::Analytics, "track");
    let store = KeyStore::new(KeySettings::default());
    assert!(!store.required());
    assert_eq!(status(store.authorize(&none, target, &metrics)), 200);
    store
        .add(key("k", "acme", "acme-key-0000000000"))
        .expect("added");
    assert!(store.required());
    assert!(store.revoke("k").is_some());
    assert!(
        store.required(),
        "revoking the last key does not open the gateway"
    );
    assert_eq!(status(store.authorize(&none, target, &metrics)), 401);
    store.reload(KeySettings {
        require_keys: Some(false),
        keys: vec![],
    });
    assert_eq!(status(store.authorize(&none, target, &metrics)), 200);
    let strict = KeyStore::new(KeySettings {
        require_keys: Some(true),
        keys: vec![],
    });
    assert_eq!(status(strict.authorize(&none, target, &metrics)), 401);
}

#[test]
fn reload_replaces_file_keys_keeps_admin_keys_and_revocations() {
    let a = key("a", "acme", "acme-key-aaaaaaaaaa");
    let b = key("b", "acme", "acme-key-bbbbbbbbbb");
    let store = KeyStore::new(KeySettings {
        require_keys: None,
        keys: vec![a.clone(), b.clone()],
    });
    store
        .add(key("api", "acme", "acme-key-api0000000"))
        .expect("added");
    assert_eq!(
        store.add(key("api", "acme", "acme-key-other00000")),
        Err(AddKeyError::DuplicateId("api".into()))
    );
    assert_eq!(
        store.add(key("x", "acme", "acme-key-aaaaaaaaaa")),
        Err(AddKeyError::DuplicateSecret)
    );
    store.revoke("a");
    let c = key("c", "globex", "globex-key-cccccccc");
    let b2 = key("b", "acme", "acme-key-b-rotated0");
    let changes = store.reload(KeySettings {
        require_keys: None,
        keys: vec![a, b2, c],
    });
    assert_eq!(changes.added, vec!["c".to_string()]);
    assert_eq!(changes.changed, vec!["b".to_string()]);
    assert!(changes.removed.is_empty(), "{changes:?}");
    let ids: Vec<String> = store.list().into_iter().map(|k| k.id).collect();
    assert_eq!(ids, ["b", "c", "api"], "a stays revoked, api stays");
    let changes = store.reload(KeySettings::default());
    assert_eq!(changes.removed, vec!["b".to_string(), "c".to_string()]);
}
