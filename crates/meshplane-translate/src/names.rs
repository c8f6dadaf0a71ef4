//! Every Envoy resource name meshplane emits, in one place.
//!
//! The scheme is App Mesh's (user guide, "Resource naming conventions", and
//! the config dumps in `appmesh-envoy-config-observed.md`):
//! `lds_<direction>_<ip>_<port>`, `rds_<direction>_<protocol>_<port>`,
//! `cds_<direction>_<mesh>_<node>_<protocol>_<port>`.

use meshplane_spec::common::Protocol;

/// The port Envoy's ingress listener binds (traffic redirected to the app).
pub const INGRESS_PORT: u32 = 15000;
/// The port Envoy's egress listener binds (traffic leaving the app).
pub const EGRESS_PORT: u32 = 15001;
/// The address both listeners bind.
pub const LISTEN_ADDRESS: &str = "0.0.0.0";

pub fn ingress_listener() -> String {
    format!("lds_ingress_{LISTEN_ADDRESS}_{INGRESS_PORT}")
}

/// The listener stat prefix Envoy derives from `0.0.0.0:15001`
/// (`listener.0.0.0.0_15001.*`).
pub fn egress_listener_stat_prefix() -> String {
    format!("{LISTEN_ADDRESS}_{EGRESS_PORT}")
}

pub fn egress_listener() -> String {
    format!("lds_egress_{LISTEN_ADDRESS}_{EGRESS_PORT}")
}

pub fn ingress_route_config(protocol: Protocol, port: u32) -> String {
    format!("rds_ingress_{protocol}_{port}")
}

pub fn egress_route_config(protocol: Protocol, port: u32) -> String {
    format!("rds_egress_{protocol}_{port}")
}

/// The cluster of the application next to the proxy, one per node listener.
pub fn ingress_cluster(mesh: &str, node: &str, protocol: Protocol, port: u32) -> String {
    format!("cds_ingress_{mesh}_{node}_{protocol}_{port}")
}

/// The cluster of a backend virtual node's listener.
pub fn egress_cluster(mesh: &str, node: &str, protocol: Protocol, port: u32) -> String {
    format!("cds_egress_{mesh}_{node}_{protocol}_{port}")
}

/// The passthrough to AWS service endpoints (`*.amazonaws.com:443`).
pub fn amazonaws_cluster(mesh: &str) -> String {
    format!("cds_egress_{mesh}_amazonaws")
}

/// The passthrough to the original destination under an ALLOW_ALL egress filter.
pub fn allow_all_cluster(mesh: &str) -> String {
    format!("cds_egress_{mesh}_mesh-allow-all")
}

/// Stat prefix of an ingress connection manager or TCP proxy: `ingress` for a
/// node with one listener, `ingress.<protocol>.<port>` with several (user
/// guide, multiple listeners).
pub fn ingress_stat_prefix(listener_count: usize, protocol: Protocol, port: u32) -> String {
    if listener_count > 1 {
        format!("ingress.{protocol}.{port}")
    } else {
        "ingress".to_owned()
    }
}

pub const EGRESS_STAT_PREFIX: &str = "egress";

/// Name of the virtual host of an ingress route configuration (not seen in
/// public dumps of virtual nodes; chosen here).
pub const INGRESS_VIRTUAL_HOST: &str = "self";

/// Name of the catch-all virtual host that sends unknown hosts to their
/// original destination under ALLOW_ALL.
pub const ALLOW_ALL_VIRTUAL_HOST: &str = "mesh-allow-all";

/// The AWS service endpoints passed through on port 443.
pub const AMAZONAWS_SERVER_NAME: &str = "*.amazonaws.com";
pub const AMAZONAWS_PORT: u32 = 443;

/// The listener of a virtual gateway listener, bound directly on its port.
pub fn gateway_listener(port: u32) -> String {
    format!("lds_ingress_{LISTEN_ADDRESS}_{port}")
}

/// The cluster through which a virtual gateway listener's routes reach the
/// gateway's own egress listener (port 15001), where the target virtual
/// service is routed. With several gateway listeners each has its own,
/// named with the listener's port (user guide, cluster names).
pub fn self_redirect_cluster(
    mesh: &str,
    gateway: &str,
    listener_count: usize,
    listener_port: u32,
    protocol: Protocol,
) -> String {
    if listener_count > 1 {
        format!(
            "cds_ingress_{mesh}_{gateway}_self_redirect_{listener_port}_{protocol}_{EGRESS_PORT}"
        )
    } else {
        format!("cds_ingress_{mesh}_{gateway}_self_redirect_{protocol}_{EGRESS_PORT}")
    }
}

/// The virtual host of a gateway listener's route configuration.
pub const SELF_REDIRECT_VIRTUAL_HOST: &str = "self_redirect";

/// The catch-all virtual host of a gateway's egress routes that finds the
/// target virtual service from [`VIRTUAL_SERVICE_HEADER`] when the gateway
/// route kept the request's own host name.
pub const DEFAULT_BACKEND_VIRTUAL_HOST: &str = "default_backend";

/// Names the target virtual service of a gateway route whose host name
/// rewrite is disabled (App Mesh's header).
pub const VIRTUAL_SERVICE_HEADER: &str = "x-app-mesh-virtual-service";

/// Names the provider listener port a gateway route targets, when the target
/// virtual service's provider has several listeners (meshplane's header;
/// removed before the request leaves the gateway).
pub const TARGET_PORT_HEADER: &str = "x-meshplane-target-port";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_app_mesh_scheme() {
        assert_eq!(ingress_listener(), "lds_ingress_0.0.0.0_15000");
        assert_eq!(egress_listener(), "lds_egress_0.0.0.0_15001");
        assert_eq!(
            ingress_route_config(Protocol::Http, 9001),
            "rds_ingress_http_9001"
        );
        assert_eq!(
            ingress_cluster("my-mesh", "my-virtual-node", Protocol::Http, 8080),
            "cds_ingress_my-mesh_my-virtual-node_http_8080"
        );
        assert_eq!(
            egress_cluster(
                "app-mesh",
                "app-100030741-canary_prod",
                Protocol::Http,
                8080
            ),
            "cds_egress_app-mesh_app-100030741-canary_prod_http_8080"
        );
        assert_eq!(
            amazonaws_cluster("somecorp-dev"),
            "cds_egress_somecorp-dev_amazonaws"
        );
        assert_eq!(
            allow_all_cluster("somecorp-dev"),
            "cds_egress_somecorp-dev_mesh-allow-all"
        );
        assert_eq!(gateway_listener(8088), "lds_ingress_0.0.0.0_8088");
        assert_eq!(
            self_redirect_cluster("app-mesh", "appmesh-gateway_prod", 1, 8088, Protocol::Http),
            "cds_ingress_app-mesh_appmesh-gateway_prod_self_redirect_http_15001"
        );
        assert_eq!(
            self_redirect_cluster(
                "multiple-listeners-mesh",
                "tellergateway-vg",
                2,
                1111,
                Protocol::Http
            ),
            "cds_ingress_multiple-listeners-mesh_tellergateway-vg_self_redirect_1111_http_15001"
        );
        assert_eq!(ingress_stat_prefix(1, Protocol::Http, 5555), "ingress");
        assert_eq!(
            ingress_stat_prefix(2, Protocol::Http, 5555),
            "ingress.http.5555"
        );
    }
}
