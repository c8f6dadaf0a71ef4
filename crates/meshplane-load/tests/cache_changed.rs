//! A load told by the file watch which paths changed reads only those
//! files, and gives what a fresh load gives; any change it cannot take as
//! an edit of a file read before (a new file, a file gone, a directory
//! moved, a symbolic link swapped) makes it walk the directories again.
#![allow(clippy::unwrap_used)]

#[path = "support/same_load.rs"]
mod same_load;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use same_load::assert_same;

use meshplane_load::{
    load_paths, load_paths_cached, load_paths_changed, CacheStats, LoadCache, LoadOptions,
};

fn node(name: &str, port: u16) -> String {
    format!(
        r#"{{"meshName": "m", "virtualNodeName": "{name}", "spec": {{
  "listeners": [{{"portMapping": {{"port": {port}, "protocol": "http"}}}}],
  "serviceDiscovery": {{"dns": {{"hostname": "{name}.local"}}}}}}}}"#
    )
}

/// A spec directory of a mesh and `n` nodes, in `nodes/`, loaded once.
fn setup(n: usize) -> (tempfile::TempDir, PathBuf, LoadCache) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::absolute(dir.path()).unwrap();
    std::fs::write(root.join("mesh.json"), r#"{"meshName": "m", "spec": {}}"#).unwrap();
    std::fs::create_dir(root.join("nodes")).unwrap();
    for i in 0..n {
        std::fs::write(
            root.join(format!("nodes/n{i}.json")),
            node(&format!("n{i}"), 80),
        )
        .unwrap();
    }
    let mut cache = LoadCache::new();
    let _ = load_paths_cached(
        std::slice::from_ref(&root),
        &LoadOptions::default(),
        &mut cache,
    );
    (dir, root, cache)
}

/// Loads told `changed` and compares everything with a fresh load.
fn told(root: &Path, cache: &mut LoadCache, changed: &[PathBuf]) -> CacheStats {
    let paths = [root.to_owned()];
    let changed: BTreeSet<PathBuf> = changed.iter().cloned().collect();
    let (got, stats) = load_paths_changed(&paths, &LoadOptions::default(), cache, &changed);
    let fresh = load_paths(&paths, &LoadOptions::default());
    assert_same(&got, &fresh);
    stats
}

/// Files looked at: read (same content or parsed), and not opened.
fn looked(s: CacheStats) -> (usize, usize) {
    (s.same_content + s.parsed, s.unchanged)
}

#[test]
fn an_edit_reported_reads_that_file_alone() {
    let (_d, root, mut cache) = setup(20);
    let f = root.join("nodes/n3.json");
    std::fs::write(&f, node("n3", 8080)).unwrap();
    let stats = told(&root, &mut cache, std::slice::from_ref(&f));
    assert_eq!(looked(stats), (1, 20));
    assert_eq!(stats.parsed, 1);
    // Twice in a row, and a path reported twice, read once.
    std::fs::write(&f, node("n3", 9090)).unwrap();
    let stats = told(&root, &mut cache, &[f.clone(), f.clone()]);
    assert_eq!(looked(stats), (1, 20));
}

#[test]
fn files_the_walk_skips_and_paths_elsewhere_change_nothing() {
    let (_d, root, mut cache) = setup(5);
    let swap = root.join("nodes/.n1.json.swp");
    let notes = root.join("nodes/README.md");
    std::fs::write(&swap, "editor state").unwrap();
    std::fs::write(&notes, "notes").unwrap();
    let elsewhere = std::path::absolute(std::env::temp_dir())
        .unwrap()
        .join("auth.yaml");
    let stats = told(&root, &mut cache, &[swap, notes, elsewhere]);
    assert_eq!(looked(stats), (0, 6));
}

#[test]
fn anything_but_an_edit_of_a_file_read_before_walks_again() {
    let (_d, root, mut cache) = setup(5);
    // A new file.
    let new = root.join("nodes/n9.json");
    std::fs::write(&new, node("n9", 80)).unwrap();
    told(&root, &mut cache, std::slice::from_ref(&new));
    // A file removed.
    std::fs::remove_file(&new).unwrap();
    told(&root, &mut cache, &[new]);
    // A directory moved away: only the directory is reported.
    let moved = root.join("nodes");
    std::fs::rename(&moved, root.join(".old-nodes")).unwrap();
    told(&root, &mut cache, std::slice::from_ref(&moved));
    // And back, under a new name (a directory created).
    let back = root.join("more");
    std::fs::rename(root.join(".old-nodes"), &back).unwrap();
    told(&root, &mut cache, std::slice::from_ref(&back));
    // A file swapped for a directory of the same name.
    let f = back.join("n0.json");
    std::fs::remove_file(&f).unwrap();
    std::fs::create_dir(&f).unwrap();
    std::fs::write(f.join("n0.json"), node("n0", 81)).unwrap();
    told(&root, &mut cache, &[f]);
}

#[test]
fn a_symlink_swap_walks_again() {
    // How Kubernetes updates a mounted ConfigMap: the files are links
    // through `..data`, which is replaced by a link to a new directory.
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::absolute(dir.path()).unwrap();
    for (version, port) in [("..v1", 80), ("..v2", 8080)] {
        std::fs::create_dir(root.join(version)).unwrap();
        std::fs::write(root.join(version).join("n0.json"), node("n0", port)).unwrap();
        std::fs::write(
            root.join(version).join("mesh.json"),
            r#"{"meshName": "m", "spec": {}}"#,
        )
        .unwrap();
    }
    std::os::unix::fs::symlink("..v1", root.join("..data")).unwrap();
    for f in ["n0.json", "mesh.json"] {
        std::os::unix::fs::symlink(format!("..data/{f}"), root.join(f)).unwrap();
    }
    let mut cache = LoadCache::new();
    let _ = load_paths_cached(
        std::slice::from_ref(&root),
        &LoadOptions::default(),
        &mut cache,
    );
    std::os::unix::fs::symlink("..v2", root.join("..data_tmp")).unwrap();
    std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    let stats = told(
        &root,
        &mut cache,
        &[root.join("..data_tmp"), root.join("..data")],
    );
    assert_eq!(stats.unchanged + stats.same_content + stats.parsed, 2);
}

#[test]
fn without_a_listing_it_is_a_cached_load() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::absolute(dir.path()).unwrap();
    std::fs::write(root.join("n0.json"), node("n0", 80)).unwrap();
    let mut cache = LoadCache::new();
    let stats = told(&root, &mut cache, &[]);
    assert_eq!(stats.parsed, 1);
}
