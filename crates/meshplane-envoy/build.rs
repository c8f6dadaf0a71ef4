//! Compiles the Envoy .proto sources that `envoy-types` ships into one
//! FileDescriptorSet (`$OUT_DIR/envoy_descriptors.bin`), so the crate can
//! convert Envoy messages to and from proto3 JSON at run time.
//!
//! The sources are found through `cargo metadata`: the `envoy-types` package
//! this crate resolves to has a `proto/` directory beside its Cargo.toml.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files compiled as roots; everything they import comes along.
const ROOTS: &[&str] = &[
    // xDS services and the bootstrap.
    "envoy/service/discovery/v3/ads.proto",
    "envoy/service/cluster/v3/cds.proto",
    "envoy/service/listener/v3/lds.proto",
    "envoy/service/route/v3/rds.proto",
    "envoy/service/endpoint/v3/eds.proto",
    "envoy/service/secret/v3/sds.proto",
    "envoy/config/bootstrap/v3/bootstrap.proto",
    // Tracers and stats sinks a bootstrap may name (X-Ray, Zipkin, Datadog, statsd).
    "envoy/config/trace/v3/trace.proto",
    "envoy/config/metrics/v3/stats.proto",
    // Resource types.
    "envoy/config/listener/v3/listener.proto",
    "envoy/config/cluster/v3/cluster.proto",
    "envoy/config/route/v3/route.proto",
    "envoy/config/endpoint/v3/endpoint.proto",
    "envoy/config/core/v3/health_check.proto",
    "envoy/type/matcher/v3/string.proto",
    "envoy/type/matcher/v3/regex.proto",
    "envoy/type/matcher/v3/metadata.proto",
    // Extensions carried in typed_config.
    "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
    "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto",
    "envoy/extensions/filters/network/direct_response/v3/config.proto",
    "envoy/extensions/filters/http/router/v3/router.proto",
    "envoy/extensions/filters/http/health_check/v3/health_check.proto",
    "envoy/extensions/filters/http/fault/v3/fault.proto",
    "envoy/extensions/filters/listener/original_dst/v3/original_dst.proto",
    "envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto",
    "envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto",
    "envoy/extensions/access_loggers/file/v3/file.proto",
    "envoy/extensions/access_loggers/stream/v3/stream.proto",
    "envoy/extensions/transport_sockets/tls/v3/tls.proto",
    "envoy/extensions/transport_sockets/tls/v3/secret.proto",
    "envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto",
    "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
    "envoy/extensions/upstreams/tcp/v3/tcp_protocol_options.proto",
    "envoy/extensions/clusters/aggregate/v3/cluster.proto",
    "envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let located = locate_envoy_types(&manifest_dir)?;
    // A different envoy-types version shows up as a change of the lock file.
    println!(
        "cargo:rerun-if-changed={}",
        located.workspace_root.join("Cargo.lock").display()
    );

    let proto_root = located.package_dir.join("proto");
    let includes = include_dirs(&proto_root)?;
    let mut compiler = protox::Compiler::new(&includes)
        .map_err(|e| format!("protox include paths under {}: {e}", proto_root.display()))?;
    compiler.include_imports(true).include_source_info(false);
    for root in ROOTS {
        compiler
            .open_file(root)
            .map_err(|e| format!("protox could not compile {root}: {e:?}"))?;
    }
    let bytes = compiler.encode_file_descriptor_set();
    std::fs::write(out_dir.join("envoy_descriptors.bin"), bytes)?;
    Ok(())
}

struct Located {
    package_dir: PathBuf,
    workspace_root: PathBuf,
}

/// Asks cargo which `envoy-types` package this crate depends on.
fn locate_envoy_types(manifest_dir: &Path) -> Result<Located, Box<dyn Error>> {
    // Offline first (every package this build needs is already downloaded);
    // if cargo still wants a manifest it lacks, let it fetch that.
    let output = match cargo_metadata(manifest_dir, true)? {
        Ok(stdout) => stdout,
        Err(_) => cargo_metadata(manifest_dir, false)?
            .map_err(|stderr| format!("`cargo metadata` failed: {stderr}"))?,
    };
    let meta: serde_json::Value = serde_json::from_slice(&output)?;
    let workspace_root = meta["workspace_root"]
        .as_str()
        .ok_or("cargo metadata has no workspace_root")?;

    // Follow the resolve graph from this package to the envoy-types it uses,
    // so a second envoy-types version elsewhere in the graph cannot confuse us.
    let self_name = std::env::var("CARGO_PKG_NAME")?;
    let packages = meta["packages"].as_array().ok_or("no packages")?;
    let self_id = packages
        .iter()
        .find(|p| {
            p["name"] == self_name.as_str()
                && Path::new(p["manifest_path"].as_str().unwrap_or_default())
                    == manifest_dir.join("Cargo.toml")
        })
        .and_then(|p| p["id"].as_str())
        .ok_or("cargo metadata does not list this package")?;
    let nodes = meta["resolve"]["nodes"]
        .as_array()
        .ok_or("no resolve graph")?;
    let envoy_types_id = nodes
        .iter()
        .find(|n| n["id"] == self_id)
        .and_then(|n| n["deps"].as_array())
        .and_then(|deps| deps.iter().find(|d| d["name"] == "envoy_types"))
        .and_then(|d| d["pkg"].as_str())
        .ok_or("this package does not depend on envoy-types")?;
    let manifest_path = packages
        .iter()
        .find(|p| p["id"] == envoy_types_id)
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or("cargo metadata has no manifest_path for envoy-types")?;
    let package_dir = Path::new(manifest_path)
        .parent()
        .ok_or("envoy-types manifest_path has no parent directory")?
        .to_path_buf();
    Ok(Located {
        package_dir,
        workspace_root: PathBuf::from(workspace_root),
    })
}

/// Runs `cargo metadata` for the platforms of this build only (the full
/// graph would name Windows-only packages that were never downloaded).
/// `Ok(Err(stderr))` when cargo ran and failed.
fn cargo_metadata(
    manifest_dir: &Path,
    offline: bool,
) -> Result<Result<Vec<u8>, String>, Box<dyn Error>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(manifest_dir)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(manifest_dir.join("Cargo.toml"));
    for platform in ["TARGET", "HOST"] {
        if let Ok(triple) = std::env::var(platform) {
            cmd.args(["--filter-platform", &triple]);
        }
    }
    if offline {
        cmd.arg("--offline");
    }
    let output = cmd
        .output()
        .map_err(|e| format!("could not run `{} metadata`: {e}", cargo.to_string_lossy()))?;
    Ok(if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    })
}

/// Every directory directly under `proto/` is an include root
/// (data-plane-api, googleapis, xds, protoc-gen-validate, cel-spec, ...).
fn include_dirs(proto_root: &Path) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let mut dirs = Vec::new();
    let entries = std::fs::read_dir(proto_root)
        .map_err(|e| format!("envoy-types ships no {}: {e}", proto_root.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    // data-plane-api first, then the rest in a stable order.
    dirs.sort_by_key(|d| (!d.ends_with("data-plane-api"), d.clone()));
    Ok(dirs)
}
