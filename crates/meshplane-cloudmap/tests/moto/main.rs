//! CloudMapSource against a real AWS-API-compatible server (moto_server),
//! reached through `client_from_env` with an endpoint override (so the
//! SDK's `data-` host prefix must be dropped for the calls to arrive).
//!
//! Figures (time to notice a change, calls per poll) are printed; run with
//! `--nocapture` to see them.

mod envoy_check;
mod fixtures;
mod server;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use meshplane_cloudmap::{endpoints_for, CloudMapSource, QueryKey, QueryStates};
use meshplane_spec::common::IpPreference;
use meshplane_spec::identity::{ResourceId, ResourceKind};
use meshplane_translate::CloudMapQuery;

use fixtures::{client, create_namespace, fast_config, wait_states, wait_until};
use server::MotoServer;

const LIMIT: Duration = Duration::from_secs(30);

fn key(ns: &str, svc: &str, attrs: &[(&str, &str)]) -> QueryKey {
    QueryKey::new(
        ns,
        svc,
        attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    )
}

fn query(k: &QueryKey, pref: Option<IpPreference>, port: u32) -> CloudMapQuery {
    CloudMapQuery {
        namespace_name: k.namespace.clone(),
        service_name: k.service.clone(),
        attributes: k.attributes.clone(),
        ip_preference: pref,
        port,
        virtual_node: ResourceId::new("mesh", "111122223333", ResourceKind::VirtualNode, "client"),
    }
}

fn ids(states: &QueryStates, k: &QueryKey) -> Option<Vec<String>> {
    let s = states.get(k)?;
    let instances = s.instances.as_ref()?;
    Some(instances.iter().map(|i| i.instance_id.clone()).collect())
}

fn has_ids(states: &QueryStates, k: &QueryKey, want: &[&str]) -> bool {
    ids(states, k).is_some_and(|got| got == want)
}

fn endpoint_addresses(
    q: &CloudMapQuery,
    states: &QueryStates,
    k: &QueryKey,
) -> Option<Vec<String>> {
    use envoy_types::pb::envoy::config::core::v3::{address, socket_address};
    use envoy_types::pb::envoy::config::endpoint::v3::lb_endpoint;
    let cla = endpoints_for(q, states.get(k)?, "cds_egress_mesh_svc_http_8080")?;
    assert_eq!(cla.cluster_name, "cds_egress_mesh_svc_http_8080");
    Some(
        cla.endpoints
            .iter()
            .flat_map(|l| &l.lb_endpoints)
            .filter_map(|e| match &e.host_identifier {
                Some(lb_endpoint::HostIdentifier::Endpoint(ep)) => ep.address.clone(),
                _ => None,
            })
            .filter_map(|a| match a.address {
                Some(address::Address::SocketAddress(sa)) => match sa.port_specifier {
                    Some(socket_address::PortSpecifier::PortValue(p)) => {
                        Some(format!("{}|{p}", sa.address))
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_and_deregister_change_the_state() {
    let moto = MotoServer::start();
    let client = client(&moto.url()).await;
    let mut ns = create_namespace(&client, "apps.local").await;
    ns.create_service(&client, "colors").await;

    let source = CloudMapSource::spawn(fast_config(), client.clone());
    let mut rx = source.subscribe();
    let k = key("apps.local", "colors", &[]);
    source.set_queries(BTreeSet::from([k.clone()]));

    // Known and empty: Cloud Map really answered with no instance.
    wait_states(&mut rx, LIMIT, "first answer (empty)", |s| {
        has_ids(s, &k, &[])
    })
    .await;
    let q = query(&k, None, 8080);
    assert_eq!(endpoint_addresses(&q, &source.states(), &k), Some(vec![]));

    ns.register(
        &client,
        "colors",
        "red-1",
        &[("AWS_INSTANCE_IPV4", "10.0.0.1")],
    )
    .await;
    ns.register(
        &client,
        "colors",
        "red-2",
        &[
            ("AWS_INSTANCE_IPV4", "10.0.0.2"),
            ("AWS_INSTANCE_PORT", "9000"),
        ],
    )
    .await;
    let noticed = wait_states(&mut rx, LIMIT, "two registered", |s| {
        has_ids(s, &k, &["red-1", "red-2"])
    })
    .await;
    println!("figure: registration noticed after {noticed:?} (interval 200 ms ± 20 %)");
    assert_eq!(
        endpoint_addresses(&q, &source.states(), &k),
        Some(vec!["10.0.0.1|8080".to_owned(), "10.0.0.2|9000".to_owned()])
    );

    ns.deregister(&client, "colors", "red-1").await;
    let noticed = wait_states(&mut rx, LIMIT, "one deregistered", |s| {
        has_ids(s, &k, &["red-2"])
    })
    .await;
    println!("figure: deregistration noticed after {noticed:?}");
    let state = source.states()[&k].clone();
    assert!(state.last_error.is_none() && state.last_success.is_some());
    assert!(state.revision.is_some());

    // Unchanged service: polls go on with the revision check alone.
    let m0 = source.metrics();
    let svc0 = m0
        .service("apps.local", "colors")
        .expect("service metrics")
        .clone();
    wait_until(LIMIT, "five more polls", || {
        source
            .metrics()
            .service("apps.local", "colors")
            .is_some_and(|s| s.polls >= svc0.polls + 5)
    })
    .await;
    let m1 = source.metrics();
    let svc1 = m1.service("apps.local", "colors").expect("service metrics");
    assert_eq!(
        m1.discover_calls(),
        m0.discover_calls(),
        "DiscoverInstances called although the revision did not move"
    );
    assert_eq!(
        svc1.revision_calls - svc0.revision_calls,
        svc1.polls - svc0.polls
    );
    assert!(svc1.revision_api_supported);
    println!(
        "figure: {} polls, {} DiscoverInstancesRevision and {} DiscoverInstances calls in all",
        svc1.polls,
        svc1.revision_calls,
        m1.discover_calls()
    );

    // A query added later for the same service is read at once and shares
    // the service's poller; a dropped query leaves the states.
    let k2 = key("apps.local", "colors", &[("AWS_INSTANCE_PORT", "9000")]);
    source.set_queries(BTreeSet::from([k.clone(), k2.clone()]));
    wait_states(&mut rx, LIMIT, "second query", |s| {
        has_ids(s, &k2, &["red-2"])
    })
    .await;
    source.set_queries(BTreeSet::from([k2.clone()]));
    wait_states(&mut rx, LIMIT, "first query dropped", |s| {
        !s.contains_key(&k) && s.contains_key(&k2)
    })
    .await;
    let m = source.metrics();
    assert_eq!(m.services.len(), 1);
    assert_eq!(m.queries.len(), 1, "metrics follow the queries asked for");
    assert_eq!(m.queries[0].key, k2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attribute_filters_select_instances() {
    let moto = MotoServer::start();
    let client = client(&moto.url()).await;
    let mut ns = create_namespace(&client, "shop.local").await;
    ns.create_service(&client, "cart").await;
    for (id, version, zone) in [
        ("a", "v1", "z1"),
        ("b", "v1", "z2"),
        ("c", "v2", "z1"),
        ("d", "v2", "z2"),
    ] {
        let ip = format!("10.1.0.{}", u32::from(id.as_bytes()[0] - b'a' + 1));
        ns.register(
            &client,
            "cart",
            id,
            &[
                ("AWS_INSTANCE_IPV4", &ip),
                ("version", version),
                ("zone", zone),
            ],
        )
        .await;
    }
    let all = key("shop.local", "cart", &[]);
    let v1 = key("shop.local", "cart", &[("version", "v1")]);
    let v2z1 = key("shop.local", "cart", &[("zone", "z1"), ("version", "v2")]);
    let none = key("shop.local", "cart", &[("version", "v3")]);

    let source = CloudMapSource::spawn(fast_config(), client.clone());
    let mut rx = source.subscribe();
    source.set_queries(BTreeSet::from([
        all.clone(),
        v1.clone(),
        v2z1.clone(),
        none.clone(),
    ]));
    wait_states(&mut rx, LIMIT, "filtered answers", |s| {
        has_ids(s, &all, &["a", "b", "c", "d"])
            && has_ids(s, &v1, &["a", "b"])
            && has_ids(s, &v2z1, &["c"])
            && has_ids(s, &none, &[])
    })
    .await;
    assert_eq!(
        v2z1.attributes,
        vec![
            ("version".into(), "v2".into()),
            ("zone".into(), "z1".into())
        ]
    );

    // A change of attributes moves an instance between queries.
    ns.deregister(&client, "cart", "b").await;
    ns.register(
        &client,
        "cart",
        "b",
        &[
            ("AWS_INSTANCE_IPV4", "10.1.0.2"),
            ("version", "v2"),
            ("zone", "z1"),
        ],
    )
    .await;
    wait_states(&mut rx, LIMIT, "b moved to v2", |s| {
        has_ids(s, &v1, &["a"]) && has_ids(s, &v2z1, &["b", "c"])
    })
    .await;

    // Four queries of one service: one poller, one revision call per poll.
    let m = source.metrics();
    assert_eq!(m.services.len(), 1);
    assert_eq!(m.queries.len(), 4);
    let svc = &m.services[0];
    assert!(
        svc.revision_calls <= svc.polls && svc.polls - svc.revision_calls <= 1,
        "{svc:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_preference_picks_the_family_and_ipv6_only_skips_ipv4_instances() {
    let moto = MotoServer::start();
    let client = client(&moto.url()).await;
    let mut ns = create_namespace(&client, "ip.local").await;
    ns.create_service(&client, "v4").await;
    ns.create_service(&client, "dual").await;
    ns.register(&client, "v4", "i1", &[("AWS_INSTANCE_IPV4", "10.2.0.1")])
        .await;
    ns.register(&client, "v4", "i2", &[("AWS_INSTANCE_IPV4", "10.2.0.2")])
        .await;
    ns.register(
        &client,
        "dual",
        "d1",
        &[
            ("AWS_INSTANCE_IPV4", "10.3.0.1"),
            ("AWS_INSTANCE_IPV6", "2001:db8::31"),
        ],
    )
    .await;
    ns.register(
        &client,
        "dual",
        "d2",
        &[("AWS_INSTANCE_IPV6", "2001:db8::32")],
    )
    .await;

    let kv4 = key("ip.local", "v4", &[]);
    let kdual = key("ip.local", "dual", &[]);
    let source = CloudMapSource::spawn(fast_config(), client.clone());
    let mut rx = source.subscribe();
    source.set_queries(BTreeSet::from([kv4.clone(), kdual.clone()]));
    wait_states(&mut rx, LIMIT, "both services", |s| {
        has_ids(s, &kv4, &["i1", "i2"]) && has_ids(s, &kdual, &["d1", "d2"])
    })
    .await;
    let states = source.states();
    let render = |k: &QueryKey, pref| endpoint_addresses(&query(k, pref, 8080), &states, k);
    let v = |xs: &[&str]| Some(xs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());

    // IPv6_ONLY: IPv4-only instances give no endpoint at all (not their IPv4).
    assert_eq!(render(&kv4, Some(IpPreference::Ipv6Only)), v(&[]));
    assert_eq!(
        render(&kv4, Some(IpPreference::Ipv6Preferred)),
        v(&["10.2.0.1|8080", "10.2.0.2|8080"])
    );
    assert_eq!(
        render(&kdual, Some(IpPreference::Ipv6Only)),
        v(&["2001:db8::31|8080", "2001:db8::32|8080"])
    );
    assert_eq!(
        render(&kdual, Some(IpPreference::Ipv4Only)),
        v(&["10.3.0.1|8080"])
    );
    assert_eq!(
        render(&kdual, None),
        v(&["10.3.0.1|8080", "2001:db8::32|8080"])
    );
    assert_eq!(
        render(&kdual, Some(IpPreference::Ipv4Preferred)),
        v(&["10.3.0.1|8080", "2001:db8::32|8080"])
    );
    assert_eq!(
        render(&kdual, Some(IpPreference::Ipv6Preferred)),
        v(&["2001:db8::31|8080", "2001:db8::32|8080"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_instances_are_left_out_and_health_changes_seen_by_the_full_refresh() {
    let moto = MotoServer::start();
    let client = client(&moto.url()).await;
    let mut ns = create_namespace(&client, "health.local").await;
    ns.create_service_with_custom_health(&client, "web").await;
    ns.register(&client, "web", "w1", &[("AWS_INSTANCE_IPV4", "10.6.0.1")])
        .await;
    ns.register(&client, "web", "w2", &[("AWS_INSTANCE_IPV4", "10.6.0.2")])
        .await;
    ns.register(&client, "web", "w3", &[("AWS_INSTANCE_IPV4", "10.6.0.3")])
        .await;
    ns.set_health(&client, "web", "w3", false).await;

    let k = key("health.local", "web", &[]);
    let config = meshplane_cloudmap::CloudMapConfig {
        full_refresh: Some(Duration::from_millis(1000)),
        ..fast_config()
    };
    let source = CloudMapSource::spawn(config, client.clone());
    let mut rx = source.subscribe();
    source.set_queries(BTreeSet::from([k.clone()]));
    wait_states(&mut rx, LIMIT, "healthy instances only", |s| {
        has_ids(s, &k, &["w1", "w2"])
    })
    .await;
    let revision = source.states()[&k].revision;

    // Health changes do not move Cloud Map's revision: the full refresh
    // (1 s here, 30 s by default) is what notices them.
    ns.set_health(&client, "web", "w2", false).await;
    let noticed = wait_states(&mut rx, LIMIT, "w2 unhealthy", |s| has_ids(s, &k, &["w1"])).await;
    println!("figure: instance turned unhealthy noticed after {noticed:?} (full refresh 1 s)");
    ns.set_health(&client, "web", "w3", true).await;
    wait_states(&mut rx, LIMIT, "w3 healthy", |s| {
        has_ids(s, &k, &["w1", "w3"])
    })
    .await;
    assert_eq!(
        source.states()[&k].revision,
        revision,
        "the revision did not move"
    );

    // With the full refresh on, still one call per poll: the revision check
    // is skipped when the refresh reads the query anyway.
    let m0 = source.metrics();
    let s0 = m0.service("health.local", "web").expect("service").clone();
    wait_until(LIMIT, "ten more polls", || {
        source
            .metrics()
            .service("health.local", "web")
            .is_some_and(|s| s.polls >= s0.polls + 10)
    })
    .await;
    let m1 = source.metrics();
    let s1 = m1.service("health.local", "web").expect("service");
    let reads = m1.discover_calls() - m0.discover_calls();
    let checks = s1.revision_calls - s0.revision_calls;
    let polls = s1.polls - s0.polls;
    println!("figure: {polls} polls -> {checks} revision checks + {reads} full refreshes");
    assert!(reads >= 1, "a full refresh within ten polls (>= 1.6 s)");
    // A snapshot may fall between a poll's start and its call: ± 1.
    assert!(
        (checks + reads).abs_diff(polls) <= 1,
        "{polls} polls, {checks} + {reads} calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_keeps_the_last_instances_and_a_restart_flows_changes_again() {
    let mut moto = MotoServer::start();
    let client = client(&moto.url()).await;
    let mut ns = create_namespace(&client, "ops.local").await;
    ns.create_service(&client, "api").await;
    for i in 1..=3 {
        let ip = format!("10.4.0.{i}");
        ns.register(
            &client,
            "api",
            &format!("api-{i}"),
            &[("AWS_INSTANCE_IPV4", &ip)],
        )
        .await;
    }
    let k = key("ops.local", "api", &[]);
    let q = query(&k, None, 8080);
    let source = CloudMapSource::spawn(fast_config(), client.clone());
    let mut rx = source.subscribe();
    source.set_queries(BTreeSet::from([k.clone()]));
    wait_states(&mut rx, LIMIT, "three instances", |s| {
        has_ids(s, &k, &["api-1", "api-2", "api-3"])
    })
    .await;
    let before = endpoint_addresses(&q, &source.states(), &k).expect("known");
    assert_eq!(before.len(), 3);

    moto.stop();
    let noticed = wait_states(&mut rx, LIMIT, "errors recorded", |s| {
        s.get(&k).is_some_and(|st| st.last_error.is_some())
    })
    .await;
    println!("figure: outage recorded after {noticed:?}");
    wait_until(LIMIT, "three failed polls", || {
        source
            .states()
            .get(&k)
            .is_some_and(|s| s.consecutive_errors >= 3)
    })
    .await;
    let during = source.states();
    let st = &during[&k];
    assert!(has_ids(&during, &k, &["api-1", "api-2", "api-3"]), "{st:?}");
    assert_eq!(endpoint_addresses(&q, &during, &k), Some(before.clone()));
    let err = st.last_error.as_deref().expect("error");
    assert!(err.contains("DiscoverInstances"), "{err}");
    let m = source.metrics();
    let svc = m.service("ops.local", "api").expect("service");
    assert!(svc.revision_errors >= 3, "{svc:?}");
    let qm = m.query(&k).expect("query metrics");
    assert!(qm.last_error.is_some() && qm.consecutive_errors >= 3 && qm.instance_count == Some(3));

    // Same port, new server, data created again (other instances).
    moto.restart();
    let mut ns = create_namespace(&client, "ops.local").await;
    ns.create_service(&client, "api").await;
    ns.register(
        &client,
        "api",
        "api-4",
        &[("AWS_INSTANCE_IPV4", "10.4.0.4")],
    )
    .await;
    ns.register(
        &client,
        "api",
        "api-5",
        &[("AWS_INSTANCE_IPV4", "10.4.0.5")],
    )
    .await;
    let noticed = wait_states(&mut rx, LIMIT, "changes after restart", |s| {
        has_ids(s, &k, &["api-4", "api-5"])
            && s.get(&k)
                .is_some_and(|st| st.last_error.is_none() && st.consecutive_errors == 0)
    })
    .await;
    println!("figure: recovery after restart noticed {noticed:?} after the data was re-created (backoff cap 800 ms)");
    assert_eq!(
        endpoint_addresses(&q, &source.states(), &k),
        Some(vec!["10.4.0.4|8080".to_owned(), "10.4.0.5|8080".to_owned()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_proxies_share_one_call_per_service_per_poll() {
    const SERVICES: usize = 50;
    const PER_SERVICE: usize = 10;
    const PROXIES: usize = 400;
    let moto = MotoServer::start();
    let client = client(&moto.url()).await;
    let mut ns = create_namespace(&client, "scale.local").await;
    for s in 0..SERVICES {
        let svc = format!("svc-{s:02}");
        ns.create_service(&client, &svc).await;
        for i in 0..PER_SERVICE {
            let ip = format!("10.5.{s}.{}", i + 1);
            ns.register(
                &client,
                &svc,
                &format!("{svc}-{i}"),
                &[("AWS_INSTANCE_IPV4", &ip)],
            )
            .await;
        }
    }

    // Every proxy has clusters for ten services; all queries are merged.
    let mut per_proxy: Vec<Vec<CloudMapQuery>> = Vec::new();
    for p in 0..PROXIES {
        let qs = (0..10)
            .map(|j| {
                let k = key(
                    "scale.local",
                    &format!("svc-{:02}", (p * 7 + j * 5) % SERVICES),
                    &[],
                );
                query(&k, None, 8080)
            })
            .collect();
        per_proxy.push(qs);
    }
    let keys: BTreeSet<QueryKey> = per_proxy.iter().flatten().map(QueryKey::of).collect();
    assert_eq!(keys.len(), SERVICES);
    println!(
        "figure: {PROXIES} proxies, {} cluster queries -> {} distinct queries",
        per_proxy.iter().map(Vec::len).sum::<usize>(),
        keys.len()
    );

    let source = CloudMapSource::spawn(fast_config(), client.clone());
    let mut rx = source.subscribe();
    let start = std::time::Instant::now();
    source.set_queries(keys.clone());
    wait_states(&mut rx, LIMIT, "all services discovered", |s| {
        keys.iter()
            .all(|k| ids(s, k).is_some_and(|i| i.len() == PER_SERVICE))
    })
    .await;
    println!(
        "figure: {} instances over {SERVICES} services known after {:?}",
        SERVICES * PER_SERVICE,
        start.elapsed()
    );
    // Every proxy's clusters render from the shared states.
    let states = source.states();
    for qs in &per_proxy {
        for q in qs {
            let cla = endpoints_for(q, &states[&QueryKey::of(q)], "c").expect("known");
            assert_eq!(cla.endpoints[0].lb_endpoints.len(), PER_SERVICE);
        }
    }

    let m0 = source.metrics();
    let polls0: BTreeMap<String, u64> = m0
        .services
        .iter()
        .map(|s| (s.service.clone(), s.polls))
        .collect();
    wait_until(LIMIT, "five more polls of every service", || {
        source
            .metrics()
            .services
            .iter()
            .all(|s| s.polls >= polls0[&s.service] + 5)
    })
    .await;
    let m1 = source.metrics();
    assert_eq!(m1.services.len(), SERVICES);
    assert_eq!(m1.queries.len(), SERVICES);
    let mut polls = 0;
    let mut calls = 0;
    for (a, b) in m0.services.iter().zip(&m1.services) {
        assert_eq!(a.service, b.service);
        let dp = b.polls - a.polls;
        let dr = b.revision_calls - a.revision_calls;
        assert_eq!(dr, dp, "{}: one revision call per poll", b.service);
        assert_eq!(b.revision_errors, 0);
        polls += dp;
        calls += dr;
    }
    for (a, b) in m0.queries.iter().zip(&m1.queries) {
        assert_eq!(
            a.discover_calls, b.discover_calls,
            "{:?}: data unchanged",
            b.key
        );
        assert_eq!(b.discover_calls, 1, "{:?}: one read in all", b.key);
    }
    println!(
        "figure: steady state {calls} calls over {polls} service polls = {:.2} calls per service per interval",
        calls as f64 / polls as f64
    );

    // Cross-check with moto's own request log, once the source is stopped:
    // a poll between the snapshot and the stop, or a call in flight when
    // it stops, may make them differ by at most one call per service.
    let last = source.metrics();
    drop(source);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let recorded = moto.recorded_operations();
    let count = |op: &str| recorded.iter().filter(|o| *o == op).count() as u64;
    let (rev, disc) = (
        count("DiscoverInstancesRevision"),
        count("DiscoverInstances"),
    );
    let (my_rev, my_disc) = (last.revision_calls(), last.discover_calls());
    println!(
        "figure: moto received {rev} DiscoverInstancesRevision and {disc} DiscoverInstances calls; counted {my_rev} and {my_disc}"
    );
    assert_eq!(
        disc, my_disc,
        "DiscoverInstances: moto's log vs the counters"
    );
    assert_eq!(disc, SERVICES as u64);
    assert!(
        rev.abs_diff(my_rev) <= SERVICES as u64,
        "revision calls: moto received {rev}, counted {my_rev}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_cloud_map_leaves_queries_unknown_and_never_blocks() {
    // Bound but never listening: every connection is refused.
    let unreachable = meshplane_testsupport::ports::ReservedPort::new();
    let port = unreachable.port();
    let client = client(&format!("http://127.0.0.1:{port}")).await;
    let source = CloudMapSource::spawn(fast_config(), client);
    let mut rx = source.subscribe();
    let k = key("apps.local", "down", &[]);
    let started = std::time::Instant::now();
    source.set_queries(BTreeSet::from([k.clone()]));
    let returned = started.elapsed();
    // The first error is published; later ones update the state silently.
    wait_states(&mut rx, LIMIT, "error published", |s| {
        s.get(&k).is_some_and(|st| st.last_error.is_some())
    })
    .await;
    wait_until(LIMIT, "two failed polls", || {
        source
            .states()
            .get(&k)
            .is_some_and(|st| st.consecutive_errors >= 2)
    })
    .await;
    let states = source.states();
    let st = &states[&k];
    assert!(
        st.instances.is_none() && st.last_success.is_none(),
        "{st:?}"
    );
    assert!(st
        .last_error
        .as_deref()
        .is_some_and(|e| e.contains("DiscoverInstancesRevision")));
    assert_eq!(endpoints_for(&query(&k, None, 8080), st, "c"), None);
    let m = source.metrics();
    assert_eq!(
        m.discover_calls(),
        0,
        "no read before the revision check answers"
    );
    println!("figure: set_queries returned in {returned:?}");
}
