//! The dependency rules of ARCHITECTURE.md, read from `cargo metadata`
//! (declared dependencies) and, where a rule is about what code does, from
//! the crate's sources.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

use super::sources::{code_only, rust_files, workspace_root};

/// Package name -> (publishable, normal dependencies, dev dependencies).
struct Package {
    publish: bool,
    normal: Vec<String>,
    dev: Vec<String>,
}

fn packages() -> BTreeMap<String, Package> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut packages = BTreeMap::new();
    for p in meta["packages"].as_array().unwrap() {
        let deps = |kind: Option<&str>| -> Vec<String> {
            p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].as_str() == kind)
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let mut normal = deps(None);
        normal.extend(deps(Some("build")));
        packages.insert(
            p["name"].as_str().unwrap().to_owned(),
            Package {
                // `publish = false` reads as an empty registry list.
                publish: p["publish"].as_array().is_none_or(|r| !r.is_empty()),
                normal,
                dev: deps(Some("dev")),
            },
        );
    }
    packages
}

fn assert_no_dependency(
    packages: &BTreeMap<String, Package>,
    crate_name: &str,
    forbidden: &[&str],
) {
    let p = &packages[crate_name];
    let found: Vec<&String> = p
        .normal
        .iter()
        .filter(|d| forbidden.contains(&d.as_str()))
        .collect();
    assert!(
        found.is_empty(),
        "{crate_name} must not depend on {found:?} (ARCHITECTURE.md)"
    );
}

/// `needles` that occur in the code (not comments or strings) of a crate.
fn code_mentions(crate_dir: &str, needles: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    for file in rust_files(&workspace_root().join(crate_dir).join("src")) {
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        for n in needles {
            if code.contains(n) {
                hits.push(format!("{}: {n}", file.display()));
            }
        }
    }
    hits
}

#[test]
fn test_support_is_dev_only() {
    let packages = packages();
    assert!(
        !packages["meshplane-testsupport"].publish,
        "meshplane-testsupport must say publish = false"
    );
    for (name, p) in &packages {
        if p.normal.iter().any(|d| d == "meshplane-testsupport") {
            assert!(
                !p.publish,
                "{name} depends on meshplane-testsupport outside its tests; only \
                 dev-dependencies (or unpublished test crates) may"
            );
        }
    }
    // Production code does not run Envoy to check configuration: the
    // `envoy --mode validate` runner lives in the support crate.
    let hits = code_mentions("crates/meshplane-envoy", &["std::process", "Command::new"]);
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn the_spec_crate_does_no_io_and_knows_nothing_of_envoy() {
    let packages = packages();
    assert_no_dependency(
        &packages,
        "meshplane-spec",
        &["envoy-types", "prost", "tonic", "tokio", "meshplane-envoy"],
    );
    let hits = code_mentions(
        "crates/meshplane-spec",
        &[
            "std::fs",
            "std::net",
            "std::process",
            "std::io::stdin",
            "envoy",
        ],
    );
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn translation_does_no_io_and_reads_no_clock() {
    let packages = packages();
    assert_no_dependency(
        &packages,
        "meshplane-translate",
        &[
            "tokio",
            "tonic",
            "meshplane-xds",
            "meshplane-load",
            "meshplane-cloudmap",
        ],
    );
    let hits = code_mentions(
        "crates/meshplane-translate",
        &[
            "std::fs",
            "std::net::Tcp",
            "std::process",
            "SystemTime",
            "Instant",
            "thread_rng",
            "std::env",
        ],
    );
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn explain_does_no_io_and_knows_no_app_mesh_or_protobuf_types() {
    let packages = packages();
    assert_no_dependency(
        &packages,
        "meshplane-explain",
        &[
            "tokio",
            "tonic",
            "prost",
            "envoy-types",
            "meshplane-spec",
            "meshplane-translate",
            "meshplane-load",
            "meshplane-control",
        ],
    );
    let hits = code_mentions(
        "crates/meshplane-explain",
        &[
            "std::fs",
            "std::net::Tcp",
            "std::process",
            "SystemTime",
            "Instant",
            "std::env",
        ],
    );
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn the_xds_server_never_sees_app_mesh_types() {
    assert_no_dependency(
        &packages(),
        "meshplane-xds",
        &[
            "meshplane-spec",
            "meshplane-load",
            "meshplane-translate",
            "meshplane-authz",
            "meshplane-cloudmap",
            "meshplane-control",
        ],
    );
}

#[test]
fn authorization_has_no_grpc_and_no_app_mesh_types() {
    assert_no_dependency(
        &packages(),
        "meshplane-authz",
        &[
            "tonic",
            "meshplane-spec",
            "meshplane-translate",
            "meshplane-xds",
            "meshplane-load",
        ],
    );
}

#[test]
fn cloud_map_discovery_never_reaches_into_the_server() {
    assert_no_dependency(
        &packages(),
        "meshplane-cloudmap",
        &["meshplane-xds", "meshplane-control"],
    );
}

#[test]
fn only_the_control_layer_wires_translation_and_discovery_to_the_server() {
    for (name, p) in &packages() {
        let server = p.normal.iter().any(|d| d == "meshplane-xds");
        let app_mesh = p.normal.iter().any(|d| {
            matches!(
                d.as_str(),
                "meshplane-spec" | "meshplane-translate" | "meshplane-cloudmap"
            )
        });
        assert!(
            name == "meshplane-control" || !(server && app_mesh),
            "{name} wires App Mesh crates to the xDS server; only meshplane-control may"
        );
    }
}

#[test]
fn anyhow_only_in_the_programs_and_the_end_to_end_suites() {
    const ALLOWED: [&str; 4] = [
        "meshplane",
        "meshplane-loadgen",
        "meshplane-e2e",
        "meshplane-api-tests",
    ];
    for (name, p) in &packages() {
        if p.normal.iter().any(|d| d == "anyhow") {
            assert!(
                ALLOWED.contains(&name.as_str()),
                "{name} depends on anyhow; libraries return typed errors (thiserror)"
            );
        }
    }
}

#[test]
fn yaml_is_read_through_meshplane_yaml() {
    // meshplane-load keeps its positioned reader (every value with its
    // line; its plain scalars resolve by meshplane-yaml's rule). Everything
    // else reads and writes YAML through meshplane-yaml.
    const ALLOWED: [&str; 2] = ["meshplane-yaml", "meshplane-load"];
    for (name, p) in &packages() {
        if p.normal.iter().chain(&p.dev).any(|d| d == "yaml-rust2") {
            assert!(
                ALLOWED.contains(&name.as_str()),
                "{name} uses yaml-rust2 directly; read YAML with meshplane_yaml::read_document"
            );
        }
    }
}
