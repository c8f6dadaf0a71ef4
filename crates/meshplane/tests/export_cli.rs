#![allow(clippy::unwrap_used)]
//! `meshplane export`: the examples export and load back; bad input exits 1
//! with the loader's diagnostics on stderr and nothing on stdout.

use std::path::{Path, PathBuf};
use std::process::Command;

fn examples(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/examples")
        .join(sub)
}

fn meshplane(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_meshplane"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cloudformation_exports_as_cli_input_that_loads_back() {
    let dir = examples("apps/cloudformation");
    let out = meshplane(&[
        "export",
        dir.to_str().unwrap(),
        "--format",
        "cli-json",
        "--account",
        "111122223333",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(docs.len(), 8);
    assert_eq!(docs[0]["meshName"], "apps");
    let tmp = std::env::temp_dir().join(format!("meshplane-export-{}.json", std::process::id()));
    std::fs::write(&tmp, &out.stdout).unwrap();
    let again = meshplane(&["export", tmp.to_str().unwrap(), "--format", "cli-json"]);
    std::fs::remove_file(&tmp).ok();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn load_errors_exit_1_with_diagnostics_on_stderr() {
    let tmp =
        std::env::temp_dir().join(format!("meshplane-export-bad-{}.yaml", std::process::id()));
    std::fs::write(
        &tmp,
        "meshName: m\nvirtualNodeName: a\nspec:\n  listeners:\n    - portMaping: {port: 80}\n",
    )
    .unwrap();
    let out = meshplane(&["export", tmp.to_str().unwrap(), "--format", "yaml"]);
    std::fs::remove_file(&tmp).ok();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(":5: error[load.unknown_field]"), "{stderr}");
    assert!(stderr.contains("spec.listeners[0].portMaping"), "{stderr}");
}
