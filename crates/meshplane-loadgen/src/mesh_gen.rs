//! A generated mesh: `nodes` virtual nodes with DNS service discovery, each
//! the sole provider of a virtual service behind its own virtual router and
//! route (weights 90/10 between the node and the next one), and each with
//! `backends` virtual-service backends: `svc-00000` (used by every other
//! node, so a change to its route reaches the whole mesh) plus the services
//! of the following nodes (so a change to one of those reaches a few).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use meshplane_spec::{ArnContext, ResourceId, ResourceKind};
use serde_json::{json, Value};

use crate::spec_edit::{rewrite_weights, EditError};

pub const MESH: &str = "gen";
const PORT: u16 = 8080;

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("a generated mesh needs more nodes than backends per node (got {nodes} nodes, {backends} backends)")]
    Shape { nodes: usize, backends: usize },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A generated mesh written to a directory.
#[derive(Debug, Clone)]
pub struct GeneratedMesh {
    pub dir: PathBuf,
    pub nodes: usize,
    /// Backend node indexes (their services) of each node.
    pub backends: Vec<Vec<usize>>,
    /// How many nodes, from node 0, have simulated proxies: the narrow
    /// changes pick routes that some of them use.
    pub simulated: usize,
    arn: ArnContext,
}

pub fn node_name(i: usize) -> String {
    format!("node-{i:05}")
}

fn service_name(i: usize) -> String {
    format!("svc-{i:05}.{MESH}.local")
}

fn router_name(i: usize) -> String {
    format!("router-{i:05}")
}

fn route_name(i: usize) -> String {
    format!("route-{i:05}")
}

/// Backends of node `i`: the shared service 0 (except for node 0), then the
/// services of the nodes after `i`.
fn backends_of(i: usize, nodes: usize, backends: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(backends);
    if i != 0 && backends > 0 {
        out.push(0);
    }
    let mut d = 1;
    while out.len() < backends && d < nodes {
        let j = (i + d) % nodes;
        if j != 0 && j != i {
            out.push(j);
        }
        d += 1;
    }
    out
}

fn write_json(dir: &Path, file: &str, value: &Value) -> Result<(), GenError> {
    let path = dir.join(file);
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    std::fs::write(&path, text).map_err(|source| GenError::Write { path, source })
}

impl GeneratedMesh {
    /// Write the mesh's spec files into `dir` (which should be empty).
    pub fn write(
        dir: &Path,
        nodes: usize,
        backends: usize,
        arn: &ArnContext,
    ) -> Result<Self, GenError> {
        if nodes < 2 || backends >= nodes {
            return Err(GenError::Shape { nodes, backends });
        }
        write_json(
            dir,
            "mesh.json",
            &json!({"meshName": MESH, "spec": {"egressFilter": {"type": "DROP_ALL"}}}),
        )?;
        let listeners = json!([{"portMapping": {"port": PORT, "protocol": "http"}}]);
        let mut all_backends = Vec::with_capacity(nodes);
        for i in 0..nodes {
            let b = backends_of(i, nodes, backends);
            let backend_json: Vec<Value> = b
                .iter()
                .map(|j| json!({"virtualService": {"virtualServiceName": service_name(*j)}}))
                .collect();
            write_json(
                dir,
                &format!("virtual-node-{}.json", node_name(i)),
                &json!({
                    "meshName": MESH,
                    "virtualNodeName": node_name(i),
                    "spec": {
                        "listeners": listeners,
                        "serviceDiscovery": {"dns": {"hostname": format!("{}.{MESH}.local", node_name(i))}},
                        "backends": backend_json,
                    }
                }),
            )?;
            write_json(
                dir,
                &format!("virtual-service-svc-{i:05}.json"),
                &json!({
                    "meshName": MESH,
                    "virtualServiceName": service_name(i),
                    "spec": {"provider": {"virtualRouter": {"virtualRouterName": router_name(i)}}}
                }),
            )?;
            write_json(
                dir,
                &format!("virtual-router-{}.json", router_name(i)),
                &json!({"meshName": MESH, "virtualRouterName": router_name(i), "spec": {"listeners": listeners}}),
            )?;
            write_json(
                dir,
                &format!("{}.json", route_name(i)),
                &json!({
                    "meshName": MESH,
                    "virtualRouterName": router_name(i),
                    "routeName": route_name(i),
                    "spec": {"httpRoute": {
                        "match": {"prefix": "/"},
                        "action": {"weightedTargets": [
                            {"virtualNode": node_name(i), "weight": 90},
                            {"virtualNode": node_name((i + 1) % nodes), "weight": 10}
                        ]}
                    }}
                }),
            )?;
            all_backends.push(b);
        }
        Ok(GeneratedMesh {
            dir: dir.to_path_buf(),
            nodes,
            backends: all_backends,
            simulated: nodes,
            arn: arn.clone(),
        })
    }

    /// The same mesh, with proxies for its first `nodes` nodes only (the
    /// loadgen's proxies are spread over the nodes from node 0).
    pub fn simulating(mut self, nodes: usize) -> Self {
        self.simulated = nodes.min(self.nodes);
        self
    }

    pub fn node_arn(&self, i: usize) -> String {
        ResourceId::new(
            MESH,
            &self.arn.account,
            ResourceKind::VirtualNode,
            &node_name(i),
        )
        .arn(&self.arn)
    }

    pub fn node_arns(&self) -> Vec<String> {
        (0..self.nodes).map(|i| self.node_arn(i)).collect()
    }

    pub fn route_file(&self, service: usize) -> PathBuf {
        self.dir.join(format!("{}.json", route_name(service)))
    }

    /// The nodes whose configuration a change of `service`'s route changes:
    /// those with the service as a backend.
    pub fn affected_by(&self, service: usize) -> BTreeSet<String> {
        (0..self.nodes)
            .filter(|i| self.backends[*i].contains(&service))
            .map(|i| self.node_arn(i))
            .collect()
    }

    /// The service whose route change `k` rewrites: the shared one, or
    /// one of services 1 to `simulated - 1`, whose route node `service - 1`
    /// (a simulated node) uses.
    pub fn changed_service(&self, k: usize) -> usize {
        let used = self.simulated.clamp(2, self.nodes);
        if k.is_multiple_of(2) {
            0
        } else {
            1 + (k * 7919) % (used - 1)
        }
    }

    /// Change number `k` (from 0): even ones rewrite the shared service's
    /// route (every node but node 0 affected), odd ones a route used by a
    /// few nodes.
    pub fn change(&self, k: usize) -> Result<(String, BTreeSet<String>), EditError> {
        let service = self.changed_service(k);
        rewrite_weights(&self.route_file(service), k + 1)?;
        let label = if service == 0 {
            format!("{} (shared)", route_name(service))
        } else {
            route_name(service)
        };
        Ok((label, self.affected_by(service)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_skip_self_and_shared_service() {
        assert_eq!(backends_of(0, 5, 3), vec![1, 2, 3]);
        assert_eq!(backends_of(3, 5, 3), vec![0, 4, 1]);
        assert_eq!(backends_of(4, 5, 4), vec![0, 1, 2, 3]);
    }

    #[test]
    fn narrow_changes_reach_simulated_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let arn = ArnContext::default();
        let mesh = GeneratedMesh::write(dir.path(), 200, 10, &arn)
            .unwrap()
            .simulating(20);
        let simulated: BTreeSet<String> = (0..20).map(|i| mesh.node_arn(i)).collect();
        for k in 0..50 {
            let service = mesh.changed_service(k);
            let reached = mesh.affected_by(service);
            assert!(
                reached.iter().any(|n| simulated.contains(n)),
                "change {k} (service {service}) reaches no simulated node"
            );
            if k % 2 == 1 {
                assert!((1..20).contains(&service), "change {k}: service {service}");
            }
        }
    }
}
