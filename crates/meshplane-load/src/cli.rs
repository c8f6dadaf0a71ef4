//! The AWS CLI's `--cli-input-json` shape and the output of `describe-*` /
//! `create-*`: `{meshName, virtualNodeName, spec}` and
//! `{"virtualNode": {meshName, virtualNodeName, spec, metadata, status}}`.

use std::path::Path;

use meshplane_spec::{Origin, ResourceId, ResourceKind};

use crate::node::{join, Node, NodeKind};
use crate::pending::{Pending, Session, SourceFormat};
use crate::read::Document;

/// The wrapper key of describe output for each kind.
const WRAPPERS: [(&str, ResourceKind); 7] = [
    ("mesh", ResourceKind::Mesh),
    ("virtualService", ResourceKind::VirtualService),
    ("virtualNode", ResourceKind::VirtualNode),
    ("virtualRouter", ResourceKind::VirtualRouter),
    ("route", ResourceKind::Route),
    ("virtualGateway", ResourceKind::VirtualGateway),
    ("gatewayRoute", ResourceKind::GatewayRoute),
];

pub fn is_cli_or_describe(node: &Node) -> bool {
    node.get("meshName").is_some() || describe_wrapper(node).is_some()
}

/// `("virtualNode", kind, inner)` when the document is describe output.
fn describe_wrapper(node: &Node) -> Option<(&'static str, ResourceKind, &Node)> {
    let entries = node.as_map()?;
    let mut found = None;
    for e in entries {
        if let Some((key, kind)) = WRAPPERS.iter().find(|(k, _)| *k == e.key) {
            if found.is_some() || e.value.as_map().is_none() {
                return None;
            }
            found = Some((*key, *kind, &e.value));
        } else if e.key != "ResponseMetadata" {
            return None;
        }
    }
    found
}

/// Every top-level key of a CLI input or describe document.
const ALL_KEYS: [&str; 13] = [
    "meshName",
    "meshOwner",
    "virtualNodeName",
    "virtualServiceName",
    "virtualRouterName",
    "routeName",
    "virtualGatewayName",
    "gatewayRouteName",
    "spec",
    "tags",
    "clientToken",
    "metadata",
    "status",
];

/// The name keys of each kind, parent first.
fn name_keys(kind: ResourceKind) -> &'static [&'static str] {
    match kind {
        ResourceKind::Mesh => &[],
        ResourceKind::VirtualService => &["virtualServiceName"],
        ResourceKind::VirtualNode => &["virtualNodeName"],
        ResourceKind::VirtualRouter => &["virtualRouterName"],
        ResourceKind::Route => &["virtualRouterName", "routeName"],
        ResourceKind::VirtualGateway => &["virtualGatewayName"],
        ResourceKind::GatewayRoute => &["virtualGatewayName", "gatewayRouteName"],
    }
}

/// The kind a CLI input document is for, from the name keys it has.
fn kind_of(node: &Node) -> ResourceKind {
    let has = |k: &str| node.get(k).is_some();
    if has("gatewayRouteName") {
        ResourceKind::GatewayRoute
    } else if has("routeName") {
        ResourceKind::Route
    } else if has("virtualNodeName") {
        ResourceKind::VirtualNode
    } else if has("virtualServiceName") {
        ResourceKind::VirtualService
    } else if has("virtualGatewayName") {
        ResourceKind::VirtualGateway
    } else if has("virtualRouterName") {
        ResourceKind::VirtualRouter
    } else {
        ResourceKind::Mesh
    }
}

pub fn load(session: &mut Session<'_>, file: &Path, doc: Document) {
    let (prefix, kind, node, describe) = match describe_wrapper(&doc.node) {
        Some((key, kind, inner)) => (key, kind, inner, true),
        None => ("", kind_of(&doc.node), &doc.node, false),
    };
    // Problems are collected first so that they can name the resource when
    // its names are known.
    let mut problems: Vec<(&'static str, u32, String, String)> = Vec::new();
    let mut name_of = |key: &str| -> Option<String> {
        match node.entry(key) {
            Some(e) => match e.value.as_str() {
                Some(s) if !s.is_empty() => Some(s.to_owned()),
                Some(_) => {
                    problems.push((
                        "load.invalid_field",
                        e.line,
                        join(prefix, key),
                        format!("{key} must not be empty"),
                    ));
                    None
                }
                None => {
                    let message = format!("{key} must be a string, not {}", e.value.type_name());
                    problems.push(("load.invalid_field", e.line, join(prefix, key), message));
                    None
                }
            },
            None => {
                problems.push((
                    "load.missing_field",
                    node.line,
                    join(prefix, key),
                    format!("{key} is missing"),
                ));
                None
            }
        }
    };
    let mesh = name_of("meshName");
    let names: Option<Vec<String>> = name_keys(kind).iter().map(|k| name_of(k)).collect();
    let owner = owner_of(node, describe).unwrap_or_else(|| session.opts.arn.account.clone());
    let mut allowed: Vec<&str> = vec!["meshName", "meshOwner", "spec", "tags", "clientToken"];
    allowed.extend(name_keys(kind));
    if describe {
        allowed.extend(["metadata", "status"]);
    }
    for e in node.as_map().unwrap_or_default() {
        if !allowed.contains(&e.key.as_str()) {
            let expected: Vec<String> = allowed.iter().map(|k| format!("`{k}`")).collect();
            // A misspelt name key also makes the document look like another kind.
            let message = format!(
                "unknown field `{}` for a {kind} document, expected one of {}{}",
                e.key,
                expected.join(", "),
                crate::suggest::hint(&e.key, &ALL_KEYS)
            );
            problems.push(("load.unknown_field", e.line, join(prefix, &e.key), message));
        }
    }
    if let Some(e) = node.entry("meshOwner") {
        let checked = match e.value.as_str() {
            Some(owner) => meshplane_spec::check_account_id(owner),
            None => Err("must be an account ID string".to_owned()),
        };
        if let Err(why) = checked {
            let message = format!("meshOwner {why}");
            problems.push((
                "load.invalid_field",
                e.line,
                join(prefix, "meshOwner"),
                message,
            ));
        }
    }
    if describe && node.get("meshOwner").is_none() {
        if let Some(e) = node.get("metadata").and_then(|m| m.entry("meshOwner")) {
            if let Err(why) = e.value.as_str().map_or_else(
                || Err("must be an account ID string".to_owned()),
                meshplane_spec::check_account_id,
            ) {
                let path = join(prefix, "metadata.meshOwner");
                problems.push((
                    "load.invalid_field",
                    e.line,
                    path,
                    format!("meshOwner {why}"),
                ));
            }
        }
    }
    let id = match (kind, &mesh, names.as_deref()) {
        (ResourceKind::Mesh, Some(mesh), _) => Some(ResourceId::mesh(mesh, &owner)),
        (_, Some(mesh), Some([parent, name])) => {
            Some(ResourceId::child(mesh, &owner, kind, parent, name))
        }
        (_, Some(mesh), Some([name])) => Some(ResourceId::new(mesh, &owner, kind, name)),
        _ => None,
    };
    let failed = !problems.is_empty();
    for (rule, line, path, message) in problems {
        session.error(rule, file, Some(line), id.as_ref(), &path, message);
    }
    let Some(id) = id.filter(|_| !failed) else {
        return;
    };
    let spec = match node.get("spec") {
        Some(spec) => spec.clone(),
        None => Node::new(node.line, NodeKind::Null),
    };
    session.pending.push(Pending {
        id,
        spec,
        origin: Origin {
            file: file.to_owned(),
            line: Some(node.line),
            document: doc.index,
            spec_path: join(prefix, "spec"),
            ..Origin::default()
        },
        format: SourceFormat::Cli,
    });
}

fn owner_of(node: &Node, describe: bool) -> Option<String> {
    if let Some(owner) = node.get_str("meshOwner").filter(|s| !s.is_empty()) {
        return Some(owner.to_owned());
    }
    if describe {
        return node
            .get("metadata")
            .and_then(|m| m.get_str("meshOwner"))
            .map(str::to_owned);
    }
    None
}
