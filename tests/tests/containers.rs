//! The container images, built by `scripts/images.sh` and run by podman in
//! the topology's network namespaces: the meshplane image serves the
//! getting-started mesh from a mounted spec directory, a sidecar container
//! with only App Mesh's variables (behind `proxy-init.sh`'s redirection)
//! routes real requests, the App Mesh API's data directory survives a new
//! container, and `podman stop` ends meshplane cleanly.

use std::time::{Duration, Instant};

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::SERVICE_B_URL;
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::containers::{
    require_current_images, Container, ContainerSpec, Volume, MESHPLANE_IMAGE,
};
use meshplane_e2e::harness::control::parse_get;
use meshplane_e2e::harness::envoy::{Sidecar, XDS_PORT};
use meshplane_e2e::harness::specs::copy_dir;
use meshplane_e2e::harness::topology::{wait_for, SWITCH_IP};
use meshplane_e2e::Topology;

/// The image's user (deploy/docker/meshplane.Dockerfile).
const MESHPLANE_UID: u32 = 10001;
/// The sidecar image's user: App Mesh's Envoy UID.
const ENVOY_UID: u32 = 1337;
/// Where the admin server listens in the container: every address, so the
/// image's health check (loopback) and the test (the bridge) both reach it.
const ADMIN: &str = "0.0.0.0:9902";

fn admin_get(t: &Topology, path: &str) -> anyhow::Result<(u16, String)> {
    let url = format!("http://{SWITCH_IP}:9902{path}");
    parse_get(&t.switch.exec(&t.bins.client, &["get", &url])?)
}

/// Start the meshplane image in the switch namespace; wait for /readyz.
fn start_meshplane(t: &Topology, spec: ContainerSpec) -> anyhow::Result<(Container, Duration)> {
    let started = Instant::now();
    let name = format!("{}-meshplane", t.switch.name());
    let c = spec.start(&name)?;
    wait_for(
        "the meshplane container's /readyz",
        Duration::from_secs(30),
        || {
            if !c.running() {
                anyhow::bail!("the meshplane container exited:\n{}", c.logs());
            }
            Ok(admin_get(t, "/readyz")
                .ok()
                .filter(|(s, _)| *s == 200)
                .map(|_| ()))
        },
    )?;
    Ok((c, started.elapsed()))
}

#[test]
fn the_images_serve_the_mesh_and_route_traffic_through_a_sidecar_container() -> anyhow::Result<()> {
    require_current_images()?;
    let mut t = Topology::new("containers", binaries!()?)?;
    let specs = t.path("specs");
    copy_dir(
        &meshplane_e2e::harness::binaries::workspace_root().join("config/examples/apps/cli-json"),
        &specs,
    )?;
    let spec = ContainerSpec::new(MESHPLANE_IMAGE, &t.switch)
        .volume(&format!("{}:/etc/meshplane/specs:ro", specs.display()))
        .args(&[
            "serve",
            "--config",
            "/etc/meshplane/specs",
            "--xds-listen",
            &format!("{SWITCH_IP}:{XDS_PORT}"),
            "--admin-listen",
            ADMIN,
            "--insecure-no-auth",
        ]);
    let (control, ready_after) = start_meshplane(&t, spec)?;
    println!(
        "containers: podman run -> /readyz in {} ms",
        ready_after.as_millis()
    );
    assert_eq!(
        control.process_uid()?,
        MESHPLANE_UID,
        "meshplane runs as its own user"
    );
    control.healthcheck()?;

    for node in ["serviceA", "serviceB", "serviceBv2"] {
        let ip = t.add_app(node)?;
        t.add_host(&format!("{node}.apps.local"), ip)?;
    }
    let (a, b) = (t.app("serviceA")?.ip, t.app("serviceB")?.ip);
    t.add_host("servicea.apps.local", a)?;
    t.add_host("serviceb.apps.local", b)?;
    for node in ["serviceA", "serviceB", "serviceBv2"] {
        t.start_http_backend(node, node, 80)?;
    }
    // serviceA's sidecar is the image; the others are host processes.
    let sidecar = t.start_sidecar_container("serviceA", "mesh/apps/virtualNode/serviceA", &[80])?;
    for node in ["serviceB", "serviceBv2"] {
        t.start_envoy(node, &Sidecar::node("apps", node, &[80]))?;
    }
    t.wait_envoys_ready()?;
    assert_eq!(
        sidecar.process_uid()?,
        ENVOY_UID,
        "the sidecar runs as UID 1337"
    );
    wait_for(
        "the sidecar image's health check",
        Duration::from_secs(20),
        || Ok(sidecar.healthcheck().ok()),
    )?;

    let s = t.http("serviceA", SERVICE_B_URL, 400, &HttpLoad::default())?;
    println!(
        "containers: 400 requests through the sidecar container: {:?}, statuses {:?}, errors {:?}",
        s.by_backend, s.by_status, s.errors
    );
    assert_eq!(s.failed, 0, "failed requests: {s:?}");
    let (b, b2) = (s.count("serviceB"), s.count("serviceBv2"));
    assert_eq!(b + b2, 400, "answers from elsewhere: {:?}", s.by_backend);
    assert!(b > 0 && b2 > 0, "the 75/25 split: {:?}", s.by_backend);
    let egress = t.envoy_stat(
        "serviceA",
        "cluster.cds_egress_apps_serviceB_http2_80.upstream_rq_completed",
    )?;
    assert_eq!(egress, Some(b), "the container Envoy carried the requests");

    // SIGTERM: meshplane closes its streams and exits 0 within the grace
    // period; the proxies keep their configuration.
    let (took, code) = control.stop(Duration::from_secs(10))?;
    println!(
        "containers: podman stop took {} ms, exit code {code}",
        took.as_millis()
    );
    assert_eq!(
        code,
        0,
        "meshplane's exit code after SIGTERM:\n{}",
        control.logs()
    );
    assert!(
        took < Duration::from_secs(10),
        "podman stop needed the grace period's end (SIGKILL)"
    );
    // The sidecar (at debug, App Mesh's ENVOY_LOG_LEVEL) saw its stream end
    // with gRPC status 0 before its reconnects were refused.
    let close = wait_for(
        "the sidecar's stream to close",
        Duration::from_secs(5),
        || {
            Ok(sidecar
                .logs()
                .lines()
                .find(|l| l.contains("gRPC config stream to meshplane_xds closed:"))
                .map(str::to_owned))
        },
    )?;
    assert!(close.contains("closed: 0,"), "the first close: {close}");
    let after = t.http("serviceA", SERVICE_B_URL, 50, &HttpLoad::default())?;
    assert_eq!(
        after.failed, 0,
        "traffic after meshplane stopped: {after:?}"
    );
    Ok(())
}

#[test]
fn the_api_data_directory_outlives_the_container() -> anyhow::Result<()> {
    require_current_images()?;
    let t = Topology::new("containers-api", binaries!()?)?;
    let volume = Volume::create(&format!("{}-data", t.switch.name()))?;
    let spec = ContainerSpec::new(MESHPLANE_IMAGE, &t.switch)
        .volume(&format!("{}:/var/lib/meshplane", volume.name))
        .args(&[
            "serve",
            "--api-listen",
            &format!("{SWITCH_IP}:9080"),
            "--xds-listen",
            &format!("{SWITCH_IP}:{XDS_PORT}"),
            "--admin-listen",
            ADMIN,
            "--insecure-no-auth",
        ]);
    let (first, _) = start_meshplane(&t, spec.clone())?;
    assert_eq!(first.process_uid()?, MESHPLANE_UID);
    let created = t.aws_appmesh_json(&["create-mesh", "--mesh-name", "kept"])?;
    let uid = created["mesh"]["metadata"]["uid"].clone();
    assert!(uid.is_string(), "{created}");
    drop(first); // podman rm --force

    let (second, ready_after) = start_meshplane(&t, spec)?;
    println!(
        "containers: new container on the same volume ready in {} ms",
        ready_after.as_millis()
    );
    let described = t.aws_appmesh_json(&["describe-mesh", "--mesh-name", "kept"])?;
    assert_eq!(described["mesh"]["metadata"]["uid"], uid, "{described}");
    assert_eq!(
        described["mesh"]["status"]["status"], "ACTIVE",
        "{described}"
    );
    drop(second);
    Ok(())
}
