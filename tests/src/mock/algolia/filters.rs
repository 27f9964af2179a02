//! Algolia's filter syntaxes, parsed and evaluated against a record:
//!
//! - `filters`: `genre:"sci fi" AND (price < 10 OR NOT in_stock:false)`, numeric comparisons
//!   `attr = 1` / `!=` / `<` / `<=` / `>` / `>=`, ranges `attr:1 TO 5`, facet filters
//!   `attr:value` (the attribute must be in `attributesForFaceting`), tag filters `value`
//!   (`_tags`), `AND` / `OR` / `NOT` and parentheses;
//! - `facetFilters`: `["a:x", ["b:y", "b:z"]]` (AND of ORs), `-` before a value negates it
//!   and `\-` is a literal minus;
//! - `numericFilters`: `["price > 10", ["year = 1", "year = 2"]]`.

use std::collections::HashSet;

use serde_json::Value;

/// A parsed condition tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Facet { attr: String, value: String },
    Numeric { attr: String, op: Op, value: f64 },
    Range { attr: String, lo: f64, hi: f64 },
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            _ => return None,
        })
    }

    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Colon,
    Op(Op),
    Word(String),
    Quoted(String),
}

fn lex(input: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1;
            }
            '=' | '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let (op, len) = match Op::parse(&two) {
                    Some(op) if two.len() == 2 => (op, 2),
                    _ => match Op::parse(&c.to_string()) {
                        Some(op) => (op, 1),
                        None => return Err(format!("Unexpected token '{c}' at col {i}")),
                    },
                };
                out.push(Tok::Op(op));
                i += len;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("Unclosed quote".into()),
                        Some('\\') => {
                            if let Some(n) = chars.get(i + 1) {
                                s.push(*n);
                            }
                            i += 2;
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(c) => {
                            s.push(*c);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Quoted(s));
            }
            _ => {
                let mut s = String::new();
                while let Some(&c) = chars.get(i) {
                    if c.is_whitespace() || "():=!<>\"".contains(c) {
                        break;
                    }
                    s.push(c);
                    i += 1;
                }
                out.push(Tok::Word(s));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w == k)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.and()?];
        while self.keyword("OR") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.unary()?];
        while self.keyword("AND") {
            self.pos += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.keyword("NOT") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let e = self.or()?;
            if self.next() != Some(Tok::Close) {
                return Err("Unexpected end of filters: missing ')'".into());
            }
            return Ok(e);
        }
        self.condition()
    }

    fn condition(&mut self) -> Result<Expr, String> {
        let attr = match self.next() {
            Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => w,
            Some(t) => return Err(format!("Unexpected token {t:?}")),
            None => return Err("Unexpected end of filters".into()),
        };
        match self.peek().cloned() {
            Some(Tok::Colon) => {
                self.pos += 1;
                let value = match self.next() {
                    Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => w,
                    _ => return Err(format!("Missing value after '{attr}:'")),
                };
                if self.keyword("TO") {
                    self.pos += 1;
                    let hi = match self.next() {
                        Some(Tok::Word(w)) => number(&w)?,
                        _ => return Err("Missing upper bound after TO".into()),
                    };
                    return Ok(Expr::Range {
                        attr,
                        lo: number(&value)?,
                        hi,
                    });
                }
                Ok(Expr::Facet { attr, value })
            }
            Some(Tok::Op(op)) => {
                self.pos += 1;
                let value = match self.next() {
                    Some(Tok::Word(w)) => number(&w)?,
                    _ => return Err(format!("Missing number after '{attr}'")),
                };
                Ok(Expr::Numeric { attr, op, value })
            }
            _ => Ok(Expr::Facet {
                attr: "_tags".into(),
                value: attr,
            }),
        }
    }
}

fn number(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| format!("Invalid numeric value '{s}'"))
}

/// Parses a `filters` string; an empty one is `None`.
pub fn parse_filters(input: &str) -> Result<Option<Expr>, String> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    let mut p = Parser {
        toks: lex(input)?,
        pos: 0,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(format!("Unexpected token {:?} in filters", p.toks[p.pos]));
    }
    Ok(Some(e))
}

/// Parses one `facetFilters` entry `attr:value` (`-value` negated, `\-` a literal minus).
fn facet_filter(s: &str) -> Result<Expr, String> {
    let (attr, value) = s
        .split_once(':')
        .ok_or_else(|| format!("facetFilters: invalid syntax '{s}' (expected attribute:value)"))?;
    if let Some(v) = value.strip_prefix('-') {
        return Ok(Expr::Not(Box::new(Expr::Facet {
            attr: attr.into(),
            value: v.into(),
        })));
    }
    let value = value.strip_prefix('\\').unwrap_or(value);
    Ok(Expr::Facet {
        attr: attr.into(),
        value: value.into(),
    })
}

fn numeric_filter(s: &str) -> Result<Expr, String> {
    match parse_filters(s)? {
        Some(e @ Expr::Numeric { .. }) | Some(e @ Expr::Range { .. }) => Ok(e),
        _ => Err(format!("numericFilters: invalid syntax '{s}'")),
    }
}

/// Parses an AND-of-ORs array parameter (`facetFilters`, `numericFilters`); a single string
/// is one condition.
fn and_of_ors(
    value: &Value,
    what: &str,
    one: fn(&str) -> Result<Expr, String>,
) -> Result<Option<Expr>, String> {
    let items = match value {
        Value::Null => return Ok(None),
        Value::String(s) => return one(s).map(Some),
        Value::Array(items) => items,
        _ => return Err(format!("{what} must be an array")),
    };
    let mut and = Vec::new();
    for item in items {
        match item {
            Value::String(s) => and.push(one(s)?),
            Value::Array(ors) => {
                let mut or = Vec::new();
                for o in ors {
                    let s = o
                        .as_str()
                        .ok_or_else(|| format!("{what}: nested values must be strings"))?;
                    or.push(one(s)?);
                }
                and.push(Expr::Or(or));
            }
            _ => return Err(format!("{what}: values must be strings or arrays")),
        }
    }
    Ok(Some(Expr::And(and)))
}

/// Parses `facetFilters`.
pub fn parse_facet_filters(value: &Value) -> Result<Option<Expr>, String> {
    and_of_ors(value, "facetFilters", facet_filter)
}

/// Parses `numericFilters`.
pub fn parse_numeric_filters(value: &Value) -> Result<Option<Expr>, String> {
    and_of_ors(value, "numericFilters", numeric_filter)
}

/// Every leaf value at a dotted path, looking through arrays.
pub fn values_at<'a>(record: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![record];
    for part in path.split('.') {
        let mut next = Vec::new();
        for v in current {
            collect(v.get(part), &mut next);
        }
        current = next;
    }
    let mut out = Vec::new();
    for v in current {
        match v {
            Value::Array(items) => out.extend(items.iter()),
            other => out.push(other),
        }
    }
    out
}

fn collect<'a>(v: Option<&'a Value>, out: &mut Vec<&'a Value>) {
    match v {
        Some(Value::Array(items)) => out.extend(items.iter()),
        Some(v) => out.push(v),
        None => {}
    }
}

/// A value as a facet value: strings as they are, numbers as JSON writes them, booleans as
/// `true` / `false`; other values have none.
pub fn facet_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Expr {
    /// Whether `record` satisfies the condition; `faceted` are the attributes of
    /// `attributesForFaceting` (facet filters on other attributes match nothing).
    pub fn matches(&self, record: &Value, faceted: &HashSet<String>) -> bool {
        match self {
            Expr::And(parts) => parts.iter().all(|p| p.matches(record, faceted)),
            Expr::Or(parts) => parts.iter().any(|p| p.matches(record, faceted)),
            Expr::Not(inner) => !inner.matches(record, faceted),
            Expr::Facet { attr, value } => {
                (faceted.contains(attr) || attr == "_tags")
                    && values_at(record, attr)
                        .into_iter()
                        .filter_map(facet_value)
                        .any(|v| &v == value)
            }
            Expr::Numeric { attr, op, value } => values_at(record, attr)
                .into_iter()
                .filter_map(Value::as_f64)
                .any(|v| op.holds(v, *value)),
            Expr::Range { attr, lo, hi } => values_at(record, attr)
                .into_iter()
                .filter_map(Value::as_f64)
                .any(|v| *lo <= v && v <= *hi),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn faceted() -> HashSet<String> {
        ["genre", "tags", "in_stock"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn filters_grammar() {
        let r = json!({"genre": "sci fi", "tags": ["a", "b"], "price": 9.5, "in_stock": true});
        let f = faceted();
        let ok = |s: &str| parse_filters(s).unwrap().unwrap().matches(&r, &f);
        assert!(ok(r#"genre:"sci fi""#));
        assert!(ok("price < 10 AND tags:b"));
        assert!(ok("price = 9.5"));
        assert!(!ok("price != 9.5"));
        assert!(ok("NOT price = 3"));
        assert!(ok("price:9 TO 10"));
        assert!(ok("in_stock:true"));
        assert!(!ok("NOT in_stock:true"));
        assert!(ok("(tags:x OR tags:a) AND NOT genre:x"));
        assert!(!ok("price:9.5"), "price is not faceted");
        assert!(parse_filters("genre:").is_err());
        assert!(parse_filters("(genre:x").is_err());
        assert!(parse_filters("price > abc").is_err());
    }

    #[test]
    fn facet_and_numeric_filters() {
        let r = json!({"genre": "-x", "tags": ["a"], "price": 49});
        let mut f = faceted();
        f.insert("price".into());
        let ff = parse_facet_filters(&json!([["tags:a", "tags:z"], "genre:\\-x", "price:49"]))
            .unwrap()
            .unwrap();
        assert!(ff.matches(&r, &f));
        let neg = parse_facet_filters(&json!(["tags:-a"])).unwrap().unwrap();
        assert!(!neg.matches(&r, &f));
        let nf = parse_numeric_filters(&json!(["price >= 49", ["price = 1", "price = 49"]]))
            .unwrap()
            .unwrap();
        assert!(nf.matches(&r, &f));
    }
}
