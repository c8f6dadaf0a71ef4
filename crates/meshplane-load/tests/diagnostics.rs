#![allow(clippy::unwrap_used)]
//! Every problem of every document is reported, with file, line, resource
//! ARN and field path; bad documents do not stop good ones.

use std::path::Path;

use meshplane_load::{load_str, LoadOptions, Loaded};
use meshplane_spec::{Diagnostic, ResourceKind};

fn load(name: &str, text: &str) -> Loaded {
    load_str(Path::new(name), text, &LoadOptions::default())
}

fn only<'a>(loaded: &'a Loaded, rule: &str) -> Vec<&'a Diagnostic> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.rule == rule)
        .collect()
}

#[test]
fn a_misspelt_field_names_its_path_line_and_resource() {
    let text = r#"[
  {"meshName": "m", "virtualNodeName": "a", "spec": {"listeners": [{"portMaping": {"port": 80}}]}},
  {"meshName": "m", "virtualNodeName": "b", "spec": {}}
]"#;
    let loaded = load("nodes.json", text);
    let errors = only(&loaded, "load.unknown_field");
    assert_eq!(errors.len(), 1, "{:?}", loaded.diagnostics);
    let e = errors[0];
    assert_eq!(e.path, "spec.listeners[0].portMaping");
    assert_eq!(e.line, Some(2));
    assert_eq!(
        e.resource.as_deref(),
        Some("arn:aws:appmesh:us-east-1:000000000000:mesh/m/virtualNode/a")
    );
    assert_eq!(e.file.as_deref(), Some(Path::new("nodes.json")));
    // The good document still loaded.
    assert!(loaded
        .model
        .mesh("m")
        .unwrap()
        .virtual_nodes
        .contains_key("b"));
}

#[test]
fn yaml_errors_of_several_documents_are_all_reported() {
    let text = "\
meshName: m
virtualNodeName: a
spec:
  listeners:
    - portMapping:
        port: eighty
        protocol: http
---
meshName: m
virtualRouterName: r
spec:
  listeners: [{portMapping: {port: 80, protocol: htp}}]
---
just: a thing
---
meshName: m
virtualServiceName: ok.local
";
    let loaded = load("mixed.yaml", text);
    let shown: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(loaded.diagnostics.len(), 3, "{shown:#?}");
    assert_eq!(
        loaded.diagnostics[0].path,
        "spec.listeners[0].portMapping.port"
    );
    assert_eq!(loaded.diagnostics[0].line, Some(6));
    assert_eq!(
        loaded.diagnostics[1].path,
        "spec.listeners[0].portMapping.protocol"
    );
    assert_eq!(loaded.diagnostics[1].line, Some(12));
    assert_eq!(loaded.diagnostics[2].rule, "load.unknown_document");
    assert_eq!(loaded.diagnostics[2].line, Some(14));
    assert!(loaded
        .model
        .mesh("m")
        .unwrap()
        .virtual_services
        .contains_key("ok.local"));
}

#[test]
fn the_same_resource_twice_names_both_places() {
    let text = "meshName: m\nvirtualNodeName: a\n---\n\nmeshName: m\nvirtualNodeName: a\n";
    let loaded = load("dup.yaml", text);
    let dups = only(&loaded, "load.duplicate");
    assert_eq!(dups.len(), 1);
    assert!(
        dups[0].message.contains("dup.yaml:1") && dups[0].message.contains("dup.yaml:5"),
        "{}",
        dups[0].message
    );
}

#[test]
fn syntax_errors_name_the_line() {
    let loaded = load("bad.json", "{\n  \"meshName\": \"m\",\n  \"spec\": {,}\n}");
    let errors = only(&loaded, "load.parse");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, Some(3));
    let loaded = load("bad.yaml", "meshName: m\nspec: [\n");
    assert_eq!(only(&loaded, "load.parse").len(), 1);
}

#[test]
fn cloudformation_that_cannot_be_resolved_names_template_and_property() {
    let text = "\
Parameters:
  Port:
    Type: Number
Resources:
  Node:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: m
      VirtualNodeName: n
      Spec:
        Listeners:
          - PortMapping:
              Port: !Ref Port
              Protocol: http
        ServiceDiscovery:
          AWSCloudMap:
            NamespaceName: !GetAtt Ns.Arn
            ServiceName: svc
  Ns:
    Type: AWS::ServiceDiscovery::HttpNamespace
    Properties:
      Name: ns
  Unnamed:
    Type: AWS::AppMesh::VirtualService
    Properties:
      MeshName: m
";
    let loaded = load("stack.yaml", text);
    let errors = only(&loaded, "load.cfn_unresolved");
    let shown: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
    assert_eq!(errors.len(), 3, "{shown:#?}");
    assert_eq!(
        errors[0].path,
        "Resources.Node.Properties.Spec.Listeners[0].PortMapping.Port"
    );
    assert_eq!(errors[0].line, Some(13));
    assert!(
        errors[0].message.contains("--param Port=") && errors[0].message.contains("stack.yaml")
    );
    assert_eq!(
        errors[1].path,
        "Resources.Node.Properties.Spec.ServiceDiscovery.AWSCloudMap.NamespaceName"
    );
    assert!(errors[2].message.contains("VirtualServiceName"));
    // With the parameter given, the node loads.
    let opts = LoadOptions {
        params: [("Port".to_owned(), "8080".to_owned())].into(),
        ..LoadOptions::default()
    };
    let text = text.replace("!GetAtt Ns.Arn", "!GetAtt Ns.Name");
    let loaded = load_str(Path::new("stack.yaml"), &text, &opts);
    assert_eq!(loaded.diagnostics.len(), 1, "{:?}", loaded.diagnostics);
    let node = &loaded.model.mesh("m").unwrap().virtual_nodes["n"];
    assert_eq!(node.listeners()[0].port_mapping.port, 8080);
    assert_eq!(
        node.service_discovery
            .as_ref()
            .unwrap()
            .aws_cloud_map
            .as_ref()
            .unwrap()
            .namespace_name,
        "ns"
    );
}

#[test]
fn cloudformation_conditions_and_functions() {
    let text = r#"{
  "Parameters": {"Env": {"Type": "String", "Default": "prod", "AllowedValues": ["prod", "dev"]}},
  "Conditions": {
    "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]}
  },
  "Mappings": {"Ports": {"prod": {"Http": 443}}},
  "Resources": {
    "Mesh": {"Type": "AWS::AppMesh::Mesh", "Properties": {"MeshName": {"Fn::Sub": "${AWS::Region}-${Env}"}}},
    "DevOnly": {"Type": "AWS::AppMesh::VirtualRouter", "Condition": "IsDev",
      "Properties": {"MeshName": {"Ref": "Mesh"}, "VirtualRouterName": "dev"}},
    "Router": {"Type": "AWS::AppMesh::VirtualRouter",
      "Properties": {"MeshName": {"Fn::GetAtt": ["Mesh", "MeshName"]}, "VirtualRouterName": "r",
        "Spec": {"Listeners": [{"PortMapping": {
          "Port": {"Fn::FindInMap": ["Ports", {"Ref": "Env"}, "Http"]},
          "Protocol": {"Fn::If": ["IsProd", "http2", "http"]}}}]}}},
    "Route": {"Type": "AWS::AppMesh::Route",
      "Properties": {"MeshName": {"Ref": "Mesh"}, "VirtualRouterName": {"Ref": "Router"}, "RouteName": "all",
        "Spec": {"Http2Route": {"Match": {"Prefix": "/", "Headers": {"Fn::If": ["IsDev", [{"Name": "x"}], {"Ref": "AWS::NoValue"}]}},
          "Action": {"WeightedTargets": [{"VirtualNode": {"Fn::Join": ["-", ["web", {"Ref": "Env"}]]}, "Weight": "1"}]}}}}}
  }
}"#;
    let loaded = load("t.json", text);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let mesh = loaded.model.mesh("us-east-1-prod").unwrap();
    assert_eq!(mesh.virtual_routers.keys().collect::<Vec<_>>(), ["r"]);
    let listener = &mesh.virtual_routers["r"].listeners.as_ref().unwrap()[0];
    assert_eq!(listener.port_mapping.port, 443);
    let route = &mesh.routes[&("r".to_owned(), "all".to_owned())];
    let http2 = route.http2_route.as_ref().unwrap();
    assert!(http2.match_.headers.is_none());
    assert_eq!(http2.action.weighted_targets[0].virtual_node, "web-prod");
    assert_eq!(http2.action.weighted_targets[0].weight, 1);
}

#[test]
fn kubernetes_names_references_and_mesh_membership() {
    let text = "\
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: web, namespace: shop}
spec:
  listeners: [{portMapping: {port: 8080, protocol: http}, tls: {mode: STRICT, certificate: {acm: {certificateARN: arn:aws:acm:us-east-1:1:certificate/x}}}}]
  backends:
    - virtualService: {virtualServiceRef: {name: cart}}
    - virtualService: {virtualServiceARN: 'arn:aws:appmesh:us-east-1:444455556666:mesh/shop/virtualService/pay.example'}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: shop}
spec: {meshServiceDiscovery: {ipPreference: IPv4_ONLY}, meshOwner: '444455556666'}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec: {provider: {virtualNode: {virtualNodeRef: {name: web}}}}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualGateway
metadata: {name: ingress, namespace: edge}
spec:
  listeners: [{portMapping: {port: 8088, protocol: http}}]
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: GatewayRoute
metadata: {name: to-cart, namespace: shop}
spec:
  httpRoute:
    match: {prefix: /}
    action: {target: {virtualService: {virtualServiceRef: {name: cart}}}}
";
    let loaded = load("k8s.yaml", text);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let mesh = loaded.model.mesh("shop").unwrap();
    assert_eq!(mesh.owner, "444455556666");
    let web = &mesh.virtual_nodes["web_shop"];
    let backends: Vec<&str> = web
        .backends()
        .iter()
        .map(|b| {
            b.virtual_service
                .as_ref()
                .unwrap()
                .virtual_service_name
                .as_str()
        })
        .collect();
    assert_eq!(backends, ["cart.shop", "pay.example"]);
    let tls = web.listeners()[0].tls.as_ref().unwrap();
    assert_eq!(
        tls.certificate.acm.as_ref().unwrap().certificate_arn,
        "arn:aws:acm:us-east-1:1:certificate/x"
    );
    assert_eq!(
        mesh.virtual_services["cart.shop"]
            .provider
            .as_ref()
            .unwrap()
            .virtual_node
            .as_ref()
            .unwrap()
            .virtual_node_name,
        "web_shop"
    );
    let gr = &mesh.gateway_routes[&("ingress_edge".to_owned(), "to-cart_shop".to_owned())];
    assert_eq!(
        gr.target().unwrap().virtual_service.virtual_service_name,
        "cart.shop"
    );
    assert!(mesh.spec.as_ref().unwrap().service_discovery.is_some());
}

#[test]
fn kubernetes_mesh_membership_must_be_decidable() {
    let two_meshes = "\
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: a}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: b}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata: {name: web}
spec: {listeners: [{portMapping: {port: 80, protocol: http}}], typo: 1}
";
    let loaded = load("k.yaml", two_meshes);
    let errors = only(&loaded, "load.k8s_mesh");
    assert_eq!(errors.len(), 1, "{:?}", loaded.diagnostics);
    assert_eq!(errors[0].line, Some(9));
    let fixed = two_meshes.replace("typo: 1}", "meshRef: {name: b}, tpyo: 1}");
    let loaded = load("k.yaml", &fixed);
    // The API server pruned the unknown field: a warning, and the node loads.
    let warnings = only(&loaded, "load.k8s_pruned_field");
    assert_eq!(loaded.diagnostics.len(), 1, "{:?}", loaded.diagnostics);
    assert!(!warnings[0].is_error());
    assert_eq!(warnings[0].path, "spec.tpyo");
    assert_eq!(
        warnings[0].resource.as_deref(),
        Some("arn:aws:appmesh:us-east-1:000000000000:mesh/b/virtualNode/web_default")
    );
    assert!(loaded
        .model
        .mesh("b")
        .unwrap()
        .virtual_nodes
        .contains_key("web_default"));
    assert_eq!(ResourceKind::VirtualNode.arn_segment(), "virtualNode");
}

#[test]
fn yaml_tags_outside_cloudformation_are_errors() {
    let loaded = load(
        "x.yaml",
        "meshName: m\nvirtualNodeName: n\nspec:\n  logging: !Ref Foo\n",
    );
    let errors = only(&loaded, "load.yaml_tag");
    assert_eq!(errors.len(), 1, "{:?}", loaded.diagnostics);
    assert_eq!(errors[0].line, Some(4));
}

#[test]
fn one_mesh_has_one_owner() {
    let text = "meshName: m\n---\nmeshName: m\nmeshOwner: '444455556666'\nvirtualNodeName: a\n";
    let loaded = load("owners.yaml", text);
    let errors = only(&loaded, "load.owner_mismatch");
    assert_eq!(errors.len(), 1, "{:?}", loaded.diagnostics);
    assert_eq!(errors[0].line, Some(3));
    assert!(errors[0].message.contains("owners.yaml:1") && errors[0].message.contains("--account"));
    assert!(!loaded
        .model
        .mesh("m")
        .unwrap()
        .virtual_nodes
        .contains_key("a"));
}

#[test]
fn a_bad_inline_route_does_not_drop_its_router() {
    let text = "\
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata: {name: m}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualRouter
metadata: {name: r, namespace: ns}
spec:
  listeners: [{portMapping: {port: 80, protocol: http}}]
  routes:
    - name: good
      httpRoute: {match: {prefix: /}, action: {weightedTargets: [{virtualNodeARN: 'mesh/m/virtualNode/n', weight: 1}]}}
    - httpRoute: {match: {prefix: /x}, action: {weightedTargets: []}}
    - name: bad
      httpRoute: {match: {prefix: /y}, action: {weightedTargets: [{virtualNodeARN: 'mesh/m/virtualService/n', weight: 1}]}}
";
    let loaded = load("r.yaml", text);
    let shown: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(loaded.diagnostics.len(), 2, "{shown:#?}");
    assert_eq!(loaded.diagnostics[0].path, "spec.routes[1].name");
    assert_eq!(loaded.diagnostics[0].line, Some(13));
    assert_eq!(
        loaded.diagnostics[1].path,
        "spec.routes[2].httpRoute.action.weightedTargets[0].virtualNodeARN"
    );
    assert_eq!(
        loaded.diagnostics[1].resource.as_deref(),
        Some("arn:aws:appmesh:us-east-1:000000000000:mesh/m/virtualRouter/r_ns/route/bad")
    );
    let mesh = loaded.model.mesh("m").unwrap();
    assert!(mesh.virtual_routers.contains_key("r_ns"));
    let good = &mesh.routes[&("r_ns".to_owned(), "good".to_owned())];
    assert_eq!(good.weighted_targets()[0].virtual_node, "n");
    assert_eq!(mesh.routes.len(), 1);
}
