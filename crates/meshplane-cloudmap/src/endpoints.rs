//! Discovered instances -> the EDS `ClusterLoadAssignment` of one cluster,
//! with the address family chosen as the App Mesh user guide's "IP version
//! preference" table says for Cloud Map:
//!
//! | preference     | address used                                    |
//! |----------------|-------------------------------------------------|
//! | (default)      | `AWS_INSTANCE_IPV4` if present, else `..._IPV6`  |
//! | IPv4_PREFERRED | `AWS_INSTANCE_IPV4` if present, else `..._IPV6`  |
//! | IPv6_PREFERRED | `AWS_INSTANCE_IPV6` if present, else `..._IPV4`  |
//! | IPv4_ONLY      | `AWS_INSTANCE_IPV4` only; no endpoint otherwise  |
//! | IPv6_ONLY      | `AWS_INSTANCE_IPV6` only; no endpoint otherwise  |
//!
//! The port is `AWS_INSTANCE_PORT`, else the cluster's listener port.

use std::collections::BTreeSet;
use std::net::IpAddr;

use envoy_types::pb::envoy::config::core::v3::{address, socket_address, Address, SocketAddress};
use envoy_types::pb::envoy::config::endpoint::v3::{
    lb_endpoint, ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints,
};
use meshplane_spec::common::IpPreference;
use meshplane_translate::CloudMapQuery;

use crate::query::{DiscoveredInstance, QueryState};

/// The address an instance is reached at under `preference` (`None`: the
/// instance has no address of an allowed family, it gets no endpoint).
pub fn address_for(
    instance: &DiscoveredInstance,
    preference: Option<IpPreference>,
) -> Option<IpAddr> {
    let v4 = instance.ipv4.map(IpAddr::V4);
    let v6 = instance.ipv6.map(IpAddr::V6);
    match preference {
        None | Some(IpPreference::Ipv4Preferred) => v4.or(v6),
        Some(IpPreference::Ipv6Preferred) => v6.or(v4),
        Some(IpPreference::Ipv4Only) => v4,
        Some(IpPreference::Ipv6Only) => v6,
    }
}

/// The endpoints of EDS cluster `cluster_name`, filled from what Cloud Map
/// answered to `query`. `None` while nothing is known yet (the caller keeps
/// the cluster's empty or last assignment); `Some` with no endpoint only
/// when Cloud Map really answered with no usable instance. Endpoints are in
/// instance-id order; an address:port already used by an earlier instance
/// is left out.
pub fn endpoints_for(
    query: &CloudMapQuery,
    state: &QueryState,
    cluster_name: &str,
) -> Option<ClusterLoadAssignment> {
    let instances = state.instances.as_ref()?;
    let mut seen = BTreeSet::new();
    let lb_endpoints: Vec<LbEndpoint> = instances
        .iter()
        .filter_map(|i| {
            let ip = address_for(i, query.ip_preference)?;
            let port = i.port.map_or(query.port, u32::from);
            seen.insert((ip, port)).then(|| lb_endpoint(ip, port))
        })
        .collect();
    let endpoints = if lb_endpoints.is_empty() {
        Vec::new()
    } else {
        vec![LocalityLbEndpoints {
            lb_endpoints,
            ..Default::default()
        }]
    };
    Some(ClusterLoadAssignment {
        cluster_name: cluster_name.to_owned(),
        endpoints,
        ..Default::default()
    })
}

fn lb_endpoint(ip: IpAddr, port: u32) -> LbEndpoint {
    LbEndpoint {
        host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
            address: Some(Address {
                address: Some(address::Address::SocketAddress(SocketAddress {
                    address: ip.to_string(),
                    port_specifier: Some(socket_address::PortSpecifier::PortValue(port)),
                    ..Default::default()
                })),
            }),
            ..Default::default()
        })),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use meshplane_spec::identity::{ResourceId, ResourceKind};

    use super::*;

    fn instance(id: &str, attrs: &[(&str, &str)]) -> DiscoveredInstance {
        let attributes: BTreeMap<String, String> = attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        DiscoveredInstance::from_attributes(id, attributes)
    }

    fn query(pref: Option<IpPreference>) -> CloudMapQuery {
        CloudMapQuery {
            namespace_name: "apps.local".into(),
            service_name: "svc".into(),
            attributes: Vec::new(),
            ip_preference: pref,
            port: 8080,
            virtual_node: ResourceId::new("m", "111122223333", ResourceKind::VirtualNode, "n"),
        }
    }

    fn addresses(cla: &ClusterLoadAssignment) -> Vec<String> {
        cla.endpoints
            .iter()
            .flat_map(|l| &l.lb_endpoints)
            .map(|e| {
                let Some(lb_endpoint::HostIdentifier::Endpoint(ep)) = &e.host_identifier else {
                    panic!("endpoint without address: {e:?}");
                };
                let Some(address::Address::SocketAddress(sa)) =
                    ep.address.as_ref().and_then(|a| a.address.as_ref())
                else {
                    panic!("endpoint without socket address: {ep:?}");
                };
                let Some(socket_address::PortSpecifier::PortValue(port)) = sa.port_specifier else {
                    panic!("no port: {sa:?}");
                };
                format!("{}|{port}", sa.address)
            })
            .collect()
    }

    fn state(instances: Vec<DiscoveredInstance>) -> QueryState {
        QueryState {
            instances: Some(Arc::new(instances)),
            ..Default::default()
        }
    }

    fn both() -> Vec<DiscoveredInstance> {
        vec![
            instance(
                "a",
                &[
                    ("AWS_INSTANCE_IPV4", "10.0.0.1"),
                    ("AWS_INSTANCE_IPV6", "2001:db8::1"),
                ],
            ),
            instance("b", &[("AWS_INSTANCE_IPV4", "10.0.0.2")]),
            instance(
                "c",
                &[
                    ("AWS_INSTANCE_IPV6", "2001:db8::3"),
                    ("AWS_INSTANCE_PORT", "9090"),
                ],
            ),
        ]
    }

    fn render(pref: Option<IpPreference>) -> Vec<String> {
        let cla = endpoints_for(&query(pref), &state(both()), "cds_x").expect("known");
        assert_eq!(cla.cluster_name, "cds_x");
        addresses(&cla)
    }

    #[test]
    fn preference_table_of_the_user_guide() {
        let v4_first = vec!["10.0.0.1|8080", "10.0.0.2|8080", "2001:db8::3|9090"];
        assert_eq!(render(None), v4_first);
        assert_eq!(render(Some(IpPreference::Ipv4Preferred)), v4_first);
        assert_eq!(
            render(Some(IpPreference::Ipv6Preferred)),
            vec!["2001:db8::1|8080", "10.0.0.2|8080", "2001:db8::3|9090"]
        );
        assert_eq!(
            render(Some(IpPreference::Ipv4Only)),
            vec!["10.0.0.1|8080", "10.0.0.2|8080"]
        );
        assert_eq!(
            render(Some(IpPreference::Ipv6Only)),
            vec!["2001:db8::1|8080", "2001:db8::3|9090"]
        );
    }

    #[test]
    fn unknown_state_gives_none_and_an_empty_answer_gives_no_endpoints() {
        assert_eq!(
            endpoints_for(&query(None), &QueryState::default(), "c"),
            None
        );
        let cla = endpoints_for(&query(None), &state(Vec::new()), "c").expect("known");
        assert!(cla.endpoints.is_empty());
        // IPv6_ONLY with IPv4-only instances: known, but no endpoint.
        let v4 = vec![instance("b", &[("AWS_INSTANCE_IPV4", "10.0.0.2")])];
        let cla =
            endpoints_for(&query(Some(IpPreference::Ipv6Only)), &state(v4), "c").expect("known");
        assert!(cla.endpoints.is_empty());
    }

    #[test]
    fn bad_attributes_fall_back_or_drop_and_duplicates_collapse() {
        let instances = vec![
            instance(
                "a",
                &[
                    ("AWS_INSTANCE_IPV4", "not-an-ip"),
                    ("AWS_INSTANCE_PORT", "x"),
                ],
            ),
            instance(
                "b",
                &[
                    ("AWS_INSTANCE_IPV4", " 10.0.0.2 "),
                    ("AWS_INSTANCE_PORT", "0"),
                ],
            ),
            instance("c", &[("AWS_INSTANCE_IPV4", "10.0.0.2")]),
            instance(
                "d",
                &[
                    ("AWS_INSTANCE_IPV4", "10.0.0.2"),
                    ("AWS_INSTANCE_PORT", "81"),
                ],
            ),
        ];
        let cla = endpoints_for(&query(None), &state(instances), "c").expect("known");
        assert_eq!(addresses(&cla), vec!["10.0.0.2|8080", "10.0.0.2|81"]);
    }
}
