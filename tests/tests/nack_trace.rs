//! A NACK is traced to the spec field behind it, and `meshplane validate`
//! refuses the same spec before it is served.
//!
//! Three values the App Mesh API accepts but the real Envoy refuses, each
//! applied to the routing mesh in turn:
//! - a header regex RE2 refuses (`invalid repetition size: {1,20}`: nested
//!   repetition above 1000), on route `header` (RDS);
//! - a route timeout longer than Envoy's largest duration, on route
//!   `header` (RDS);
//! - an access log format with a stray `%`, on virtual node `client` (LDS).
//!
//! meshplane's validation refuses all three (rules `regex.re2`,
//! `duration.limit`, `logging.format`), so to get them served this test
//! starts `meshplane serve` with the test-only switch
//! `MESHPLANE_TEST_SKIP_PROXY_RULES=1`, which leaves those rules out of the
//! server's reloads (the spec is what the old rules accepted). For each,
//! the proxy NACKs, `/debug/proxies` and `/debug/reload` name exactly the
//! App Mesh resource, the field path and its line, the metrics count the
//! proxy as running an older version, and `meshplane validate` (all rules)
//! refuses the same files with the same field and line. Reverting the
//! change clears the NACK.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::routing_with_env;
use meshplane_e2e::harness::specs::edit_json;
use meshplane_e2e::harness::topology::{wait_for, Topology};
use serde_json::{json, Value};

const ROUTE_ARN: &str = "mesh/routing/virtualRouter/api/route/header";
const CLIENT_ARN: &str = "mesh/routing/virtualNode/client";

struct Case {
    name: &'static str,
    file: &'static str,
    arn: &'static str,
    path: &'static str,
    rule: &'static str,
    /// The text of the line the finding must point at.
    line_text: &'static str,
    /// Part of Envoy's message.
    envoy_says: &'static str,
    edit: fn(&mut Value),
}

const CASES: [Case; 3] = [
    Case {
        name: "RE2 nested repetition",
        file: "routes.json",
        arn: ROUTE_ARN,
        path: "spec.httpRoute.match.headers[0].match.regex",
        rule: "regex.re2",
        line_text: r#""regex": "([a-z0-9]{1,100}\\.){1,20}[a-z]{2,50}""#,
        envoy_says: "invalid repetition size: {1,20}",
        edit: |routes| {
            routes[0]["spec"]["httpRoute"]["match"]["headers"][0]["match"] =
                json!({ "regex": r"([a-z0-9]{1,100}\.){1,20}[a-z]{2,50}" });
        },
    },
    Case {
        name: "duration out of Envoy's range",
        file: "routes.json",
        arn: ROUTE_ARN,
        path: "spec.httpRoute.timeout.perRequest.value",
        rule: "duration.limit",
        line_text: r#""value": 10000000000"#,
        envoy_says: "Duration out-of-range",
        edit: |routes| {
            routes[0]["spec"]["httpRoute"]["timeout"] =
                json!({ "perRequest": { "unit": "s", "value": 10_000_000_000i64 } });
        },
    },
    Case {
        name: "access log format with a stray %",
        file: "virtual-nodes.json",
        arn: CLIENT_ARN,
        path: "spec.logging.accessLog.file.format.text",
        rule: "logging.format",
        line_text: r#""text": "%START_TIME% 100%""#,
        envoy_says: "Couldn't find valid command",
        edit: |nodes| {
            let client = nodes
                .as_array_mut()
                .and_then(|a| a.iter_mut().find(|n| n["virtualNodeName"] == "client"))
                .expect("node client");
            client["spec"]["logging"] = json!({ "accessLog": { "file": {
                "path": "/dev/stdout",
                "format": { "text": "%START_TIME% 100%" }
            } } });
        },
    },
];

#[test]
fn nacks_are_traced_to_the_spec_field_and_validate_refuses_them() -> anyhow::Result<()> {
    let start = Instant::now();
    let t = routing_with_env(
        "nack-trace",
        binaries!()?,
        &[("MESHPLANE_TEST_SKIP_PROXY_RULES", "1")],
    )?;
    t.wait_proxies_synced(5, Duration::from_secs(10))?;
    for case in &CASES {
        let specs = t.path("specs");
        let file = specs.join(case.file);
        let original = std::fs::read_to_string(&file)?;
        edit_json(&file, &t.path("scratch"), case.edit)?;
        let line = line_of(&file, case.line_text)?;
        let place = format!("{}:{line}: error[envoy.rejected]: ", case.file);

        let nack = wait_for(
            &format!("{}: the client's proxy to NACK", case.name),
            Duration::from_secs(10),
            || client_nack(&t),
        )?;
        let trace: Vec<String> = nack["trace"]
            .as_array()
            .context("no trace in the NACK")?
            .iter()
            .filter_map(|f| f["finding"].as_str().map(str::to_owned))
            .collect();
        println!("{}: NACK traced to {trace:?}", case.name);
        assert_eq!(trace.len(), 1, "{}: {nack}", case.name);
        let finding = &trace[0];
        assert!(
            finding.contains(&place)
                && finding.contains(&format!("{}: {}: ", case.arn, case.path))
                && finding.contains(case.envoy_says),
            "{}: the trace should read {place}<...{}>: {}: <Envoy's message with {:?}>, got {finding}",
            case.name,
            case.arn,
            case.path,
            case.envoy_says
        );

        // /debug/reload and the metrics keep showing it until it is fixed.
        let (_, reload) = t.control_get("/debug/reload")?;
        let reload: Value = serde_json::from_str(&reload)?;
        let nacked = reload["nacked"]
            .as_array()
            .context("no nacked in /debug/reload")?;
        assert!(
            nacked.iter().any(|n| n["identity"]
                .as_str()
                .is_some_and(|i| i.ends_with(CLIENT_ARN))
                && n["trace"].to_string().contains(case.path)),
            "{}: /debug/reload nacked: {nacked:?}",
            case.name
        );
        let (_, metrics) = t.control_get("/metrics")?;
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("meshplane_proxies_nacked{")
                    && l.contains("virtualNode/client")),
            "{}: no meshplane_proxies_nacked for the client:\n{metrics}",
            case.name
        );

        // The new rules refuse the same spec before it is served.
        let out = Command::new(&t.bins.meshplane)
            .arg("validate")
            .arg(&specs)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{}: validate accepted:\n{text}",
            case.name
        );
        let place = format!("{}:{line}: error[{}]: ", case.file, case.rule);
        let field = format!("{}: {}: ", case.arn, case.path);
        assert!(
            text.lines()
                .any(|l| l.contains(&place) && l.contains(&field)),
            "{}: validate should report {place}<ARN ending {field}>..., printed:\n{text}",
            case.name
        );

        // Fixed: the proxy ACKs and the NACK is gone.
        std::fs::write(&file, original)?;
        wait_for(
            &format!("{}: the fix to be ACKed", case.name),
            Duration::from_secs(10),
            || Ok(client_nack(&t)?.is_none().then_some(())),
        )?;
        t.wait_proxies_synced(5, Duration::from_secs(10))?;
    }
    println!(
        "nack trace wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The client proxy's outstanding NACK (of any type), from `/debug/proxies`.
fn client_nack(t: &Topology) -> anyhow::Result<Option<Value>> {
    Ok(t.control_proxies()?.into_iter().find_map(|p| {
        if !p["identity"].as_str()?.ends_with(CLIENT_ARN) {
            return None;
        }
        p["types"].as_object()?.values().find_map(|s| {
            let n = &s["last_nack"];
            (!n.is_null()).then(|| n.clone())
        })
    }))
}

/// The 1-based number of the first line of `file` containing `text`.
fn line_of(file: &Path, text: &str) -> anyhow::Result<usize> {
    let content = std::fs::read_to_string(file)?;
    content
        .lines()
        .position(|l| l.contains(text))
        .map(|i| i + 1)
        .with_context(|| format!("{text} not in {}:\n{content}", file.display()))
}
