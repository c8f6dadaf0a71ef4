//! The seven kinds of `appmesh.k8s.aws/v1beta2` and what meshplane writes in
//! their status.

use kube::discovery::ApiResource;

pub const GROUP: &str = "appmesh.k8s.aws";
pub const VERSION: &str = "v1beta2";

/// One App Mesh custom resource kind.
#[derive(Debug, PartialEq, Eq)]
pub struct Kind {
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    /// The status field holding the App Mesh ARN (`virtualNodeARN`); `None`
    /// for BackendGroup, which the loader does not read.
    pub arn_field: Option<&'static str>,
    /// The condition meshplane owns (`VirtualNodeActive`).
    pub condition: Option<&'static str>,
}

pub static KINDS: [Kind; 7] = [
    Kind {
        kind: "Mesh",
        plural: "meshes",
        namespaced: false,
        arn_field: Some("meshARN"),
        condition: Some("MeshActive"),
    },
    Kind {
        kind: "VirtualNode",
        plural: "virtualnodes",
        namespaced: true,
        arn_field: Some("virtualNodeARN"),
        condition: Some("VirtualNodeActive"),
    },
    Kind {
        kind: "VirtualService",
        plural: "virtualservices",
        namespaced: true,
        arn_field: Some("virtualServiceARN"),
        condition: Some("VirtualServiceActive"),
    },
    Kind {
        kind: "VirtualRouter",
        plural: "virtualrouters",
        namespaced: true,
        arn_field: Some("virtualRouterARN"),
        condition: Some("VirtualRouterActive"),
    },
    Kind {
        kind: "VirtualGateway",
        plural: "virtualgateways",
        namespaced: true,
        arn_field: Some("virtualGatewayARN"),
        condition: Some("VirtualGatewayActive"),
    },
    Kind {
        kind: "GatewayRoute",
        plural: "gatewayroutes",
        namespaced: true,
        arn_field: Some("gatewayRouteARN"),
        condition: Some("GatewayRouteActive"),
    },
    Kind {
        kind: "BackendGroup",
        plural: "backendgroups",
        namespaced: true,
        arn_field: None,
        condition: None,
    },
];

impl Kind {
    pub fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: GROUP.to_owned(),
            version: VERSION.to_owned(),
            api_version: format!("{GROUP}/{VERSION}"),
            kind: self.kind.to_owned(),
            plural: self.plural.to_owned(),
        }
    }

    /// The index of this kind in [`KINDS`].
    pub fn index(&self) -> usize {
        KINDS.iter().position(|k| k == self).unwrap_or(0)
    }
}
