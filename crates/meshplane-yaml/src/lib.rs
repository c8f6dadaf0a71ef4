//! The one way meshplane reads YAML configuration into `serde_json::Value`
//! (so that one serde model, with one set of field paths in its errors,
//! serves YAML and JSON files alike), and writes a value back as YAML.
//!
//! Rules of [`read_single`] (the spec loader, `meshplane-load`, keeps its
//! own positioned reader for App Mesh specs but resolves scalars by the
//! same rules):
//!
//! - Plain scalars resolve by the YAML 1.2 core schema: `null`, `Null`,
//!   `NULL`, `~` and the empty scalar are null; `true`/`True`/`TRUE` and
//!   the `false` forms are booleans; decimal, `0x` and `0o` integers are
//!   numbers, and so are decimals and exponents (`1.5`, `.5`, `1e3`).
//!   YAML 1.1's `yes`/`no`/`on`/`off` are strings. `.inf` and `.nan` stay
//!   strings (JSON has no such numbers), and so does every other word.
//!   Quoted and block scalars are always strings.
//! - Core tags force a type (`!!str 80` is the string "80"; `!!int x` is an
//!   error). Any other tag (`!Ref`, `!Sub`) is an error: no configuration
//!   read this way gives tags a meaning, and dropping one silently would
//!   change what the file says.
//! - Anchors and aliases are expanded, within a budget of [`NODE_BUDGET`]
//!   values per document (so a few lines cannot expand into gigabytes);
//!   merge keys (`<<: *base`) add the entries a mapping does not set.
//! - A mapping key is a scalar, taken as written (`80:` is the key "80");
//!   a list or mapping as a key is an error, and so is a key given twice.
//! - Nesting deeper than [`MAX_DEPTH`] is an error.
//! - A text holds at most one document; none at all is `Ok(None)` from
//!   [`read_single`] and an error from [`read_document`].
//!
//! Every error carries the 1-based line it was found on.

mod read;
mod scalar;
mod write;

pub use read::{read_document, read_single, YamlError, MAX_DEPTH, NODE_BUDGET};
pub use scalar::resolve_plain;
pub use write::to_yaml;
