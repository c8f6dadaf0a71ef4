#![allow(clippy::unwrap_used)]
//! `load_paths`: files and directories, recursion, order, unreadable input.

use std::path::PathBuf;

use meshplane_load::{load_paths, LoadOptions};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("meshplane-load-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn directories_are_searched_recursively_in_sorted_order() {
    let dir = TempDir::new("walk");
    dir.write("b/node.yml", b"meshName: m\nvirtualNodeName: b\n");
    dir.write("a.json", br#"{"meshName": "m"}"#);
    dir.write("c/d/service.YAML", b"meshName: m\nvirtualServiceName: s\n");
    dir.write("notes.txt", b"not a spec");
    dir.write(".hidden/x.yaml", b"broken: [");
    let bad = dir.write("z-latin1.yaml", b"meshName: caf\xe9\n");
    let missing = dir.0.join("missing.json");
    let loaded = load_paths(
        &[dir.0.clone(), missing.clone(), dir.0.join("a.json")],
        &LoadOptions::default(),
    );
    let names: Vec<String> = loaded
        .files
        .iter()
        .map(|f| f.strip_prefix(&dir.0).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        ["a.json", "b/node.yml", "c/d/service.YAML", "z-latin1.yaml"]
    );
    let rules: Vec<(&str, Option<&std::path::Path>)> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.rule, d.file.as_deref()))
        .collect();
    // Sorted by file.
    assert_eq!(
        rules,
        [
            ("load.read", Some(missing.as_path())),
            ("load.read", Some(bad.as_path()))
        ]
    );
    let mesh = loaded.model.mesh("m").unwrap();
    assert!(
        mesh.spec.is_some()
            && mesh.virtual_nodes.contains_key("b")
            && mesh.virtual_services.contains_key("s")
    );
}

#[test]
fn kubernetes_references_cross_files() {
    let dir = TempDir::new("k8s");
    dir.write(
        "mesh.yaml",
        b"apiVersion: appmesh.k8s.aws/v1beta2\nkind: Mesh\nmetadata: {name: m}\nspec: {awsName: prod}\n",
    );
    dir.write(
        "service.yaml",
        b"apiVersion: appmesh.k8s.aws/v1beta2\nkind: VirtualService\nmetadata: {name: s, namespace: n}\nspec: {provider: {virtualNode: {virtualNodeRef: {name: v}}}}\n",
    );
    dir.write(
        "zz-node.yaml",
        b"apiVersion: appmesh.k8s.aws/v1beta2\nkind: VirtualNode\nmetadata: {name: v, namespace: n}\nspec: {awsName: web}\n",
    );
    let loaded = load_paths(std::slice::from_ref(&dir.0), &LoadOptions::default());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let mesh = loaded.model.mesh("prod").unwrap();
    let provider = mesh.virtual_services["s.n"].provider.as_ref().unwrap();
    assert_eq!(
        provider.virtual_node.as_ref().unwrap().virtual_node_name,
        "web"
    );
}
