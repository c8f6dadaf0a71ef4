//! The names one resource kind goes by in the App Mesh API.

use meshplane_spec::ResourceKind;

/// Operation suffix (`VirtualNode`), plural (`VirtualNodes`), name member
/// (`virtualNodeName`), payload member (`virtualNode`), list member
/// (`virtualNodes`).
pub fn op_suffix(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Mesh => "Mesh",
        ResourceKind::VirtualService => "VirtualService",
        ResourceKind::VirtualNode => "VirtualNode",
        ResourceKind::VirtualRouter => "VirtualRouter",
        ResourceKind::Route => "Route",
        ResourceKind::VirtualGateway => "VirtualGateway",
        ResourceKind::GatewayRoute => "GatewayRoute",
    }
}

pub fn op_plural(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Mesh => "Meshes",
        ResourceKind::VirtualService => "VirtualServices",
        ResourceKind::VirtualNode => "VirtualNodes",
        ResourceKind::VirtualRouter => "VirtualRouters",
        ResourceKind::Route => "Routes",
        ResourceKind::VirtualGateway => "VirtualGateways",
        ResourceKind::GatewayRoute => "GatewayRoutes",
    }
}

pub fn name_member(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Mesh => "meshName",
        ResourceKind::VirtualService => "virtualServiceName",
        ResourceKind::VirtualNode => "virtualNodeName",
        ResourceKind::VirtualRouter => "virtualRouterName",
        ResourceKind::Route => "routeName",
        ResourceKind::VirtualGateway => "virtualGatewayName",
        ResourceKind::GatewayRoute => "gatewayRouteName",
    }
}

/// `mesh`, `virtualNode`, ...: the ARN segment is the payload member.
pub fn payload_member(kind: ResourceKind) -> &'static str {
    kind.arn_segment()
}

pub fn list_member(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Mesh => "meshes",
        ResourceKind::VirtualService => "virtualServices",
        ResourceKind::VirtualNode => "virtualNodes",
        ResourceKind::VirtualRouter => "virtualRouters",
        ResourceKind::Route => "routes",
        ResourceKind::VirtualGateway => "virtualGateways",
        ResourceKind::GatewayRoute => "gatewayRoutes",
    }
}

/// The URI segment of a top-level kind's collection (`virtualNodes`), or of
/// a child kind's parent (`virtualRouter`).
pub fn from_collection(segment: &str) -> Option<ResourceKind> {
    [
        ResourceKind::VirtualService,
        ResourceKind::VirtualNode,
        ResourceKind::VirtualRouter,
        ResourceKind::VirtualGateway,
    ]
    .into_iter()
    .find(|k| list_member(*k) == segment)
}
