//! YAML with line numbers, from yaml-rust2's event parser.
//!
//! Local tags (`!Ref`) are kept as [`NodeKind::Tagged`]; core tags (`!!str`)
//! are applied. Aliases are expanded within a budget, so a few lines of
//! anchors cannot expand into gigabytes. After a syntax error, reading starts
//! again at the next `---` line so later documents are still read.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::scalar::resolve_plain;
use super::SyntaxError;
use crate::node::{Entry, Node, NodeKind, MAX_DEPTH};

/// The most nodes one file may expand to through aliases.
const NODE_BUDGET: usize = 1_000_000;

const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

pub fn read(text: &str) -> (Vec<Node>, Vec<SyntaxError>) {
    let mut roots = Vec::new();
    let mut errors = Vec::new();
    let mut offset = 0usize;
    let mut line_offset = 0u32;
    while let Some(rest) = text.get(offset..) {
        let mut reader = Reader {
            roots: &mut roots,
            errors: &mut errors,
            line_offset,
            stack: Vec::new(),
            anchors: HashMap::new(),
            expanded: 0,
            doc_line: line_offset + 1,
        };
        let result = reader.run(rest);
        let reader_doc_line = reader.doc_line;
        match result {
            Ok(()) => break,
            Err((line, message)) => {
                let line = line.max(line_offset + 1);
                errors.push(SyntaxError {
                    line: Some(line),
                    message,
                });
                // Start again at the first `---` line after the start of the
                // broken document (the error may be reported further on).
                match next_document_start(text, reader_doc_line) {
                    Some((byte, start_line)) => {
                        offset = byte;
                        line_offset = start_line - 1;
                    }
                    None => break,
                }
            }
        }
    }
    (roots, errors)
}

/// The byte offset and 1-based line of the first line after `after_line`
/// that starts a document (`---`).
fn next_document_start(text: &str, after_line: u32) -> Option<(usize, u32)> {
    let mut byte = 0usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let number = u32::try_from(i + 1).ok()?;
        if number > after_line
            && (line.starts_with("---") && line[3..].starts_with([' ', '\t', '\n', '\r'])
                || line.trim_end() == "---")
        {
            return Some((byte, number));
        }
        byte += line.len();
    }
    None
}

enum Frame {
    Seq {
        line: u32,
        tag: Option<Tag>,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: u32,
        tag: Option<Tag>,
        anchor: usize,
        entries: Vec<Entry>,
        /// Index of each key in `entries` (duplicate keys are errors).
        seen: HashMap<String, usize>,
        key: Option<(String, u32)>,
    },
}

struct Reader<'r> {
    roots: &'r mut Vec<Node>,
    line_offset: u32,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    expanded: usize,
    /// The line where the document being read started.
    doc_line: u32,
    /// Errors that do not stop reading (duplicate keys).
    errors: &'r mut Vec<SyntaxError>,
}

type Fail = (u32, String);

impl<'r> Reader<'r> {
    fn line(&self, mark: &Marker) -> u32 {
        u32::try_from(mark.line())
            .unwrap_or(u32::MAX)
            .saturating_add(self.line_offset)
            .max(1)
    }

    fn run(&mut self, text: &str) -> Result<(), Fail> {
        let mut parser = Parser::new_from_str(text);
        loop {
            let (event, mark) = match parser.next_token() {
                Ok(x) => x,
                Err(e) => {
                    let line = self.line(e.marker());
                    return Err((line, format!("invalid YAML: {}", e.info())));
                }
            };
            let line = self.line(&mark);
            match event {
                Event::StreamEnd => return Ok(()),
                Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
                Event::DocumentStart => {
                    self.doc_line = line;
                    self.anchors.clear();
                    self.stack.clear();
                }
                Event::Alias(id) => {
                    let (node, size) = self
                        .anchors
                        .get(&id)
                        .cloned()
                        .ok_or((line, "alias to an unknown anchor".to_owned()))?;
                    self.expanded += size;
                    if self.expanded > NODE_BUDGET {
                        return Err((
                            line,
                            format!("aliases expand to more than {NODE_BUDGET} values"),
                        ));
                    }
                    self.complete(node, None, line)?;
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let node = Node::new(
                        line,
                        scalar(&value, style, tag.as_ref()).map_err(|m| (line, m))?,
                    );
                    let node = wrap_tag(node, tag.as_ref());
                    if anchor > 0 {
                        self.anchors.insert(anchor, (node.clone(), 1));
                    }
                    self.complete(node, Some(value), line)?;
                }
                Event::SequenceStart(anchor, tag) => self.push(
                    Frame::Seq {
                        line,
                        tag,
                        anchor,
                        items: Vec::new(),
                    },
                    line,
                )?,
                Event::MappingStart(anchor, tag) => self.push(
                    Frame::Map {
                        line,
                        tag,
                        anchor,
                        entries: Vec::new(),
                        seen: HashMap::new(),
                        key: None,
                    },
                    line,
                )?,
                Event::SequenceEnd | Event::MappingEnd => {
                    let (node, tag, anchor) = match self.stack.pop() {
                        Some(Frame::Seq {
                            line,
                            tag,
                            anchor,
                            items,
                        }) => (Node::new(line, NodeKind::Seq(items)), tag, anchor),
                        Some(Frame::Map {
                            line,
                            tag,
                            anchor,
                            entries,
                            ..
                        }) => (
                            Node::new(line, NodeKind::Map(merge_keys(entries))),
                            tag,
                            anchor,
                        ),
                        None => return Err((line, "unbalanced collection end".to_owned())),
                    };
                    let node = wrap_tag(node, tag.as_ref());
                    if anchor > 0 {
                        let size = count(&node);
                        self.anchors.insert(anchor, (node.clone(), size));
                    }
                    self.complete(node, None, line)?;
                }
            }
        }
    }

    fn push(&mut self, frame: Frame, line: u32) -> Result<(), Fail> {
        if self.stack.len() >= MAX_DEPTH {
            return Err((
                line,
                format!("document nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Attaches a finished value to its parent, or ends a document.
    fn complete(&mut self, node: Node, raw: Option<String>, line: u32) -> Result<(), Fail> {
        match self.stack.last_mut() {
            None => self.roots.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries, key, seen, ..
            }) => match key.take() {
                None => {
                    let Some(name) = raw else {
                        return Err((
                            line,
                            "mapping keys must be plain strings, not lists or objects".into(),
                        ));
                    };
                    *key = Some((name, node.line));
                }
                Some((name, key_line)) => match seen.get(&name) {
                    Some(&i) => {
                        let first = entries[i].line;
                        self.errors.push(SyntaxError {
                            line: Some(key_line),
                            message: format!("duplicate key \"{name}\" (first on line {first})"),
                        });
                        entries[i] = Entry::new(name, key_line, node);
                    }
                    None => {
                        seen.insert(name.clone(), entries.len());
                        entries.push(Entry::new(name, key_line, node));
                    }
                },
            },
        }
        Ok(())
    }
}

/// Applies YAML merge keys (`<<: *base`, `<<: [*a, *b]`): the merged
/// mappings' entries are added where the mapping does not set the key itself
/// (earlier mappings in a list win over later ones).
fn merge_keys(entries: Vec<Entry>) -> Vec<Entry> {
    if !entries.iter().any(|e| e.key == "<<") {
        return entries;
    }
    let (merges, mut own): (Vec<Entry>, Vec<Entry>) =
        entries.into_iter().partition(|e| e.key == "<<");
    for merge in merges {
        let sources = match merge.value.kind {
            NodeKind::Map(map) => vec![map],
            NodeKind::Seq(items) => items
                .into_iter()
                .filter_map(|n| match n.kind {
                    NodeKind::Map(map) => Some(map),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for source in sources {
            for e in source {
                if !own.iter().any(|o| o.key == e.key) {
                    own.push(e);
                }
            }
        }
    }
    own
}

fn count(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Seq(items) => items.iter().map(count).sum(),
        NodeKind::Map(entries) => entries.iter().map(|e| count(&e.value)).sum(),
        NodeKind::Tagged(_, inner) => count(inner),
        _ => 0,
    }
}

/// The value of a scalar: quoted and block scalars are strings, plain ones
/// are resolved by the core schema, a core tag forces a type.
fn scalar(value: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<NodeKind, String> {
    if let Some(core) = tag.and_then(core_tag) {
        let resolved = resolve_plain(value);
        return match (core, &resolved) {
            ("str", _) => Ok(NodeKind::String(value.to_owned())),
            ("null", NodeKind::Null)
            | ("bool", NodeKind::Bool(_))
            | ("int" | "float", NodeKind::Number(_)) => Ok(resolved),
            _ => Err(format!("'{value}' is not a valid !!{core}")),
        };
    }
    Ok(match style {
        TScalarStyle::Plain => resolve_plain(value),
        _ => NodeKind::String(value.to_owned()),
    })
}

fn core_tag(tag: &Tag) -> Option<&str> {
    if tag.handle == CORE_TAG_PREFIX || tag.handle == "!!" {
        Some(tag.suffix.as_str())
    } else {
        None
    }
}

/// Keeps a non-core tag around the value (`!Ref x` -> Tagged("Ref", "x")).
fn wrap_tag(node: Node, tag: Option<&Tag>) -> Node {
    match tag {
        Some(t) if core_tag(t).is_none() => {
            let name = if t.handle == "!" {
                t.suffix.clone()
            } else {
                format!("{}{}", t.handle, t.suffix)
            };
            Node::new(node.line, NodeKind::Tagged(name, Box::new(node)))
        }
        _ => node,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_lines_and_tags() {
        let text = "a: 1\nb:\n  - x\n  - !Ref Foo\n---\nc: !!str 80\nd: \"80\"\n";
        let (roots, errors) = read(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(roots.len(), 2);
        assert_eq!(roots[0].entry("b").unwrap().line, 2);
        let items = roots[0].get("b").unwrap().as_seq().unwrap();
        assert_eq!(items[1].line, 4);
        assert!(matches!(&items[1].kind, NodeKind::Tagged(t, _) if t == "Ref"));
        assert_eq!(roots[1].get_str("c"), Some("80"));
        assert_eq!(roots[1].get_str("d"), Some("80"));
        assert_eq!(roots[1].entry("d").unwrap().line, 7);
        assert_eq!(roots[0].get("a").unwrap().kind, NodeKind::Number(1.into()));
    }

    #[test]
    fn merge_keys_fill_in_what_a_mapping_does_not_set() {
        let text = "base: &base {port: 80, protocol: http}\nl:\n  <<: *base\n  port: 8080\n";
        let (roots, errors) = read(text);
        assert!(errors.is_empty(), "{errors:?}");
        let l = roots[0].get("l").unwrap();
        assert_eq!(l.get("port").unwrap().kind, NodeKind::Number(8080.into()));
        assert_eq!(l.get_str("protocol"), Some("http"));
        assert!(l.get("<<").is_none());
    }

    #[test]
    fn a_broken_document_does_not_hide_the_next() {
        let text = "a: [1, 2\n---\nb: 2\n";
        let (roots, errors) = read(text);
        assert_eq!(errors.len(), 1);
        assert_eq!(roots.len(), 1);
        assert_eq!(roots[0].entry("b").unwrap().line, 3);
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_owned()
            } else {
                format!("a{}", i - 1)
            };
            bomb.push_str(&format!("b{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let (_, errors) = read(&bomb);
        assert!(
            errors.iter().any(|e| e.message.contains("expand")),
            "{errors:?}"
        );
        let deep = "[".repeat(500);
        let (_, errors) = read(&deep);
        assert!(!errors.is_empty());
    }
}
