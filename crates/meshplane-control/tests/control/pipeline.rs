//! Reloads against the snapshot cache: what is woken, what is kept.

use std::sync::Arc;

use meshplane_authz::AccessControl;
use meshplane_control::{ControlState, Pipeline};
use meshplane_xds::{ProxyKey, ResourceType, SnapshotCache};

use super::support::{arn_ctx, copy_examples, edit, node_arn, settings};

fn pipeline(dir: &std::path::Path) -> (Pipeline, SnapshotCache, Arc<ControlState>) {
    let cache = SnapshotCache::new();
    let state = ControlState::new(arn_ctx(), AccessControl::insecure_no_auth());
    let p = Pipeline::new(settings(vec![dir.to_owned()]), cache.clone(), state.clone());
    (p, cache, state)
}

fn key(name: &str) -> ProxyKey {
    ProxyKey::new(node_arn(name))
}

fn route_version(cache: &SnapshotCache, name: &str) -> String {
    cache
        .get(&key(name))
        .unwrap()
        .of_type(ResourceType::Route)
        .version()
        .to_string()
}

#[test]
fn first_reload_serves_every_virtual_node() {
    let dir = copy_examples();
    let (p, cache, state) = pipeline(dir.path());
    assert!(!state.is_ready());
    let report = p.reload();
    assert!(report.applied, "{:?}", report.diagnostics);
    let mut created = report.changes.created.clone();
    created.sort();
    assert_eq!(
        created,
        [
            node_arn("serviceA"),
            node_arn("serviceB"),
            node_arn("serviceBv2")
        ]
    );
    assert_eq!(
        cache.keys(),
        [key("serviceA"), key("serviceB"), key("serviceBv2")]
    );
    assert!(state.is_ready());
    let snap = cache.get(&key("serviceA")).unwrap();
    let listeners: Vec<&str> = snap
        .of_type(ResourceType::Listener)
        .resources()
        .keys()
        .map(|k| &**k)
        .collect();
    assert_eq!(
        listeners,
        ["lds_egress_0.0.0.0_15001", "lds_ingress_0.0.0.0_15000"]
    );
}

#[test]
fn unchanged_specs_are_not_translated_again() {
    let dir = copy_examples();
    let (p, _cache, _state) = pipeline(dir.path());
    assert!(p.reload().applied);
    let report = p.reload();
    assert!(report.applied);
    assert_eq!(report.changes.skipped, 3);
    assert!(report.changes.created.is_empty() && report.changes.updated.is_empty());
    assert_eq!(report.changes.unchanged, 0);
}

#[test]
fn route_change_wakes_only_the_proxies_it_affects() {
    let dir = copy_examples();
    let (p, cache, _state) = pipeline(dir.path());
    assert!(p.reload().applied);
    let mut watches: Vec<_> = ["serviceA", "serviceB", "serviceBv2"]
        .iter()
        .map(|n| {
            let mut w = cache.watch(&key(n)).unwrap();
            w.borrow_and_update();
            w
        })
        .collect();
    let before = route_version(&cache, "serviceA");

    edit(
        &dir.path().join("route-serviceB.json"),
        "\"weight\": 75",
        "\"weight\": 60",
    );
    let report = p.reload();
    assert!(report.applied, "{:?}", report.diagnostics);
    // serviceA calls serviceB through the router; serviceB and serviceBv2 do not.
    assert_eq!(report.changes.updated, [node_arn("serviceA")]);
    // Their translation does not read the route: not even re-translated.
    assert_eq!(report.changes.unchanged, 0);
    assert_eq!(report.changes.skipped, 2);
    assert!(watches[0].has_changed().unwrap(), "serviceA must be woken");
    assert!(
        !watches[1].has_changed().unwrap(),
        "serviceB must not be woken"
    );
    assert!(
        !watches[2].has_changed().unwrap(),
        "serviceBv2 must not be woken"
    );
    assert_ne!(route_version(&cache, "serviceA"), before);
    // Only the route configuration changed for serviceA.
    let a = watches[0].borrow_and_update().clone().unwrap();
    assert_eq!(
        a.of_type(ResourceType::Cluster).version(),
        cache
            .get(&key("serviceA"))
            .unwrap()
            .of_type(ResourceType::Cluster)
            .version()
    );
}

#[test]
fn invalid_edit_keeps_the_last_good_snapshots_and_reports_the_error() {
    let dir = copy_examples();
    let (p, cache, state) = pipeline(dir.path());
    assert!(p.reload().applied);
    let before = route_version(&cache, "serviceA");
    let mut w = cache.watch(&key("serviceA")).unwrap();
    w.borrow_and_update();

    let route = dir.path().join("route-serviceB.json");
    edit(&route, "\"weight\": 75", "\"weight\": 75000");
    let report = p.reload();
    assert!(!report.applied);
    let error = report.error.as_deref().unwrap();
    assert!(
        error.contains("last good configuration is still served"),
        "{error}"
    );
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .expect("an error diagnostic");
    assert_eq!(d.file.as_deref(), Some(route.as_path()), "{d}");
    assert!(
        d.resource
            .as_deref()
            .unwrap_or("")
            .contains("virtualRouter/serviceB/route/serviceB"),
        "{d}"
    );
    assert!(d.path.contains("weight"), "{d}");
    assert!(!w.has_changed().unwrap(), "nothing may be pushed");
    assert_eq!(route_version(&cache, "serviceA"), before);
    assert_eq!(state.metrics.reload_errors(), 1);
    assert!(state.last_reload().is_some_and(|r| !r.applied));

    // Fixing the file applies the new spec set.
    edit(&route, "\"weight\": 75000", "\"weight\": 70");
    let report = p.reload();
    assert!(report.applied, "{:?}", report.diagnostics);
    assert_eq!(report.changes.updated, [node_arn("serviceA")]);
}

#[tokio::test]
async fn deleted_node_loses_its_key_and_its_streams_see_it() {
    let dir = copy_examples();
    let (p, cache, state) = pipeline(dir.path());
    assert!(p.reload().applied);
    let mut w = cache.watch(&key("serviceBv2")).unwrap();
    w.borrow_and_update();

    // Route everything to serviceB, then delete serviceBv2.
    let route = dir.path().join("route-serviceB.json");
    let text = std::fs::read_to_string(&route).unwrap();
    let v2 = text
        .find(",\n                    {\n                        \"virtualNode\": \"serviceBv2\"")
        .unwrap();
    let end = text[v2..].find('}').unwrap() + v2 + 1;
    std::fs::write(&route, format!("{}{}", &text[..v2], &text[end..])).unwrap();
    std::fs::remove_file(dir.path().join("virtual-node-serviceBv2.json")).unwrap();

    let report = p.reload();
    assert!(report.applied, "{:?}", report.diagnostics);
    assert_eq!(report.changes.removed, [node_arn("serviceBv2")]);
    assert_eq!(report.changes.updated, [node_arn("serviceA")]);
    assert!(cache.get(&key("serviceBv2")).is_none());
    w.changed().await.unwrap();
    assert!(w.borrow().is_none(), "the stream sees the key removed");
    assert!(!state
        .served()
        .unwrap()
        .proxies
        .contains_key(&key("serviceBv2")));
}

/// An auth config with one token, for one principal allowed serviceA.
fn auth_yaml(principal: &str) -> String {
    format!(
        "tokens:\n  - principal: {principal}\n    sha256: {}\nprincipals:\n  {principal}:\n    policies:\n      - inline:\n          Version: \"2012-10-17\"\n          Statement:\n            - Effect: Allow\n              Action: appmesh:StreamAggregatedResources\n              Resource: \"*\"\n",
        meshplane_authz::hash_token("token-0123456789abcdef0123456789abcdef").unwrap()
    )
}

/// The auth config is an input of its own: a revocation applies even while
/// the specs are broken, and a broken auth config never blocks the specs.
#[test]
fn a_valid_auth_config_applies_whatever_the_specs_say() {
    let dir = copy_examples();
    let auth_dir = tempfile::tempdir().unwrap();
    let auth = auth_dir.path().join("auth.yaml");
    std::fs::write(&auth, auth_yaml("first")).unwrap();
    let (p, _cache, state) = pipeline(dir.path());
    let p = p.with_auth_config(auth.clone());
    assert!(p.reload().applied);
    let first = state.access();
    let served = state.served().unwrap();

    // A new auth config together with a spec error: the auth config
    // applies, the served configuration stays.
    std::fs::write(&auth, auth_yaml("second")).unwrap();
    let route = dir.path().join("route-serviceB.json");
    edit(&route, "\"weight\": 75", "\"weight\": 75000");
    let report = p.reload();
    assert!(!report.applied);
    assert_eq!(report.auth_error, None);
    assert!(
        !Arc::ptr_eq(&first, &state.access()),
        "the new auth config waited for the specs"
    );
    assert!(
        Arc::ptr_eq(&served, &state.served().unwrap()),
        "the specs stayed"
    );
    edit(&route, "\"weight\": 75000", "\"weight\": 75");
    assert!(p.reload().applied);

    // A broken auth config alone keeps the previous one and the specs apply.
    let second = state.access();
    std::fs::write(&auth, "tokens: [\n").unwrap();
    let report = p.reload();
    assert!(report.applied);
    assert!(report.auth_error.is_some());
    assert!(Arc::ptr_eq(&second, &state.access()));
}

#[test]
fn translation_findings_are_placed_at_their_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let tcp_node = |name: &str| {
        serde_json::json!({ "meshName": "m", "virtualNodeName": name, "spec": {
            "listeners": [{ "portMapping": { "port": 9000, "protocol": "tcp" } }],
            "serviceDiscovery": { "dns": { "hostname": format!("{name}.m.local") } } } })
    };
    let service = |name: &str| {
        serde_json::json!({ "meshName": "m", "virtualServiceName": format!("{name}.m.local"),
            "spec": { "provider": { "virtualNode": { "virtualNodeName": name } } } })
    };
    let specs = serde_json::json!([
        { "meshName": "m" },
        tcp_node("a"),
        tcp_node("b"),
        service("a"),
        service("b"),
        { "meshName": "m", "virtualNodeName": "client", "spec": {
            "backends": [
                { "virtualService": { "virtualServiceName": "a.m.local" } },
                { "virtualService": { "virtualServiceName": "b.m.local" } }
            ] } }
    ]);
    let file = dir.path().join("specs.json");
    let text = serde_json::to_string_pretty(&specs).unwrap();
    std::fs::write(&file, &text).unwrap();
    let (p, _cache, _state) = pipeline(dir.path());
    let report = p.reload();
    assert!(report.applied, "{:?}", report.error);
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.rule == "translate.tcp.ambiguous-port")
        .unwrap_or_else(|| panic!("no translation finding: {:?}", report.diagnostics));
    assert_eq!(d.file.as_deref(), Some(file.as_path()), "{d}");
    let backends_line = text
        .lines()
        .position(|l| l.contains("\"backends\""))
        .unwrap() as u32
        + 1;
    assert_eq!(d.line, Some(backends_line), "{d}");
}
