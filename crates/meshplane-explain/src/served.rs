//! The served configuration of one proxy: its resources as proto3 JSON and
//! the App Mesh sources of each.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One App Mesh resource and where it is written (a spec file and line, or
/// nothing for a resource managed through the API).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Source {
    pub arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.arn)?;
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, " ({file}:{line})"),
            (Some(file), None) => write!(f, " ({file})"),
            _ => Ok(()),
        }
    }
}

/// The xDS kinds as `render` names its lists.
pub const KINDS: [&str; 5] = ["listeners", "routes", "clusters", "endpoints", "secrets"];

/// One proxy's served configuration.
#[derive(Debug, Clone, Default)]
pub struct ServedProxy {
    /// The proxy's ARN (virtual node or virtual gateway).
    pub arn: String,
    /// `{"listeners": [...], "routes": [...], "clusters": [...], "endpoints": [...], "secrets": [...]}`.
    pub resources: Value,
    /// Sources by (kind as in [`KINDS`], resource name).
    pub sources: BTreeMap<(String, String), Vec<Source>>,
}

impl ServedProxy {
    /// The resources of one kind.
    pub fn list(&self, kind: &str) -> &[Value] {
        self.resources[kind].as_array().map_or(&[], Vec::as_slice)
    }

    /// The resource of `kind` named `name` (endpoints are named by `cluster_name`).
    pub fn get(&self, kind: &str, name: &str) -> Option<&Value> {
        self.list(kind)
            .iter()
            .find(|r| resource_name(kind, r) == name)
    }

    /// The sources of one resource.
    pub fn sources_of(&self, kind: &str, name: &str) -> &[Source] {
        self.sources
            .get(&(kind.to_owned(), name.to_owned()))
            .map_or(&[], Vec::as_slice)
    }
}

/// A resource's name: `cluster_name` for endpoints, `name` otherwise.
pub fn resource_name<'a>(kind: &str, r: &'a Value) -> &'a str {
    let key = if kind == "endpoints" {
        "cluster_name"
    } else {
        "name"
    };
    r[key].as_str().unwrap_or("")
}

/// A proto3 JSON integer (numbers, or strings for 64-bit fields).
pub fn int(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}
