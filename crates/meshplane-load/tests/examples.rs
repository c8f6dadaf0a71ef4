#![allow(clippy::unwrap_used)]
//! The example specs under config/examples load cleanly, the four formats
//! of the getting-started mesh give the same model, and every example
//! survives export -> load unchanged.

use std::path::{Path, PathBuf};

use meshplane_load::{export, load_paths, load_str, ExportFormat, LoadOptions, Loaded};
use meshplane_spec::mesh::EgressFilterType;
use meshplane_spec::{ArnContext, MeshModel, ResourceKind};

fn examples(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/examples")
        .join(sub)
}

fn opts() -> LoadOptions {
    LoadOptions {
        arn: ArnContext {
            partition: "aws".into(),
            region: "us-west-2".into(),
            account: "111122223333".into(),
        },
        ..LoadOptions::default()
    }
}

fn load_clean(sub: &str) -> Loaded {
    let loaded = load_paths(&[examples(sub)], &opts());
    let shown: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    assert!(shown.is_empty(), "{sub}:\n{}", shown.join("\n"));
    assert!(!loaded.files.is_empty());
    loaded
}

fn round_trip(model: &MeshModel) {
    for format in [ExportFormat::CliJson, ExportFormat::Yaml] {
        let name = if format == ExportFormat::CliJson {
            "export.json"
        } else {
            "export.yaml"
        };
        let text = export(model, format);
        let again = load_str(Path::new(name), &text, &LoadOptions::default());
        let shown: Vec<String> = again.diagnostics.iter().map(ToString::to_string).collect();
        assert!(shown.is_empty(), "{name}:\n{}\n{text}", shown.join("\n"));
        assert_eq!(&again.model, model, "{name}:\n{text}");
    }
}

#[test]
fn the_getting_started_mesh_is_the_same_in_all_four_formats() {
    let cli = load_clean("apps/cli-json");
    for format in ["apps/describe", "apps/cloudformation", "apps/kubernetes"] {
        let other = load_clean(format);
        assert_eq!(
            other.model, cli.model,
            "{format} differs from apps/cli-json"
        );
    }
    let apps = cli.model.mesh("apps").expect("mesh apps");
    assert_eq!(apps.owner, "111122223333");
    assert_eq!(
        apps.mesh_spec().egress_filter_type(),
        EgressFilterType::DropAll
    );
    assert_eq!(
        apps.virtual_nodes.keys().collect::<Vec<_>>(),
        ["serviceA", "serviceB", "serviceBv2"]
    );
    let a = &apps.virtual_nodes["serviceA"];
    assert_eq!(
        a.backends()[0]
            .virtual_service
            .as_ref()
            .unwrap()
            .virtual_service_name,
        "serviceb.apps.local"
    );
    assert_eq!(
        a.service_discovery
            .as_ref()
            .unwrap()
            .dns
            .as_ref()
            .unwrap()
            .hostname,
        "serviceA.apps.local"
    );
    let route = &apps.routes[&("serviceB".to_owned(), "serviceB".to_owned())];
    let weights: Vec<(&str, i64)> = route
        .weighted_targets()
        .iter()
        .map(|t| (t.virtual_node.as_str(), t.weight))
        .collect();
    assert_eq!(weights, [("serviceB", 75), ("serviceBv2", 25)]);
    let provider = apps.virtual_services["servicea.apps.local"]
        .provider
        .as_ref()
        .unwrap();
    assert_eq!(
        provider.virtual_node.as_ref().unwrap().virtual_node_name,
        "serviceA"
    );
    assert_eq!(cli.model.counts().values().sum::<usize>(), 8);
    round_trip(&cli.model);
}

#[test]
fn origins_point_at_the_resource_and_its_fields() {
    let cfn = load_clean("apps/cloudformation");
    let id = meshplane_spec::ResourceId::new(
        "apps",
        "111122223333",
        ResourceKind::VirtualNode,
        "serviceA",
    );
    let origin = cfn.origins.get(&id).expect("origin of serviceA");
    assert!(origin.file.ends_with("apps.yaml"));
    assert_eq!(
        origin.spec_path,
        "Resources.ServiceAVirtualNode.Properties.Spec"
    );
    let text = std::fs::read_to_string(&origin.file).unwrap();
    let line_of = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u32 + 1)
    };
    assert_eq!(origin.line, line_of("ServiceAVirtualNode:"));
    // The port comes from `!Ref ServicePort` on the line after serviceA's PortMapping.
    let port_line = origin.line_of("listeners[0].portMapping.port").unwrap();
    assert!(text
        .lines()
        .nth(port_line as usize - 1)
        .unwrap()
        .contains("Port: !Ref ServicePort"));
    let k8s = load_clean("apps/kubernetes");
    let origin = k8s.origins.get(&id).expect("k8s origin of serviceA");
    assert_eq!(origin.spec_path, "spec");
    assert!(origin
        .field_lines
        .contains_key("serviceDiscovery.dns.hostname"));
}

#[test]
fn the_external_traffic_walkthrough_loads() {
    let loaded = load_clean("external-traffic");
    let mesh = loaded
        .model
        .mesh("ColorApp-External-Traffic")
        .expect("mesh");
    assert_eq!(
        mesh.mesh_spec().egress_filter_type(),
        EgressFilterType::DropAll
    );
    for (node, host) in [
        ("ExternalService", "github.com"),
        ("ExternalService2", "go.dev"),
    ] {
        let spec = &mesh.virtual_nodes[node];
        let dns = spec
            .service_discovery
            .as_ref()
            .unwrap()
            .dns
            .as_ref()
            .unwrap();
        assert_eq!(dns.hostname, host);
        assert_eq!(
            dns.ip_preference,
            Some(meshplane_spec::common::IpPreference::Ipv4Only)
        );
        assert_eq!(spec.listeners()[0].port_mapping.port, 443);
    }
    assert_eq!(
        mesh.virtual_routers["external"].listeners.as_ref().unwrap()[0]
            .port_mapping
            .port,
        444
    );
    let white = &mesh.virtual_nodes["ColorTellerWhite"];
    assert_eq!(white.backends().len(), 2);
    assert_eq!(
        white.listeners()[0]
            .health_check
            .as_ref()
            .unwrap()
            .path
            .as_deref(),
        Some("/ping")
    );
    round_trip(&loaded.model);
}
