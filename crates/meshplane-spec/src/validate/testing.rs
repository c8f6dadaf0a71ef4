//! Test support: build a model from short ids and JSON specs, validate it and
//! compare the findings with a compact expected list.

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Severity};
use crate::identity::{ArnContext, ResourceId, ResourceKind};
use crate::model::{AnySpec, MeshModel, Origins};

/// A spec of `kind` from its JSON (panics on a spec that does not parse).
pub(crate) fn spec(kind: ResourceKind, v: Value) -> AnySpec {
    fn de<T: serde::de::DeserializeOwned>(v: Value) -> T {
        match serde_json::from_value(v) {
            Ok(t) => t,
            Err(e) => panic!("test spec does not parse: {e}"),
        }
    }
    match kind {
        ResourceKind::Mesh => AnySpec::Mesh(de(v)),
        ResourceKind::VirtualService => AnySpec::VirtualService(de(v)),
        ResourceKind::VirtualNode => AnySpec::VirtualNode(de(v)),
        ResourceKind::VirtualRouter => AnySpec::VirtualRouter(de(v)),
        ResourceKind::Route => AnySpec::Route(de(v)),
        ResourceKind::VirtualGateway => AnySpec::VirtualGateway(de(v)),
        ResourceKind::GatewayRoute => AnySpec::GatewayRoute(de(v)),
    }
}

/// A model of `resources` (short ids such as `mesh/m/virtualNode/a`). Mesh
/// `m` is added with an empty spec unless a mesh resource is listed.
pub(crate) fn model(resources: &[(&str, Value)]) -> MeshModel {
    let ctx = ArnContext::default();
    let mut model = MeshModel::default();
    let mut has_mesh = false;
    for (id, v) in resources {
        let id = ResourceId::parse(id, &ctx).expect("test id");
        has_mesh |= id.kind == ResourceKind::Mesh;
        let s = spec(id.kind, v.clone());
        model.insert(id, s).expect("no duplicates in tests");
    }
    if !has_mesh {
        let id = ResourceId::parse("mesh/m", &ctx).expect("mesh id");
        model
            .insert(id, AnySpec::Mesh(Default::default()))
            .expect("mesh");
    }
    model
}

pub(crate) fn run(resources: &[(&str, Value)]) -> Vec<Diagnostic> {
    super::validate(
        &model(resources),
        &Origins::default(),
        &ArnContext::default(),
    )
}

/// `error[rule] mesh/m/virtualNode/a spec.listeners[0]` per finding.
fn render(d: &Diagnostic) -> String {
    let sev = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let resource = d.resource.as_deref().unwrap_or("-");
    let short = resource
        .split_once(":mesh/")
        .map_or(resource.to_owned(), |(_, r)| format!("mesh/{r}"));
    format!("{sev}[{}] {short} {}", d.rule, d.path)
}

/// Validates `resources` and asserts the findings are exactly `expect`
/// (in any order).
pub(crate) fn check(resources: &[(&str, Value)], expect: &[&str]) {
    let diags = run(resources);
    let mut got: Vec<String> = diags.iter().map(render).collect();
    got.sort();
    let mut want: Vec<String> = expect.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(
        got,
        want,
        "\nfindings:\n{}",
        diags.iter().map(|d| format!("  {d}\n")).collect::<String>()
    );
}

/// The messages of the findings for `rule`.
pub(crate) fn messages(resources: &[(&str, Value)], rule: &str) -> Vec<String> {
    run(resources)
        .into_iter()
        .filter(|d| d.rule == rule)
        .map(|d| d.message)
        .collect()
}

/// A node with one listener on `port`/`protocol` and DNS discovery.
pub(crate) fn node(port: i64, protocol: &str) -> Value {
    serde_json::json!({
        "listeners": [{"portMapping": {"port": port, "protocol": protocol}}],
        "serviceDiscovery": {"dns": {"hostname": "a.local"}}
    })
}

pub(crate) fn router(port: i64, protocol: &str) -> Value {
    serde_json::json!({"listeners": [{"portMapping": {"port": port, "protocol": protocol}}]})
}

/// An httpRoute with prefix `/` to `targets` (node, weight).
pub(crate) fn http_route(targets: &[(&str, i64)]) -> Value {
    let wt: Vec<Value> = targets
        .iter()
        .map(|(n, w)| serde_json::json!({"virtualNode": n, "weight": w}))
        .collect();
    serde_json::json!({"httpRoute": {"match": {"prefix": "/"}, "action": {"weightedTargets": wt}}})
}
