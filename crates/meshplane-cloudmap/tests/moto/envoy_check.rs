//! From App Mesh specs to endpoints Envoy accepts: a virtual node discovered
//! through Cloud Map is translated, its query answered by moto, the EDS
//! assignment filled with `endpoints_for`, and the proxy's whole
//! configuration validated by the real Envoy (`envoy --mode validate`).

use std::collections::BTreeSet;

use meshplane_cloudmap::{endpoints_for, CloudMapSource, QueryKey};
use meshplane_spec::{AnySpec, MeshModel, ResourceId, ResourceKind};
use meshplane_testsupport::envoy_check;
use meshplane_translate::{translate_virtual_node, TranslateOptions};
use serde_json::json;

use crate::fixtures::{client, create_namespace, fast_config, wait_states};
use crate::server::MotoServer;
use crate::LIMIT;

const OWNER: &str = "111122223333";

fn de<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).expect("spec parses")
}

fn model() -> MeshModel {
    let mut m = MeshModel::default();
    let id = |kind, name: &str| ResourceId::new("cm", OWNER, kind, name);
    m.insert(ResourceId::mesh("cm", OWNER), AnySpec::Mesh(de(json!({}))))
        .expect("mesh");
    m.insert(
        id(ResourceKind::VirtualNode, "orders"),
        AnySpec::VirtualNode(de(json!({
            "listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}],
            "serviceDiscovery": {"awsCloudMap": {
                "namespaceName": "cm.local", "serviceName": "orders",
                "ipPreference": "IPv6_PREFERRED",
                "attributes": [{"key": "stage", "value": "prod"}]
            }}
        }))),
    )
    .expect("orders");
    m.insert(
        id(ResourceKind::VirtualNode, "frontend"),
        AnySpec::VirtualNode(de(json!({
            "listeners": [{"portMapping": {"port": 80, "protocol": "http"}}],
            "serviceDiscovery": {"awsCloudMap": {"namespaceName": "cm.local", "serviceName": "frontend"}},
            "backends": [{"virtualService": {"virtualServiceName": "orders.cm.local"}}]
        }))),
    )
    .expect("frontend");
    m.insert(
        id(ResourceKind::VirtualService, "orders.cm.local"),
        AnySpec::VirtualService(de(json!({
            "provider": {"virtualNode": {"virtualNodeName": "orders"}}
        }))),
    )
    .expect("service");
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn translated_cloud_map_cluster_filled_from_moto_is_accepted_by_envoy() {
    let moto = MotoServer::start();
    let client = client(&moto.url()).await;
    let mut ns = create_namespace(&client, "cm.local").await;
    ns.create_service(&client, "orders").await;
    ns.register(
        &client,
        "orders",
        "o-dual",
        &[
            ("AWS_INSTANCE_IPV4", "10.9.0.1"),
            ("AWS_INSTANCE_IPV6", "2001:db8::91"),
            ("stage", "prod"),
        ],
    )
    .await;
    ns.register(
        &client,
        "orders",
        "o-v4",
        &[
            ("AWS_INSTANCE_IPV4", "10.9.0.2"),
            ("AWS_INSTANCE_PORT", "9090"),
            ("stage", "prod"),
        ],
    )
    .await;
    ns.register(
        &client,
        "orders",
        "o-dev",
        &[("AWS_INSTANCE_IPV4", "10.9.0.3"), ("stage", "dev")],
    )
    .await;

    let model = model();
    let graph = model.mesh("cm").expect("mesh cm");
    let mut t = translate_virtual_node(graph, "frontend", &TranslateOptions::default());
    assert_eq!(
        t.cloud_map.len(),
        1,
        "one Cloud Map cluster: {:?}",
        t.cloud_map
    );
    let (cluster, query) = t
        .cloud_map
        .iter()
        .next()
        .map(|(c, q)| (c.clone(), q.clone()))
        .expect("query");
    let key = QueryKey::of(&query);

    let source = CloudMapSource::spawn(fast_config(), client.clone());
    let mut rx = source.subscribe();
    source.set_queries(BTreeSet::from([key.clone()]));
    wait_states(&mut rx, LIMIT, "orders discovered", |s| {
        s.get(&key)
            .and_then(|st| st.instances.as_ref())
            .is_some_and(|i| i.len() == 2)
    })
    .await;
    let states = source.states();
    let filled = endpoints_for(&query, &states[&key], &cluster).expect("known");
    let slot = t
        .resources
        .endpoints
        .iter_mut()
        .find(|e| e.cluster_name == cluster)
        .expect("the translation emits the cluster's empty assignment");
    assert!(slot.endpoints.is_empty());
    *slot = filled;
    let json = meshplane_envoy::to_json(slot).expect("json");
    let text = json.to_string();
    assert!(
        text.contains("2001:db8::91") && text.contains("10.9.0.2") && text.contains("9090"),
        "{text}"
    );
    assert!(
        !text.contains("10.9.0.3"),
        "stage=dev must be filtered out: {text}"
    );

    envoy_check::check(&t.resources.to_xds())
        .unwrap_or_else(|e| panic!("Envoy rejected the configuration: {e}"));
}
