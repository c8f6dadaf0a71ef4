//! Which App Mesh proxy is connecting, and may it.
//!
//! `node.id` is the virtual node's (or gateway's) ARN, full or short; the
//! proxy key is the full ARN. Order of checks: credentials
//! (UNAUTHENTICATED), a well-formed proxy identity (NOT_FOUND), the policy
//! for `appmesh:StreamAggregatedResources` on the ARN (PERMISSION_DENIED),
//! then that the resource exists in the served specs (NOT_FOUND, naming
//! what is missing), so only a caller allowed that ARN learns whether it
//! exists. The quota (RESOURCE_EXHAUSTED) is counted by the server with
//! [`AppMeshAuthorizer::max_streams`].

use std::sync::Arc;

use envoy_types::pb::envoy::config::core::v3::Node;
use meshplane_authz::{AuthError, PeerCredentials, Principal, STREAM_AGGREGATED_RESOURCES};
use meshplane_spec::{ResourceId, ResourceKind};
use meshplane_xds::{Admission, Authorizer, PeerInfo, ProxyKey};
use tonic::Status;

use crate::settings::QuotaConfig;
use crate::state::ControlState;

/// The App Mesh [`Authorizer`].
#[derive(Debug, Clone)]
pub struct AppMeshAuthorizer {
    state: Arc<ControlState>,
    quota: QuotaConfig,
}

impl AppMeshAuthorizer {
    pub fn new(state: Arc<ControlState>, quota: QuotaConfig) -> Self {
        AppMeshAuthorizer { state, quota }
    }

    fn check(&self, node: &Node, peer: &PeerInfo) -> Result<(ProxyKey, Principal), Status> {
        let access = self.state.access();
        let principal = access.authenticate(&credentials(peer)).map_err(status)?;
        let arn_ctx = &self.state.arn;
        let id = ResourceId::parse(&node.id, arn_ctx)
            .map_err(|e| Status::not_found(format!("node.id: {e}")))?;
        if !matches!(
            id.kind,
            ResourceKind::VirtualNode | ResourceKind::VirtualGateway
        ) {
            return Err(Status::not_found(format!(
                "node.id '{}' names a {}; a proxy is a virtualNode or virtualGateway (mesh/<mesh>/virtualNode/<name>)",
                node.id, id.kind
            )));
        }
        let arn = id.arn(arn_ctx);
        access
            .authorize(&principal, STREAM_AGGREGATED_RESOURCES, &arn)
            .map_err(status)?;
        let served = self.state.served().ok_or_else(|| {
            Status::unavailable(
                "meshplane has not loaded a valid spec set yet; see its /debug/reload",
            )
        })?;
        let Some(graph) = served.model.mesh(&id.mesh) else {
            return Err(Status::not_found(format!(
                "mesh '{}' is not defined in the specs meshplane serves",
                id.mesh
            )));
        };
        if graph.owner != id.owner {
            return Err(Status::not_found(format!(
                "mesh '{}' is owned by account {}, not {} as node.id '{}' says",
                id.mesh, graph.owner, id.owner, node.id
            )));
        }
        let key = ProxyKey::new(arn);
        match id.kind {
            ResourceKind::VirtualGateway if !graph.virtual_gateways.contains_key(&id.name) => {
                Err(Status::not_found(format!(
                    "virtual gateway '{}' is not defined in mesh '{}'",
                    id.name, id.mesh
                )))
            }
            ResourceKind::VirtualGateway => Ok((key, principal)),
            _ if !graph.virtual_nodes.contains_key(&id.name) => Err(Status::not_found(format!(
                "virtual node '{}' is not defined in mesh '{}'",
                id.name, id.mesh
            ))),
            _ => Ok((key, principal)),
        }
    }
}

impl Authorizer for AppMeshAuthorizer {
    fn authorize(&self, node: &Node, peer: &PeerInfo) -> Result<Admission, Status> {
        let (key, principal) = self.check(node, peer)?;
        Ok(Admission::key(key).with_principal(principal.id, principal.source.to_string()))
    }

    fn max_streams(&self, key: &ProxyKey) -> Option<usize> {
        Some(self.quota.limit_for(key))
    }
}

/// The transport's view of the peer in meshplane-authz's terms.
fn credentials(peer: &PeerInfo) -> PeerCredentials {
    let mut c = PeerCredentials {
        bearer_token: peer.bearer_token.clone(),
        ..PeerCredentials::default()
    };
    if let Some(tls) = &peer.tls {
        c.tls_uri_sans = tls.uri_sans.clone();
        c.tls_dns_sans = tls.dns_sans.clone();
        c.tls_subject_cn = tls.common_name.clone();
    }
    c
}

fn status(e: AuthError) -> Status {
    match e {
        AuthError::Unauthenticated(_) => Status::unauthenticated(e.to_string()),
        AuthError::PermissionDenied(_) => Status::permission_denied(e.to_string()),
    }
}
