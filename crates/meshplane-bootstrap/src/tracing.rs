//! The tracing drivers the image could enable (at most one): AWS X-Ray,
//! Datadog and Jaeger (Envoy's Zipkin tracer pointed at Jaeger's Zipkin
//! endpoint).

use serde_json::{json, Map, Value};

use crate::address::Target;
use crate::cluster::{static_cluster, Upstream};
use crate::env::Env;
use crate::error::BootstrapError;
use crate::files::{read_text, FileReader};
use crate::node::ProxyIdentity;

pub const ENABLE_XRAY: &str = "ENABLE_ENVOY_XRAY_TRACING";
pub const ENABLE_DATADOG: &str = "ENABLE_ENVOY_DATADOG_TRACING";
pub const ENABLE_JAEGER: &str = "ENABLE_ENVOY_JAEGER_TRACING";
pub const XRAY_DAEMON_PORT: &str = "XRAY_DAEMON_PORT";
pub const XRAY_DAEMON_ADDRESS: &str = "AWS_XRAY_DAEMON_ADDRESS";
pub const XRAY_SAMPLING_RATE: &str = "XRAY_SAMPLING_RATE";
pub const XRAY_SAMPLING_RULE_MANIFEST: &str = "XRAY_SAMPLING_RULE_MANIFEST";
pub const XRAY_SEGMENT_NAME: &str = "XRAY_SEGMENT_NAME";
pub const DATADOG_ADDRESS: &str = "DATADOG_TRACER_ADDRESS";
pub const DATADOG_PORT: &str = "DATADOG_TRACER_PORT";
pub const DD_SERVICE: &str = "DD_SERVICE";
pub const JAEGER_ADDRESS: &str = "JAEGER_TRACER_ADDRESS";
pub const JAEGER_PORT: &str = "JAEGER_TRACER_PORT";
pub const JAEGER_VERSION: &str = "JAEGER_TRACER_VERSION";

/// X-Ray's own default sampling rate; a rate equal to it needs no manifest.
const XRAY_DEFAULT_RATE: f64 = 0.05;

/// The bootstrap's `tracing` and the static cluster the driver sends to.
pub(crate) struct Tracing {
    pub tracing: Value,
    pub cluster: Option<Map<String, Value>>,
}

/// Which drivers the environment enables.
pub(crate) fn enabled_drivers(env: &Env<'_>) -> Result<Vec<&'static str>, BootstrapError> {
    let mut enabled = Vec::new();
    for name in [ENABLE_XRAY, ENABLE_DATADOG, ENABLE_JAEGER] {
        if env.flag(name, false)? {
            enabled.push(name);
        }
    }
    Ok(enabled)
}

pub(crate) fn tracing(
    env: &Env<'_>,
    files: &dyn FileReader,
    id: &ProxyIdentity,
) -> Result<Option<Tracing>, BootstrapError> {
    let enabled = enabled_drivers(env)?;
    match enabled.as_slice() {
        [] => Ok(None),
        [ENABLE_XRAY] => xray(env, files, id).map(Some),
        [ENABLE_DATADOG] => datadog(env, id).map(Some),
        [ENABLE_JAEGER] => jaeger(env).map(Some),
        _ => Err(BootstrapError::Conflict(format!(
            "only one tracing driver can be enabled, but {} are all set",
            enabled.join(" and ")
        ))),
    }
}

fn driver(name: &str, config: Value) -> Value {
    json!({ "http": { "name": name, "typed_config": config } })
}

fn xray(
    env: &Env<'_>,
    files: &dyn FileReader,
    id: &ProxyIdentity,
) -> Result<Tracing, BootstrapError> {
    let mut port = env.port(XRAY_DAEMON_PORT, 2000)?;
    let mut address = "127.0.0.1".to_owned();
    // AWS_XRAY_DAEMON_ADDRESS is an IP, optionally with a port that then wins
    // over XRAY_DAEMON_PORT. Envoy's X-Ray tracer takes no DNS names.
    if let Some(v) = env.get(XRAY_DAEMON_ADDRESS) {
        let target = match v.parse::<std::net::IpAddr>() {
            Ok(ip) => Target::Ip { ip, port },
            Err(_) => Target::parse(XRAY_DAEMON_ADDRESS, v)?,
        };
        let Target::Ip { ip, port: p } = target else {
            return Err(BootstrapError::invalid(
                XRAY_DAEMON_ADDRESS,
                v,
                "expected an IP address, optionally with a port (127.0.0.1 or 127.0.0.1:2000)",
            ));
        };
        address = ip.to_string();
        port = p;
    }
    let resource = &id.resource;
    let mut config = Map::new();
    config.insert(
        "@type".into(),
        json!("type.googleapis.com/envoy.config.trace.v3.XRayConfig"),
    );
    config.insert(
        "daemon_endpoint".into(),
        json!({ "protocol": "UDP", "address": address, "port_value": port }),
    );
    config.insert(
        "segment_name".into(),
        json!(env
            .get(XRAY_SEGMENT_NAME)
            .map(str::to_owned)
            .unwrap_or(format!("{}/{}", resource.mesh, resource.name))),
    );
    if let Some(manifest) = sampling_rule_manifest(env, files)? {
        config.insert("sampling_rule_manifest".into(), manifest);
    }
    config.insert(
        "segment_fields".into(),
        json!({
            "origin": "AWS::AppMesh::Proxy",
            // X-Ray shows this under the proxy's segment; the image always used
            // the key virtual_node_name, for gateways too.
            "aws": { "app_mesh": { "mesh_name": resource.mesh, "virtual_node_name": resource.name } }
        }),
    );
    Ok(Tracing {
        tracing: driver("envoy.tracers.xray", Value::Object(config)),
        cluster: None,
    })
}

/// A manifest file (version 2, the only version Envoy reads) wins over a
/// sampling rate; a rate becomes an inline manifest with one default rule.
fn sampling_rule_manifest(
    env: &Env<'_>,
    files: &dyn FileReader,
) -> Result<Option<Value>, BootstrapError> {
    if let Some(path) = env.get(XRAY_SAMPLING_RULE_MANIFEST) {
        let text = read_text(files, XRAY_SAMPLING_RULE_MANIFEST, path)?;
        let manifest: Value = serde_json::from_str(&text).map_err(|e| {
            BootstrapError::bad_file(
                XRAY_SAMPLING_RULE_MANIFEST,
                path,
                format!("not valid JSON: {e}"),
            )
        })?;
        match manifest.get("version").and_then(Value::as_i64) {
            Some(2) => {}
            Some(v) => {
                return Err(BootstrapError::bad_file(
                    XRAY_SAMPLING_RULE_MANIFEST,
                    path,
                    format!(
                    "sampling rule manifest version {v} is not supported by Envoy; use version 2"
                ),
                ))
            }
            None => {
                return Err(BootstrapError::bad_file(
                    XRAY_SAMPLING_RULE_MANIFEST,
                    path,
                    "a sampling rule manifest needs \"version\": 2",
                ))
            }
        }
        if !manifest.get("default").is_some_and(Value::is_object) {
            return Err(BootstrapError::bad_file(
                XRAY_SAMPLING_RULE_MANIFEST,
                path,
                "a sampling rule manifest needs a \"default\" rule",
            ));
        }
        return Ok(Some(json!({ "filename": path })));
    }
    let Some(v) = env.get(XRAY_SAMPLING_RATE) else {
        return Ok(None);
    };
    let rate = match v.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => (r * 100.0).round() / 100.0,
        _ => {
            return Err(BootstrapError::invalid(
                XRAY_SAMPLING_RATE,
                v,
                "expected a decimal from 0 to 1.00 (1.00 samples every request)",
            ))
        }
    };
    if rate == XRAY_DEFAULT_RATE {
        return Ok(None);
    }
    let manifest =
        json!({ "version": 2, "default": { "fixed_target": 1, "rate": rate }, "rules": [] });
    Ok(Some(json!({ "inline_string": manifest.to_string() })))
}

fn datadog(env: &Env<'_>, id: &ProxyIdentity) -> Result<Tracing, BootstrapError> {
    let port = env.port(DATADOG_PORT, 8126)?;
    let target = Target::host_port(
        DATADOG_ADDRESS,
        env.get_or(DATADOG_ADDRESS, "127.0.0.1"),
        port,
    )?;
    let service = env
        .get(DD_SERVICE)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("envoy-{}/{}", id.resource.mesh, id.resource.name));
    let config = json!({
        "@type": "type.googleapis.com/envoy.config.trace.v3.DatadogConfig",
        "collector_cluster": "datadog_agent",
        "service_name": service
    });
    Ok(Tracing {
        tracing: driver("envoy.tracers.datadog", config),
        cluster: Some(static_cluster(
            "datadog_agent",
            &target,
            "1s",
            Upstream::Default,
        )),
    })
}

fn jaeger(env: &Env<'_>) -> Result<Tracing, BootstrapError> {
    let port = env.port(JAEGER_PORT, 9411)?;
    let target = Target::host_port(
        JAEGER_ADDRESS,
        env.get_or(JAEGER_ADDRESS, "127.0.0.1"),
        port,
    )?;
    let version = match env
        .get(JAEGER_VERSION)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("proto") => "HTTP_PROTO",
        Some("json") => "HTTP_JSON",
        Some(_) => {
            return Err(BootstrapError::invalid(
                JAEGER_VERSION,
                env.get_or(JAEGER_VERSION, ""),
                "expected PROTO or JSON",
            ))
        }
    };
    let config = json!({
        "@type": "type.googleapis.com/envoy.config.trace.v3.ZipkinConfig",
        "collector_cluster": "jaeger",
        "collector_endpoint": "/api/v2/spans",
        "collector_endpoint_version": version,
        "shared_span_context": false
    });
    Ok(Tracing {
        tracing: driver("envoy.tracers.zipkin", config),
        cluster: Some(static_cluster("jaeger", &target, "1s", Upstream::Default)),
    })
}
