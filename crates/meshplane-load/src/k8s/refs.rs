//! The names references point at: `*Ref` objects by namespace and name,
//! `*ARN` strings by parsing, meshes by `meshRef` or by being the only one.

use std::collections::BTreeMap;

use meshplane_spec::{ArnContext, ResourceId, ResourceKind};

use super::{Object, Problem};
use crate::node::{Entry, Node};

/// The App Mesh name the controller gives an object without `awsName`.
pub fn default_aws_name(kind: ResourceKind, name: &str, namespace: &str) -> String {
    match kind {
        ResourceKind::Mesh => name.to_owned(),
        ResourceKind::VirtualService => format!("{name}.{namespace}"),
        _ => format!("{name}_{namespace}"),
    }
}

pub struct Index<'o> {
    /// Mesh object name -> (App Mesh name, owner).
    meshes: BTreeMap<&'o str, (String, String)>,
    /// (kind, namespace, name) -> App Mesh name.
    names: BTreeMap<(ResourceKind, &'o str, &'o str), String>,
    gateways: Vec<&'o Object>,
    ctx: ArnContext,
}

impl<'o> Index<'o> {
    pub fn new(objects: &'o [Object], account: &str) -> Index<'o> {
        let mut meshes = BTreeMap::new();
        let mut names = BTreeMap::new();
        let mut gateways = Vec::new();
        for o in objects {
            if o.kind == ResourceKind::Mesh {
                let owner = o
                    .spec
                    .get_str("meshOwner")
                    .filter(|s| !s.is_empty())
                    .unwrap_or(account);
                meshes.insert(o.name.as_str(), (o.aws_name(), owner.to_owned()));
            } else {
                names.insert(
                    (o.kind, o.namespace.as_str(), o.name.as_str()),
                    o.aws_name(),
                );
            }
            if o.kind == ResourceKind::VirtualGateway {
                gateways.push(o);
            }
        }
        let ctx = ArnContext {
            account: account.to_owned(),
            ..ArnContext::default()
        };
        Index {
            meshes,
            names,
            gateways,
            ctx,
        }
    }

    /// The App Mesh name and owner of the object's mesh.
    pub fn mesh_of(
        &self,
        object: &Object,
        problems: &mut Vec<Problem>,
    ) -> Option<(String, String)> {
        if object.kind == ResourceKind::Mesh {
            return self.meshes.get(object.name.as_str()).cloned();
        }
        if let Some(mesh_ref) = object.spec.get("meshRef") {
            let Some(name) = mesh_ref.get_str("name") else {
                problems.push(Problem::error(
                    "load.invalid_field",
                    "meshRef.name",
                    Some(mesh_ref.line),
                    "meshRef needs a name",
                ));
                return None;
            };
            return Some(match self.meshes.get(name) {
                Some(found) => found.clone(),
                None => {
                    problems.push(Problem {
                        warning: true,
                        ..Problem::error(
                            "load.k8s_ref_unresolved",
                            "meshRef.name",
                            Some(mesh_ref.line),
                            format!("no Mesh '{name}' was loaded; assuming its App Mesh name is '{name}'"),
                        )
                    });
                    (name.to_owned(), self.ctx.account.clone())
                }
            });
        }
        let mut meshes = self.meshes.values();
        match (meshes.next(), meshes.next()) {
            (Some(only), None) => Some(only.clone()),
            (None, _) => {
                problems.push(Problem::error(
                    "load.k8s_mesh",
                    "meshRef",
                    None,
                    "no Mesh object was loaded and spec.meshRef is not set, so the mesh is unknown",
                ));
                None
            }
            (Some(_), Some(_)) => {
                let names: Vec<&str> = self.meshes.keys().copied().collect();
                problems.push(Problem::error(
                    "load.k8s_mesh",
                    "meshRef",
                    None,
                    format!(
                        "{} meshes were loaded ({}); set spec.meshRef.name to say which this object belongs to",
                        names.len(),
                        names.join(", ")
                    ),
                ));
                None
            }
        }
    }

    /// Replaces `ref_key` ({name, namespace}) or `arn_key` in `map` by
    /// `new_key` holding the App Mesh name referred to.
    #[allow(clippy::too_many_arguments)]
    fn replace(
        &self,
        object: &Object,
        map: &mut Node,
        path: &str,
        ref_key: &str,
        arn_key: &str,
        new_key: &str,
        kind: ResourceKind,
        problems: &mut Vec<Problem>,
    ) {
        if map.as_map().is_none() {
            return;
        }
        let by_ref = map.take(ref_key);
        let by_arn = map.take(arn_key);
        let (entry, name) = match (by_ref, by_arn) {
            (Some(_), Some(e)) => {
                let message = format!("set either {ref_key} or {arn_key}, not both");
                problems.push(Problem::error(
                    "load.invalid_field",
                    &format!("{path}.{arn_key}"),
                    Some(e.line),
                    message,
                ));
                return;
            }
            (Some(e), None) => {
                let name = e.value.get_str("name").filter(|s| !s.is_empty());
                let Some(name) = name else {
                    let message = format!("{ref_key} needs a name");
                    problems.push(Problem::error(
                        "load.invalid_field",
                        &format!("{path}.{ref_key}.name"),
                        Some(e.line),
                        message,
                    ));
                    return;
                };
                let namespace = e
                    .value
                    .get_str("namespace")
                    .filter(|s| !s.is_empty())
                    .unwrap_or(&object.namespace);
                let aws = match self.names.get(&(kind, namespace, name)) {
                    Some(aws) => aws.clone(),
                    None => {
                        let aws = default_aws_name(kind, name, namespace);
                        problems.push(Problem {
                            warning: true,
                            ..Problem::error(
                                "load.k8s_ref_unresolved",
                                &format!("{path}.{ref_key}"),
                                Some(e.line),
                                format!("no {kind} '{namespace}/{name}' was loaded; assuming its App Mesh name is '{aws}'"),
                            )
                        });
                        aws
                    }
                };
                (e, aws)
            }
            (None, Some(e)) => {
                let arn = e.value.as_str().unwrap_or("");
                match ResourceId::parse(arn, &self.ctx) {
                    Ok(id) if id.kind == kind => {
                        let name = id.name.clone();
                        (e, name)
                    }
                    Ok(id) => {
                        let message = format!("{arn_key} names a {}, expected a {kind}", id.kind);
                        problems.push(Problem::error(
                            "load.invalid_field",
                            &format!("{path}.{arn_key}"),
                            Some(e.line),
                            message,
                        ));
                        return;
                    }
                    Err(err) => {
                        problems.push(Problem::error(
                            "load.invalid_field",
                            &format!("{path}.{arn_key}"),
                            Some(e.line),
                            err.to_string(),
                        ));
                        return;
                    }
                }
            }
            (None, None) => return,
        };
        map.push_entry(Entry {
            key: new_key.to_owned(),
            source_key: entry.source_key,
            line: entry.line,
            value: Node::string(entry.value.line, name),
        });
    }

    /// `backends[].virtualService.virtualServiceRef|ARN` -> `virtualServiceName`.
    pub fn backends(&self, object: &Object, spec: &mut Node, problems: &mut Vec<Problem>) {
        let Some(crate::node::NodeKind::Seq(items)) = spec.get_mut("backends").map(|n| &mut n.kind)
        else {
            return;
        };
        for (i, backend) in items.iter_mut().enumerate() {
            if let Some(vs) = backend.get_mut("virtualService") {
                let path = format!("backends[{i}].virtualService");
                self.replace(
                    object,
                    vs,
                    &path,
                    "virtualServiceRef",
                    "virtualServiceARN",
                    "virtualServiceName",
                    ResourceKind::VirtualService,
                    problems,
                );
            }
        }
    }

    /// `provider.virtualNode|virtualRouter.*Ref|*ARN` -> `virtualNodeName|virtualRouterName`.
    pub fn provider(&self, object: &Object, spec: &mut Node, problems: &mut Vec<Problem>) {
        let Some(provider) = spec.get_mut("provider") else {
            return;
        };
        if let Some(node) = provider.get_mut("virtualNode") {
            self.replace(
                object,
                node,
                "provider.virtualNode",
                "virtualNodeRef",
                "virtualNodeARN",
                "virtualNodeName",
                ResourceKind::VirtualNode,
                problems,
            );
        }
        if let Some(router) = provider.get_mut("virtualRouter") {
            self.replace(
                object,
                router,
                "provider.virtualRouter",
                "virtualRouterRef",
                "virtualRouterARN",
                "virtualRouterName",
                ResourceKind::VirtualRouter,
                problems,
            );
        }
    }

    /// A route's `weightedTargets[].virtualNodeRef|ARN` -> `virtualNode`.
    pub fn weighted_targets(
        &self,
        object: &Object,
        route: &mut Node,
        path: &str,
        problems: &mut Vec<Problem>,
    ) {
        for kind in ["httpRoute", "http2Route", "grpcRoute", "tcpRoute"] {
            let targets = route
                .get_mut(kind)
                .and_then(|r| r.get_mut("action"))
                .and_then(|a| a.get_mut("weightedTargets"));
            let Some(crate::node::NodeKind::Seq(items)) = targets.map(|n| &mut n.kind) else {
                continue;
            };
            for (i, target) in items.iter_mut().enumerate() {
                let p = format!("{path}.{kind}.action.weightedTargets[{i}]");
                self.replace(
                    object,
                    target,
                    &p,
                    "virtualNodeRef",
                    "virtualNodeARN",
                    "virtualNode",
                    ResourceKind::VirtualNode,
                    problems,
                );
            }
        }
    }

    /// A gateway route's `action.target.virtualService.virtualServiceRef|ARN` -> `virtualServiceName`.
    pub fn gateway_targets(&self, object: &Object, spec: &mut Node, problems: &mut Vec<Problem>) {
        for kind in ["httpRoute", "http2Route", "grpcRoute"] {
            let vs = spec
                .get_mut(kind)
                .and_then(|r| r.get_mut("action"))
                .and_then(|a| a.get_mut("target"))
                .and_then(|t| t.get_mut("virtualService"));
            if let Some(vs) = vs {
                let path = format!("{kind}.action.target.virtualService");
                self.replace(
                    object,
                    vs,
                    &path,
                    "virtualServiceRef",
                    "virtualServiceARN",
                    "virtualServiceName",
                    ResourceKind::VirtualService,
                    problems,
                );
            }
        }
    }

    /// The App Mesh name of a gateway route's virtual gateway: its
    /// `virtualGatewayRef`, else the only gateway loaded (or the only one in
    /// its namespace).
    pub fn gateway_of(
        &self,
        object: &Object,
        _mesh: &str,
        spec: &mut Node,
        problems: &mut Vec<Problem>,
    ) -> Option<String> {
        if let Some(e) = spec.take("virtualGatewayRef") {
            let Some(name) = e.value.get_str("name").filter(|s| !s.is_empty()) else {
                problems.push(Problem::error(
                    "load.invalid_field",
                    "virtualGatewayRef.name",
                    Some(e.line),
                    "virtualGatewayRef needs a name",
                ));
                return None;
            };
            let namespace = e
                .value
                .get_str("namespace")
                .filter(|s| !s.is_empty())
                .unwrap_or(&object.namespace);
            return Some(
                match self
                    .names
                    .get(&(ResourceKind::VirtualGateway, namespace, name))
                {
                    Some(aws) => aws.clone(),
                    None => {
                        let aws = default_aws_name(ResourceKind::VirtualGateway, name, namespace);
                        problems.push(Problem {
                        warning: true,
                        ..Problem::error(
                            "load.k8s_ref_unresolved",
                            "virtualGatewayRef",
                            Some(e.line),
                            format!("no VirtualGateway '{namespace}/{name}' was loaded; assuming its App Mesh name is '{aws}'"),
                        )
                    });
                        aws
                    }
                },
            );
        }
        let same_namespace: Vec<&Object> = self
            .gateways
            .iter()
            .copied()
            .filter(|g| g.namespace == object.namespace)
            .collect();
        match (self.gateways.as_slice(), same_namespace.as_slice()) {
            ([only], _) | (_, [only]) => Some(only.aws_name()),
            ([], _) => {
                problems.push(Problem::error(
                    "load.k8s_gateway",
                    "virtualGatewayRef",
                    None,
                    "no VirtualGateway was loaded and spec.virtualGatewayRef is not set",
                ));
                None
            }
            _ => {
                problems.push(Problem::error(
                    "load.k8s_gateway",
                    "virtualGatewayRef",
                    None,
                    "several VirtualGateways were loaded; set spec.virtualGatewayRef to say which this route belongs to",
                ));
                None
            }
        }
    }
}
