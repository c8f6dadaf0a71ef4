#![allow(clippy::unwrap_used)]
//! `meshplane render`: the same proxy configuration from every spec format,
//! config-dump shaped JSON and YAML, clear errors for unknown proxies.

use std::path::{Path, PathBuf};
use std::process::Command;

fn examples(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/examples")
        .join(sub)
}

fn meshplane(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_meshplane"))
        .args(args)
        .output()
        .unwrap()
}

fn names(v: &serde_json::Value, list: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn service_a_renders_app_mesh_names_from_cli_json() {
    let dir = examples("apps/cli-json");
    let out = meshplane(&[
        "render",
        "--config",
        dir.to_str().unwrap(),
        "--node",
        "mesh/apps/virtualNode/serviceA",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        names(&v, "listeners"),
        ["lds_egress_0.0.0.0_15001", "lds_ingress_0.0.0.0_15000"]
    );
    assert_eq!(
        names(&v, "routes"),
        ["rds_egress_http2_80", "rds_ingress_http2_80"]
    );
    assert_eq!(
        names(&v, "clusters"),
        [
            "cds_egress_apps_amazonaws",
            "cds_egress_apps_serviceB_http2_80",
            "cds_egress_apps_serviceBv2_http2_80",
            "cds_ingress_apps_serviceA_http2_80"
        ]
    );
    assert_eq!(
        v["listeners"][0]["@type"],
        "type.googleapis.com/envoy.config.listener.v3.Listener"
    );
    let weighted =
        &v["routes"][0]["virtual_hosts"][0]["routes"][0]["route"]["weighted_clusters"]["clusters"];
    assert_eq!(weighted[0]["weight"], 75);
    assert_eq!(weighted[1]["weight"], 25);
}

#[test]
fn every_spec_format_renders_the_same_configuration() {
    let render = |sub: &str, account: &str| {
        let dir = examples(sub);
        let node = format!("arn:aws:appmesh:us-east-1:{account}:mesh/apps/virtualNode/serviceA");
        let out = meshplane(&[
            "render",
            "--config",
            dir.to_str().unwrap(),
            "--node",
            &node,
            "--account",
            account,
        ]);
        assert!(
            out.status.success(),
            "{sub}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let cli = render("apps/cli-json", "111122223333");
    for sub in ["apps/cloudformation", "apps/kubernetes", "apps/describe"] {
        assert_eq!(
            String::from_utf8_lossy(&render(sub, "111122223333")),
            String::from_utf8_lossy(&cli),
            "{sub}"
        );
    }
}

#[test]
fn yaml_output_and_errors() {
    let dir = examples("apps/cli-json");
    let dir = dir.to_str().unwrap();
    let out = meshplane(&[
        "render",
        "--config",
        dir,
        "--node",
        "mesh/apps/virtualNode/serviceB",
        "--format",
        "yaml",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("listeners:"), "{text}");
    assert!(
        text.contains("name: cds_ingress_apps_serviceB_http2_80"),
        "{text}"
    );

    let out = meshplane(&[
        "render",
        "--config",
        dir,
        "--node",
        "mesh/apps/virtualNode/nope",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("virtual node 'nope' is not defined in mesh 'apps'"));

    let out = meshplane(&["render", "--config", dir, "--node", "not-an-arn"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--node"));
}

#[test]
fn a_virtual_gateway_renders_its_listeners_and_self_redirect_cluster() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/specs/gateway");
    let dir = dir.to_str().unwrap();
    let out = meshplane(&[
        "render",
        "--config",
        dir,
        "--node",
        "mesh/gw/virtualGateway/gw",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let listeners = names(&v, "listeners");
    assert!(
        listeners.contains(&"lds_egress_0.0.0.0_15001".to_owned()),
        "{listeners:?}"
    );
    assert!(
        listeners
            .iter()
            .any(|l| l.starts_with("lds_ingress_0.0.0.0_") && l != "lds_ingress_0.0.0.0_15000"),
        "{listeners:?}"
    );
    let clusters = names(&v, "clusters");
    assert!(
        clusters
            .iter()
            .any(|c| c.starts_with("cds_ingress_gw_gw_self_redirect_")),
        "{clusters:?}"
    );

    let out = meshplane(&[
        "render",
        "--config",
        dir,
        "--node",
        "mesh/gw/virtualGateway/nope",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("virtual gateway 'nope' is not defined in mesh 'gw'"));
}

#[test]
fn acm_certificates_render_as_ads_secrets_when_held() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../meshplane-translate/tests");
    let specs = root.join("golden/tls-acm/spec");
    let specs = specs.to_str().unwrap();
    let certs = std::env::temp_dir().join(format!("meshplane-render-acm-{}", std::process::id()));
    std::fs::create_dir_all(&certs).unwrap();
    let pem = |f: &str| root.join("certs").join(f).display().to_string();
    std::fs::write(
        certs.join("certificates.yaml"),
        format!(
            "certificates:\n  - arn: arn:aws:acm:us-east-1:000000000000:certificate/abc\n    chain: {}\n    key: {}\n",
            pem("server.pem"),
            pem("server.key")
        ),
    )
    .unwrap();
    let node = "mesh/secure/virtualNode/server";

    let out = meshplane(&["render", "--config", specs, "--node", node]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("translate.tls.acm") && stderr.contains("--certificates"),
        "{stderr}"
    );

    let out = meshplane(&[
        "render",
        "--config",
        specs,
        "--node",
        node,
        "--certificates",
        certs.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_dir_all(&certs);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("\"name\": \"arn:aws:acm:us-east-1:000000000000:certificate/abc\""),
        "{text}"
    );
    assert!(!text.contains("PRIVATE KEY"));
}
