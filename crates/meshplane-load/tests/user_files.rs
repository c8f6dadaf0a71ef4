#![allow(clippy::unwrap_used)]
//! Files shaped like the ones users keep load as they are: Kubernetes
//! manifests mixing kinds (with fields the API server pruned), a
//! two-stack CloudFormation export/import with parameter files, account IDs.

use std::path::{Path, PathBuf};

use meshplane_load::{load_paths, load_str, read_values_file, LoadOptions, Loaded};
use meshplane_spec::{validate, ArnContext, Diagnostic};

fn file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/user_files")
        .join(name)
}

fn load(names: &[&str], opts: &LoadOptions) -> Loaded {
    let paths: Vec<PathBuf> = names.iter().map(|n| file(n)).collect();
    load_paths(&paths, opts)
}

fn shown(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn errors(loaded: &Loaded) -> Vec<&Diagnostic> {
    loaded.diagnostics.iter().filter(|d| d.is_error()).collect()
}

fn params(name: &str) -> LoadOptions {
    LoadOptions {
        params: read_values_file(&file(name)).unwrap().into_iter().collect(),
        ..LoadOptions::default()
    }
}

#[test]
fn a_manifest_mixing_kinds_loads_its_app_mesh_resources_and_skips_the_rest() {
    let loaded = load(&["walkthrough-manifest.yaml"], &LoadOptions::default());
    assert!(errors(&loaded).is_empty(), "{}", shown(&loaded.diagnostics));
    let mesh = loaded.model.mesh("shop").unwrap();
    assert_eq!(mesh.virtual_nodes.len(), 2);
    assert!(mesh
        .virtual_services
        .contains_key("cart.shop.svc.cluster.local"));
    // Namespace, Certificate, Deployment, Service and the List's two items.
    let skipped: Vec<String> = loaded.skipped.iter().map(|s| s.what.clone()).collect();
    assert_eq!(skipped.len(), 6, "{skipped:?}");
    assert_eq!(
        skipped[0],
        "Kubernetes Namespace 'shop' (v1) is not an App Mesh resource"
    );
    assert!(skipped[1].starts_with("Kubernetes Certificate 'cart-tls' (cert-manager.io/v1)"));
    assert!(loaded.skipped[5]
        .to_string()
        .contains("walkthrough-manifest.yaml:"));
    // clientPolicy.tls.mode is not in the CRD schema: the cluster pruned it.
    let [warning] = loaded.diagnostics.as_slice() else {
        panic!("{}", shown(&loaded.diagnostics))
    };
    assert_eq!(warning.rule, "load.k8s_pruned_field");
    assert!(!warning.is_error());
    assert_eq!(warning.path, "spec.backendDefaults.clientPolicy.tls.mode");
    assert_eq!(warning.line, Some(51));
    assert_eq!(
        warning.resource.as_deref(),
        Some("arn:aws:appmesh:us-east-1:000000000000:mesh/shop/virtualNode/front_shop")
    );
    assert!(warning.message.contains("ignored"), "{}", warning.message);
    assert!(
        validate(&loaded.model, &loaded.origins, &ArnContext::default())
            .iter()
            .all(|d| !d.is_error())
    );
}

#[test]
fn an_app_mesh_kind_of_an_unsupported_version_is_still_an_error() {
    let loaded = load(
        &["walkthrough-manifest.yaml", "legacy-v1beta1.yaml"],
        &LoadOptions::default(),
    );
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1, "{}", shown(&loaded.diagnostics));
    assert_eq!(errors[0].rule, "load.unknown_document");
    assert_eq!(errors[0].path, "apiVersion");
    assert_eq!(errors[0].line, Some(2));
    assert!(errors[0]
        .file
        .as_ref()
        .unwrap()
        .ends_with("legacy-v1beta1.yaml"));
    assert!(errors[0].message.contains("appmesh.k8s.aws/v1beta1"));
    assert!(loaded.model.mesh("shop").is_some());
}

#[test]
fn an_import_resolves_from_the_stack_loaded_with_it() {
    let mut opts = params("app-stack.params");
    let loaded = load(&["infra-stack.yaml", "app-stack.yaml"], &opts);
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        shown(&loaded.diagnostics)
    );
    let mesh = loaded.model.mesh("staging-mesh").unwrap();
    assert!(mesh.spec.is_some());
    assert_eq!(
        mesh.virtual_nodes["cart-node"].listeners()[0]
            .port_mapping
            .port,
        9080
    );
    assert!(mesh.virtual_services.contains_key("cart.staging.local"));

    // Alone, the application stack names the missing export and the way out.
    let alone = load(&["app-stack.yaml"], &opts);
    let errors = errors(&alone);
    // MeshName of both resources, and the GetAtt of the node's name.
    assert_eq!(errors.len(), 3, "{}", shown(&alone.diagnostics));
    assert_eq!(errors[0].path, "Resources.Node.Properties.MeshName");
    assert!(
        errors[0]
            .message
            .contains("Fn::ImportValue staging:Mesh: no template loaded with this one exports it")
            && errors[0].message.contains("--import staging:Mesh=VALUE"),
        "{}",
        errors[0].message
    );
    // A value given by hand is enough (and wins over an export).
    opts.imports.insert("staging:Mesh".into(), "by-hand".into());
    let by_hand = load(&["app-stack.yaml"], &opts);
    assert!(
        by_hand.diagnostics.is_empty(),
        "{}",
        shown(&by_hand.diagnostics)
    );
    assert!(by_hand.model.mesh("by-hand").is_some());
}

#[test]
fn an_export_only_a_deployment_knows_is_reported_where_it_is_imported() {
    let template = "\
Resources:
  Node:
    Type: AWS::AppMesh::VirtualNode
    Properties:
      MeshName: staging-mesh
      VirtualNodeName: web
      Spec:
        ServiceDiscovery:
          DNS:
            Hostname: !ImportValue staging:VPC
";
    let dir = std::env::temp_dir().join(format!("meshplane-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let importer = dir.join("importer.yaml");
    std::fs::write(&importer, template).unwrap();
    let loaded = load_paths(
        &[file("infra-stack.yaml"), importer],
        &params("app-stack.params"),
    );
    std::fs::remove_dir_all(&dir).unwrap();
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1, "{}", shown(&loaded.diagnostics));
    assert_eq!(
        errors[0].path,
        "Resources.Node.Properties.Spec.ServiceDiscovery.DNS.Hostname"
    );
    assert!(
        errors[0].message.contains("infra-stack.yaml:29"),
        "{}",
        errors[0].message
    );
    assert!(errors[0]
        .message
        .contains("Ref VPC (AWS::EC2::VPC) is only known once the stack is deployed"));
}

#[test]
fn both_parameter_file_formats_give_the_same_values() {
    let shorthand = params("app-stack.params");
    let json = params("app-stack.parameters.json");
    assert_eq!(shorthand.params, json.params);
    assert_eq!(shorthand.params.len(), 3);
    // Kept beside the templates, the parameters file is skipped, not an error.
    let loaded = load(
        &[
            "infra-stack.yaml",
            "app-stack.yaml",
            "app-stack.parameters.json",
        ],
        &json,
    );
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        shown(&loaded.diagnostics)
    );
    assert_eq!(loaded.skipped.len(), 3);
    assert!(loaded.skipped[0].what.contains("--params-file"));
}

#[test]
fn a_template_without_app_mesh_resources_is_skipped() {
    let text = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n";
    let loaded = load_str(Path::new("bucket.yaml"), text, &LoadOptions::default());
    assert!(loaded.diagnostics.is_empty());
    assert_eq!(loaded.skipped.len(), 1);
    assert!(loaded.skipped[0]
        .what
        .contains("without AWS::AppMesh::* resources"));
}

#[test]
fn cloudformation_findings_name_fields_in_the_templates_casing() {
    let text = "\
Resources:
  Service:
    Type: AWS::AppMesh::VirtualService
    Properties:
      MeshName: m
      VirtualServiceName: cart.local
      Spec:
        Provider:
          VirtualNode: {}
";
    let loaded = load_str(Path::new("svc.yaml"), text, &LoadOptions::default());
    let mut all = loaded.diagnostics.clone();
    all.extend(validate(
        &loaded.model,
        &loaded.origins,
        &ArnContext::default(),
    ));
    let paths: Vec<&str> = all.iter().map(|d| d.path.as_str()).collect();
    assert!(!paths.is_empty());
    for path in &paths {
        assert!(
            path.starts_with("Resources.Service.Properties.Spec.Provider.VirtualNode"),
            "{}",
            shown(&all)
        );
    }
    let missing = all
        .iter()
        .find(|d| {
            d.path == "Resources.Service.Properties.Spec.Provider.VirtualNode.VirtualNodeName"
        })
        .unwrap_or_else(|| panic!("{}", shown(&all)));
    assert_eq!(missing.message, "missing field `VirtualNodeName`");
}

#[test]
fn mesh_owners_must_be_account_ids_in_every_format() {
    let cli = r#"{"meshName": "m", "meshOwner": "not-an-account", "spec": {}}"#;
    let cfn = "Resources:\n  M:\n    Type: AWS::AppMesh::Mesh\n    Properties:\n      MeshName: m\n      MeshOwner: '1234'\n";
    let k8s = "apiVersion: appmesh.k8s.aws/v1beta2\nkind: Mesh\nmetadata: {name: m}\nspec: {meshOwner: owner}\n";
    let describe = r#"{"mesh": {"meshName": "m", "spec": {}, "metadata": {"meshOwner": "12345"}}}"#;
    for (name, text, path) in [
        ("mesh.json", cli, "meshOwner"),
        ("describe.json", describe, "mesh.metadata.meshOwner"),
        ("mesh.yaml", cfn, "Resources.M.Properties.MeshOwner"),
        ("k8s.yaml", k8s, "spec.meshOwner"),
    ] {
        let loaded = load_str(Path::new(name), text, &LoadOptions::default());
        let errors = errors(&loaded);
        assert_eq!(errors.len(), 1, "{name}: {}", shown(&loaded.diagnostics));
        assert_eq!(errors[0].path, path, "{name}");
        assert!(
            errors[0]
                .message
                .contains("is not an AWS account ID (12 digits)"),
            "{name}: {}",
            errors[0].message
        );
        assert!(loaded.model.meshes.is_empty(), "{name}");
    }
}

#[test]
fn cli_input_without_the_command_line_names_says_which_are_missing() {
    let text = r#"{"routeName": "route", "virtualRouterName": "virtual-router", "spec": {"http2Route": {}}}"#;
    let loaded = load_str(Path::new("route-red.json"), text, &LoadOptions::default());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1, "{}", shown(&loaded.diagnostics));
    assert_eq!(errors[0].rule, "load.unknown_document");
    assert!(
        errors[0].message.contains("CLI input without meshName"),
        "{}",
        errors[0].message
    );
    assert!(errors[0].message.contains("--mesh-name"));
}

#[test]
fn a_problem_inside_a_chosen_fn_if_branch_is_reported_at_its_own_path() {
    let text = "\
Conditions:
  Tls: !Equals [yes, yes]
Resources:
  CA:
    Type: AWS::ACMPCA::CertificateAuthority
  Gateway:
    Type: AWS::AppMesh::VirtualGateway
    Properties:
      MeshName: m
      VirtualGatewayName: gw
      Spec: !If
        - Tls
        - BackendDefaults:
            ClientPolicy:
              TLS:
                Validation:
                  Trust:
                    ACM:
                      CertificateAuthorityArns: [!Ref CA]
          Listeners: [{PortMapping: {Port: 8080, Protocol: http}}]
        - Listeners: [{PortMapping: {Port: 8080, Protocol: http}}]
";
    let loaded = load_str(Path::new("gw.yaml"), text, &LoadOptions::default());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1, "{}", shown(&loaded.diagnostics));
    assert_eq!(
        errors[0].path,
        "Resources.Gateway.Properties.Spec.BackendDefaults.ClientPolicy.TLS.Validation.Trust.ACM.CertificateAuthorityArns[0]"
    );
    assert_eq!(errors[0].line, Some(19));
}
