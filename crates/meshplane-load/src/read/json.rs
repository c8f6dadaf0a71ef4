//! JSON with line numbers.
//!
//! serde_json checks the text first (its errors name line and column); a
//! small scanner then builds the [`Node`] tree, using serde_json again to
//! decode each string and number token, so only token boundaries and line
//! counting are done here.

use std::collections::HashMap;

use serde::de::IgnoredAny;
use serde_json::Number;

use super::SyntaxError;
use crate::node::{Entry, Node, NodeKind, MAX_DEPTH};

pub fn read(text: &str) -> (Vec<Node>, Vec<SyntaxError>) {
    if let Err(e) = serde_json::from_str::<IgnoredAny>(text) {
        let line = u32::try_from(e.line()).ok().filter(|l| *l > 0);
        let message = format!("invalid JSON: {e}");
        return (Vec::new(), vec![SyntaxError { line, message }]);
    }
    let mut scanner = Scanner {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        errors: Vec::new(),
    };
    scanner.skip_ws();
    match scanner.value(0) {
        Ok(node) => (vec![node], scanner.errors),
        Err(message) => {
            let line = Some(scanner.line);
            let mut errors = scanner.errors;
            errors.push(SyntaxError { line, message });
            (Vec::new(), errors)
        }
    }
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    errors: Vec<SyntaxError>,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn value(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err(format!("document nests deeper than {MAX_DEPTH} levels"));
        }
        let line = self.line;
        let kind = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => NodeKind::String(self.string()?),
            Some(b't') => self.literal("true", NodeKind::Bool(true))?,
            Some(b'f') => self.literal("false", NodeKind::Bool(false))?,
            Some(b'n') => self.literal("null", NodeKind::Null)?,
            Some(_) => NodeKind::Number(self.number()?),
            None => return Err("unexpected end of JSON".into()),
        };
        Ok(Node::new(line, kind))
    }

    fn literal(&mut self, word: &str, kind: NodeKind) -> Result<NodeKind, String> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err("unexpected token".into())
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek() {
                Some(b'\\') => self.pos += 2,
                Some(b'"') => break,
                Some(_) => self.pos += 1,
                None => return Err("unterminated string".into()),
            }
        }
        self.pos += 1;
        let token = self.text.get(start..self.pos).ok_or("bad string token")?;
        serde_json::from_str(token).map_err(|e| e.to_string())
    }

    fn number(&mut self) -> Result<Number, String> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos += 1;
        }
        let token = self.text.get(start..self.pos).ok_or("bad number token")?;
        serde_json::from_str(token).map_err(|e| e.to_string())
    }

    fn expect(&mut self, b: u8) -> Result<(), String> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected '{}'", b as char))
        }
    }

    fn object(&mut self, depth: usize) -> Result<NodeKind, String> {
        self.pos += 1;
        let mut entries: Vec<Entry> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(NodeKind::Map(entries));
        }
        loop {
            self.skip_ws();
            let line = self.line;
            let key = self.string()?;
            self.expect(b':')?;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            match seen.get(&key) {
                Some(&i) => {
                    self.errors.push(SyntaxError {
                        line: Some(line),
                        message: format!(
                            "duplicate key \"{key}\" (first on line {})",
                            entries[i].line
                        ),
                    });
                    // The last value wins, as in serde_json.
                    entries[i] = Entry::new(key, line, value);
                }
                None => {
                    seen.insert(key.clone(), entries.len());
                    entries.push(Entry::new(key, line, value));
                }
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(NodeKind::Map(entries));
                }
                _ => return Err("expected ',' or '}'".into()),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<NodeKind, String> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(NodeKind::Seq(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(NodeKind::Seq(items));
                }
                _ => return Err("expected ',' or ']'".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_for_keys_and_items() {
        let text = "{\n  \"a\": [\n    1,\n    {\"b\": \"x\\n\\\"y\"}\n  ],\n  \"c\": -2.5e3\n}\n";
        let (nodes, errors) = read(text);
        assert!(errors.is_empty());
        let root = &nodes[0];
        assert_eq!(root.line, 1);
        assert_eq!(root.entry("a").unwrap().line, 2);
        let items = root.get("a").unwrap().as_seq().unwrap();
        assert_eq!(items[1].line, 4);
        assert_eq!(items[1].get_str("b"), Some("x\n\"y"));
        assert_eq!(root.entry("c").unwrap().line, 6);
        assert_eq!(
            root.to_json().unwrap(),
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
    }

    #[test]
    fn errors_name_the_line() {
        let (nodes, errors) = read("{\n \"a\": 1,\n}");
        assert!(nodes.is_empty());
        assert_eq!(errors[0].line, Some(3));
        let (_, errors) = read("{\"a\": 1,\n \"a\": 2}");
        assert!(errors[0].message.contains("duplicate key \"a\""));
    }
}
