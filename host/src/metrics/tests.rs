//! The registry and the text format.

use super::*;

#[test]
fn counters_add_gauges_replace_and_kinds_do_not_mix() {
    let r = Registry::default();
    let tags = vec![("a".to_string(), "1".to_string())];
    assert_eq!(r.record("c", Kind::Counter, 2.0, tags.clone()), Ok(()));
    assert_eq!(r.record("c", Kind::Counter, 3.0, tags.clone()), Ok(()));
    assert_eq!(r.record("g", Kind::Gauge, 2.0, vec![]), Ok(()));
    assert_eq!(r.record("g", Kind::Gauge, 7.0, vec![]), Ok(()));
    let snaps = r.snapshots(None);
    assert_eq!(snaps[0].value, 5.0);
    assert_eq!(snaps[1].value, 7.0);
    assert!(matches!(
        r.record("c", Kind::Gauge, 1.0, tags),
        Err(RecordError::KindConflict { .. })
    ));
    assert_eq!(
        r.record("c", Kind::Counter, -1.0, vec![]),
        Err(RecordError::NegativeCounter(-1.0))
    );
    assert!(matches!(
        r.record("g", Kind::Gauge, f64::NAN, vec![]),
        Err(RecordError::NotFinite(_))
    ));
}

#[test]
fn the_text_format_has_types_labels_buckets_and_tenants() {
    let host = Registry::default();
    host.record_host(
        "switchyard_x_total",
        Kind::Counter,
        1.0,
        &[("tenant", "a\"b")],
    );
    let t = Registry::default();
    t.record("lat", Kind::Histogram, 0.2, vec![]).ok();
    t.record("q", Kind::Summary, 4.0, vec![]).ok();
    let text = render_prometheus(&host, [("acme", &t)].into_iter());
    assert!(
        text.contains("# TYPE switchyard_x_total counter\n"),
        "{text}"
    );
    assert!(
        text.contains("switchyard_x_total{tenant=\"a\\\"b\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("lat_bucket{tenant=\"acme\",le=\"0.25\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("lat_bucket{tenant=\"acme\",le=\"0.1\"} 0\n"),
        "{text}"
    );
    assert!(text.contains("lat_count{tenant=\"acme\"} 1\n"), "{text}");
    assert!(
        text.contains("q{tenant=\"acme\",quantile=\"0.5\"} 4\n"),
        "{text}"
    );
}

#[test]
fn the_same_name_in_two_kinds_is_written_twice() {
    let (a, b) = (Registry::default(), Registry::default());
    a.record("m", Kind::Counter, 1.0, vec![]).ok();
    b.record("m", Kind::Gauge, 2.0, vec![]).ok();
    let text = render_prometheus(&Registry::default(), [("a", &a), ("b", &b)].into_iter());
    assert!(text.contains("# TYPE m counter\n"), "{text}");
    assert!(
        text.contains("# TYPE m_gauge gauge\nm_gauge{tenant=\"b\"} 2\n"),
        "{text}"
    );
}

/// Checks a whole exposition the way a Prometheus server's parser does: it must parse (the
/// `prometheus-parse` crate), every `# TYPE` name must be new, every sample must belong to the
/// family declared above it, its label names must be valid and unique, a histogram bucket
/// must have `le`, and no (name, labels) series may appear twice.
fn check_exposition(text: &str) -> Result<(), String> {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .map_err(|e| format!("does not parse: {e}"))?;
    let mut types = std::collections::HashSet::new();
    let mut series = std::collections::HashSet::new();
    let mut family: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or(format!("bad TYPE: {line}"))?;
            if !types.insert(name.to_string()) {
                return Err(format!("second TYPE line for {name}"));
            }
            family = Some((name.to_string(), kind.to_string()));
            continue;
        }
        let (name, rest) = match line.find(['{', ' ']) {
            Some(i) => line.split_at(i),
            None => return Err(format!("bad sample: {line}")),
        };
        let (fam, kind) = family
            .as_ref()
            .ok_or(format!("sample before TYPE: {line}"))?;
        let suffixes: &[&str] = match kind.as_str() {
            "histogram" => &["_bucket", "_sum", "_count"],
            "summary" => &["", "_sum", "_count"],
            _ => &[""],
        };
        if !suffixes.iter().any(|s| name == format!("{fam}{s}")) {
            return Err(format!("{name} is not a sample of the {kind} {fam}"));
        }
        let mut names = Vec::new();
        if let Some(body) = rest.strip_prefix('{') {
            let mut chars = body.chars().peekable();
            loop {
                let label: String = chars.by_ref().take_while(|c| *c != '=').collect();
                let label = label.trim_start_matches(',').to_string();
                if label.is_empty() {
                    break;
                }
                let valid = label.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !label.starts_with("__");
                if !valid {
                    return Err(format!("bad label name {label:?}: {line}"));
                }
                if chars.next() != Some('"') {
                    return Err(format!("unquoted value: {line}"));
                }
                let mut value = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => value.push(chars.next().unwrap_or('\\')),
                        '"' => break,
                        c => value.push(c),
                    }
                }
                if names.iter().any(|(n, _)| *n == label) {
                    return Err(format!("duplicate label {label}: {line}"));
                }
                names.push((label, value));
                if chars.peek() == Some(&'}') {
                    break;
                }
            }
        }
        if name.ends_with("_bucket") && kind == "histogram" && !names.iter().any(|(n, _)| n == "le")
        {
            return Err(format!("bucket without le: {line}"));
        }
        names.sort();
        if !series.insert((name.to_string(), names)) {
            return Err(format!("series written twice: {line}"));
        }
    }
    Ok(())
}

#[test]
fn tenant_names_and_tags_never_break_the_exposition() {
    let host = Registry::default();
    host.record_host(
        "switchyard_calls_total",
        Kind::Counter,
        1.0,
        &[("tenant", "acme"), ("outcome", "ok")],
    );
    let tags = |pairs: &[(&str, &str)]| -> Tags {
        let mut t: Tags = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.sort();
        t
    };
    let (a, b, c) = (
        Registry::default(),
        Registry::default(),
        Registry::default(),
    );
    // Tags the writer uses itself.
    a.record(
        "lat",
        Kind::Histogram,
        0.2,
        tags(&[("le", "x"), ("exported_le", "y")]),
    )
    .unwrap();
    a.record("q", Kind::Summary, 4.0, tags(&[("quantile", "x")]))
        .unwrap();
    a.record(
        "t",
        Kind::Gauge,
        1.0,
        tags(&[("tenant", "globex"), ("a\nb", "\"v\"\n\\")]),
    )
    .unwrap();
    // Names that meet: another kind of the same name, the renamed name, a histogram's samples,
    // the host's own metric.
    a.record("m", Kind::Counter, 1.0, vec![]).unwrap();
    b.record("m", Kind::Gauge, 2.0, vec![]).unwrap();
    c.record("m_gauge", Kind::Counter, 3.0, vec![]).unwrap();
    b.record("lat_count", Kind::Counter, 5.0, vec![]).unwrap();
    b.record("lat", Kind::Counter, 5.0, vec![]).unwrap();
    c.record(
        "switchyard_calls_total",
        Kind::Gauge,
        9.0,
        tags(&[("outcome", "ok")]),
    )
    .unwrap();
    c.record("9-bad name", Kind::Gauge, 1.0, vec![]).unwrap();
    let text = render_prometheus(&host, [("a", &a), ("b", &b), ("c", &c)].into_iter());
    if let Err(e) = check_exposition(&text) {
        panic!("{e}\n{text}");
    }
    // The host's own family keeps its name; a tag clash keeps the tag, renamed.
    assert!(
        text.contains("switchyard_calls_total{outcome=\"ok\",tenant=\"acme\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("exported_le=\"y\",exported_exported_le=\"x\""),
        "{text}"
    );
    assert!(
        text.contains("exported_quantile=\"x\",quantile=\"0.5\""),
        "{text}"
    );
    assert!(text.contains("exported_tenant=\"globex\""), "{text}");
    // The checker itself refuses what the old writer produced.
    assert!(check_exposition("# TYPE h histogram\nh_bucket{le=\"x\",le=\"1\"} 1\n").is_err());
    assert!(check_exposition("# TYPE m counter\nm 1\n# TYPE m gauge\nm 2\n").is_err());
}
