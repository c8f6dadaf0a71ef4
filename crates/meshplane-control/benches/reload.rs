//! Reload figures for a generated mesh written as CLI JSON files: N virtual
//! nodes, each behind its own virtual service and router, with 10 backends.
//! Prints the time of the first reload (everything translated), of a reload
//! with no change (mesh skipped), and of a one-route change (mesh
//! re-translated; only the proxies calling that route are woken) told by
//! the file watch which file changed and again with every file looked at,
//! and of the loading and validating parts alone. Under each reload, the seconds of its phases
//! (`ReloadReport::phases`: load, validate, translate and publish, diff).
//!
//! `cargo bench -p meshplane-control --bench reload` (MESHPLANE_BENCH_NODES,
//! default 1000). `cargo test` runs it at a smoke size (10 nodes by default).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use meshplane_authz::AccessControl;
use meshplane_control::changed_files::ChangedFiles;
use meshplane_control::{ControlState, Pipeline, PipelineSettings};
use meshplane_load::LoadOptions;
use meshplane_translate::TranslateOptions;
use meshplane_xds::SnapshotCache;
use serde_json::json;

const BACKENDS: usize = 10;

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary
/// too, without it: then a smoke size proves the bench still works, quickly.
fn full_size() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn write(dir: &Path, name: &str, v: serde_json::Value) {
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(&v).expect("json")).expect("write");
}

fn route(i: usize, prefix: &str) -> serde_json::Value {
    json!({"meshName": "bench", "virtualRouterName": format!("router-{i}"), "routeName": format!("route-{i}"),
        "spec": {"httpRoute": {"match": {"prefix": prefix},
            "action": {"weightedTargets": [{"virtualNode": format!("node-{i}"), "weight": 1}]}}}})
}

fn generate(dir: &Path, n: usize) {
    write(dir, "mesh.json", json!({"meshName": "bench", "spec": {}}));
    for i in 0..n {
        let backends: Vec<_> = (1..=BACKENDS)
            .map(|k| json!({"virtualService": {"virtualServiceName": format!("svc-{}.bench.local", (i + k) % n)}}))
            .collect();
        write(
            dir,
            &format!("node-{i}.json"),
            json!({"meshName": "bench", "virtualNodeName": format!("node-{i}"),
            "spec": {"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}],
                "serviceDiscovery": {"dns": {"hostname": format!("node-{i}.bench.local")}},
                "backends": backends}}),
        );
        write(
            dir,
            &format!("svc-{i}.json"),
            json!({"meshName": "bench", "virtualServiceName": format!("svc-{i}.bench.local"),
            "spec": {"provider": {"virtualRouter": {"virtualRouterName": format!("router-{i}")}}}}),
        );
        write(
            dir,
            &format!("router-{i}.json"),
            json!({"meshName": "bench", "virtualRouterName": format!("router-{i}"),
            "spec": {"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]}}),
        );
        write(dir, &format!("route-{i}.json"), route(i, "/"));
    }
}

fn main() {
    let n: usize = std::env::var("MESHPLANE_BENCH_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full_size() { 1000 } else { 10 });
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), n);
    let cache = SnapshotCache::new();
    let state = ControlState::new(Default::default(), AccessControl::insecure_no_auth());
    // As `meshplane serve` runs it: the file watch tells which files changed.
    let changed = Arc::new(ChangedFiles::new());
    let p = Pipeline::new(
        PipelineSettings {
            paths: vec![dir.path().to_owned()],
            load: LoadOptions::default(),
            translate: TranslateOptions::default(),
        },
        cache.clone(),
        state,
    )
    .with_changed_files(changed.clone());
    let timed =
        |what: &str| {
            let t = Instant::now();
            let r = p.reload();
            let s = t.elapsed().as_secs_f64();
            assert!(
                r.applied,
                "{:?}",
                r.diagnostics.iter().find(|d| d.is_error())
            );
            println!(
            "{what:<28} {s:>7.3} s  created {:>5}  updated {:>5}  unchanged {:>5}  skipped {:>5}",
            r.changes.created.len(), r.changes.updated.len(), r.changes.unchanged, r.changes.skipped
        );
            let ph = &r.phases;
            println!(
                "{:<28} load {:.3} s  validate {:.3} s  translate+publish {:.3} s  diff {:.3} s",
                "", ph.load_seconds, ph.validate_seconds, ph.build_seconds, ph.diff_seconds
            );
        };
    println!(
        "reload of {n} virtual nodes x {BACKENDS} backends ({} files)",
        1 + 4 * n
    );
    timed("first reload");
    timed("no change");
    // The loading part alone, with a cache that has seen every file.
    let paths = [dir.path().to_owned()];
    let mut files = meshplane_load::LoadCache::new();
    let _ = meshplane_load::load_paths_cached(&paths, &LoadOptions::default(), &mut files);
    let t = Instant::now();
    let (_, stats) = meshplane_load::load_paths_cached(&paths, &LoadOptions::default(), &mut files);
    println!(
        "{:<28} {:>7.3} s  {stats:?}",
        "load, cached",
        t.elapsed().as_secs_f64()
    );
    // Validation alone: in full, and the memo's first (full) validation,
    // which also notes every resource's lookups.
    let loaded = meshplane_load::load_paths(&paths, &LoadOptions::default());
    let (ctx, rules) = (Default::default(), meshplane_spec::Rules::all());
    let t = Instant::now();
    let _ = meshplane_spec::validate_with(&loaded.model, &loaded.origins, &ctx, rules);
    println!(
        "{:<28} {:>7.3} s",
        "validate, full",
        t.elapsed().as_secs_f64()
    );
    let mut memo = meshplane_spec::ValidationMemo::new();
    let t = Instant::now();
    let _ = memo.validate(&loaded.model, &loaded.origins, &ctx, rules, None);
    println!(
        "{:<28} {:>7.3} s",
        "validate, memo first",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let _ = meshplane_load::walk_spec_files(&paths);
    println!(
        "{:<28} {:>7.3} s",
        "find the files",
        t.elapsed().as_secs_f64()
    );
    // What the file watch would note: the file written.
    let route_file = std::path::absolute(dir.path().join("route-0.json")).expect("absolute");
    write(dir.path(), "route-0.json", route(0, "/api"));
    changed.note([route_file]);
    timed("one route changed");
    // The same without the watch's paths: every file looked at.
    write(dir.path(), "route-0.json", route(0, "/"));
    changed.note_anything();
    timed("one route, files walked");
    println!("interned resources: {}", cache.interner().len());
}
