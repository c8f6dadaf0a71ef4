//! `meshplane validate` end to end: the built binary against the example
//! directories in `config/examples`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/examples")
}

fn meshplane(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_meshplane"))
        .args(args)
        .env_remove("MESHPLANE_REGION")
        .env_remove("MESHPLANE_ACCOUNT")
        .output()
        .expect("the meshplane binary runs");
    assert!(out.status.code().is_some(), "meshplane was killed: {out:?}");
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `(rule, file relative to the directory, line)` of every expected finding.
fn expected(dir: &Path) -> BTreeSet<(String, String, u32)> {
    let text = std::fs::read_to_string(dir.join("expected.txt")).expect("expected.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (rule, loc) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("bad expected.txt line: {l}"));
            let (file, line) = loc
                .rsplit_once(':')
                .unwrap_or_else(|| panic!("bad location: {l}"));
            (
                rule.to_owned(),
                file.to_owned(),
                line.parse()
                    .unwrap_or_else(|_| panic!("bad line number: {l}")),
            )
        })
        .collect()
}

#[test]
fn the_invalid_examples_report_every_seeded_mistake_with_file_and_line() {
    let dir = examples().join("invalid");
    let dir_str = dir.to_str().expect("utf-8 path");
    let want = expected(&dir);
    assert!(
        want.len() >= 25,
        "expected.txt lists {} findings",
        want.len()
    );

    let out = meshplane(&["validate", "--format", "json", dir_str]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit code; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["valid"], false);
    let got: BTreeSet<(String, String, u32)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .map(|d| {
            let file = Path::new(d["file"].as_str().expect("every finding names its file"));
            let rel = file.strip_prefix(&dir).expect("file inside the directory");
            let line = d["line"].as_u64().expect("every finding has a line");
            (
                d["rule"].as_str().expect("rule").to_owned(),
                rel.display().to_string(),
                line as u32,
            )
        })
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let unexpected: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing: {missing:#?}\nunexpected: {unexpected:#?}"
    );
    for d in report["diagnostics"].as_array().into_iter().flatten() {
        let arn = d["resource"].as_str().unwrap_or_default();
        assert!(
            arn.starts_with("arn:aws:appmesh:us-east-1:000000000000:mesh/broken"),
            "{d}"
        );
        assert!(
            d["path"].as_str().is_some_and(|p| p.starts_with("spec")),
            "{d}"
        );
        assert!(!d["message"].as_str().unwrap_or_default().is_empty(), "{d}");
    }
    assert_eq!(
        report["summary"]["errors"].as_u64(),
        Some(want.iter().filter(|w| !w.0.starts_with("warn.")).count() as u64)
    );

    // The text format: `file:line: error[rule]: <arn>: <path>: message`,
    // sorted by file and line, then one summary line.
    let out = meshplane(&[
        "--region",
        "eu-west-1",
        "--account",
        "111122223333",
        "validate",
        dir_str,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), want.len() + 1, "{text}");
    for (rule, file, line) in &want {
        let sev = if rule.starts_with("warn.") {
            "warning"
        } else {
            "error"
        };
        let prefix = format!(
            "{}:{line}: {sev}[{rule}]: arn:aws:appmesh:eu-west-1:",
            dir.join(file).display()
        );
        assert!(
            lines.iter().any(|l| l.starts_with(&prefix)),
            "no line starts with {prefix}\n{text}"
        );
    }
    let mut sorted = lines[..want.len()].to_vec();
    sorted.sort_by_key(|l| {
        let mut parts = l.splitn(3, ':');
        (
            parts.next().unwrap_or_default().to_owned(),
            parts.next().and_then(|n| n.parse::<u32>().ok()),
        )
    });
    assert_eq!(
        sorted,
        lines[..want.len()].to_vec(),
        "findings are sorted by file and line"
    );
    assert!(lines[want.len()].starts_with("invalid: "), "{text}");
}

/// Directories under `config/examples` (except `invalid`) that directly hold
/// spec files: each is one complete example.
fn valid_example_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable directory")
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    let is_spec = |p: &PathBuf| {
        p.extension()
            .is_some_and(|e| e == "json" || e == "yaml" || e == "yml")
    };
    if entries.iter().any(|p| p.is_file() && is_spec(p)) {
        out.push(dir.to_owned());
        return;
    }
    for e in entries
        .iter()
        .filter(|p| p.is_dir() && !p.ends_with("invalid"))
    {
        valid_example_dirs(e, out);
    }
}

#[test]
fn every_valid_example_validates() {
    let mut dirs = Vec::new();
    valid_example_dirs(&examples(), &mut dirs);
    assert!(
        !dirs.is_empty(),
        "no example directories under {}",
        examples().display()
    );
    for dir in dirs {
        let out = meshplane(&["validate", dir.to_str().expect("utf-8 path")]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{}:\n{text}", dir.display());
        assert_eq!(text.lines().count(), 1, "{}:\n{text}", dir.display());
        assert!(
            text.starts_with("valid: ") && !text.contains("no App Mesh resources"),
            "{text}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        meshplane(&["validate", "--format", "yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(
        meshplane(&["validate", "--param", "novalue", "."])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(meshplane(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn a_missing_path_is_an_error() {
    let out = meshplane(&["validate", "/nonexistent/meshplane/specs"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("/nonexistent/meshplane/specs"),
        "{}",
        stdout(&out)
    );
}
