//! Incremental validation reports exactly what a full validation reports:
//! a small mesh whose every resource can take one of a few specs (or be
//! absent), valid or not, with references that resolve or dangle, goes
//! through random sequences of edits; after each, the memo (told only what
//! changed) and a full validation must agree, findings and order.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::ValidationMemo;
use crate::diagnostic::Origin;
use crate::identity::{ArnContext, ResourceId};
use crate::model::{MeshModel, Origins};
use crate::model_changes::ModelChanges;
use crate::validate::testing::spec;
use crate::validate::{validate_with, Rules};

fn node(listeners: Value, backends: &[&str]) -> Value {
    let backends: Vec<Value> = backends
        .iter()
        .map(|s| json!({"virtualService": {"virtualServiceName": s}}))
        .collect();
    json!({"listeners": listeners, "serviceDiscovery": {"dns": {"hostname": "n.local"}},
        "backends": backends})
}

fn listener(port: i64, protocol: &str) -> Value {
    json!({"portMapping": {"port": port, "protocol": protocol}})
}

fn route_to(targets: &[(&str, Option<i64>)], timeout_s: Option<i64>) -> Value {
    let wt: Vec<Value> = targets
        .iter()
        .map(|(n, port)| match port {
            Some(p) => json!({"virtualNode": n, "weight": 50, "port": p}),
            None => json!({"virtualNode": n, "weight": 50}),
        })
        .collect();
    let mut r = json!({"match": {"prefix": "/"}, "action": {"weightedTargets": wt}});
    if let Some(s) = timeout_s {
        r["timeout"] = json!({"perRequest": {"unit": "s", "value": s}});
    }
    json!({ "httpRoute": r })
}

/// Each resource slot: its short id and the specs it can take.
fn slots() -> Vec<(String, Vec<Value>)> {
    let mut slots = vec![(
        "mesh/m".to_owned(),
        vec![
            json!({}),
            json!({"egressFilter": {"type": "ALLOW_ALL"}}),
            json!({"egressFilter": {"type": "DROP_ALL"}}),
        ],
    )];
    for n in 0..4 {
        slots.push((
            format!("mesh/m/virtualNode/n{n}"),
            vec![
                node(json!([listener(80, "http")]), &["s0", "s1"]),
                node(json!([listener(8080, "tcp")]), &["s2", "s3"]),
                node(
                    json!([{"portMapping": {"port": 80, "protocol": "http"},
                        "timeout": {"http": {"perRequest": {"unit": "s", "value": 5}}}}]),
                    &["s3", "s0", "s9"],
                ),
                node(json!([]), &[]),
                node(json!([listener(80, "http"), listener(81, "http")]), &["s1"]),
                json!({"listeners": [listener(80, "http")]}),
            ],
        ));
    }
    for s in 0..4 {
        slots.push((
            format!("mesh/m/virtualService/s{s}"),
            vec![
                json!({"provider": {"virtualNode": {"virtualNodeName": format!("n{s}")}}}),
                json!({"provider": {"virtualRouter": {"virtualRouterName": format!("r{}", s % 3)}}}),
                json!({"provider": {"virtualNode": {"virtualNodeName": "missing"}}}),
                json!({}),
            ],
        ));
    }
    for r in 0..3 {
        slots.push((
            format!("mesh/m/virtualRouter/r{r}"),
            vec![
                json!({"listeners": [listener(80, "http")]}),
                json!({"listeners": [listener(8080, "tcp")]}),
                json!({"listeners": [listener(80, "http"), listener(81, "http")]}),
            ],
        ));
        slots.push((
            format!("mesh/m/virtualRouter/r{r}/route/a"),
            vec![
                route_to(&[("n0", None), ("n1", None)], None),
                route_to(&[("n2", Some(80))], Some(20)),
                route_to(&[("n3", None), ("nowhere", None)], Some(1)),
                json!({"tcpRoute": {"action": {"weightedTargets": [{"virtualNode": "n1", "weight": 1}]}}}),
            ],
        ));
    }
    for gw in ["gw", "gw2"] {
        slots.push((
            format!("mesh/m/virtualGateway/{gw}"),
            vec![
                json!({"listeners": [listener(8080, "http")]}),
                json!({"listeners": [listener(9090, "grpc")]}),
            ],
        ));
        slots.push((
            format!("mesh/m/virtualGateway/{gw}/gatewayRoute/g"),
            vec![
                json!({"httpRoute": {"match": {"prefix": "/"},
                    "action": {"target": {"virtualService": {"virtualServiceName": "s0"}}}}}),
                json!({"httpRoute": {"match": {"prefix": "/b"},
                    "action": {"target": {"virtualService": {"virtualServiceName": "s1"}, "port": 81}}}}),
                json!({"grpcRoute": {"match": {"serviceName": "x"},
                    "action": {"target": {"virtualService": {"virtualServiceName": "s2"}}}}}),
            ],
        ));
    }
    slots
}

/// Per slot: absent, or which spec and on which line of its file.
type State = Vec<Option<(usize, u32)>>;

fn build(slots: &[(String, Vec<Value>)], state: &State) -> (MeshModel, Origins) {
    let ctx = ArnContext::default();
    let mut model = MeshModel::default();
    let mut origins = Origins::default();
    for ((id, specs), choice) in slots.iter().zip(state) {
        let Some((which, line)) = choice else {
            continue;
        };
        let id = ResourceId::parse(id, &ctx).expect("test id");
        model
            .insert(id.clone(), spec(id.kind, specs[*which].clone()))
            .expect("one slot per resource");
        let origin = Origin {
            file: format!("{}.json", id.name).into(),
            line: Some(*line),
            spec_path: "spec".into(),
            ..Origin::default()
        };
        origins.insert(id, origin);
    }
    (model, origins)
}

fn edit(slot_count: usize) -> impl Strategy<Value = (usize, Option<(usize, u32)>)> {
    (
        0..slot_count,
        prop::option::weighted(0.8, (0..6usize, 1..3u32)),
    )
}

fn agree(edits: &[(usize, Option<(usize, u32)>)]) -> Result<(), TestCaseError> {
    let slots = slots();
    let ctx = ArnContext::default();
    let rules = Rules::all();
    let mut state: State = slots.iter().map(|_| Some((0, 1))).collect();
    let (mut model, mut origins) = build(&slots, &state);
    let mut memo = ValidationMemo::new();
    let first = memo.validate(&model, &origins, &ctx, rules, None);
    prop_assert_eq!(first, validate_with(&model, &origins, &ctx, rules));
    for (step, (slot, choice)) in edits.iter().enumerate() {
        state[*slot] = choice.map(|(spec, line)| (spec % slots[*slot].1.len(), line));
        let (next, next_origins) = build(&slots, &state);
        let changes = ModelChanges::between(&model, &origins, &next, &next_origins);
        let got = memo.validate(&next, &next_origins, &ctx, rules, Some(&changes));
        let want = validate_with(&next, &next_origins, &ctx, rules);
        prop_assert_eq!(
            got,
            want,
            "step {}: slot {} -> {:?}",
            step,
            slots[*slot].0,
            choice
        );
        (model, origins) = (next, next_origins);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn incremental_validation_reports_what_a_full_one_reports(
        edits in prop::collection::vec(edit(slots().len()), 1..24)
    ) {
        agree(&edits)?;
    }
}

/// Hand-picked: a service losing its provider makes its clients' backends
/// dangle only through the lookups the memo recorded; the mesh resource
/// going away concerns everything.
#[test]
fn readers_of_a_changed_resource_are_checked_again() {
    let slots = slots();
    let index = |id: &str| slots.iter().position(|(s, _)| s == id).expect("slot");
    agree(&[
        (index("mesh/m/virtualService/s0"), None),
        (index("mesh/m/virtualNode/n1"), Some((1, 2))),
        (index("mesh/m/virtualRouter/r0"), Some((1, 1))),
        (index("mesh/m"), None),
        (index("mesh/m"), Some((1, 1))),
        (index("mesh/m/virtualService/s0"), Some((0, 2))),
    ])
    .expect("agree");
    // The edits above change the findings (the test is not vacuous).
    let mut state: Vec<Option<(usize, u32)>> = slots.iter().map(|_| Some((0, 1))).collect();
    let (a, ao) = build(&slots, &state);
    state[index("mesh/m/virtualService/s0")] = None;
    let (b, bo) = build(&slots, &state);
    let ctx = ArnContext::default();
    let before = validate_with(&a, &ao, &ctx, Rules::all());
    let after = validate_with(&b, &bo, &ctx, Rules::all());
    assert_ne!(before, after);
}
