//! Reading a file's text into documents: JSON or YAML by extension, each with
//! line numbers, several documents per file.

mod json;
mod scalar;
mod yaml;

use crate::node::{Node, NodeKind};

pub use scalar::needs_quotes;

/// The syntax a file is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Yaml,
}

impl Syntax {
    /// `.json` is JSON; anything else (`.yaml`, `.yml`) is YAML, which also
    /// reads most JSON.
    pub fn of_path(path: &std::path::Path) -> Syntax {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Syntax::Json,
            _ => Syntax::Yaml,
        }
    }
}

/// One document of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The 0-based index of the document in its file.
    pub index: usize,
    pub node: Node,
}

/// A syntax error; the documents before it (and, in YAML, after the next
/// `---`) are still read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: Option<u32>,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Read {
    pub documents: Vec<Document>,
    pub errors: Vec<SyntaxError>,
}

/// Reads a file's text. A top-level list is a list of documents; empty YAML
/// documents are skipped.
pub fn read(text: &str, syntax: Syntax) -> Read {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (roots, errors) = match syntax {
        Syntax::Json => json::read(text),
        Syntax::Yaml => yaml::read(text),
    };
    let mut out = Read {
        documents: Vec::new(),
        errors,
    };
    for root in roots {
        match root.kind {
            NodeKind::Seq(items) => {
                for node in items {
                    let index = out.documents.len();
                    out.documents.push(Document { index, node });
                }
            }
            NodeKind::Null => {}
            _ => {
                let index = out.documents.len();
                out.documents.push(Document { index, node: root });
            }
        }
    }
    out
}
