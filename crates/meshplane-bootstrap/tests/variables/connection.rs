//! The ADS connection: endpoint, fetch timeout, token and TLS.

use meshplane_bootstrap::{BootstrapError, MemoryFiles};
use serde_json::{json, Value};

use super::support::{
    build, build_with, cluster, error, error_with, grpc_service, CERT_PEM, KEY_PEM,
};

#[test]
fn xds_endpoint_dns_name_and_fetch_timeout() {
    let b = build(&[
        ("APPMESH_XDS_ENDPOINT", "meshplane.internal:443"),
        ("ENVOY_INITIAL_FETCH_TIMEOUT", "30"),
    ]);
    let xds = cluster(&b, "meshplane_xds");
    assert_eq!(xds["type"], "STRICT_DNS");
    assert_eq!(xds["dns_lookup_family"], "V4_PREFERRED");
    assert_eq!(
        grpc_service(&b)["envoy_grpc"]["authority"],
        "meshplane.internal"
    );
    assert_eq!(
        b.config()["dynamic_resources"]["cds_config"]["initial_fetch_timeout"],
        "30s"
    );
    let b = build(&[("APPMESH_XDS_ENDPOINT", "unix:///run/meshplane.sock")]);
    assert_eq!(
        cluster(&b, "meshplane_xds")["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
            ["endpoint"]["address"],
        json!({ "pipe": { "path": "/run/meshplane.sock" } })
    );
    assert_eq!(
        error(&[("APPMESH_XDS_ENDPOINT", "meshplane")]).variable(),
        Some("APPMESH_XDS_ENDPOINT")
    );
    assert_eq!(
        error(&[("ENVOY_INITIAL_FETCH_TIMEOUT", "soon")]).variable(),
        Some("ENVOY_INITIAL_FETCH_TIMEOUT")
    );
}

#[test]
fn token_is_sent_as_initial_metadata() {
    let files = MemoryFiles::new()
        .with("/run/token", "eyJhbGciOi.payload.sig-0123456789abcdef\n")
        .with("/run/short", "abc")
        .with("/run/empty", "\n")
        .with("/run/spaced", "two words");
    let b = build_with(&[("MESHPLANE_XDS_TOKEN_FILE", "/run/token")], &files);
    assert_eq!(
        grpc_service(&b)["initial_metadata"],
        json!([{ "key": "authorization", "value": "Bearer eyJhbGciOi.payload.sig-0123456789abcdef" }])
    );
    assert!(
        b.warnings().is_empty(),
        "loopback plaintext is fine: {:?}",
        b.warnings()
    );
    let e = error_with(&[("MESHPLANE_XDS_TOKEN_FILE", "/run/missing")], &files);
    assert!(
        matches!(e, BootstrapError::Unreadable { .. })
            && e.variable() == Some("MESHPLANE_XDS_TOKEN_FILE"),
        "{e}"
    );
    assert!(
        error_with(&[("MESHPLANE_XDS_TOKEN_FILE", "/run/empty")], &files)
            .to_string()
            .contains("empty")
    );
    assert_eq!(
        error_with(&[("MESHPLANE_XDS_TOKEN_FILE", "/run/spaced")], &files).variable(),
        Some("MESHPLANE_XDS_TOKEN_FILE")
    );
    let b = build_with(
        &[
            ("MESHPLANE_XDS_TOKEN_FILE", "/run/token"),
            ("APPMESH_XDS_ENDPOINT", "10.0.0.1:15010"),
        ],
        &files,
    );
    assert!(
        b.warnings().iter().any(|w| w.contains("cleartext")),
        "{:?}",
        b.warnings()
    );
}

#[test]
fn tls_to_meshplane() {
    let files = MemoryFiles::new()
        .with("/tls/ca.pem", CERT_PEM)
        .with("/tls/cert.pem", CERT_PEM)
        .with("/tls/key.pem", KEY_PEM);
    let b = build_with(&[("MESHPLANE_XDS_CA", "/tls/ca.pem")], &files);
    let ts = &cluster(&b, "meshplane_xds")["transport_socket"];
    assert_eq!(ts["name"], "envoy.transport_sockets.tls");
    let ctx = &ts["typed_config"];
    assert!(ctx.get("sni").is_none());
    assert_eq!(ctx["common_tls_context"]["alpn_protocols"], json!(["h2"]));
    assert_eq!(
        ctx["common_tls_context"]["validation_context"],
        json!({
            "trusted_ca": { "filename": "/tls/ca.pem" },
            "match_typed_subject_alt_names": [{ "san_type": "IP_ADDRESS", "matcher": { "exact": "127.0.0.1" } }]
        })
    );
    assert!(ctx["common_tls_context"].get("tls_certificates").is_none());

    let b = build_with(
        &[
            ("APPMESH_XDS_ENDPOINT", "10.0.0.1:15010"),
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
            ("MESHPLANE_XDS_CLIENT_CERT", "/tls/cert.pem"),
            ("MESHPLANE_XDS_CLIENT_KEY", "/tls/key.pem"),
            ("MESHPLANE_XDS_TLS_SERVER_NAME", "meshplane.internal"),
        ],
        &files,
    );
    let ctx = &cluster(&b, "meshplane_xds")["transport_socket"]["typed_config"];
    assert_eq!(ctx["sni"], "meshplane.internal");
    assert_eq!(
        ctx["common_tls_context"]["tls_certificates"],
        json!([{ "certificate_chain": { "filename": "/tls/cert.pem" }, "private_key": { "filename": "/tls/key.pem" } }])
    );
    assert_eq!(
        ctx["common_tls_context"]["validation_context"]["match_typed_subject_alt_names"],
        json!([{ "san_type": "DNS", "matcher": { "exact": "meshplane.internal" } }])
    );
    assert_eq!(
        grpc_service(&b)["envoy_grpc"]["authority"],
        "meshplane.internal"
    );

    let b = build_with(
        &[
            ("APPMESH_XDS_ENDPOINT", "meshplane.internal:443"),
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
        ],
        &files,
    );
    assert_eq!(
        cluster(&b, "meshplane_xds")["transport_socket"]["typed_config"]["sni"],
        "meshplane.internal"
    );
}

#[test]
fn contradictory_tls_settings() {
    let files = MemoryFiles::new()
        .with("/tls/ca.pem", CERT_PEM)
        .with("/tls/cert.pem", CERT_PEM)
        .with("/tls/key.pem", KEY_PEM);
    let e = error_with(
        &[
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
            ("MESHPLANE_XDS_CLIENT_CERT", "/tls/cert.pem"),
        ],
        &files,
    );
    assert!(
        e.to_string()
            .contains("MESHPLANE_XDS_CLIENT_CERT and MESHPLANE_XDS_CLIENT_KEY go together"),
        "{e}"
    );
    let e = error_with(
        &[
            ("MESHPLANE_XDS_CLIENT_CERT", "/tls/cert.pem"),
            ("MESHPLANE_XDS_CLIENT_KEY", "/tls/key.pem"),
        ],
        &files,
    );
    assert!(e.to_string().contains("needs MESHPLANE_XDS_CA"), "{e}");
    let e = error_with(
        &[("MESHPLANE_XDS_TLS_SERVER_NAME", "meshplane.internal")],
        &files,
    );
    assert!(
        e.to_string()
            .contains("MESHPLANE_XDS_TLS_SERVER_NAME needs MESHPLANE_XDS_CA"),
        "{e}"
    );
    let e = error_with(&[("MESHPLANE_XDS_CA", "/tls/key.pem")], &files);
    assert_eq!(e.variable(), Some("MESHPLANE_XDS_CA"));
    let e = error_with(&[("MESHPLANE_XDS_CA", "/tls/nope.pem")], &files);
    assert!(matches!(e, BootstrapError::Unreadable { .. }), "{e}");
}

#[test]
fn client_certificate_from_sds() {
    let files = MemoryFiles::new()
        .with("/tls/ca.pem", CERT_PEM)
        .with("/tls/cert.pem", CERT_PEM)
        .with("/tls/key.pem", KEY_PEM);
    let sds = ("APPMESH_SDS_SOCKET_PATH", "/run/spire/sockets/agent.sock");
    let b = build_with(
        &[
            sds,
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
            ("MESHPLANE_XDS_CLIENT_SDS_SECRET", "default"),
        ],
        &files,
    );
    let common =
        &cluster(&b, "meshplane_xds")["transport_socket"]["typed_config"]["common_tls_context"];
    assert_eq!(
        common["tls_certificate_sds_secret_configs"][0]["name"],
        "default"
    );
    assert_eq!(
        common["tls_certificate_sds_secret_configs"][0]["sds_config"]["api_config_source"]
            ["grpc_services"][0],
        json!({ "envoy_grpc": { "cluster_name": "static_cluster_sds_unix_socket" } })
    );
    assert!(common.get("tls_certificates").is_none());
    let e = error_with(
        &[
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
            ("MESHPLANE_XDS_CLIENT_SDS_SECRET", "default"),
        ],
        &files,
    );
    assert!(
        e.to_string().contains("needs APPMESH_SDS_SOCKET_PATH"),
        "{e}"
    );
    let e = error_with(
        &[sds, ("MESHPLANE_XDS_CLIENT_SDS_SECRET", "default")],
        &files,
    );
    assert!(e.to_string().contains("needs MESHPLANE_XDS_CA"), "{e}");
    let e = error_with(
        &[
            sds,
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
            ("MESHPLANE_XDS_CLIENT_SDS_SECRET", "default"),
            ("MESHPLANE_XDS_CLIENT_CERT", "/tls/cert.pem"),
            ("MESHPLANE_XDS_CLIENT_KEY", "/tls/key.pem"),
        ],
        &files,
    );
    assert!(e.to_string().contains("keep one"), "{e}");
}

#[test]
fn several_replicas_are_endpoints_of_the_xds_cluster() {
    let b = build(&[(
        "APPMESH_XDS_ENDPOINT",
        "10.0.0.1:15010,10.0.0.2:15010, 10.0.0.3:15010",
    )]);
    let xds = cluster(&b, "meshplane_xds");
    assert_eq!(xds["type"], "STATIC");
    let addresses: Vec<&Value> = xds["load_assignment"]["endpoints"][0]["lb_endpoints"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| &e["endpoint"]["address"]["socket_address"]["address"])
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        addresses,
        [&json!("10.0.0.1"), &json!("10.0.0.2"), &json!("10.0.0.3")]
    );
    assert!(grpc_service(&b)["envoy_grpc"].get("authority").is_none());

    // Names: STRICT_DNS; one shared name is the authority, different ones are not.
    let b = build(&[(
        "APPMESH_XDS_ENDPOINT",
        "meshplane.internal:15010,meshplane.internal:15011",
    )]);
    assert_eq!(cluster(&b, "meshplane_xds")["type"], "STRICT_DNS");
    assert_eq!(
        grpc_service(&b)["envoy_grpc"]["authority"],
        "meshplane.internal"
    );
    let b = build(&[("APPMESH_XDS_ENDPOINT", "a.internal:15010,10.0.0.2:15010")]);
    assert_eq!(cluster(&b, "meshplane_xds")["type"], "STRICT_DNS");
    assert!(grpc_service(&b)["envoy_grpc"].get("authority").is_none());

    for bad in [
        "10.0.0.1:15010,",
        "10.0.0.1:15010,10.0.0.1:15010",
        "unix:/run/mp.sock,10.0.0.1:1",
    ] {
        assert_eq!(
            error(&[("APPMESH_XDS_ENDPOINT", bad)]).variable(),
            Some("APPMESH_XDS_ENDPOINT"),
            "{bad}"
        );
    }
}

#[test]
fn tls_to_several_replicas_needs_one_server_name() {
    let files = MemoryFiles::new().with("/tls/ca.pem", CERT_PEM);
    let list = ("APPMESH_XDS_ENDPOINT", "10.0.0.1:15010,10.0.0.2:15010");
    let e = error_with(&[list, ("MESHPLANE_XDS_CA", "/tls/ca.pem")], &files);
    assert!(
        matches!(&e, BootstrapError::Conflict(m) if m.contains("MESHPLANE_XDS_TLS_SERVER_NAME")),
        "{e}"
    );
    let b = build_with(
        &[
            list,
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
            ("MESHPLANE_XDS_TLS_SERVER_NAME", "meshplane.internal"),
        ],
        &files,
    );
    assert_eq!(
        grpc_service(&b)["envoy_grpc"]["authority"],
        "meshplane.internal"
    );
    let b = build_with(
        &[
            (
                "APPMESH_XDS_ENDPOINT",
                "meshplane.internal:15010,meshplane.internal:15011",
            ),
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
        ],
        &files,
    );
    assert_eq!(
        grpc_service(&b)["envoy_grpc"]["authority"],
        "meshplane.internal"
    );
}
