//! The proxy's identity: `node.id` is the App Mesh resource the proxy stands
//! for (full ARN or short `mesh/<mesh>/virtualNode/<name>` form, sent as
//! given), `node.cluster` names it in stats and traces.

use meshplane_spec::{ArnContext, ResourceId, ResourceKind};

use crate::env::Env;
use crate::error::BootstrapError;

pub const RESOURCE_ARN: &str = "APPMESH_RESOURCE_ARN";
pub const RESOURCE_NAME: &str = "APPMESH_RESOURCE_NAME";
pub const VIRTUAL_NODE_NAME: &str = "APPMESH_VIRTUAL_NODE_NAME";
pub const RESOURCE_CLUSTER: &str = "APPMESH_RESOURCE_CLUSTER";
pub const VIRTUAL_NODE_CLUSTER: &str = "APPMESH_VIRTUAL_NODE_CLUSTER";

/// Who the proxy is, as read from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyIdentity {
    /// `node.id`: the value as the operator wrote it (trimmed).
    pub node_id: String,
    /// The variable `node_id` came from.
    pub source: &'static str,
    /// `node.cluster`.
    pub cluster: String,
    /// The parsed resource: a virtual node or a virtual gateway.
    pub resource: ResourceId,
}

impl ProxyIdentity {
    /// `virtual_node` or `virtual_gateway`, as used in stats tag names.
    pub fn kind_snake(&self) -> &'static str {
        match self.resource.kind {
            ResourceKind::VirtualGateway => "virtual_gateway",
            _ => "virtual_node",
        }
    }
}

pub(crate) fn proxy_identity(
    env: &Env<'_>,
    warnings: &mut Vec<String>,
) -> Result<ProxyIdentity, BootstrapError> {
    let Some((source, node_id)) = env.first_of(&[RESOURCE_ARN, RESOURCE_NAME, VIRTUAL_NODE_NAME])
    else {
        return Err(BootstrapError::Missing {
            variable: RESOURCE_ARN,
            hint: "set it to the ARN of the virtual node or virtual gateway this proxy serves, \
                   e.g. arn:aws:appmesh:us-east-1:111122223333:mesh/my-mesh/virtualNode/my-node \
                   or the short form mesh/my-mesh/virtualNode/my-node"
                .to_owned(),
        });
    };
    if source != RESOURCE_ARN {
        warnings.push(format!(
            "{source} is deprecated; set {RESOURCE_ARN} instead"
        ));
    }
    let resource = ResourceId::parse(node_id, &ArnContext::default())
        .map_err(|e| BootstrapError::invalid(source, node_id, e.to_string()))?;
    if !matches!(
        resource.kind,
        ResourceKind::VirtualNode | ResourceKind::VirtualGateway
    ) {
        return Err(BootstrapError::invalid(
            source,
            node_id,
            format!(
                "names a {}; a proxy serves a virtualNode or a virtualGateway",
                resource.kind
            ),
        ));
    }
    let cluster = env
        .first_of(&[RESOURCE_CLUSTER, VIRTUAL_NODE_CLUSTER])
        .map(|(_, v)| v)
        .unwrap_or(node_id)
        .to_owned();
    Ok(ProxyIdentity {
        node_id: node_id.to_owned(),
        source,
        cluster,
        resource,
    })
}
