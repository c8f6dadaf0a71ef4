#![allow(clippy::unwrap_used)]
//! Golden tests: each `golden/<case>.{json,yaml,yml}` is loaded and its
//! diagnostics plus the exported model are compared with `<case>.expected`.
//! `MESHPLANE_BLESS=1 cargo test -p meshplane-load --test golden` rewrites the
//! expected files and deletes the ones whose case is gone (refused when `CI`
//! is set). A mismatch prints a unified diff; an expected file without its
//! case fails the run.

use std::path::{Path, PathBuf};

use meshplane_load::{export, load_str, ExportFormat, LoadOptions};

fn render(file: &Path, text: &str) -> String {
    let name = Path::new(file.file_name().unwrap());
    let loaded = load_str(name, text, &LoadOptions::default());
    let mut out = String::from("# diagnostics\n");
    for d in &loaded.diagnostics {
        out.push_str(&format!("{d}\n"));
    }
    out.push_str("# model\n");
    out.push_str(&export(&loaded.model, ExportFormat::Yaml));
    out
}

#[test]
fn golden_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("MESHPLANE_BLESS").is_some_and(|v| v == "1");
    assert!(
        !(update && std::env::var_os("CI").is_some()),
        "MESHPLANE_BLESS=1 is refused when CI is set: goldens change in a reviewed commit, never in CI"
    );
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "expected"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    let mut failures = Vec::new();
    for input in &inputs {
        let actual = render(input, &std::fs::read_to_string(input).unwrap());
        let expected_path = input.with_extension("expected");
        if update {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            let name = expected_path.display().to_string();
            failures.push(
                similar::TextDiff::from_lines(&expected, &actual)
                    .unified_diff()
                    .header(&format!("golden {name}"), &format!("loaded {name}"))
                    .to_string(),
            );
        }
    }
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "expected")
            && !inputs.iter().any(|i| i.with_extension("expected") == p)
        {
            if update {
                std::fs::remove_file(p).unwrap();
            } else {
                failures.push(format!(
                    "{}: stale golden file (its case is gone)",
                    p.display()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "golden outputs differ (MESHPLANE_BLESS=1 to accept):\n{}",
        failures.join("\n")
    );
}
