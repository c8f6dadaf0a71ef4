//! The AWS CLI's `--cli-input-json` shape and the output of `describe-*` /
//! `create-*`: `{meshName, virtualNodeName, spec}` and
//! `{"virtualNode": {meshName, virtualNodeName, spec, metadata, status}}`.

use std::path::Path;

use meshplane_spec::{Origin, ResourceId, ResourceKind};

use crate::node::{join, Node, NodeKind};
use crate::pending::{Pending, Session};
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
    let mut ok = true;
    let mut bad = |session: &mut Session<'_>,
                   line: u32,
                   path: String,
                   message: String,
                   rule: &'static str| {
        ok = false;
        session.error(rule, file, Some(line), None, &path, message);
    };
    let mut name_of = |session: &mut Session<'_>, key: &str| -> String {
        match node.entry(key) {
            Some(e) => match e.value.as_str() {
                Some(s) if !s.is_empty() => s.to_owned(),
                _ => {
                    let msg = match e.value.as_str() {
                        Some(_) => format!("{key} must not be empty"),
                        None => format!("{key} must be a string, not {}", e.value.type_name()),
                    };
                    bad(
                        session,
                        e.line,
                        join(prefix, key),
                        msg,
                        "load.invalid_field",
                    );
                    String::new()
                }
            },
            None => {
                bad(
                    session,
                    node.line,
                    join(prefix, key),
                    format!("{key} is missing"),
                    "load.missing_field",
                );
                String::new()
            }
        }
    };
    let mesh = name_of(session, "meshName");
    let names: Vec<String> = name_keys(kind)
        .iter()
        .map(|k| name_of(session, k))
        .collect();
    let owner = owner_of(node, describe).unwrap_or_else(|| session.opts.arn.account.clone());
    let mut allowed: Vec<&str> = vec!["meshName", "meshOwner", "spec", "tags", "clientToken"];
    allowed.extend(name_keys(kind));
    if describe {
        allowed.extend(["metadata", "status"]);
    }
    for e in node.as_map().unwrap_or_default() {
        if !allowed.contains(&e.key.as_str()) {
            let message = format!(
                "unknown field `{}` for a {kind} document, expected one of {}",
                e.key,
                allowed
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            bad(
                session,
                e.line,
                join(prefix, &e.key),
                message,
                "load.unknown_field",
            );
        }
    }
    if let Some(e) = node.entry("meshOwner") {
        if e.value.as_str().is_none_or(str::is_empty) {
            bad(
                session,
                e.line,
                join(prefix, "meshOwner"),
                "meshOwner must be an account id string".into(),
                "load.invalid_field",
            );
        }
    }
    if !ok {
        return;
    }
    let id = match (kind, names.as_slice()) {
        (ResourceKind::Mesh, _) => ResourceId::mesh(&mesh, &owner),
        (_, [parent, name]) => ResourceId::child(&mesh, &owner, kind, parent, name),
        (_, [name]) => ResourceId::new(&mesh, &owner, kind, name),
        _ => return,
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
            field_lines: Default::default(),
        },
        lenient_scalars: false,
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
