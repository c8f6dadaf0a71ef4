//! Network and listener filters shared by the ingress and egress listeners:
//! the HTTP connection manager (RDS over ADS), the TCP proxy and the
//! listener filters.

use envoy_types::pb::envoy::config::accesslog::v3::AccessLog;
use envoy_types::pb::envoy::config::listener::v3::{
    filter, listener_filter, listener_filter_chain_match_predicate, Filter, ListenerFilter,
    ListenerFilterChainMatchPredicate,
};
use envoy_types::pb::envoy::extensions::filters::http::router::v3::Router;
use envoy_types::pb::envoy::extensions::filters::listener::original_dst::v3::OriginalDst;
use envoy_types::pb::envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    http_connection_manager, http_filter, HttpConnectionManager, HttpFilter, Rds,
};
use envoy_types::pb::envoy::extensions::filters::network::tcp_proxy::v3::{tcp_proxy, TcpProxy};
use envoy_types::pb::envoy::r#type::v3::Int32Range;
use envoy_types::pb::google::protobuf::{BoolValue, Duration};
use meshplane_spec::common::Protocol;

use crate::proto::{ads_config_source, any};

pub const HTTP_CONNECTION_MANAGER: &str = "envoy.filters.network.http_connection_manager";
pub const TCP_PROXY: &str = "envoy.filters.network.tcp_proxy";
pub const ROUTER: &str = "envoy.filters.http.router";
pub const ORIGINAL_DST: &str = "envoy.filters.listener.original_dst";
pub const TLS_INSPECTOR: &str = "envoy.filters.listener.tls_inspector";

/// An HTTP connection manager whose routes come from RDS `route_config_name`.
/// Websocket upgrades are allowed on http listeners (user guide: "The http
/// listener permits connection transition to websockets").
pub fn http_connection_manager(
    stat_prefix: &str,
    route_config_name: &str,
    protocol: Protocol,
    access_log: Vec<AccessLog>,
) -> Filter {
    http_connection_manager_with(
        stat_prefix,
        route_config_name,
        protocol,
        access_log,
        Vec::new(),
    )
}

/// [`http_connection_manager`] with `leading` HTTP filters before the router.
pub fn http_connection_manager_with(
    stat_prefix: &str,
    route_config_name: &str,
    protocol: Protocol,
    access_log: Vec<AccessLog>,
    leading: Vec<HttpFilter>,
) -> Filter {
    let upgrade_configs = if protocol == Protocol::Http {
        vec![http_connection_manager::UpgradeConfig {
            upgrade_type: "websocket".to_owned(),
            enabled: Some(BoolValue { value: true }),
            ..Default::default()
        }]
    } else {
        Vec::new()
    };
    let hcm = HttpConnectionManager {
        stat_prefix: stat_prefix.to_owned(),
        route_specifier: Some(http_connection_manager::RouteSpecifier::Rds(Rds {
            config_source: Some(ads_config_source()),
            route_config_name: route_config_name.to_owned(),
        })),
        http_filters: leading
            .into_iter()
            .chain([HttpFilter {
                name: ROUTER.to_owned(),
                config_type: Some(http_filter::ConfigType::TypedConfig(
                    any(&Router::default()),
                )),
                ..Default::default()
            }])
            .collect(),
        upgrade_configs,
        normalize_path: Some(BoolValue { value: true }),
        merge_slashes: true,
        path_with_escaped_slashes_action:
            http_connection_manager::PathWithEscapedSlashesAction::KeepUnchanged as i32,
        access_log,
        // App Mesh served `"tracing": {}` on every HCM: tracing is on, with
        // the provider from the bootstrap (X-Ray, Jaeger, Datadog or a
        // tracing config file, as `meshplane bootstrap` writes it). Without
        // a bootstrap tracer Envoy traces nothing.
        tracing: Some(http_connection_manager::Tracing::default()),
        ..Default::default()
    };
    network_filter(HTTP_CONNECTION_MANAGER, &hcm)
}

/// Where a TCP proxy sends connections.
#[derive(Debug, Clone)]
pub enum TcpTarget {
    Cluster(String),
    /// `(cluster, weight)` pairs, in route order.
    Weighted(Vec<(String, u32)>),
}

pub fn tcp_proxy(
    stat_prefix: &str,
    target: TcpTarget,
    idle_timeout: Option<Duration>,
    access_log: Vec<AccessLog>,
) -> Filter {
    let cluster_specifier = match target {
        TcpTarget::Cluster(name) => tcp_proxy::ClusterSpecifier::Cluster(name),
        TcpTarget::Weighted(clusters) if clusters.len() == 1 => {
            tcp_proxy::ClusterSpecifier::Cluster(clusters.into_iter().map(|(n, _)| n).collect())
        }
        TcpTarget::Weighted(clusters) => {
            tcp_proxy::ClusterSpecifier::WeightedClusters(tcp_proxy::WeightedCluster {
                clusters: clusters
                    .into_iter()
                    .map(
                        |(name, weight)| tcp_proxy::weighted_cluster::ClusterWeight {
                            name,
                            weight,
                            ..Default::default()
                        },
                    )
                    .collect(),
            })
        }
    };
    let proxy = TcpProxy {
        stat_prefix: stat_prefix.to_owned(),
        cluster_specifier: Some(cluster_specifier),
        idle_timeout,
        access_log,
        ..Default::default()
    };
    network_filter(TCP_PROXY, &proxy)
}

fn network_filter<M: prost::Message + prost::Name>(name: &str, msg: &M) -> Filter {
    Filter {
        name: name.to_owned(),
        config_type: Some(filter::ConfigType::TypedConfig(any(msg))),
    }
}

pub fn original_dst() -> ListenerFilter {
    ListenerFilter {
        name: ORIGINAL_DST.to_owned(),
        config_type: Some(listener_filter::ConfigType::TypedConfig(any(
            &OriginalDst::default(),
        ))),
        filter_disabled: None,
    }
}

/// The TLS inspector (reads SNI for `server_names` matches), enabled only on
/// `sni_ports`: on other ports it would wait for a client hello that
/// server-first protocols never send.
pub fn tls_inspector(sni_ports: &[u32]) -> ListenerFilter {
    use listener_filter_chain_match_predicate::{MatchSet, Rule};
    let port_rule = |p: u32| ListenerFilterChainMatchPredicate {
        rule: Some(Rule::DestinationPortRange(Int32Range {
            start: p as i32,
            end: p as i32 + 1,
        })),
    };
    let enabled_on = match sni_ports {
        [one] => port_rule(*one),
        many => ListenerFilterChainMatchPredicate {
            rule: Some(Rule::OrMatch(MatchSet {
                rules: many.iter().map(|p| port_rule(*p)).collect(),
            })),
        },
    };
    ListenerFilter {
        name: TLS_INSPECTOR.to_owned(),
        config_type: Some(listener_filter::ConfigType::TypedConfig(any(
            &TlsInspector::default(),
        ))),
        filter_disabled: Some(ListenerFilterChainMatchPredicate {
            rule: Some(Rule::NotMatch(Box::new(enabled_on))),
        }),
    }
}
