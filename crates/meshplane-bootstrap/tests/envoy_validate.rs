//! Generated bootstraps checked by the real Envoy (`envoy --mode validate`,
//! through `meshplane-testsupport`, which says where the binary comes from).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use meshplane_bootstrap::{bootstrap_from_env, LocalFiles};
use meshplane_testsupport::envoy_check::{envoy_validate_file, EnvoyError};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

const ARN: &str = "arn:aws:appmesh:us-west-2:111122223333:mesh/shop/virtualNode/cart";

/// A fresh directory for one case under Cargo's per-target temp dir.
fn case_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("bootstrap-validate")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    if let Err(e) = fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    dir
}

fn write(path: &Path, content: &str) {
    if let Err(e) = fs::write(path, content) {
        panic!("cannot write {}: {e}", path.display());
    }
}

/// Builds the bootstrap of `vars` (with the ARN and an admin log in `dir`),
/// writes it to `dir/bootstrap.yaml` and runs Envoy's validation on it.
/// Returns whether Envoy accepted it, and Envoy's output.
fn validate(dir: &Path, pairs: &[(&str, String)]) -> (bool, String) {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    vars.insert("APPMESH_RESOURCE_ARN".into(), ARN.into());
    vars.insert(
        "ENVOY_ADMIN_ACCESS_LOG_FILE".into(),
        dir.join("admin.log").display().to_string(),
    );
    for (k, v) in pairs {
        vars.insert((*k).into(), v.clone());
    }
    let bootstrap = match bootstrap_from_env(&vars, &LocalFiles) {
        Ok(b) => b,
        Err(e) => panic!("bootstrap for {}: {e}", dir.display()),
    };
    let yaml = match bootstrap.to_yaml() {
        Ok(y) => y,
        Err(e) => panic!("render: {e}"),
    };
    let file = dir.join("bootstrap.yaml");
    write(&file, &yaml);
    match envoy_validate_file(&file) {
        Ok(()) => (true, format!("--- bootstrap ---\n{yaml}")),
        Err(EnvoyError::Rejected { output, .. }) => {
            (false, format!("{output}\n--- bootstrap ---\n{yaml}"))
        }
        Err(e) => panic!("cannot run Envoy: {e}"),
    }
}

fn assert_valid(name: &str, pairs: &[(&str, String)]) {
    let dir = case_dir(name);
    let (ok, output) = validate(&dir, pairs);
    assert_clean(ok, &output);
}

/// Accepted, and without Envoy complaining: no `envoy_bug` (e.g. a removed
/// runtime guard) and no deprecated field other than `Bootstrap.tracing`
/// (the only place a tracer can be set without touching the listeners
/// meshplane serves).
fn assert_clean(ok: bool, output: &str) {
    assert!(ok, "Envoy rejected the bootstrap:\n{output}");
    assert!(
        !output.contains("envoy_bug"),
        "Envoy reported a bug-level problem:\n{output}"
    );
    for line in output.lines().filter(|l| l.contains("Deprecated field")) {
        assert!(
            line.contains("'envoy.config.bootstrap.v3.Bootstrap.tracing'"),
            "unexpected deprecation: {line}\n{output}"
        );
    }
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn plain_bootstrap_is_valid() {
    assert_valid("plain", &[]);
}

#[test]
fn bootstrap_with_token_dns_endpoint_and_fetch_timeout_is_valid() {
    let dir = case_dir("token");
    let token = dir.join("token");
    write(&token, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYXJ0In0.c2ln\n");
    let (ok, output) = validate(
        &dir,
        &[
            ("MESHPLANE_XDS_TOKEN_FILE", token.display().to_string()),
            ("APPMESH_XDS_ENDPOINT", s("localhost:15010")),
            ("ENVOY_INITIAL_FETCH_TIMEOUT", s("30")),
        ],
    );
    assert_clean(ok, &output);
    assert!(output.contains("Bearer eyJhbGciOiJIUzI1NiJ9"), "{output}");
}

#[test]
fn bootstrap_with_mutual_tls_is_valid() {
    let dir = case_dir("tls");
    let (ca_pem, cert_pem, key_pem) = test_pki();
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("client.pem"),
        dir.join("client-key.pem"),
    );
    write(&ca, &ca_pem);
    write(&cert, &cert_pem);
    write(&key, &key_pem);
    let token = dir.join("token");
    write(&token, "2f9c1e0b7a6d4c3e8f1a2b3c4d5e6f708192a3b4c5d6e7f8");
    let (ok, output) = validate(
        &dir,
        &[
            ("APPMESH_XDS_ENDPOINT", s("meshplane.internal:443")),
            ("MESHPLANE_XDS_CA", ca.display().to_string()),
            ("MESHPLANE_XDS_CLIENT_CERT", cert.display().to_string()),
            ("MESHPLANE_XDS_CLIENT_KEY", key.display().to_string()),
            ("MESHPLANE_XDS_TLS_SERVER_NAME", s("xds.meshplane.internal")),
            ("MESHPLANE_XDS_TOKEN_FILE", token.display().to_string()),
        ],
    );
    assert_clean(ok, &output);
    assert!(output.contains("envoy.transport_sockets.tls"), "{output}");
}

#[test]
fn bootstrap_with_tls_to_an_ip_is_valid() {
    let dir = case_dir("tls-ip");
    let (ca_pem, _, _) = test_pki();
    let ca = dir.join("ca.pem");
    write(&ca, &ca_pem);
    let (ok, output) = validate(
        &dir,
        &[
            ("APPMESH_XDS_ENDPOINT", s("[::1]:15010")),
            ("MESHPLANE_XDS_CA", ca.display().to_string()),
        ],
    );
    assert_clean(ok, &output);
}

#[test]
fn bootstrap_with_client_certificate_from_sds_is_valid() {
    let dir = case_dir("tls-sds");
    let (ca_pem, _, _) = test_pki();
    let ca = dir.join("ca.pem");
    write(&ca, &ca_pem);
    let (ok, output) = validate(
        &dir,
        &[
            ("APPMESH_XDS_ENDPOINT", s("meshplane.internal:443")),
            (
                "APPMESH_SDS_SOCKET_PATH",
                s("/run/spire/sockets/agent.sock"),
            ),
            ("MESHPLANE_XDS_CA", ca.display().to_string()),
            ("MESHPLANE_XDS_CLIENT_SDS_SECRET", s("default")),
        ],
    );
    assert_clean(ok, &output);
    assert!(
        output.contains("tls_certificate_sds_secret_configs"),
        "{output}"
    );
}

#[test]
fn bootstraps_with_each_tracing_driver_are_valid() {
    assert_valid(
        "xray",
        &[
            ("ENABLE_ENVOY_XRAY_TRACING", s("1")),
            ("XRAY_SAMPLING_RATE", s("0.25")),
            ("XRAY_DAEMON_PORT", s("2001")),
        ],
    );
    assert_valid(
        "datadog",
        &[
            ("ENABLE_ENVOY_DATADOG_TRACING", s("1")),
            ("DD_SERVICE", s("cart")),
        ],
    );
    assert_valid(
        "jaeger",
        &[
            ("ENABLE_ENVOY_JAEGER_TRACING", s("1")),
            ("JAEGER_TRACER_ADDRESS", s("jaeger.monitoring")),
            ("JAEGER_TRACER_VERSION", s("json")),
        ],
    );
}

#[test]
fn bootstrap_with_xray_manifest_file_is_valid() {
    let dir = case_dir("xray-manifest");
    let manifest = dir.join("rules.json");
    write(
        &manifest,
        r#"{"version": 2, "rules": [{"description": "checkout", "host": "*", "http_method": "POST", "url_path": "/checkout", "fixed_target": 2, "rate": 0.5}], "default": {"fixed_target": 1, "rate": 0.1}}"#,
    );
    let (ok, output) = validate(
        &dir,
        &[
            ("ENABLE_ENVOY_XRAY_TRACING", s("1")),
            (
                "XRAY_SAMPLING_RULE_MANIFEST",
                manifest.display().to_string(),
            ),
        ],
    );
    assert_clean(ok, &output);
}

#[test]
fn bootstrap_with_sds_stats_and_gateway_identity_is_valid() {
    assert_valid(
        "sds-stats",
        &[
            (
                "APPMESH_RESOURCE_ARN",
                s("mesh/app-mesh/virtualGateway/appmesh-gateway_prod"),
            ),
            ("APPMESH_RESOURCE_CLUSTER", s("gateway")),
            (
                "APPMESH_SDS_SOCKET_PATH",
                s("/run/spire/sockets/agent.sock"),
            ),
            ("ENABLE_ENVOY_STATS_TAGS", s("1")),
            ("ENVOY_STATS_FLUSH_INTERVAL", s("10s")),
            ("ENABLE_ENVOY_DOG_STATSD", s("1")),
            ("STATSD_SOCKET_PATH", s("/var/run/datadog/dsd.socket")),
            ("ENVOY_ADMIN_ACCESS_ENABLE_IPV6", s("1")),
            ("ENVOY_ADMIN_ACCESS_PORT", s("9902")),
        ],
    );
}

#[test]
fn bootstrap_with_custom_files_is_valid() {
    let dir = case_dir("custom-files");
    let tracing = dir.join("tracing.yaml");
    write(
        &tracing,
        "tracing:\n  http:\n    name: envoy.tracers.zipkin\n    typed_config:\n      \"@type\": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig\n      collector_cluster: zipkin\n      collector_endpoint: /api/v2/spans\n      collector_endpoint_version: HTTP_JSON\nstaticResources:\n  clusters:\n  - name: zipkin\n    type: STRICT_DNS\n    connect_timeout: 1s\n    load_assignment:\n      cluster_name: zipkin\n      endpoints:\n      - lb_endpoints:\n        - endpoint:\n            address:\n              socket_address: { address: zipkin.local, port_value: 9411 }\n",
    );
    let stats = dir.join("stats.json");
    write(
        &stats,
        r#"{"statsConfig": {"use_all_default_tags": true, "stats_tags": [{"tag_name": "team", "fixed_value": "checkout"}]}}"#,
    );
    let sinks = dir.join("sinks.yaml");
    write(
        &sinks,
        "stats_sinks:\n- name: envoy.stat_sinks.statsd\n  typed_config:\n    \"@type\": type.googleapis.com/envoy.config.metrics.v3.StatsdSink\n    address:\n      socket_address: { protocol: UDP, address: 127.0.0.1, port_value: 8125 }\n",
    );
    let (ok, output) = validate(
        &dir,
        &[
            ("ENVOY_TRACING_CFG_FILE", tracing.display().to_string()),
            ("ENVOY_STATS_CONFIG_FILE", stats.display().to_string()),
            ("ENVOY_STATS_SINKS_CFG_FILE", sinks.display().to_string()),
        ],
    );
    assert_clean(ok, &output);
}

/// The harness can fail: a bootstrap Envoy must reject is reported as such.
#[test]
fn envoy_rejects_a_broken_bootstrap() {
    let dir = case_dir("broken");
    let resources = dir.join("resources.yaml");
    write(
        &resources,
        "static_resources:\n  clusters:\n  - name: broken\n    type: NOT_A_DISCOVERY_TYPE\n",
    );
    let (ok, output) = validate(
        &dir,
        &[(
            "ENVOY_RESOURCES_CONFIG_FILE",
            resources.display().to_string(),
        )],
    );
    assert!(
        !ok,
        "Envoy accepted a cluster with an unknown discovery type:\n{output}"
    );
}

/// A CA and a client certificate it signed, as PEM: (ca, client cert, client key).
fn test_pki() -> (String, String, String) {
    let result = (|| -> Result<(String, String, String), rcgen::Error> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "meshplane test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let client_key = KeyPair::generate()?;
        let mut client_params =
            CertificateParams::new(vec!["cart.shop.svc.cluster.local".to_owned()])?;
        client_params
            .distinguished_name
            .push(DnType::CommonName, "mesh/shop/virtualNode/cart");
        let client = client_params.signed_by(&client_key, &ca)?;
        Ok((ca.pem(), client.pem(), client_key.serialize_pem()))
    })();
    match result {
        Ok(pki) => pki,
        Err(e) => panic!("cannot generate test certificates: {e}"),
    }
}
