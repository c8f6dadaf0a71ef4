//! `Fn::ImportValue`: the values of the exports of the templates loaded
//! together (an infrastructure stack exporting the mesh name, an application
//! stack importing it), and those given by hand (`--import`), which win.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::intrinsic::Resolver;
use super::template::Template;
use crate::node::Node;
use crate::pending::place_of;
use crate::read::Document;
use crate::LoadOptions;

/// One `Outputs.<name>.Export` of a loaded template.
#[derive(Debug, Clone)]
pub struct Export {
    /// The value, or why the template alone does not decide it.
    pub value: Result<String, String>,
    pub file: PathBuf,
    pub line: u32,
}

/// What `Fn::ImportValue` can see.
#[derive(Debug, Clone, Default)]
pub struct Imports {
    pub given: BTreeMap<String, String>,
    pub exports: BTreeMap<String, Export>,
    /// Exports whose name could not be resolved: where, and why.
    pub unnamed: Vec<(PathBuf, u32, String)>,
}

/// A problem found while collecting exports: file, line, path, message.
pub type ExportProblem = (PathBuf, u32, String, String);

impl Imports {
    /// The imports given by hand only (what the exports themselves may use).
    pub fn by_hand(opts: &LoadOptions) -> Imports {
        Imports {
            given: opts.imports.clone(),
            ..Imports::default()
        }
    }

    /// The exports of every template, resolved with the values given by hand.
    pub fn collect(
        opts: &LoadOptions,
        templates: &[(PathBuf, Document)],
    ) -> (Imports, Vec<ExportProblem>) {
        let by_hand = Imports::by_hand(opts);
        let mut imports = Imports::by_hand(opts);
        let mut problems = Vec::new();
        for (file, doc) in templates {
            let template = Template::new(&doc.node, opts, &by_hand);
            let resolver = Resolver { t: &template };
            let outputs = doc
                .node
                .get("Outputs")
                .and_then(Node::as_map)
                .unwrap_or_default();
            for output in outputs {
                let Some(export) = output.value.get("Export") else {
                    continue;
                };
                if let Some(condition) = output.value.get_str("Condition") {
                    if resolver.condition(condition, 0) != Ok(true) {
                        continue;
                    }
                }
                let line = output.line;
                let name = match export.get("Name") {
                    Some(name) => resolver.eval_text(name, 0),
                    None => Err("Export has no Name".to_owned()),
                };
                let name = match name {
                    Ok(name) => name,
                    Err(why) => {
                        imports.unnamed.push((file.clone(), line, why));
                        continue;
                    }
                };
                let value = match output.value.get("Value") {
                    Some(value) => resolver.eval_text(value, 0),
                    None => Err("the output has no Value".to_owned()),
                };
                if let Some(first) = imports.exports.get(&name) {
                    let message = format!(
                        "export '{name}' is also exported at {}; CloudFormation allows one export of a name per region",
                        place_of(&first.file, Some(first.line))
                    );
                    let path = format!("Outputs.{}.Export.Name", output.key);
                    problems.push((file.clone(), line, path, message));
                    continue;
                }
                let export = Export {
                    value,
                    file: file.clone(),
                    line,
                };
                imports.exports.insert(name, export);
            }
        }
        (imports, problems)
    }

    /// The value `Fn::ImportValue` of `name` gives, or why there is none.
    pub fn value(&self, name: &str) -> Result<String, String> {
        if let Some(value) = self.given.get(name) {
            return Ok(value.clone());
        }
        if let Some(export) = self.exports.get(name) {
            return export.value.clone().map_err(|why| {
                format!(
                    "Fn::ImportValue {name}: the value exported at {} cannot be worked out from its template ({why}); \
                     pass --import {name}=VALUE",
                    place_of(&export.file, Some(export.line))
                )
            });
        }
        let mut message = format!(
            "Fn::ImportValue {name}: no template loaded with this one exports it and no value was given \
             (load the exporting template too, or pass --import {name}=VALUE)"
        );
        if let Some((file, line, why)) = self.unnamed.first() {
            message.push_str(&format!(
                "; the name of the export at {} is not known: {why}",
                place_of(file, Some(*line))
            ));
        }
        Err(message)
    }
}
