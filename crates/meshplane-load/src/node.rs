//! A parsed document as a tree that remembers the line of every value.
//!
//! Both the JSON and the YAML readers produce [`Node`]s, so format detection,
//! CloudFormation intrinsics and Kubernetes renames work on one shape and keep
//! line numbers through every rewrite. [`Node::to_json`] turns a tree into the
//! `serde_json::Value` the spec types deserialize from, and
//! [`Node::field_lines`] and [`Node::source_names`] list the line and the
//! written name of every field for diagnostics.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

/// How deep documents may nest; deeper input is refused by the readers so
/// that every recursive walk below stays bounded.
pub const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The 1-based line where the value starts.
    pub line: u32,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
    /// A YAML local tag (`!Ref x`): meaningful in CloudFormation only.
    Tagged(String, Box<Node>),
}

/// One key of a mapping. `source_key` is the key as written, `key` the key as
/// the model calls it (they differ after CloudFormation's PascalCase and the
/// Kubernetes CRD renames).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub source_key: String,
    pub line: u32,
    pub value: Node,
}

impl Entry {
    pub fn new(key: impl Into<String>, line: u32, value: Node) -> Entry {
        let key = key.into();
        Entry {
            source_key: key.clone(),
            key,
            line,
            value,
        }
    }
}

/// A value that has no JSON form (a YAML tag outside CloudFormation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJson {
    pub path: String,
    pub line: u32,
    pub tag: String,
}

impl Node {
    pub fn new(line: u32, kind: NodeKind) -> Node {
        Node { line, kind }
    }

    pub fn string(line: u32, s: impl Into<String>) -> Node {
        Node::new(line, NodeKind::String(s.into()))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The entry of a mapping with the given key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_str)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.kind {
            NodeKind::Map(entries) => entries
                .iter_mut()
                .find(|e| e.key == key)
                .map(|e| &mut e.value),
            _ => None,
        }
    }

    /// Appends an entry to a mapping (nothing for other values).
    pub fn push_entry(&mut self, entry: Entry) {
        if let NodeKind::Map(entries) = &mut self.kind {
            entries.push(entry);
        }
    }

    /// Removes and returns the value of `key` from a mapping.
    pub fn take(&mut self, key: &str) -> Option<Entry> {
        match &mut self.kind {
            NodeKind::Map(entries) => {
                let i = entries.iter().position(|e| e.key == key)?;
                Some(entries.remove(i))
            }
            _ => None,
        }
    }

    /// A short description of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Number(_) => "a number",
            NodeKind::String(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "an object",
            NodeKind::Tagged(..) => "a tagged value",
        }
    }

    /// The JSON value of this tree. Tags have no JSON form.
    pub fn to_json(&self) -> Result<Value, NotJson> {
        self.to_json_at("")
    }

    fn to_json_at(&self, path: &str) -> Result<Value, NotJson> {
        Ok(match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Number(n) => Value::Number(n.clone()),
            NodeKind::String(s) => Value::String(s.clone()),
            NodeKind::Seq(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, n)| n.to_json_at(&format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            NodeKind::Map(entries) => {
                let mut map = Map::new();
                for e in entries {
                    map.insert(e.key.clone(), e.value.to_json_at(&join(path, &e.key))?);
                }
                Value::Object(map)
            }
            NodeKind::Tagged(tag, _) => {
                return Err(NotJson {
                    path: path.to_owned(),
                    line: self.line,
                    tag: tag.clone(),
                })
            }
        })
    }

    /// The line of every field and list item below this node, keyed by the
    /// model's path (`listeners[0].portMapping.port`). Keys take the line of
    /// the key, list items the line of the item.
    pub fn field_lines(&self) -> BTreeMap<String, u32> {
        let mut lines = BTreeMap::new();
        self.collect_lines("", &mut lines);
        lines
    }

    fn collect_lines(&self, path: &str, out: &mut BTreeMap<String, u32>) {
        match &self.kind {
            NodeKind::Seq(items) => {
                for (i, n) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    out.insert(p.clone(), n.line);
                    n.collect_lines(&p, out);
                }
            }
            NodeKind::Map(entries) => {
                for e in entries {
                    let p = join(path, &e.key);
                    out.insert(p.clone(), e.line);
                    e.value.collect_lines(&p, out);
                }
            }
            NodeKind::Tagged(_, inner) => inner.collect_lines(path, out),
            _ => {}
        }
    }

    /// The keys written differently from the model's name (CloudFormation's
    /// PascalCase, the CRD's renames), keyed by their model path:
    /// `listeners[0].portMapping` -> `PortMapping`.
    pub fn source_names(&self) -> BTreeMap<String, String> {
        let mut names = BTreeMap::new();
        self.collect_names("", &mut names);
        names
    }

    fn collect_names(&self, path: &str, out: &mut BTreeMap<String, String>) {
        match &self.kind {
            NodeKind::Seq(items) => {
                for (i, n) in items.iter().enumerate() {
                    n.collect_names(&format!("{path}[{i}]"), out);
                }
            }
            NodeKind::Map(entries) => {
                for e in entries {
                    let p = join(path, &e.key);
                    if e.key != e.source_key {
                        out.insert(p.clone(), e.source_key.clone());
                    }
                    e.value.collect_names(&p, out);
                }
            }
            NodeKind::Tagged(_, inner) => inner.collect_names(path, out),
            _ => {}
        }
    }
}

/// Joins a path and a key with a dot (none when the path is empty).
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else if key.is_empty() {
        path.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: Vec<(&str, &str, u32, Node)>) -> Node {
        Node::new(
            1,
            NodeKind::Map(
                entries
                    .into_iter()
                    .map(|(k, s, l, v)| Entry {
                        key: k.into(),
                        source_key: s.into(),
                        line: l,
                        value: v,
                    })
                    .collect(),
            ),
        )
    }

    #[test]
    fn field_lines_and_source_paths_follow_keys_and_items() {
        let port = map(vec![(
            "port",
            "Port",
            4,
            Node::new(4, NodeKind::Number(80.into())),
        )]);
        let listener = map(vec![("portMapping", "PortMapping", 3, port)]);
        let root = map(vec![(
            "listeners",
            "Listeners",
            2,
            Node::new(3, NodeKind::Seq(vec![listener])),
        )]);
        let lines = root.field_lines();
        assert_eq!(lines["listeners"], 2);
        assert_eq!(lines["listeners[0]"], 1);
        assert_eq!(lines["listeners[0].portMapping.port"], 4);
        let names = root.source_names();
        assert_eq!(names["listeners"], "Listeners");
        assert_eq!(names["listeners[0].portMapping.port"], "Port");
        assert_eq!(
            root.to_json().unwrap(),
            serde_json::json!({"listeners": [{"portMapping": {"port": 80}}]})
        );
    }
}
