//! Drives one ADS stream (state of the world or delta, chosen by the first
//! byte) with an arbitrary sequence of requests, snapshot changes and
//! drains: any sequence must end in responses or a status, never a panic,
//! and the stream must keep its own promises (every response has a fresh,
//! non-empty nonce and a known type).
#![no_main]

use std::collections::{BTreeSet, HashMap};

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster};
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret;
use envoy_types::pb::envoy::service::discovery::v3::{DeltaDiscoveryRequest, DiscoveryRequest};
use envoy_types::pb::google::rpc::Status;
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use meshplane_xds::server::fuzzing::{Sent, StreamDriver};
use meshplane_xds::{ResourceInterner, ResourceType, Snapshot, Variant};

const NAMES: [&str; 7] = ["c1", "c2", "l1", "r1", "s1", "*", "zzz"];
const TYPES: [ResourceType; 5] = [
    ResourceType::Listener,
    ResourceType::Cluster,
    ResourceType::Route,
    ResourceType::Endpoint,
    ResourceType::Secret,
];

fn snapshot(interner: &ResourceInterner, which: u8) -> Snapshot {
    let mut b = Snapshot::builder(interner);
    let clusters: &[&str] = if which == 0 { &["c1"] } else { &["c1", "c2"] };
    for c in clusters {
        let cluster = Cluster {
            name: (*c).into(),
            cluster_discovery_type: Some(cluster::ClusterDiscoveryType::Type(
                cluster::DiscoveryType::Eds as i32,
            )),
            ..Default::default()
        };
        b.add_message(ResourceType::Cluster, c, &cluster).unwrap();
        let cla = ClusterLoadAssignment {
            cluster_name: format!("{c}{which}").chars().take(2).collect(),
            ..Default::default()
        };
        b.add_message(ResourceType::Endpoint, c, &cla).unwrap();
    }
    let listener = Listener {
        name: "l1".into(),
        stat_prefix: format!("v{which}"),
        ..Default::default()
    };
    b.add_message(ResourceType::Listener, "l1", &listener).unwrap();
    if which == 1 {
        let route = RouteConfiguration {
            name: "r1".into(),
            ..Default::default()
        };
        b.add_message(ResourceType::Route, "r1", &route).unwrap();
        let secret = Secret {
            name: "s1".into(),
            ..Default::default()
        };
        b.add_message(ResourceType::Secret, "s1", &secret).unwrap();
    }
    b.build()
}

fn type_url(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=6)? {
        0..=4 => TYPES[u.int_in_range(0..=4)?].type_url().to_owned(),
        5 => String::new(),
        _ => "type.googleapis.com/not.a.Type".to_owned(),
    })
}

fn names(u: &mut Unstructured<'_>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for n in NAMES {
        if u.ratio(1, 3)? {
            out.push(n.to_owned());
        }
    }
    Ok(out)
}

fn pick(u: &mut Unstructured<'_>, seen: &[String]) -> Result<String> {
    Ok(match u.int_in_range(0..=3)? {
        0 => String::new(),
        1 => "garbage".to_owned(),
        _ if seen.is_empty() => String::new(),
        _ => seen[u.int_in_range(0..=seen.len() - 1)?].clone(),
    })
}

fn error(u: &mut Unstructured<'_>) -> Result<Option<Status>> {
    Ok(u.ratio(1, 4)?.then(|| Status {
        code: 3,
        message: "rejected".into(),
        details: Vec::new(),
    }))
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let interner = ResourceInterner::new();
    let variant = if u.arbitrary::<bool>()? {
        Variant::Sotw
    } else {
        Variant::Delta
    };
    let mut driver = StreamDriver::new(variant, "mesh/m/virtualNode/n", snapshot(&interner, 0));
    let mut nonces: Vec<String> = Vec::new();
    let mut versions: Vec<String> = Vec::new();
    let mut seen_nonces = BTreeSet::new();
    for _ in 0..u.int_in_range(1..=40)? {
        let op = u.int_in_range(0..=3)?;
        let ended = match op {
            0 => driver
                .sotw_request(DiscoveryRequest {
                    version_info: pick(u, &versions)?,
                    resource_names: names(u)?,
                    type_url: type_url(u)?,
                    response_nonce: pick(u, &nonces)?,
                    error_detail: error(u)?,
                    ..Default::default()
                })
                .is_err(),
            1 => {
                let mut initial = HashMap::new();
                if u.ratio(1, 4)? {
                    initial.insert("c1".to_owned(), pick(u, &versions)?);
                }
                driver
                    .delta_request(DeltaDiscoveryRequest {
                        type_url: type_url(u)?,
                        resource_names_subscribe: names(u)?,
                        resource_names_unsubscribe: names(u)?,
                        initial_resource_versions: initial,
                        response_nonce: pick(u, &nonces)?,
                        error_detail: error(u)?,
                        ..Default::default()
                    })
                    .is_err()
            }
            2 => {
                driver.snapshot(snapshot(&interner, u.int_in_range(0..=1)?));
                false
            }
            _ => {
                for sent in driver.drain(u.int_in_range(1..=8)?) {
                    let (nonce, type_url, version) = match sent {
                        Sent::Sotw(r) => (r.nonce, r.type_url, r.version_info),
                        Sent::Delta(r) => (r.nonce, r.type_url, r.system_version_info),
                    };
                    assert!(!nonce.is_empty(), "a response without a nonce");
                    assert!(seen_nonces.insert(nonce.clone()), "nonce {nonce} sent twice");
                    assert!(
                        TYPES.iter().any(|t| t.type_url() == type_url),
                        "a response of unknown type {type_url}"
                    );
                    nonces.push(nonce);
                    versions.push(version);
                }
                false
            }
        };
        if ended {
            // The server ends the stream with that status; nothing follows.
            return Ok(());
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
