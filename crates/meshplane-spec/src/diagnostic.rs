//! Diagnostics: what is wrong, where (file, line, resource, field path), and how bad.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::naming::{self, FieldNaming};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Where a resource came from: the file, the document in it, the line of the
/// resource and the path of its spec inside the document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Origin {
    pub file: PathBuf,
    /// The 1-based line where the resource starts, where the format allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The 0-based index of the document inside a multi-document file.
    pub document: usize,
    /// The path of the spec object inside the document (e.g. `spec`,
    /// `Resources.NodeA.Properties.Spec`).
    pub spec_path: String,
    /// Lines of fields inside the spec, keyed by their path relative to the
    /// spec in the model's camelCase terms (`listeners[0].portMapping.port`).
    /// Filled where the source format keeps positions; may be empty.
    #[serde(skip)]
    pub field_lines: std::collections::BTreeMap<String, u32>,
    /// Fields whose name in the source differs from the model's, keyed by
    /// their model path (`listeners[0].portMapping` -> `PortMapping`).
    #[serde(skip)]
    pub source_names: std::collections::BTreeMap<String, String>,
    /// How the source names the fields it does not have (a missing field).
    #[serde(skip)]
    pub naming: FieldNaming,
}

impl Origin {
    /// The line of the field at `path` (relative to the spec), or of its
    /// nearest enclosing field that has one, or of the resource itself.
    pub fn line_of(&self, path: &str) -> Option<u32> {
        let mut p = path;
        loop {
            if let Some(line) = self.field_lines.get(p) {
                return Some(*line);
            }
            match p.rfind(['.', '[']) {
                Some(i) => p = &p[..i],
                None => return self.line,
            }
        }
    }

    /// The path of a spec field as seen in the source document: the
    /// document's path to the spec, then each field as the source spells it.
    pub fn document_path(&self, spec_relative: &str) -> String {
        let source = self.source_path(spec_relative);
        let spec_relative = source.as_str();
        match (self.spec_path.is_empty(), spec_relative.is_empty()) {
            (true, _) => spec_relative.to_owned(),
            (false, true) => self.spec_path.clone(),
            (false, false) if spec_relative.starts_with('[') => {
                format!("{}{}", self.spec_path, spec_relative)
            }
            (false, false) => format!("{}.{}", self.spec_path, spec_relative),
        }
    }

    /// A model path (`listeners[0].portMapping`) in the source's words
    /// (`Listeners[0].PortMapping`).
    fn source_path(&self, model_path: &str) -> String {
        if self.source_names.is_empty() && self.naming == FieldNaming::Api {
            return model_path.to_owned();
        }
        let mut model = String::new();
        let mut out = String::new();
        for step in naming::steps(model_path) {
            match step {
                naming::Step::Key(key) => {
                    if !model.is_empty() {
                        model.push('.');
                        out.push('.');
                    }
                    model.push_str(key);
                    match self.source_names.get(&model) {
                        Some(name) => out.push_str(name),
                        None => out.push_str(&self.naming.name(key)),
                    }
                }
                naming::Step::Index(i) => {
                    model.push_str(&format!("[{i}]"));
                    out.push_str(&format!("[{i}]"));
                }
            }
        }
        out
    }
}

/// One finding about the user's specs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable identifier of the rule (e.g. `reference.missing`).
    pub rule: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The ARN of the resource the finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The JSON path of the offending field, relative to the document
    /// (e.g. `spec.listeners[0].portMapping.port`).
    pub path: String,
    pub message: String,
}

impl Diagnostic {
    pub fn error(rule: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            rule,
            file: None,
            line: None,
            resource: None,
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn warning(
        rule: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(rule, path, message)
        }
    }

    pub fn with_resource(mut self, arn: impl Into<String>) -> Self {
        self.resource = Some(arn.into());
        self
    }

    pub fn with_origin(mut self, origin: &Origin) -> Self {
        self.file = Some(origin.file.clone());
        self.line = origin.line;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line: error[rule]: <arn>: <path>: message`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            f.write_str(": ")?;
        }
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}[{}]: ", self.rule)?;
        if let Some(resource) = &self.resource {
            write!(f, "{resource}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_paths_use_the_source_spelling() {
        let mut origin = Origin {
            spec_path: "Resources.Svc.Properties.Spec".into(),
            naming: FieldNaming::CloudFormation,
            ..Origin::default()
        };
        origin
            .source_names
            .insert("provider".into(), "Provider".into());
        // A field the template lacks is named as CloudFormation would name it.
        assert_eq!(
            origin.document_path("provider.virtualNode.virtualNodeName"),
            "Resources.Svc.Properties.Spec.Provider.VirtualNode.VirtualNodeName"
        );
        assert_eq!(
            origin.document_path("listeners[0].tls.mode"),
            "Resources.Svc.Properties.Spec.Listeners[0].TLS.Mode"
        );
        let cli = Origin {
            spec_path: "spec".into(),
            ..Origin::default()
        };
        assert_eq!(
            cli.document_path("listeners[0].tls"),
            "spec.listeners[0].tls"
        );
        assert_eq!(cli.document_path(""), "spec");
    }
}
