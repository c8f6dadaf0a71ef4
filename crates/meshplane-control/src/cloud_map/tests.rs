//! The safety rules of filling a proxy's Cloud Map clusters.

use std::collections::BTreeMap;
use std::sync::Arc;

use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use meshplane_cloudmap::{DiscoveredInstance, QueryKey, QueryState, QueryStates};
use meshplane_spec::{ResourceId, ResourceKind};
use meshplane_translate::{CloudMapQuery, ProxyResources, Translation};
use meshplane_xds::{ProxyKey, ResourceInterner};

use super::{CloudMapFeed, CloudMapSettings};
use crate::served::{Served, ServedProxy};
use crate::served_translation::ServedTranslation;

const CLUSTER: &str = "cds_egress_m_backend_http_8080";

fn translation() -> Translation {
    let query = CloudMapQuery {
        namespace_name: "ns.local".into(),
        service_name: "backend".into(),
        attributes: vec![("version".into(), "v2".into())],
        ip_preference: None,
        port: 8080,
        virtual_node: ResourceId::new("m", "111122223333", ResourceKind::VirtualNode, "backend"),
    };
    Translation {
        resources: ProxyResources {
            endpoints: vec![
                ClusterLoadAssignment {
                    cluster_name: CLUSTER.into(),
                    ..Default::default()
                },
                ClusterLoadAssignment {
                    cluster_name: "cds_other".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        },
        cloud_map: BTreeMap::from([(CLUSTER.to_owned(), query)]),
        ..Default::default()
    }
}

fn key_of(t: &Translation) -> QueryKey {
    QueryKey::of(&t.cloud_map[CLUSTER])
}

fn states(t: &Translation, state: QueryState) -> Arc<QueryStates> {
    Arc::new(QueryStates::from([(key_of(t), state)]))
}

fn known(ips: &[&str], error: Option<&str>) -> QueryState {
    let instances = ips
        .iter()
        .enumerate()
        .map(|(n, ip)| {
            DiscoveredInstance::from_attributes(
                format!("i{n}"),
                BTreeMap::from([("AWS_INSTANCE_IPV4".to_owned(), (*ip).to_owned())]),
            )
        })
        .collect();
    QueryState {
        instances: Some(Arc::new(instances)),
        last_error: error.map(str::to_owned),
        ..Default::default()
    }
}

/// The number of endpoints served for the Cloud Map cluster, and for the
/// other one (a cluster not filled keeps the translation's empty assignment).
fn counts(filled: &[ClusterLoadAssignment]) -> (usize, usize) {
    let n = |name: &str| {
        filled
            .iter()
            .find(|c| c.cluster_name == name)
            .map_or(0, |c| {
                c.endpoints.iter().map(|l| l.lb_endpoints.len()).sum()
            })
    };
    (n(CLUSTER), n("cds_other"))
}

#[test]
fn unknown_keeps_the_last_assignment_and_errors_keep_the_last_instances() {
    let feed = CloudMapFeed::new(CloudMapSettings::default());
    let t = translation();
    let proxy = ProxyKey::new("arn:aws:appmesh:us-west-2:111122223333:mesh/m/virtualNode/client");

    // Nothing known yet: the translation's empty assignment.
    let r = feed.fill(&proxy, &t.cloud_map, &QueryStates::new());
    assert_eq!(counts(&r), (0, 0));

    let r = feed.fill(
        &proxy,
        &t.cloud_map,
        &states(&t, known(&["10.0.0.1", "10.0.0.2"], None)),
    );
    assert_eq!(counts(&r), (2, 0));
    assert_eq!(r[0].cluster_name, CLUSTER);

    // The query lost its state (a new filter, a restarted source): kept.
    let r = feed.fill(&proxy, &t.cloud_map, &QueryStates::new());
    assert_eq!(counts(&r), (2, 0));
    let r = feed.fill(&proxy, &t.cloud_map, &states(&t, QueryState::default()));
    assert_eq!(counts(&r), (2, 0));

    // Failing with the last instances kept by the source: still served.
    let r = feed.fill(
        &proxy,
        &t.cloud_map,
        &states(&t, known(&["10.0.0.1"], Some("throttled"))),
    );
    assert_eq!(counts(&r), (1, 0));

    // Cloud Map answered with no instance: the cluster is emptied.
    let r = feed.fill(&proxy, &t.cloud_map, &states(&t, known(&[], None)));
    assert_eq!(counts(&r), (0, 0));

    // A proxy without Cloud Map clusters is served as translated.
    assert!(feed
        .fill(&proxy, &BTreeMap::new(), &QueryStates::new())
        .is_empty());
}

#[test]
fn served_set_gives_the_queries_and_forgets_proxies_no_longer_served() {
    let feed = CloudMapFeed::new(CloudMapSettings::default());
    let t = translation();
    let proxy = ProxyKey::new("arn:aws:appmesh:us-west-2:111122223333:mesh/m/virtualNode/client");
    feed.fill(
        &proxy,
        &t.cloud_map,
        &states(&t, known(&["10.0.0.1"], None)),
    );

    let mut served = Served::default();
    served.proxies.insert(
        proxy.clone(),
        ServedProxy {
            id: ResourceId::new("m", "111122223333", ResourceKind::VirtualNode, "client"),
            translation: Arc::new(
                ServedTranslation::encode(t.clone(), &ResourceInterner::new()).unwrap(),
            ),
        },
    );
    feed.set_served(&served);
    assert_eq!(
        feed.queries().iter().cloned().collect::<Vec<_>>(),
        vec![key_of(&t)]
    );
    // Still served: the last assignment is kept.
    let r = feed.fill(&proxy, &t.cloud_map, &QueryStates::new());
    assert_eq!(counts(&r), (1, 0));

    feed.set_served(&Served::default());
    assert!(feed.queries().is_empty());
    // Gone and back: starts from the translation's empty assignment.
    let r = feed.fill(&proxy, &t.cloud_map, &QueryStates::new());
    assert_eq!(counts(&r), (0, 0));
}

#[test]
fn changes_are_the_queries_whose_instances_moved() {
    let feed = CloudMapFeed::new(CloudMapSettings::default());
    let t = translation();
    let a = states(&t, known(&["10.0.0.1"], None));
    assert_eq!(feed.changed_since_applied(&a).len(), 1);
    assert!(feed.changed_since_applied(&a).is_empty());
    // An error alone (instances kept) is no change to push.
    let failing = states(&t, known(&["10.0.0.1"], Some("down")));
    assert!(feed.changed_since_applied(&failing).is_empty());
    let b = states(&t, known(&["10.0.0.1", "10.0.0.2"], None));
    assert_eq!(
        feed.changed_since_applied(&b)
            .into_iter()
            .collect::<Vec<_>>(),
        vec![key_of(&t)]
    );
}
