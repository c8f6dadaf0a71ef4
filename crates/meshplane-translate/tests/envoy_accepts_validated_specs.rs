//! Property: a spec that `validate` accepts is accepted by the real Envoy,
//! and a spec that a proxy-compatibility rule (`meshplane_spec::PROXY_RULES`)
//! refuses is refused by Envoy too (the rule is not stricter than Envoy).
//!
//! Specs are random but valid by the App Mesh API model (lengths, ranges,
//! list sizes, unions): a client node whose backend's router has one HTTP
//! route, with random values in the fields whose value space the API leaves
//! open and Envoy constrains: header names and match values, regexes,
//! durations (route, retry, listener and outlier detection timeouts),
//! retry counts, connection pool sizes and access log formats. Each proxy's
//! translation is checked with `envoy --mode validate`, with the runtime
//! setting of meshplane's bootstrap (`re2.max_program_size.error_level`).
//!
//! Bounded for CI: `MESHPLANE_PROPTEST_CASES` cases (default 24) from a
//! fixed seed; `MESHPLANE_PROPTEST_RANDOM=1` draws a random seed instead.

use std::sync::atomic::{AtomicUsize, Ordering};

use meshplane_spec::mesh::MeshSpec;
use meshplane_spec::{validate, ArnContext, MeshGraph, MeshModel, Origins, PROXY_RULES};
use meshplane_testsupport::envoy_check::{envoy_validate, static_bootstrap};
use meshplane_translate::{translate_virtual_node, TranslateOptions};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{json, Value};

/// Pieces regexes are made of: valid ones, RE2's limits, and what RE2
/// lacks (lookaround, backreferences).
const REGEX_ATOMS: &[&str] = &[
    "[a-z]",
    "[0-9]",
    "a",
    r"\.",
    ".*",
    "+",
    "?",
    "{1,100}",
    "{1,20}",
    "{2,50}",
    "{500}",
    "(",
    ")",
    "|",
    r"\d",
    "(?<=x)",
    r"\1",
    "^",
    "$",
    "(?i)",
    "[a-z0-9]{1,100}",
    "[^/]",
    "(?P<n>a)",
];

/// Pieces access log formats are made of.
const FORMAT_ATOMS: &[&str] = &[
    "%START_TIME%",
    "%REQ(x-a)%",
    "%REQ(:path):10%",
    "%RESPONSE_CODE%",
    "%%",
    "%",
    " ",
    "text",
    "\n",
    "%START_TIME(%s)%",
    "%req%",
    "100",
    "(",
    ")",
    ":",
];

/// Characters of header names (1 to 50 in the API, no pattern).
const HEADER_NAME_CHARS: &[char] = &['a', 'x', '-', '_', 'Z', '0', '.', ':', ' ', '~'];

fn joined(atoms: &'static [&'static str], n: std::ops::Range<usize>) -> BoxedStrategy<String> {
    proptest::collection::vec(proptest::sample::select(atoms), n)
        .prop_map(|v| v.concat())
        .boxed()
}

/// Mostly regexes RE2 takes, sometimes any mix of the atoms.
fn regex() -> BoxedStrategy<String> {
    prop_oneof![
        3 => joined(&REGEX_ATOMS[..10], 1..5),
        1 => joined(REGEX_ATOMS, 1..6),
    ]
    .boxed()
}

/// Mostly formats of whole commands, sometimes any mix of the atoms.
fn format() -> BoxedStrategy<String> {
    prop_oneof![
        3 => joined(&FORMAT_ATOMS[..5], 1..5),
        1 => joined(FORMAT_ATOMS, 1..6),
    ]
    .boxed()
}

fn header_name() -> BoxedStrategy<String> {
    proptest::collection::vec(proptest::sample::select(HEADER_NAME_CHARS), 1..12)
        .prop_map(|v| v.into_iter().collect())
        .boxed()
}

/// A duration valid by the API: a non-negative Long with a unit.
fn duration() -> BoxedStrategy<Value> {
    let value = prop_oneof![
        12 => 0i64..100_000,
        1 => 9_223_372_000i64..9_223_372_100,
        1 => 9_223_372_000_000i64..9_223_372_100_000,
        1 => Just(i64::MAX),
    ];
    (value, prop_oneof![Just("s"), Just("ms")])
        .prop_map(|(value, unit)| json!({ "value": value, "unit": unit }))
        .boxed()
}

fn header_match() -> BoxedStrategy<Value> {
    let value = "[a-z0-9./*-]{1,20}";
    prop_oneof![
        value.prop_map(|v| json!({ "exact": v })),
        value.prop_map(|v| json!({ "prefix": v })),
        value.prop_map(|v| json!({ "suffix": v })),
        regex().prop_map(|v| json!({ "regex": v })),
        (any::<i64>(), any::<i64>())
            .prop_map(|(s, e)| json!({ "range": { "start": s, "end": e } })),
    ]
    .boxed()
}

/// One random mesh, as the API's JSON of the resources that vary.
#[derive(Debug, Clone)]
struct Case {
    route: Value,
    client: Value,
    backend: Value,
}

fn case() -> impl Strategy<Value = Case> {
    let route = (
        header_name(),
        header_match(),
        proptest::option::of(regex()),
        proptest::option::of(duration()),
        proptest::option::of(duration()),
        proptest::option::of((0i64..i64::MAX, duration())),
    )
        .prop_map(|(name, m, path_regex, per_request, idle, retry)| {
            let mut mat = json!({ "headers": [{ "name": name, "match": m }] });
            match path_regex {
                Some(r) => mat["path"] = json!({ "regex": r }),
                None => mat["prefix"] = json!("/"),
            }
            let mut r = json!({
                "match": mat,
                "action": { "weightedTargets": [{ "virtualNode": "b", "weight": 1 }] },
            });
            let mut timeout = serde_json::Map::new();
            if let Some(d) = per_request {
                timeout.insert("perRequest".into(), d);
            }
            if let Some(d) = idle {
                timeout.insert("idle".into(), d);
            }
            if !timeout.is_empty() {
                r["timeout"] = Value::Object(timeout);
            }
            if let Some((max_retries, per_retry)) = retry {
                r["retryPolicy"] = json!({
                    "maxRetries": max_retries,
                    "perRetryTimeout": per_retry,
                    "httpRetryEvents": ["server-error"],
                });
            }
            json!({ "httpRoute": r })
        });
    let client = (
        proptest::option::of(format()),
        proptest::option::of(format()),
        proptest::option::of(duration()),
    )
        .prop_map(|(text, json_value, idle)| {
            let mut listener = json!({ "portMapping": { "port": 8080, "protocol": "http" } });
            if let Some(d) = idle {
                listener["timeout"] = json!({ "http": { "idle": d } });
            }
            let mut spec = json!({
                "listeners": [listener],
                "serviceDiscovery": { "dns": { "hostname": "client.m.local" } },
                "backends": [{ "virtualService": { "virtualServiceName": "b.m.local" } }],
            });
            let format = match (text, json_value) {
                (Some(t), _) => Some(json!({ "text": t })),
                (None, Some(v)) => Some(json!({ "json": [{ "key": "k", "value": v }] })),
                (None, None) => None,
            };
            if let Some(format) = format {
                spec["logging"] =
                    json!({ "accessLog": { "file": { "path": "/dev/stdout", "format": format } } });
            }
            spec
        });
    let backend = (
        proptest::option::of((1i64..i64::MAX, duration(), duration(), 0i64..=100)),
        proptest::option::of((1i64..i64::MAX, proptest::option::of(1i64..i64::MAX))),
    )
        .prop_map(|(outlier, pool)| {
            let mut listener = json!({ "portMapping": { "port": 8080, "protocol": "http" } });
            if let Some((errors, interval, ejection, percent)) = outlier {
                listener["outlierDetection"] = json!({
                    "maxServerErrors": errors,
                    "interval": interval,
                    "baseEjectionDuration": ejection,
                    "maxEjectionPercent": percent,
                });
            }
            if let Some((connections, pending)) = pool {
                let mut http = json!({ "maxConnections": connections });
                if let Some(p) = pending {
                    http["maxPendingRequests"] = json!(p);
                }
                listener["connectionPool"] = json!({ "http": http });
            }
            json!({
                "listeners": [listener],
                "serviceDiscovery": { "dns": { "hostname": "b.m.local" } },
            })
        });
    (route, client, backend).prop_map(|(route, client, backend)| Case {
        route,
        client,
        backend,
    })
}

fn graph(c: &Case) -> Result<MeshGraph, serde_json::Error> {
    let mut g = MeshGraph {
        name: "m".into(),
        owner: "111122223333".into(),
        spec: Some(MeshSpec::default()),
        ..MeshGraph::default()
    };
    g.virtual_nodes
        .insert("client".into(), serde_json::from_value(c.client.clone())?);
    g.virtual_nodes
        .insert("b".into(), serde_json::from_value(c.backend.clone())?);
    g.virtual_services.insert(
        "b.m.local".into(),
        serde_json::from_value(
            json!({ "provider": { "virtualRouter": { "virtualRouterName": "r" } } }),
        )?,
    );
    g.virtual_routers.insert(
        "r".into(),
        serde_json::from_value(
            json!({ "listeners": [{ "portMapping": { "port": 8080, "protocol": "http" } }] }),
        )?,
    );
    g.routes.insert(
        ("r".into(), "route".into()),
        serde_json::from_value(c.route.clone())?,
    );
    Ok(g)
}

/// Envoy's verdict on one proxy's translation, with the bootstrap's RE2
/// program size limit; `Err` is Envoy's message.
fn envoy_verdict(g: &MeshGraph, node: &str) -> Result<(), String> {
    let opts = TranslateOptions {
        arn: ArnContext::default(),
        ..TranslateOptions::default()
    };
    let t = translate_virtual_node(g, node, &opts);
    let mut bootstrap = static_bootstrap(&t.resources.to_xds()).map_err(|e| e.to_string())?;
    bootstrap["layered_runtime"] = json!({ "layers": [{
        "name": "static_layer_0",
        "static_layer": { "re2.max_program_size.error_level": meshplane_re2::MAX_PROGRAM_SIZE }
    }] });
    envoy_validate(&bootstrap).map_err(|e| e.to_string())
}

/// Cases run, refused by validate, refused by Envoy (printed at the end).
static TALLY: [AtomicUsize; 3] = [
    AtomicUsize::new(0),
    AtomicUsize::new(0),
    AtomicUsize::new(0),
];

fn check(c: &Case) -> Result<(), TestCaseError> {
    let g = graph(c).map_err(|e| TestCaseError::fail(format!("spec JSON: {e}")))?;
    let mut model = MeshModel::default();
    model.meshes.insert("m".into(), g.clone());
    let errors: Vec<_> = validate(&model, &Origins::default(), &ArnContext::default())
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    let proxy_errors: Vec<String> = errors
        .iter()
        .filter(|d| PROXY_RULES.contains(&d.rule))
        .map(|d| d.to_string())
        .collect();
    // Only the proxy rules may refuse these API-valid specs.
    prop_assert!(
        errors.len() == proxy_errors.len(),
        "an API-valid spec refused by another rule: {errors:?}"
    );
    let verdicts: Vec<Result<(), String>> = ["client", "b"]
        .iter()
        .map(|n| envoy_verdict(&g, n))
        .collect();
    let envoy_refused: Vec<&String> = verdicts.iter().filter_map(|v| v.as_ref().err()).collect();
    TALLY[0].fetch_add(1, Ordering::Relaxed);
    TALLY[1].fetch_add(usize::from(!proxy_errors.is_empty()), Ordering::Relaxed);
    TALLY[2].fetch_add(usize::from(!envoy_refused.is_empty()), Ordering::Relaxed);
    if proxy_errors.is_empty() {
        prop_assert!(
            envoy_refused.is_empty(),
            "validate accepted a spec Envoy refuses: {envoy_refused:?}\n{c:#?}"
        );
    } else {
        prop_assert!(
            !envoy_refused.is_empty(),
            "validate refused a spec Envoy accepts: {proxy_errors:?}\n{c:#?}"
        );
    }
    Ok(())
}

#[test]
fn envoy_accepts_what_validate_accepts_and_refuses_what_the_proxy_rules_refuse() {
    let cases = std::env::var("MESHPLANE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let config = Config {
        cases,
        failure_persistence: None,
        // Each step runs Envoy; a short shrink keeps a failure quick.
        max_shrink_iters: 32,
        ..Config::default()
    };
    let mut runner = if std::env::var_os("MESHPLANE_PROPTEST_RANDOM").is_some() {
        TestRunner::new(config)
    } else {
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
    };
    let result = runner.run(&case(), |c| check(&c));
    println!(
        "{} specs checked: {} refused by validate's proxy rules, {} refused by Envoy",
        TALLY[0].load(Ordering::Relaxed),
        TALLY[1].load(Ordering::Relaxed),
        TALLY[2].load(Ordering::Relaxed)
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}
