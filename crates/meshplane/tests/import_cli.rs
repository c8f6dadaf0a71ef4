//! `meshplane import DIR --store URL` and `meshplane export --store URL`
//! round-trip, all or nothing.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn meshplane(args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_meshplane"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MESHPLANE_") {
            c.env_remove(k);
        }
    }
    c.args(args).output().unwrap()
}

#[test]
fn import_then_export_round_trips_and_refuses_partial_imports() {
    let dir = std::env::temp_dir().join(format!("meshplane-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::write(
        specs.join("mesh.yaml"),
        "meshName: shop\nspec: {egressFilter: {type: ALLOW_ALL}}\n---\nmeshName: shop\nvirtualNodeName: web\nspec:\n  listeners: [{portMapping: {port: 80, protocol: http}}]\n  serviceDiscovery: {dns: {hostname: web.local}}\n---\nmeshName: shop\nvirtualServiceName: web.local\nspec: {provider: {virtualNode: {virtualNodeName: web}}}\n",
    )
    .unwrap();
    let store = format!("sqlite:{}", dir.join("db").display());
    let specs_s = specs.display().to_string();
    let out = meshplane(&["import", &specs_s, "--store", &store]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 resource(s)"));
    let from_store = meshplane(&["export", "--store", &store]);
    assert!(
        from_store.status.success(),
        "{}",
        String::from_utf8_lossy(&from_store.stderr)
    );
    let from_files = meshplane(&["export", &specs_s]);
    assert_eq!(
        String::from_utf8_lossy(&from_store.stdout),
        String::from_utf8_lossy(&from_files.stdout)
    );

    // The same meshes again: refused, nothing changes.
    let again = meshplane(&["import", &specs_s, "--store", &store]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing imported"));
    // An invalid set: nothing of it is imported.
    let bad = dir.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("m.yaml"),
        "meshName: other\nspec: {}\n---\nmeshName: other\nvirtualNodeName: n\nspec: {listeners: [{portMapping: {port: 70000, protocol: http}}]}\n",
    )
    .unwrap();
    let out = meshplane(&["import", &bad.display().to_string(), "--store", &store]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing imported"));
    let after = meshplane(&["export", "--store", &store]);
    assert_eq!(after.stdout, from_store.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}
