#![allow(clippy::unwrap_used)]
//! `meshplane explain` and `meshplane diff` on the example meshes: golden
//! text and JSON outputs (`tests/golden/explain/<case>.{txt,json}`,
//! `tests/golden/diff/<case>.{txt,json}`) and exit codes. The commands run
//! from the repository root with relative paths, so the spec files named
//! in the outputs are the repository's.
//!
//! Regenerate with `MESHPLANE_BLESS=1 cargo test --workspace --test explain_diff_cli`
//! (refused when `CI` is set). A mismatch prints a unified diff; a golden
//! file no case produces fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn golden_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(kind)
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_meshplane"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Compares (or, blessing, writes) one golden file; returns a failure.
fn check(path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("MESHPLANE_BLESS").is_some() {
        assert!(
            std::env::var_os("CI").is_none(),
            "MESHPLANE_BLESS is refused when CI is set"
        );
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    let diff = similar::TextDiff::from_lines(&expected, actual)
        .unified_diff()
        .header("golden", "actual")
        .to_string();
    Some(format!("{}:\n{diff}", path.display()))
}

/// Every file of `dir` is one `produced` names.
fn no_stale(dir: &Path, produced: &BTreeSet<PathBuf>) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten() {
        let p = e.unwrap().path();
        if !produced.contains(&p) {
            if std::env::var_os("MESHPLANE_BLESS").is_some() {
                std::fs::remove_file(&p).unwrap();
            } else {
                out.push(format!(
                    "{}: no case produces this golden file",
                    p.display()
                ));
            }
        }
    }
    out
}

const APPS: &str = "config/examples/apps/cli-json";
const EXTERNAL: &str = "config/examples/external-traffic";

/// (case, spec dir, proxy, request arguments, whether it reaches a cluster)
const EXPLAIN: &[(&str, &str, &str, &[&str], bool)] = &[
    (
        "apps-split",
        APPS,
        "mesh/apps/virtualNode/serviceA",
        &["--request", "GET http://serviceb.apps.local/orders?id=1"],
        true,
    ),
    (
        "apps-host-with-port",
        APPS,
        "mesh/apps/virtualNode/serviceA",
        &[
            "--request",
            "POST http://serviceb.apps.local:80/",
            "-H",
            "content-type: application/json",
        ],
        true,
    ),
    (
        "apps-unknown-host",
        APPS,
        "mesh/apps/virtualNode/serviceA",
        &["--request", "GET http://servicec.apps.local/"],
        false,
    ),
    (
        "apps-wrong-port",
        APPS,
        "mesh/apps/virtualNode/serviceA",
        &["--request", "GET http://serviceb.apps.local:8080/"],
        false,
    ),
    (
        "apps-inbound",
        APPS,
        "mesh/apps/virtualNode/serviceB",
        &["--inbound", "--request", "GET http://serviceb.apps.local/"],
        true,
    ),
    (
        "apps-aws-api-tls",
        APPS,
        "mesh/apps/virtualNode/serviceA",
        &[
            "--tcp",
            "dynamodb.us-east-1.amazonaws.com:443",
            "--sni",
            "dynamodb.us-east-1.amazonaws.com",
        ],
        true,
    ),
    (
        "external-github-tls",
        EXTERNAL,
        "mesh/ColorApp-External-Traffic/virtualNode/ColorTellerWhite",
        &["--tcp", "github.com:443", "--sni", "github.com"],
        true,
    ),
    (
        "external-godev-router",
        EXTERNAL,
        "mesh/ColorApp-External-Traffic/virtualNode/ColorTellerWhite",
        &["--tcp", "go.dev:444"],
        true,
    ),
    (
        // A TCP backend on 443 takes the port whatever the destination.
        "external-tcp-port-takes-any-name",
        EXTERNAL,
        "mesh/ColorApp-External-Traffic/virtualNode/ColorTellerWhite",
        &["--tcp", "example.com:443", "--sni", "example.com"],
        true,
    ),
    (
        "external-drop-all",
        EXTERNAL,
        "mesh/ColorApp-External-Traffic/virtualNode/ColorTellerWhite",
        &["--tcp", "example.com:8443"],
        false,
    ),
    (
        "gateway-self-redirect",
        EXTERNAL,
        "mesh/ColorApp-External-Traffic/virtualGateway/ColorGateway",
        &["--request", "GET http://gateway.example.com/color?x=1"],
        true,
    ),
];

#[test]
fn explain_goldens() {
    let dir = golden_dir("explain");
    let mut failures = Vec::new();
    let mut produced = BTreeSet::new();
    for (case, specs, node, request, matched) in EXPLAIN {
        for format in ["text", "json"] {
            let mut args = vec![
                "explain", "--config", specs, "--node", node, "--format", format,
            ];
            args.extend_from_slice(request);
            let (code, stdout, stderr) = run(&args);
            let want = if *matched { 0 } else { 1 };
            if code != Some(want) {
                failures.push(format!(
                    "{case} ({format}): exit {code:?}, expected {want}\n{stderr}{stdout}"
                ));
            }
            let ext = if format == "text" { "txt" } else { "json" };
            let path = dir.join(format!("{case}.{ext}"));
            failures.extend(check(&path, &stdout));
            produced.insert(path);
        }
    }
    failures.extend(no_stale(&dir, &produced));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const CASES: &str = "crates/meshplane/tests/diff_cases";

/// (case, --from, --to, exit code)
fn diff_cases() -> Vec<(&'static str, String, String, i32)> {
    let c = |s: &str| format!("{CASES}/{s}");
    vec![
        ("no-change", APPS.to_owned(), APPS.to_owned(), 0),
        ("route-weights", APPS.to_owned(), c("route-weights"), 1),
        ("new-backend", APPS.to_owned(), c("new-backend"), 1),
        ("tls-mode", c("tls-permissive"), c("tls-strict"), 1),
        ("tls-enabled", APPS.to_owned(), c("tls-strict"), 1),
        ("deleted-node", APPS.to_owned(), c("deleted-node"), 2),
    ]
}

#[test]
fn diff_goldens() {
    let dir = golden_dir("diff");
    let mut failures = Vec::new();
    let mut produced = BTreeSet::new();
    for (case, from, to, want) in diff_cases() {
        for format in ["text", "json"] {
            let (code, stdout, stderr) =
                run(&["diff", "--from", &from, "--to", &to, "--format", format]);
            if code != Some(want) {
                failures.push(format!(
                    "{case} ({format}): exit {code:?}, expected {want}\n{stderr}{stdout}"
                ));
            }
            let ext = if format == "text" { "txt" } else { "json" };
            let path = dir.join(format!("{case}.{ext}"));
            failures.extend(check(&path, &stdout));
            produced.insert(path);
        }
    }
    failures.extend(no_stale(&dir, &produced));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn explain_refuses_bad_requests_with_the_flag_named() {
    let (code, _, stderr) = run(&[
        "explain",
        "--config",
        APPS,
        "--node",
        "mesh/apps/virtualNode/serviceA",
        "--request",
        "serviceb.apps.local/",
    ]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("--request 'serviceb.apps.local/'"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&[
        "explain",
        "--config",
        APPS,
        "--node",
        "mesh/apps/virtualNode/nobody",
        "--request",
        "GET http://serviceb.apps.local/",
    ]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("nobody"), "{stderr}");
}
