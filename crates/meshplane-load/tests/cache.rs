//! A cached load gives exactly what a fresh load gives, edit after edit, in
//! every format: CLI JSON files (cached decoded), CloudFormation stacks
//! importing each other's exports and Kubernetes manifests (resolved across
//! files on every load), broken, removed and restored files.
#![allow(clippy::unwrap_used)]

#[path = "support/same_load.rs"]
mod same_load;

use std::path::{Path, PathBuf};

use same_load::assert_same;

use meshplane_load::{load_paths, load_paths_cached, LoadCache, LoadOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn options() -> LoadOptions {
    let mut opts = LoadOptions::default();
    opts.params
        .insert("EnvironmentName".to_owned(), "prod".to_owned());
    opts
}

/// Loads cached and fresh and compares everything a load returns.
fn same(dir: &Path, cache: &mut LoadCache, opts: &LoadOptions) -> meshplane_load::CacheStats {
    let paths = [dir.to_owned()];
    let (cached, stats) = load_paths_cached(&paths, opts, cache);
    let fresh = load_paths(&paths, opts);
    assert_same(&cached, &fresh);
    stats
}

fn replace(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn cached_loads_equal_fresh_loads_through_edits_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy(&root().join("crates/meshplane-load/tests/user_files"), d);
    copy(&root().join("config/examples/external-traffic"), d);
    std::fs::create_dir(d.join("k8s")).unwrap();
    copy(
        &root().join("config/examples/apps/kubernetes"),
        &d.join("k8s"),
    );
    let opts = options();
    let mut cache = LoadCache::new();

    let first = same(d, &mut cache, &opts);
    assert_eq!(first.unchanged + first.same_content, 0);
    assert!(first.parsed > 0);
    // Nothing changed: nothing parsed again.
    let again = same(d, &mut cache, &opts);
    assert_eq!(again.parsed, 0, "{again:?}");

    // A CLI file, then the export another stack imports.
    replace(
        &d.join("route-external-go.json"),
        "\"weight\": ",
        "\"weight\": 1",
    );
    let s = same(d, &mut cache, &opts);
    assert_eq!(s.parsed, 1, "{s:?}");
    replace(
        &d.join("infra-stack.yaml"),
        "${EnvironmentName}:Mesh",
        "${EnvironmentName}:Other",
    );
    same(d, &mut cache, &opts);
    // A Kubernetes object, then a syntax error in it, then its removal.
    let k8s = d.join("k8s/apps.yaml");
    let text = std::fs::read_to_string(&k8s).unwrap();
    std::fs::write(&k8s, format!("{text}\n---\n{{ broken: [")).unwrap();
    same(d, &mut cache, &opts);
    std::fs::remove_file(&k8s).unwrap();
    same(d, &mut cache, &opts);
    std::fs::write(&k8s, &text).unwrap();
    same(d, &mut cache, &opts);
    // A resource defined twice across files keeps the first, as before.
    std::fs::copy(d.join("mesh.json"), d.join("mesh-copy.json")).unwrap();
    same(d, &mut cache, &opts);
    // Other options: the cache starts over.
    let mut other = opts.clone();
    other
        .params
        .insert("EnvironmentName".to_owned(), "dev".to_owned());
    let s = same(d, &mut cache, &other);
    assert_eq!(s.unchanged + s.same_content, 0, "{s:?}");
}

fn write_node(dir: &Path, file: &str, name: &str, port: u16) {
    std::fs::write(
        dir.join(file),
        format!(
            r#"{{"meshName": "m", "virtualNodeName": "{name}", "spec": {{
  "listeners": [{{"portMapping": {{"port": {port}, "protocol": "http"}}}}],
  "serviceDiscovery": {{"dns": {{"hostname": "{name}.m.local"}}}}}}}}"#
        ),
    )
    .unwrap();
}

/// A spec changed in place patches the kept model; a file added, a
/// resource renamed, a duplicate or a spec that no longer decodes
/// assembles it again; every load equals a fresh one.
#[test]
fn spec_changes_patch_the_kept_model_and_the_rest_assemble_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("mesh.json"), r#"{"meshName": "m", "spec": {}}"#).unwrap();
    write_node(d, "a.json", "a", 80);
    write_node(d, "b.json", "b", 80);
    let opts = LoadOptions::default();
    let mut cache = LoadCache::new();
    assert!(!same(d, &mut cache, &opts).patched);
    let s = same(d, &mut cache, &opts);
    assert!(s.patched && s.parsed == 0, "{s:?}");
    write_node(d, "a.json", "a", 8080);
    let s = same(d, &mut cache, &opts);
    assert!(s.patched && s.parsed == 1, "{s:?}");
    // Renamed: the model loses a resource and gains one.
    write_node(d, "a.json", "c", 8080);
    assert!(!same(d, &mut cache, &opts).patched);
    // A file added, then a duplicate of it (the first is kept).
    write_node(d, "d.json", "d", 80);
    assert!(!same(d, &mut cache, &opts).patched);
    write_node(d, "d.json", "b", 9090);
    assert!(!same(d, &mut cache, &opts).patched);
    // With a duplicate, even a spec change assembles the model again.
    write_node(d, "b.json", "b", 8080);
    assert!(!same(d, &mut cache, &opts).patched);
    write_node(d, "d.json", "d", 80);
    assert!(!same(d, &mut cache, &opts).patched);
    write_node(d, "d.json", "d", 81);
    assert!(same(d, &mut cache, &opts).patched);
    // A spec that no longer decodes, and decodes again.
    std::fs::write(
        d.join("d.json"),
        r#"{"meshName": "m", "virtualNodeName": "d", "spec": {"listeners": 7}}"#,
    )
    .unwrap();
    assert!(!same(d, &mut cache, &opts).patched);
    write_node(d, "d.json", "d", 82);
    assert!(!same(d, &mut cache, &opts).patched);
    write_node(d, "d.json", "d", 83);
    assert!(same(d, &mut cache, &opts).patched);
}
