//! YAML text to one JSON value, from yaml-rust2's event parser (the rules
//! are listed in the crate documentation).

use std::collections::HashMap;

use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::scalar::resolve_plain;

/// The most values one document may expand to through aliases.
pub const NODE_BUDGET: usize = 1_000_000;

/// The deepest nesting of lists and mappings accepted.
pub const MAX_DEPTH: usize = 128;

const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// Why a text is not one readable YAML document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct YamlError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

/// Reads a text holding at most one YAML (or JSON) document: `Ok(None)`
/// when it holds none (empty, or only comments).
pub fn read_single(text: &str) -> Result<Option<Value>, YamlError> {
    let mut reader = Reader::default();
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            line: line_of(e.marker()),
            message: format!("not valid YAML: {}", e.info()),
        })?;
        let line = line_of(&mark);
        if matches!(event, Event::StreamEnd) {
            return Ok(reader.root);
        }
        reader
            .event(event, line)
            .map_err(|message| YamlError { line, message })?;
    }
}

/// [`read_single`] for files that must hold a document: an empty one is
/// an error.
pub fn read_document(text: &str) -> Result<Value, YamlError> {
    read_single(text)?.ok_or_else(|| YamlError {
        line: 1,
        message: "the file holds no YAML document (it is empty)".to_owned(),
    })
}

fn line_of(mark: &Marker) -> usize {
    mark.line().max(1)
}

enum Frame {
    Seq {
        anchor: usize,
        items: Vec<Value>,
    },
    Map {
        anchor: usize,
        entries: Map<String, Value>,
        /// Line of each key, for the duplicate-key message.
        lines: HashMap<String, usize>,
        /// The values of `<<` keys, applied when the mapping ends.
        merges: Vec<Value>,
        key: Option<(String, usize)>,
    },
}

#[derive(Default)]
struct Reader {
    root: Option<Value>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    expanded: usize,
}

impl Reader {
    fn event(&mut self, event: Event, line: usize) -> Result<(), String> {
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart => {
                if self.root.is_some() {
                    return Err(
                        "expected one YAML document, found a second one starting here".to_owned(),
                    );
                }
            }
            Event::Alias(id) => {
                let (value, size) = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or("alias to an unknown anchor")?;
                self.expanded += size;
                if self.expanded > NODE_BUDGET {
                    return Err(format!("aliases expand to more than {NODE_BUDGET} values"));
                }
                self.complete(value, None, line)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar(&text, style, tag.as_ref())?;
                if anchor > 0 {
                    self.anchors.insert(anchor, (value.clone(), 1));
                }
                self.complete(value, Some(text), line)?;
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(tag.as_ref(), "seq")?;
                self.push(Frame::Seq {
                    anchor,
                    items: Vec::new(),
                })?;
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(tag.as_ref(), "map")?;
                self.push(Frame::Map {
                    anchor,
                    entries: Map::new(),
                    lines: HashMap::new(),
                    merges: Vec::new(),
                    key: None,
                })?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { anchor, items, .. }) => (Value::Array(items), anchor),
                    Some(Frame::Map {
                        anchor,
                        entries,
                        merges,
                        ..
                    }) => (Value::Object(merge(entries, merges)?), anchor),
                    None => return Err("unbalanced collection end".to_owned()),
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, (value.clone(), count(&value)));
                }
                self.complete(value, None, line)?;
            }
        }
        Ok(())
    }

    fn push(&mut self, frame: Frame) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("the document nests deeper than {MAX_DEPTH} levels"));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Attaches a finished value to its parent, or makes it the document.
    /// `raw` is a scalar's text as written (its text as a mapping key).
    fn complete(&mut self, value: Value, raw: Option<String>, line: usize) -> Result<(), String> {
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map {
                entries,
                lines,
                merges,
                key,
                ..
            }) => match key.take() {
                None => {
                    let name =
                        raw.ok_or("a mapping key must be a scalar, not a list or mapping")?;
                    *key = Some((name, line));
                }
                Some((name, _)) if name == "<<" => merges.push(value),
                Some((name, key_line)) => {
                    if let Some(first) = lines.get(&name) {
                        return Err(format!(
                            "duplicate key \"{name}\" (first on line {first}, again on line {key_line})"
                        ));
                    }
                    lines.insert(name.clone(), key_line);
                    entries.insert(name, value);
                }
            },
        }
        Ok(())
    }
}

/// Applies merge keys: the merged mappings' entries are added where the
/// mapping does not set the key itself (earlier mappings in a list win).
fn merge(mut own: Map<String, Value>, merges: Vec<Value>) -> Result<Map<String, Value>, String> {
    for merged in merges {
        let sources = match merged {
            Value::Object(map) => vec![map],
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::Object(map) => Ok(map),
                    _ => Err("a merge key (<<) takes mappings".to_owned()),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err("a merge key (<<) takes a mapping or a list of mappings".to_owned()),
        };
        for source in sources {
            for (k, v) in source {
                own.entry(k).or_insert(v);
            }
        }
    }
    Ok(own)
}

fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// A plain scalar resolves by the core schema, a quoted or block one is a
/// string, a core tag forces a type.
fn scalar(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let Some(tag) = tag else {
        return Ok(match style {
            TScalarStyle::Plain => resolve_plain(text),
            _ => Value::String(text.to_owned()),
        });
    };
    let core = core_tag(tag).ok_or_else(|| unsupported(tag))?;
    let resolved = resolve_plain(text);
    match (core, &resolved) {
        ("str", _) => Ok(Value::String(text.to_owned())),
        ("null", Value::Null) | ("bool", Value::Bool(_)) => Ok(resolved),
        ("int", Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(resolved),
        ("float", Value::Number(n)) => Ok(Value::from(n.as_f64().unwrap_or_default())),
        _ => Err(format!("'{text}' is not a valid !!{core}")),
    }
}

fn check_collection_tag(tag: Option<&Tag>, kind: &str) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(t) if core_tag(t) == Some(kind) => Ok(()),
        Some(t) => Err(unsupported(t)),
    }
}

fn core_tag(tag: &Tag) -> Option<&str> {
    (tag.handle == CORE_TAG_PREFIX || tag.handle == "!!").then_some(tag.suffix.as_str())
}

fn unsupported(tag: &Tag) -> String {
    let shown = if tag.handle == CORE_TAG_PREFIX {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    };
    format!("the tag {shown} is not supported here (only the core tags !!str, !!int, !!float, !!bool, !!null, !!seq, !!map)")
}
