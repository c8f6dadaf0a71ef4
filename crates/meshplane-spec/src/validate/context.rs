//! Where a finding goes: field paths and the per-resource diagnostic sink.

use std::fmt;

use super::rules::Rules;
use crate::diagnostic::{Diagnostic, Origin, Severity};
use crate::identity::{ArnContext, ResourceId};
use crate::model::Origins;

/// A field path relative to a resource's spec, in the API's camelCase terms
/// (`listeners[0].portMapping.port`). The empty path is the spec itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Path(String);

impl Path {
    pub(crate) fn root() -> Path {
        Path(String::new())
    }

    pub(crate) fn field(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_owned())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    pub(crate) fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Collects the findings about one resource, filling in its ARN, file, line
/// and document path.
pub(crate) struct Sink<'a> {
    pub(crate) id: ResourceId,
    pub(crate) ctx: &'a ArnContext,
    pub(crate) rules: Rules,
    arn: String,
    origin: Option<&'a Origin>,
    out: &'a mut Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(
        id: ResourceId,
        ctx: &'a ArnContext,
        origins: &'a Origins,
        out: &'a mut Vec<Diagnostic>,
    ) -> Sink<'a> {
        let arn = id.arn(ctx);
        let origin = origins.get(&id);
        Sink {
            id,
            ctx,
            rules: Rules::all(),
            arn,
            origin,
            out,
        }
    }

    pub(crate) fn with_rules(mut self, rules: Rules) -> Sink<'a> {
        self.rules = rules;
        self
    }

    pub(crate) fn error(&mut self, rule: &'static str, path: &Path, message: impl Into<String>) {
        self.push(Severity::Error, rule, path, message.into());
    }

    pub(crate) fn warning(&mut self, rule: &'static str, path: &Path, message: impl Into<String>) {
        self.push(Severity::Warning, rule, path, message.into());
    }

    /// A finding about a member outside the spec (the resource's name):
    /// `member` is used as the path as is, the line is the resource's.
    pub(crate) fn error_outside_spec(
        &mut self,
        rule: &'static str,
        member: &str,
        message: impl Into<String>,
    ) {
        let mut d = Diagnostic::error(rule, member, message).with_resource(self.arn.clone());
        if let Some(origin) = self.origin {
            d = d.with_origin(origin);
        }
        self.out.push(d);
    }

    fn push(&mut self, severity: Severity, rule: &'static str, path: &Path, message: String) {
        let doc_path = match self.origin {
            Some(origin) => origin.document_path(path.as_str()),
            None if path.as_str().is_empty() => "spec".to_owned(),
            None if path.as_str().starts_with('[') => format!("spec{path}"),
            None => format!("spec.{path}"),
        };
        let mut d = match severity {
            Severity::Error => Diagnostic::error(rule, doc_path, message),
            Severity::Warning => Diagnostic::warning(rule, doc_path, message),
        }
        .with_resource(self.arn.clone());
        if let Some(origin) = self.origin {
            d = d.with_origin(origin);
            d.line = origin.line_of(path.as_str());
        }
        self.out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::identity::ResourceKind;

    #[test]
    fn paths_and_lines_come_from_the_origin() {
        let id = ResourceId::new("m", "111122223333", ResourceKind::VirtualNode, "a");
        let mut origins = Origins::default();
        origins.insert(
            id.clone(),
            Origin {
                file: "a.json".into(),
                line: Some(1),
                document: 0,
                spec_path: "spec".into(),
                field_lines: BTreeMap::from([("listeners[0].portMapping".to_owned(), 7)]),
                ..Origin::default()
            },
        );
        let ctx = ArnContext::default();
        let mut out = Vec::new();
        let mut sink = Sink::new(id.clone(), &ctx, &origins, &mut out);
        let p = Path::root()
            .field("listeners")
            .index(0)
            .field("portMapping")
            .field("port");
        sink.error("field.range", &p, "bad");
        sink.warning("x", &Path::root().field("backends"), "w");
        let empty = Origins::default();
        let mut sink = Sink::new(id, &ctx, &empty, &mut out);
        sink.error("y", &Path::root(), "no origin");
        assert_eq!(out[0].path, "spec.listeners[0].portMapping.port");
        assert_eq!(out[0].line, Some(7));
        assert_eq!(out[0].file.as_deref(), Some(std::path::Path::new("a.json")));
        assert_eq!(
            out[0].resource.as_deref(),
            Some("arn:aws:appmesh:us-east-1:111122223333:mesh/m/virtualNode/a")
        );
        assert_eq!(out[1].line, Some(1));
        assert_eq!(out[1].severity, Severity::Warning);
        assert_eq!(out[2].path, "spec");
        assert_eq!(out[2].file, None);
    }
}
