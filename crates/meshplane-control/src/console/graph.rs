//! The mesh map's graph: one box per App Mesh resource, in the columns
//! gateways → gateway routes → services → routers → routes → nodes, and the
//! edges between them (with route weights and node backends).

use meshplane_spec::virtual_node::VirtualNodeSpec;
use meshplane_spec::MeshGraph;
use serde_json::Value;

/// The map's columns, left to right.
pub const COLUMNS: [&str; 6] = [
    "Virtual gateways",
    "Gateway routes",
    "Virtual services",
    "Virtual routers",
    "Routes",
    "Virtual nodes",
];

/// One box on the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vertex {
    /// Unique in the mesh: `<kind>/<name>` (`route/<router>/<route>`).
    pub id: String,
    pub column: usize,
    pub label: String,
    /// A second line: match summary, discovery, provider.
    pub detail: String,
    /// The page this box links to (a node's configuration), if any.
    pub link: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// Configuration flow (gateway → route → service → router → route → node).
    Flow,
    /// A virtual node's backend (node → service it calls).
    Backend,
}

/// One arrow on the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: Option<String>,
    pub kind: EdgeKind,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    pub vertices: Vec<Vertex>,
    pub edges: Vec<Edge>,
}

impl Graph {
    fn vertex(&mut self, id: String, column: usize, label: &str, detail: String) {
        self.vertices.push(Vertex {
            id,
            column,
            label: label.to_owned(),
            detail,
            link: None,
        });
    }

    fn edge(&mut self, from: String, to: String, label: Option<String>, kind: EdgeKind) {
        self.edges.push(Edge {
            from,
            to,
            label,
            kind,
        });
    }

    /// Drop edges whose ends are not on the map (a reference to a missing
    /// resource is a validation problem, shown on the Problems page).
    fn prune(&mut self) {
        let ids: std::collections::BTreeSet<&str> =
            self.vertices.iter().map(|v| v.id.as_str()).collect();
        let kept: Vec<Edge> = self
            .edges
            .iter()
            .filter(|e| ids.contains(e.from.as_str()) && ids.contains(e.to.as_str()))
            .cloned()
            .collect();
        self.edges = kept;
    }
}

/// The graph of one mesh.
pub fn of_mesh(mesh: &MeshGraph) -> Graph {
    let mut g = Graph::default();
    for (name, gw) in &mesh.virtual_gateways {
        let ports: Vec<String> = serde_json::to_value(&gw.listeners)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|l| {
                let pm = &l["portMapping"];
                Some(format!(
                    "{} {}",
                    pm["protocol"].as_str()?,
                    pm["port"].as_i64()?
                ))
            })
            .collect();
        g.vertex(format!("gateway/{name}"), 0, name, ports.join(", "));
    }
    for ((gw, name), spec) in &mesh.gateway_routes {
        let v = serde_json::to_value(spec).unwrap_or(Value::Null);
        let (proto, body) = first_protocol(&v);
        let id = format!("gatewayRoute/{gw}/{name}");
        g.vertex(
            id.clone(),
            1,
            name,
            join_nonempty(&[proto, match_summary(&body["match"])]),
        );
        g.edge(format!("gateway/{gw}"), id.clone(), None, EdgeKind::Flow);
        if let Some(vs) = body["action"]["target"]["virtualService"]["virtualServiceName"].as_str()
        {
            g.edge(id, format!("service/{vs}"), None, EdgeKind::Flow);
        }
    }
    for (name, spec) in &mesh.virtual_services {
        let id = format!("service/{name}");
        let provider = spec.provider.as_ref();
        let mut detail = "no provider".to_owned();
        if let Some(r) = provider.and_then(|p| p.virtual_router.as_ref()) {
            detail = format!("router {}", r.virtual_router_name);
            g.edge(
                id.clone(),
                format!("router/{}", r.virtual_router_name),
                None,
                EdgeKind::Flow,
            );
        }
        if let Some(n) = provider.and_then(|p| p.virtual_node.as_ref()) {
            detail = format!("node {}", n.virtual_node_name);
            g.edge(
                id.clone(),
                format!("node/{}", n.virtual_node_name),
                None,
                EdgeKind::Flow,
            );
        }
        g.vertex(id, 2, name, detail);
    }
    for (name, spec) in &mesh.virtual_routers {
        let v = serde_json::to_value(&spec.listeners).unwrap_or(Value::Null);
        let ports: Vec<String> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                let pm = &l["portMapping"];
                Some(format!(
                    "{} {}",
                    pm["protocol"].as_str()?,
                    pm["port"].as_i64()?
                ))
            })
            .collect();
        g.vertex(format!("router/{name}"), 3, name, ports.join(", "));
    }
    for ((router, name), spec) in &mesh.routes {
        let v = serde_json::to_value(spec).unwrap_or(Value::Null);
        let (proto, body) = first_protocol(&v);
        let id = format!("route/{router}/{name}");
        let mut detail = join_nonempty(&[proto, match_summary(&body["match"])]);
        if let Some(p) = spec.priority {
            detail = join_nonempty(&[detail, format!("priority {p}")]);
        }
        g.vertex(id.clone(), 4, name, detail);
        g.edge(format!("router/{router}"), id.clone(), None, EdgeKind::Flow);
        let targets = body["action"]["weightedTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let total: i64 = targets.iter().filter_map(|t| t["weight"].as_i64()).sum();
        for t in &targets {
            let (Some(node), Some(w)) = (t["virtualNode"].as_str(), t["weight"].as_i64()) else {
                continue;
            };
            let share = if total > 0 {
                format!("weight {w} ({}%)", w * 100 / total)
            } else {
                format!("weight {w}")
            };
            g.edge(
                id.clone(),
                format!("node/{node}"),
                Some(share),
                EdgeKind::Flow,
            );
        }
    }
    for (name, spec) in &mesh.virtual_nodes {
        let id = format!("node/{name}");
        g.vertices.push(Vertex {
            id: id.clone(),
            column: 5,
            label: name.clone(),
            detail: discovery(spec),
            link: Some(format!(
                "/ui/node?name=mesh/{}/virtualNode/{name}",
                mesh.name
            )),
        });
        for b in spec.backends.iter().flatten() {
            if let Some(vs) = &b.virtual_service {
                g.edge(
                    id.clone(),
                    format!("service/{}", vs.virtual_service_name),
                    None,
                    EdgeKind::Backend,
                );
            }
        }
    }
    g.prune();
    g
}

/// How a virtual node's endpoints are found.
fn discovery(spec: &VirtualNodeSpec) -> String {
    let Some(sd) = &spec.service_discovery else {
        return "no service discovery".to_owned();
    };
    if let Some(dns) = &sd.dns {
        return format!("DNS {}", dns.hostname);
    }
    if let Some(cm) = &sd.aws_cloud_map {
        return format!("Cloud Map {}/{}", cm.namespace_name, cm.service_name);
    }
    "no service discovery".to_owned()
}

/// The route's protocol and its body (`httpRoute`, `grpcRoute`, ...).
fn first_protocol(spec: &Value) -> (String, Value) {
    for (key, proto) in [
        ("httpRoute", "HTTP"),
        ("http2Route", "HTTP/2"),
        ("grpcRoute", "gRPC"),
        ("tcpRoute", "TCP"),
    ] {
        if !spec[key].is_null() {
            return (proto.to_owned(), spec[key].clone());
        }
    }
    (String::new(), Value::Null)
}

/// `prefix /api · headers x-canary` from a route's match object.
pub fn match_summary(m: &Value) -> String {
    let Some(obj) = m.as_object() else {
        return String::new();
    };
    let parts: Vec<String> = obj
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k} {s}"),
            Value::Number(n) => format!("{k} {n}"),
            Value::Array(items) => {
                let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
                format!("{k} {}", names.join(","))
            }
            Value::Object(o) => {
                let inner: Vec<String> = o
                    .iter()
                    .map(|(ik, iv)| match iv.as_str() {
                        Some(s) => format!("{ik} {s}"),
                        None => ik.clone(),
                    })
                    .collect();
                format!("{k} {}", inner.join(","))
            }
            other => format!("{k} {other}"),
        })
        .collect();
    parts.join(" · ")
}

fn join_nonempty(parts: &[String]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The map box of an App Mesh resource (none for a mesh).
pub fn vertex_id(id: &meshplane_spec::ResourceId) -> Option<String> {
    use meshplane_spec::ResourceKind as K;
    let parent = id.parent.as_deref().unwrap_or_default();
    Some(match id.kind {
        K::Mesh => return None,
        K::VirtualService => format!("service/{}", id.name),
        K::VirtualNode => format!("node/{}", id.name),
        K::VirtualRouter => format!("router/{}", id.name),
        K::Route => format!("route/{parent}/{}", id.name),
        K::VirtualGateway => format!("gateway/{}", id.name),
        K::GatewayRoute => format!("gatewayRoute/{parent}/{}", id.name),
    })
}
