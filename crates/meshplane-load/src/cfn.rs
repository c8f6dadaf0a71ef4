//! CloudFormation templates (JSON or YAML): the `AWS::AppMesh::*` resources
//! of `Resources`, with intrinsics resolved and PascalCase properties turned
//! into the API's camelCase. Other resource types are skipped, and so is a
//! template without App Mesh resources (it may still export values).
//! Templates are loaded once every file is read, because `Fn::ImportValue`
//! reads the exports of them all.

mod case;
mod imports;
mod intrinsic;
mod template;

use std::path::Path;

use meshplane_spec::{FieldNaming, Origin, ResourceKind};

use crate::node::{Node, NodeKind};
use crate::pending::{Pending, Session, SourceFormat};
use crate::read::Document;
pub use imports::Imports;
use intrinsic::{name_from_arn, Resolver};
use template::{appmesh_type, Template};

/// Loads the App Mesh resources of one template.
pub fn load(session: &mut Session<'_>, file: &Path, doc: &Document, imports: &Imports) {
    let opts = session.opts;
    let root = &doc.node;
    let Some(resources) = root.get("Resources").and_then(Node::as_map) else {
        let line = root.entry("Resources").map_or(root.line, |e| e.line);
        session.error(
            "load.cfn_invalid",
            file,
            Some(line),
            None,
            "Resources",
            "a template's Resources must be an object",
        );
        return;
    };
    let has_appmesh = resources.iter().any(|e| {
        e.value
            .get_str("Type")
            .is_some_and(|t| t.starts_with("AWS::AppMesh::"))
    });
    if !has_appmesh {
        session.skip(
            file,
            doc,
            "a CloudFormation template without AWS::AppMesh::* resources".into(),
        );
        return;
    }
    let template = Template::new(root, opts, imports);
    let resolver = Resolver { t: &template };
    for entry in resources {
        let logical_id = entry.key.as_str();
        let base = format!("Resources.{logical_id}");
        let Some(type_name) = entry.value.get_str("Type") else {
            let message = format!("resource {logical_id} has no Type");
            session.error(
                "load.cfn_invalid",
                file,
                Some(entry.line),
                None,
                &base,
                message,
            );
            continue;
        };
        let Some(ty) = appmesh_type(type_name) else {
            if type_name.starts_with("AWS::AppMesh::") {
                let message =
                    format!("{type_name} is not an App Mesh resource type meshplane knows");
                session.warning(
                    "load.cfn_unknown_type",
                    file,
                    Some(entry.line),
                    None,
                    &base,
                    message,
                );
            }
            continue;
        };
        if let Some(condition) = entry.value.get_str("Condition") {
            match resolver.condition(condition, 0) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(message) => {
                    let path = format!("{base}.Condition");
                    session.error(
                        "load.cfn_unresolved",
                        file,
                        Some(entry.line),
                        None,
                        &path,
                        message,
                    );
                    continue;
                }
            }
        }
        let props_path = format!("{base}.Properties");
        let empty = Node::new(entry.line, NodeKind::Map(Vec::new()));
        let props = entry.value.get("Properties").unwrap_or(&empty);
        if props.as_map().is_none() {
            let message = "Properties must be an object";
            session.error(
                "load.cfn_invalid",
                file,
                Some(props.line),
                None,
                &props_path,
                message,
            );
            continue;
        }
        let mut allowed = vec!["MeshName", "MeshOwner", "Spec", "Tags"];
        allowed.extend(ty.name_property);
        allowed.extend(ty.parent_property);
        let mut ok = true;
        for e in props.as_map().unwrap_or_default() {
            if !allowed.contains(&e.key.as_str()) {
                let message = format!(
                    "unknown property `{}` of {type_name}, expected one of {}{}",
                    e.key,
                    allowed
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    crate::suggest::hint(&e.key, &allowed)
                );
                let path = format!("{props_path}.{}", e.key);
                session.error(
                    "load.unknown_field",
                    file,
                    Some(e.line),
                    None,
                    &path,
                    message,
                );
                ok = false;
            }
        }
        let id = match resolver.identity_parts(logical_id, 0) {
            Ok(id) => Some(id),
            Err(e) => {
                let message = format!("{} (template {})", e.message, file.display());
                let (path, line) = match &e.property {
                    Some(key) => (
                        format!("{props_path}.{key}"),
                        props.entry(key).map_or(entry.line, |p| p.line),
                    ),
                    None => (props_path.clone(), entry.line),
                };
                session.error(
                    "load.cfn_unresolved",
                    file,
                    Some(line),
                    None,
                    &path,
                    message,
                );
                // The spec is still resolved below, so its problems are reported too.
                None
            }
        };
        let spec_path = format!("{props_path}.Spec");
        let spec = match props.get("Spec") {
            Some(spec) => {
                let mut errors = Vec::new();
                let resolved = resolver.resolve_tree(spec, &spec_path, &mut errors);
                for (path, line, message) in errors {
                    let message = format!("{message} (template {})", file.display());
                    session.error(
                        "load.cfn_unresolved",
                        file,
                        Some(line),
                        id.as_ref(),
                        &path,
                        message,
                    );
                    ok = false;
                }
                let mut spec = resolved.unwrap_or_else(|| Node::new(entry.line, NodeKind::Null));
                case::camel_case_keys(&mut spec);
                names_from_arns(&mut spec, opts);
                spec
            }
            None => Node::new(entry.line, NodeKind::Null),
        };
        let Some(id) = id.filter(|_| ok) else {
            continue;
        };
        session.pending.push(Pending {
            id,
            spec,
            origin: Origin {
                file: file.to_owned(),
                line: Some(entry.line),
                document: doc.index,
                spec_path,
                naming: FieldNaming::CloudFormation,
                ..Origin::default()
            },
            format: SourceFormat::CloudFormation,
        });
    }
}

/// Spec fields that name another resource accept its ARN (what `Ref` of an
/// App Mesh resource gives); the model holds the name.
fn names_from_arns(node: &mut Node, opts: &crate::LoadOptions) {
    match &mut node.kind {
        NodeKind::Map(entries) => {
            for e in entries {
                let kind = match e.key.as_str() {
                    "virtualNodeName" | "virtualNode" => Some(ResourceKind::VirtualNode),
                    "virtualRouterName" => Some(ResourceKind::VirtualRouter),
                    "virtualServiceName" => Some(ResourceKind::VirtualService),
                    _ => None,
                };
                match (&mut e.value.kind, kind) {
                    (NodeKind::String(s), Some(kind)) => *s = name_from_arn(s, kind, &opts.arn),
                    _ => names_from_arns(&mut e.value, opts),
                }
            }
        }
        NodeKind::Seq(items) => items.iter_mut().for_each(|n| names_from_arns(n, opts)),
        _ => {}
    }
}
