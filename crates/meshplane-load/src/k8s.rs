//! The App Mesh controller's Kubernetes CRDs (`appmesh.k8s.aws/v1beta2`).
//!
//! Objects are collected from every file first, because their references
//! (`virtualNodeRef`, `meshRef`, ...) cross files. Then each is given the
//! App Mesh name the controller would give it (`spec.awsName`, defaulting to
//! `<name>_<namespace>`, `<name>.<namespace>` for virtual services, `<name>`
//! for meshes), its references are replaced by the names they point at, the
//! CRD's renamed fields get the API's names, and the fields that only steer
//! the controller (selectors, `meshRef`) are dropped. Objects of other API
//! groups (the Deployments and Services of the same manifest) are skipped.

mod refs;
mod rename;

use std::path::{Path, PathBuf};

use meshplane_spec::{Origin, ResourceId, ResourceKind};

use crate::node::{join, Node, NodeKind};
use crate::pending::{Pending, Session, SourceFormat};
use crate::read::Document;
use refs::Index;

const API_GROUP: &str = "appmesh.k8s.aws/";
const API_VERSION: &str = "appmesh.k8s.aws/v1beta2";

/// `Deployment 'web' (apps/v1)`: a skipped object, as `--verbose` lists it.
fn describe(node: &Node, api: &str) -> String {
    let kind = node.get_str("kind").unwrap_or("an object without kind");
    let name = node
        .get("metadata")
        .and_then(|m| m.get_str("name"))
        .map(|n| format!(" '{n}'"))
        .unwrap_or_default();
    let api = if api.is_empty() { "no apiVersion" } else { api };
    format!("Kubernetes {kind}{name} ({api}) is not an App Mesh resource")
}

/// One CRD object as read.
#[derive(Debug, Clone)]
pub struct Object {
    pub file: PathBuf,
    pub document: usize,
    pub line: u32,
    /// `spec` or `items[3].spec` inside the document.
    pub spec_path: String,
    pub kind: ResourceKind,
    pub name: String,
    pub namespace: String,
    pub spec: Node,
}

impl Object {
    pub fn aws_name(&self) -> String {
        match self.spec.get_str("awsName").filter(|s| !s.is_empty()) {
            Some(name) => name.to_owned(),
            None => refs::default_aws_name(self.kind, &self.name, &self.namespace),
        }
    }
}

fn kind_of(kind: &str) -> Option<ResourceKind> {
    Some(match kind {
        "Mesh" => ResourceKind::Mesh,
        "VirtualNode" => ResourceKind::VirtualNode,
        "VirtualService" => ResourceKind::VirtualService,
        "VirtualRouter" => ResourceKind::VirtualRouter,
        "VirtualGateway" => ResourceKind::VirtualGateway,
        "GatewayRoute" => ResourceKind::GatewayRoute,
        _ => return None,
    })
}

pub fn collect(session: &mut Session<'_>, file: &Path, doc: Document) {
    if doc.node.get_str("kind") == Some("List") {
        for (i, item) in doc
            .node
            .get("items")
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            collect_one(session, file, doc.index, item, &format!("items[{i}]."));
        }
    } else {
        collect_one(session, file, doc.index, &doc.node, "");
    }
}

fn collect_one(session: &mut Session<'_>, file: &Path, document: usize, node: &Node, prefix: &str) {
    let line = Some(node.line);
    let api = node.get_str("apiVersion").unwrap_or("");
    if !api.starts_with(API_GROUP) {
        // Namespaces, Deployments, Services, ... kept beside the mesh.
        session.skip_at(file, document, line, describe(node, api));
        return;
    }
    if api != API_VERSION {
        let message = format!(
            "apiVersion '{api}' is not supported: meshplane reads {API_VERSION} objects, \
             the API of the App Mesh controller from its v1.0 release on; convert this object to v1beta2"
        );
        session.error(
            "load.unknown_document",
            file,
            line,
            None,
            &format!("{prefix}apiVersion"),
            message,
        );
        return;
    }
    let kind_name = node.get_str("kind").unwrap_or("");
    let Some(kind) = kind_of(kind_name) else {
        if kind_name == "BackendGroup" {
            let message =
                "BackendGroup objects are not read; list the virtual services as backends";
            session.warning(
                "load.k8s_unsupported",
                file,
                line,
                None,
                &format!("{prefix}kind"),
                message,
            );
        } else {
            let message = format!("kind '{kind_name}' is not an App Mesh CRD kind");
            session.error(
                "load.unknown_document",
                file,
                line,
                None,
                &format!("{prefix}kind"),
                message,
            );
        }
        return;
    };
    let metadata = node.get("metadata");
    let Some(name) = metadata
        .and_then(|m| m.get_str("name"))
        .filter(|s| !s.is_empty())
    else {
        let message = "metadata.name is missing";
        session.error(
            "load.missing_field",
            file,
            line,
            None,
            &format!("{prefix}metadata.name"),
            message,
        );
        return;
    };
    let namespace = metadata
        .and_then(|m| m.get_str("namespace"))
        .filter(|s| !s.is_empty())
        .unwrap_or("default");
    let spec = node
        .get("spec")
        .cloned()
        .unwrap_or_else(|| Node::new(node.line, NodeKind::Map(Vec::new())));
    if spec.as_map().is_none() {
        let message = format!("spec must be an object, not {}", spec.type_name());
        session.error(
            "load.invalid_field",
            file,
            Some(spec.line),
            None,
            &format!("{prefix}spec"),
            message,
        );
        return;
    }
    session.k8s.push(Object {
        file: file.to_owned(),
        document,
        line: node.line,
        spec_path: format!("{prefix}spec"),
        kind,
        name: name.to_owned(),
        namespace: if kind == ResourceKind::Mesh {
            String::new()
        } else {
            namespace.to_owned()
        },
        spec,
    });
}

/// Turns the collected objects into pending resources.
pub fn resolve(session: &mut Session<'_>, objects: Vec<Object>) {
    let index = Index::new(&objects, &session.opts.arn.account);
    for object in &objects {
        let mut problems = Vec::new();
        let resources = convert(object, &index, &mut problems);
        for p in problems {
            let path = join(&object.spec_path, &p.path);
            let line = Some(p.line.unwrap_or(object.line));
            if p.warning {
                session.warning(p.rule, &object.file, line, p.id.as_ref(), &path, p.message);
            } else {
                session.error(p.rule, &object.file, line, p.id.as_ref(), &path, p.message);
            }
        }
        session.pending.extend(resources);
    }
}

/// A problem with one object, its path relative to the object's spec.
#[derive(Debug, Clone)]
pub struct Problem {
    pub rule: &'static str,
    pub warning: bool,
    pub id: Option<ResourceId>,
    pub path: String,
    pub line: Option<u32>,
    pub message: String,
}

impl Problem {
    pub fn error(
        rule: &'static str,
        path: &str,
        line: Option<u32>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            rule,
            warning: false,
            id: None,
            path: path.to_owned(),
            line,
            message: message.into(),
        }
    }
}

fn convert(object: &Object, index: &Index<'_>, problems: &mut Vec<Problem>) -> Vec<Pending> {
    let Some((mesh, owner)) = index.mesh_of(object, problems) else {
        return Vec::new();
    };
    if let Err(why) = meshplane_spec::check_account_id(&owner) {
        let (path, message) = if object.kind == ResourceKind::Mesh {
            ("meshOwner", format!("meshOwner {why}"))
        } else {
            ("", format!("the meshOwner of mesh '{mesh}': {why}"))
        };
        let line = object.spec.entry("meshOwner").map(|e| e.line);
        problems.push(Problem::error("load.invalid_field", path, line, message));
        return Vec::new();
    }
    let aws_name = object.aws_name();
    let mut spec = object.spec.clone();
    let errors_before = problems.len();
    for key in [
        "awsName",
        "meshRef",
        "podSelector",
        "namespaceSelector",
        "gatewayRouteSelector",
        "meshOwner",
    ] {
        spec.take(key);
    }
    if let Some(groups) = spec.take("backendGroups") {
        if groups.value.as_seq().is_some_and(|s| !s.is_empty()) {
            problems.push(Problem {
                warning: true,
                ..Problem::error(
                    "load.k8s_unsupported",
                    "backendGroups",
                    Some(groups.line),
                    "backendGroups are not expanded; list the virtual services as backends",
                )
            });
        }
    }
    rename::api_names(&mut spec);
    let origin = |spec_path: String, line: u32| Origin {
        file: object.file.clone(),
        line: Some(line),
        document: object.document,
        spec_path,
        ..Origin::default()
    };
    let mut routes_out: Vec<Pending> = Vec::new();
    let mut route_errors: Vec<Problem> = Vec::new();
    let id = match object.kind {
        ResourceKind::Mesh => {
            rename::key(&mut spec, "meshServiceDiscovery", "serviceDiscovery");
            ResourceId::mesh(&mesh, &owner)
        }
        ResourceKind::VirtualNode => {
            index.backends(object, &mut spec, problems);
            ResourceId::new(&mesh, &owner, ResourceKind::VirtualNode, &aws_name)
        }
        ResourceKind::VirtualService => {
            index.provider(object, &mut spec, problems);
            ResourceId::new(&mesh, &owner, ResourceKind::VirtualService, &aws_name)
        }
        ResourceKind::VirtualRouter => {
            if let Some(routes) = spec.take("routes") {
                match routes.value.as_seq() {
                    Some(items) => {
                        for (i, route) in items.iter().enumerate() {
                            let path = format!("routes[{i}]");
                            let mut route_problems = Vec::new();
                            let pending = route_of(
                                object,
                                index,
                                route,
                                &path,
                                (&mesh, &owner, &aws_name),
                                &mut route_problems,
                            );
                            route_problems.extend(pending.as_ref().err().map(|p| (**p).clone()));
                            routes_out.extend(pending.ok().flatten());
                            route_errors.extend(route_problems);
                        }
                    }
                    None => problems.push(Problem::error(
                        "load.invalid_field",
                        "routes",
                        Some(routes.line),
                        "routes must be a list",
                    )),
                }
            }
            ResourceId::new(&mesh, &owner, ResourceKind::VirtualRouter, &aws_name)
        }
        ResourceKind::VirtualGateway => {
            ResourceId::new(&mesh, &owner, ResourceKind::VirtualGateway, &aws_name)
        }
        ResourceKind::GatewayRoute => {
            let gateway = index.gateway_of(object, &mesh, &mut spec, problems);
            index.gateway_targets(object, &mut spec, problems);
            match gateway {
                Some(gateway) => ResourceId::child(
                    &mesh,
                    &owner,
                    ResourceKind::GatewayRoute,
                    &gateway,
                    &aws_name,
                ),
                None => return Vec::new(),
            }
        }
        ResourceKind::Route => return Vec::new(),
    };
    for p in &mut problems[errors_before..] {
        p.id.get_or_insert_with(|| id.clone());
    }
    let object_failed = problems[errors_before..].iter().any(|p| !p.warning);
    // A bad route is reported on its own; the router and other routes still load.
    for mut p in route_errors {
        p.id.get_or_insert_with(|| id.clone());
        problems.push(p);
    }
    if object_failed {
        return Vec::new();
    }
    let mut all = vec![Pending {
        id,
        spec,
        origin: origin(object.spec_path.clone(), object.line),
        format: SourceFormat::Kubernetes,
    }];
    all.extend(routes_out);
    all
}

/// One inline route of a VirtualRouter object, as a pending route resource.
fn route_of(
    object: &Object,
    index: &Index<'_>,
    route: &Node,
    path: &str,
    (mesh, owner, router): (&str, &str, &str),
    problems: &mut Vec<Problem>,
) -> Result<Option<Pending>, Box<Problem>> {
    let mut route = route.clone();
    let name = match route
        .take("name")
        .map(|e| (e.value.as_str().map(str::to_owned), e.line))
    {
        Some((Some(name), _)) if !name.is_empty() => name,
        Some((_, line)) => {
            return Err(Box::new(Problem::error(
                "load.invalid_field",
                &format!("{path}.name"),
                Some(line),
                "a route's name must be a non-empty string",
            )))
        }
        None => {
            return Err(Box::new(Problem::error(
                "load.missing_field",
                &format!("{path}.name"),
                Some(route.line),
                "a route needs a name",
            )))
        }
    };
    let id = ResourceId::child(mesh, owner, ResourceKind::Route, router, &name);
    let before = problems.len();
    index.weighted_targets(object, &mut route, path, problems);
    for p in &mut problems[before..] {
        p.id = Some(id.clone());
    }
    if problems[before..].iter().any(|p| !p.warning) {
        return Ok(None);
    }
    let origin = Origin {
        file: object.file.clone(),
        line: Some(route.line),
        document: object.document,
        spec_path: join(&object.spec_path, path),
        ..Origin::default()
    };
    Ok(Some(Pending {
        id,
        spec: route,
        origin,
        format: SourceFormat::Kubernetes,
    }))
}
