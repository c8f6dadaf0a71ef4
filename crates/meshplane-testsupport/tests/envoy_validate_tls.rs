//! SDS over ADS in a static bootstrap: TLS contexts that name secrets
//! delivered over ADS are pointed at static secrets, and Envoy accepts them.

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret;
use meshplane_envoy::from_json;
use meshplane_testsupport::envoy_check::{check, static_bootstrap, BootstrapError, XdsResources};
use serde_json::{json, Value};

const CERT: &str = include_str!("fixtures/test-cert.pem");
const KEY: &str = include_str!("fixtures/test-key.pem");

fn sds(name: &str) -> Value {
    json!({"name": name, "sds_config": {"ads": {}, "resource_api_version": "V3"}})
}

fn tls_listener() -> Value {
    json!({
        "name": "lds_ingress_0.0.0.0_15000",
        "address": {"socket_address": {"address": "0.0.0.0", "port_value": 15000}},
        "filter_chains": [{
            "filters": [{
                "name": "envoy.filters.network.tcp_proxy",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                    "stat_prefix": "ingress",
                    "cluster": "cds_egress_mesh_backend_tcp_8443"
                }
            }],
            "transport_socket": {
                "name": "envoy.transport_sockets.tls",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                    "common_tls_context": {
                        "tls_certificate_sds_secret_configs": [sds("cert")],
                        "validation_context_sds_secret_config": sds("ca")
                    },
                    "require_client_certificate": true
                }
            }
        }]
    })
}

fn tls_cluster() -> Value {
    json!({
        "name": "cds_egress_mesh_backend_tcp_8443",
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": "cds_egress_mesh_backend_tcp_8443",
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address":
                {"socket_address": {"address": "127.0.0.2", "port_value": 8443}}}}]}]
        },
        "transport_socket": {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "sni": "backend.mesh.local",
                "common_tls_context": {
                    "tls_certificate_sds_secret_configs": [sds("cert")],
                    "combined_validation_context": {
                        "default_validation_context": {
                            "match_typed_subject_alt_names": [{"san_type": "DNS", "matcher": {"exact": "backend.mesh.local"}}]
                        },
                        "validation_context_sds_secret_config": sds("ca")
                    }
                }
            }
        }
    })
}

fn secrets() -> Vec<Secret> {
    let cert = json!({"name": "cert", "tls_certificate": {
        "certificate_chain": {"inline_string": CERT},
        "private_key": {"inline_string": KEY}
    }});
    let ca = json!({"name": "ca", "validation_context": {"trusted_ca": {"inline_string": CERT}}});
    vec![
        from_json(&cert).expect("cert secret"),
        from_json(&ca).expect("ca secret"),
    ]
}

fn resources() -> XdsResources {
    XdsResources {
        listeners: vec![from_json::<Listener>(&tls_listener()).expect("listener")],
        clusters: vec![from_json::<Cluster>(&tls_cluster()).expect("cluster")],
        secrets: secrets(),
        ..Default::default()
    }
}

#[test]
fn ads_secrets_become_static_and_envoy_accepts_them() {
    meshplane_testsupport::binaries::envoy();
    let res = resources();
    let bootstrap = static_bootstrap(&res).expect("static bootstrap");
    let statics = &bootstrap["static_resources"];
    assert_eq!(statics["secrets"].as_array().map(Vec::len), Some(2));
    let upstream =
        &statics["clusters"][0]["transport_socket"]["typed_config"]["common_tls_context"];
    assert_eq!(
        upstream["tls_certificate_sds_secret_configs"],
        json!([{"name": "cert"}])
    );
    assert_eq!(
        upstream["combined_validation_context"]["validation_context_sds_secret_config"],
        json!({"name": "ca"})
    );
    let downstream = &statics["listeners"][0]["filter_chains"][0]["transport_socket"]
        ["typed_config"]["common_tls_context"];
    assert_eq!(
        downstream["validation_context_sds_secret_config"],
        json!({"name": "ca"})
    );

    if let Err(e) = check(&res) {
        panic!("Envoy should accept the TLS config: {e}");
    }
}

#[test]
fn a_secret_that_was_not_given_is_reported() {
    let mut res = resources();
    res.secrets.retain(|s| s.name != "ca");
    match static_bootstrap(&res) {
        Err(BootstrapError::MissingSecret { owner, secret }) => {
            assert_eq!(owner, "listener `lds_ingress_0.0.0.0_15000`");
            assert_eq!(secret, "ca");
        }
        other => panic!("expected MissingSecret, got {other:?}"),
    }
}

#[test]
fn envoy_rejects_a_key_that_is_not_pem() {
    meshplane_testsupport::binaries::envoy();
    let mut res = resources();
    let broken = json!({"name": "cert", "tls_certificate": {
        "certificate_chain": {"inline_string": CERT},
        "private_key": {"inline_string": "not a key"}
    }});
    res.secrets[0] = from_json(&broken).expect("broken secret");
    match check(&res) {
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.contains("private key"),
                "Envoy should complain about the key:\n{text}"
            );
        }
        Ok(()) => panic!("Envoy accepted a secret whose private key is not PEM"),
    }
}
