//! Scenario 2: header, method, query and path matches pick the right
//! route (priorities as App Mesh orders them); a request no route matches
//! gets 404, and so does a host no virtual service has.

use std::time::Instant;

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::{routing, API_URL};
use meshplane_e2e::harness::client::HttpLoad;

#[test]
fn matches_pick_the_right_route() -> anyhow::Result<()> {
    let start = Instant::now();
    let t = routing("matches", binaries!()?)?;
    let plain = HttpLoad::default();
    // (what, path, load, expected backend or status)
    let cases: Vec<(&str, String, HttpLoad, &str)> = vec![
        (
            "prefix /api",
            format!("{API_URL}/api/items"),
            plain.clone(),
            "v1",
        ),
        (
            "header x-canary: yes",
            format!("{API_URL}/api/items"),
            plain.clone().header("x-canary: yes"),
            "v2",
        ),
        (
            "header x-canary: no",
            format!("{API_URL}/api/items"),
            plain.clone().header("x-canary: no"),
            "v1",
        ),
        (
            "method POST",
            format!("{API_URL}/api/items"),
            plain.clone().method("POST"),
            "v3",
        ),
        (
            "query version=4",
            format!("{API_URL}/api/items?version=4"),
            plain.clone(),
            "v4",
        ),
        (
            "query version=5",
            format!("{API_URL}/api/items?version=5"),
            plain.clone(),
            "v1",
        ),
        (
            "exact path /special",
            format!("{API_URL}/special"),
            plain.clone(),
            "v4",
        ),
        (
            "exact path /special/x",
            format!("{API_URL}/special/x"),
            plain.clone(),
            "404",
        ),
        (
            "regex path /items/42",
            format!("{API_URL}/items/42"),
            plain.clone(),
            "v3",
        ),
        (
            "regex path /items/x",
            format!("{API_URL}/items/x"),
            plain.clone(),
            "404",
        ),
        (
            "header beats method",
            format!("{API_URL}/api"),
            plain.clone().method("POST").header("x-canary: yes"),
            "v2",
        ),
        ("no route", format!("{API_URL}/other"), plain.clone(), "404"),
        (
            "unknown host",
            "http://unknown.routing.local:8080/api".to_string(),
            plain.clone(),
            "404",
        ),
    ];
    let mut wrong = Vec::new();
    for (what, url, load, expected) in &cases {
        let s = t.http("client", url, 5, load)?;
        let got = if expected.starts_with(|c: char| c.is_ascii_digit()) {
            (s.status(expected) == 5).then_some(())
        } else {
            (s.count(expected) == 5 && s.status("200") == 5).then_some(())
        };
        println!(
            "scenario 2: {what:24} -> {:?} {:?}",
            s.by_backend, s.by_status
        );
        if got.is_none() {
            wrong.push(format!(
                "{what}: expected {expected}, got {:?} {:?} {:?}",
                s.by_backend, s.by_status, s.errors
            ));
        }
    }
    assert!(wrong.is_empty(), "wrong routes:\n{}", wrong.join("\n"));
    println!(
        "scenario 2 wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
