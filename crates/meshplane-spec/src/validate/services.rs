//! Virtual services (their provider) and virtual routers (their listeners).

use super::context::{Path, Sink};
use super::view::View;
use super::{common, fields, nodes, references};
use crate::virtual_router::VirtualRouterSpec;
use crate::virtual_service::VirtualServiceSpec;

pub(crate) fn virtual_service(s: &mut Sink, g: &View, spec: &VirtualServiceSpec) {
    let Some(provider) = &spec.provider else {
        return;
    };
    let p = Path::root().field("provider");
    fields::exactly_one(
        s,
        &p,
        "virtual service provider",
        &[
            ("virtualNode", provider.virtual_node.is_some()),
            ("virtualRouter", provider.virtual_router.is_some()),
        ],
    );
    if let Some(n) = &provider.virtual_node {
        let np = p.field("virtualNode").field("virtualNodeName");
        fields::length(s, &np, &n.virtual_node_name, 1, 255);
        references::virtual_node(s, &np, g, &n.virtual_node_name);
    }
    if let Some(r) = &provider.virtual_router {
        let rp = p.field("virtualRouter").field("virtualRouterName");
        fields::length(s, &rp, &r.virtual_router_name, 1, 255);
        references::virtual_router(s, &rp, g, &r.virtual_router_name);
    }
}

pub(crate) fn virtual_router(s: &mut Sink, spec: &VirtualRouterSpec) {
    let lp = Path::root().field("listeners");
    let listeners = spec.listeners.as_deref().unwrap_or(&[]);
    for (i, l) in listeners.iter().enumerate() {
        common::port_mapping(s, &lp.index(i).field("portMapping"), &l.port_mapping);
    }
    let ports: Vec<i64> = listeners.iter().map(|l| l.port_mapping.port).collect();
    nodes::duplicate_ports(s, &lp, &ports);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::validate::testing::{check, messages, model, node, router};

    const VS: &str = "mesh/m/virtualService/a.local";

    #[test]
    fn providers_must_exist_and_be_one() {
        check(
            &[
                (
                    VS,
                    json!({"provider": {"virtualNode": {"virtualNodeName": "a"}}}),
                ),
                ("mesh/m/virtualNode/a", node(80, "http")),
            ],
            &[],
        );
        check(&[(VS, json!({}))], &[]);
        check(
            &[(VS, json!({"provider": {"virtualRouter": {"virtualRouterName": "r"}}}))],
            &["error[reference.missing] mesh/m/virtualService/a.local spec.provider.virtualRouter.virtualRouterName"],
        );
        check(
            &[
                (
                    VS,
                    json!({"provider": {
                "virtualRouter": {"virtualRouterName": "r"},
                "virtualNode": {"virtualNodeName": ""}}}),
                ),
                ("mesh/m/virtualRouter/r", router(80, "http")),
            ],
            &[
                "error[union.exactly_one] mesh/m/virtualService/a.local spec.provider",
                "error[field.length] mesh/m/virtualService/a.local spec.provider.virtualNode.virtualNodeName",
            ],
        );
        check(
            &[(VS, json!({"provider": {}}))],
            &["error[union.exactly_one] mesh/m/virtualService/a.local spec.provider"],
        );
    }

    #[test]
    fn router_listeners() {
        check(
            &[(
                "mesh/m/virtualRouter/r",
                json!({"listeners": [
                    {"portMapping": {"port": 0, "protocol": "http"}},
                    {"portMapping": {"port": 0, "protocol": "tcp"}}
                ]}),
            )],
            &[
                "error[field.range] mesh/m/virtualRouter/r spec.listeners[0].portMapping.port",
                "error[field.range] mesh/m/virtualRouter/r spec.listeners[1].portMapping.port",
                "error[listener.duplicate_port] mesh/m/virtualRouter/r spec.listeners[1].portMapping.port",
            ],
        );
    }

    #[test]
    fn resources_of_a_mesh_that_was_not_loaded() {
        let mut m = model(&[("mesh/other/virtualService/x", json!({}))]);
        m.meshes.remove("m");
        let diags = crate::validate(&m, &Default::default(), &Default::default());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].rule, "reference.missing");
        assert!(
            diags[0].message.contains("mesh 'other'"),
            "{}",
            diags[0].message
        );
        assert!(messages(&[(VS, json!({}))], "reference.missing").is_empty());
    }
}
