//! The host's structure, checked on every `make test`: no import circle between the files of
//! host/src, and no file over the size a reader takes in without scrolling back.
//!
//! A file is a node; it points at every file whose module it names through a `crate::`,
//! `super::` or `self::` path, or through a child module's name. Declaring a child (`mod x;`)
//! is not an arrow. So a directory's mod.rs may re-export its children, and the children
//! refer to each other by their own paths (`super::sibling::Item`), never through the parent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most lines a file of host/src may have.
const MAX_LINES: usize = 500;

/// One source file: its module path (`["native", "messaging"]`) and text without comments,
/// string literals and `#[cfg(test)]` modules.
struct Source {
    module: Vec<String>,
    text: String,
    children: BTreeSet<String>,
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(root: &Path, path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(root).unwrap_or(path).with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The text with comments, string contents and `pub(in path)` blanked, and test modules cut.
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    // `pub(in crate::a)` names a module but imports nothing.
    while let Some(at) = out.find("pub(in ") {
        let end = out[at..].find(')').map_or(out.len(), |e| at + e + 1);
        out.replace_range(at..end, "pub");
    }
    match out.find("#[cfg(test)]\nmod tests {") {
        Some(at) => out[..at].to_string(),
        None => out,
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path in `code` that starts with one of `roots` followed by `::`, with `use` groups
/// (`a::{b, c::d}`) expanded.
fn paths(code: &str, roots: &BTreeSet<String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if is_ident(chars[i]) && (i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':')) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if roots.contains(&word) && chars.get(i) == Some(&':') {
                let mut prefix = vec![word];
                expand(&chars, &mut i, &mut prefix, &mut out);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Reads `::seg::seg` or `::{...}` after `prefix`, pushing every full path.
fn expand(chars: &[char], i: &mut usize, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let depth = prefix.len();
    loop {
        if chars.get(*i) != Some(&':') || chars.get(*i + 1) != Some(&':') {
            break;
        }
        *i += 2;
        if chars.get(*i) == Some(&'{') {
            *i += 1;
            loop {
                while chars
                    .get(*i)
                    .is_some_and(|c| c.is_whitespace() || *c == ',')
                {
                    *i += 1;
                }
                match chars.get(*i) {
                    None => break,
                    Some('}') => {
                        *i += 1;
                        break;
                    }
                    Some(_) => {}
                }
                let start = *i;
                while chars.get(*i).is_some_and(|c| is_ident(*c)) {
                    *i += 1;
                }
                if *i == start {
                    *i += 1;
                    continue;
                }
                let mut inner = prefix.clone();
                inner.push(chars[start..*i].iter().collect());
                expand(chars, i, &mut inner, out);
                // skip `as name`
                while chars.get(*i).is_some_and(|c| *c != ',' && *c != '}') {
                    *i += 1;
                }
            }
            prefix.truncate(depth);
            return;
        }
        let start = *i;
        while chars.get(*i).is_some_and(|c| is_ident(*c)) {
            *i += 1;
        }
        prefix.push(chars[start..*i].iter().collect());
    }
    out.push(prefix.clone());
    prefix.truncate(depth);
}

/// The file a path names: the longest prefix of it that is a module.
fn resolve(
    from: &[String],
    path: &[String],
    modules: &BTreeMap<Vec<String>, usize>,
) -> Option<usize> {
    let mut absolute: Vec<String> = match path[0].as_str() {
        "crate" => Vec::new(),
        "self" => from.to_vec(),
        "super" => from.to_vec(),
        _ => from.to_vec(),
    };
    let mut rest = path;
    match path[0].as_str() {
        "crate" | "self" => rest = &path[1..],
        "super" => {
            while rest.first().map(String::as_str) == Some("super") {
                absolute.pop();
                rest = &rest[1..];
            }
        }
        _ => {}
    }
    absolute.extend(rest.iter().cloned());
    (0..=absolute.len())
        .rev()
        .find_map(|n| modules.get(&absolute[..n]))
        .copied()
}

#[test]
fn host_src_has_no_import_circle_and_no_long_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut list = Vec::new();
    files(&root, &mut list);
    list.sort();
    let mut sources = Vec::new();
    let mut long = Vec::new();
    for path in &list {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines = text.lines().count();
        if lines > MAX_LINES {
            long.push(format!("{} has {lines} lines", path.display()));
        }
        let code = code_of(&text);
        let children = code
            .lines()
            .filter_map(|l| {
                let l = l.trim();
                let l = l.strip_prefix("pub ").unwrap_or(l);
                let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
                l.strip_prefix("mod ")?
                    .strip_suffix(';')
                    .map(str::to_string)
            })
            .collect();
        sources.push(Source {
            module: module_of(&root, path),
            text: code,
            children,
        });
    }
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:#?}");

    let modules: BTreeMap<Vec<String>, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.module.clone(), i))
        .collect();
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); sources.len()];
    for (i, s) in sources.iter().enumerate() {
        let mut roots: BTreeSet<String> = ["crate", "super", "self"].map(String::from).into();
        roots.extend(s.children.iter().cloned());
        for path in paths(&s.text, &roots) {
            if let Some(j) = resolve(&s.module, &path, &modules) {
                if j != i {
                    edges[i].insert(j);
                }
            }
        }
    }

    // Tarjan's strongly connected components: any with more than one file is a circle.
    let name = |i: usize| {
        list[i]
            .strip_prefix(&root)
            .unwrap_or(&list[i])
            .display()
            .to_string()
    };
    let circles = strongly_connected(&edges);
    let circles: Vec<Vec<String>> = circles
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| c.into_iter().map(name).collect())
        .collect();
    assert!(
        circles.is_empty(),
        "import circles in host/src (each list is files that import each other): {circles:#?}"
    );
}

fn strongly_connected(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        edges: &'a [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in s.edges[v].iter() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let n = edges.len();
    let mut s = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn the_checker_sees_a_circle_and_a_group_import() {
    let roots: BTreeSet<String> = ["crate", "super"].map(String::from).into();
    let found = paths(
        "use crate::{a::{B, c::D}, e};\nfn f() { super::g::h(); }",
        &roots,
    );
    let found: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        found,
        ["crate::a::B", "crate::a::c::D", "crate::e", "super::g::h"]
    );
    let edges = vec![
        BTreeSet::from([1]),
        BTreeSet::from([2]),
        BTreeSet::from([0]),
    ];
    assert!(strongly_connected(&edges).iter().any(|c| c.len() == 3));
}
