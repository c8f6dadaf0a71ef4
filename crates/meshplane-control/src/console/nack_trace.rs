//! From an Envoy NACK to the App Mesh spec field that caused it: provenance
//! names the App Mesh resources of the rejected Envoy resource; the field is
//! the one whose value Envoy quotes in its message (a regex, a prefix, a
//! header name), and its line comes from the spec file's positions.

use meshplane_spec::{ArnContext, MeshModel, Origins, ResourceId, ResourceKind};
use serde::Serialize;
use serde_json::Value;

/// One spec field an Envoy message quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TracedField {
    /// The App Mesh resource (short name: `mesh/m/virtualRouter/r/route/x`).
    pub resource: String,
    /// The field's path inside the resource's spec (`httpRoute.match...`).
    pub path: String,
    pub value: String,
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// The spec fields of the resources named by `arns` whose string values
/// occur in `message` (values of 3 characters or more).
pub fn fields(
    model: &MeshModel,
    origins: &Origins,
    ctx: &ArnContext,
    arns: &[String],
    message: &str,
) -> Vec<TracedField> {
    let mut out = Vec::new();
    for arn in arns {
        let Ok(id) = ResourceId::parse(arn, ctx) else {
            continue;
        };
        let Some(spec) = spec_json(model, &id) else {
            continue;
        };
        let mut found = Vec::new();
        walk(&spec, String::new(), message, &mut found);
        let origin = origins.get(&id);
        for (path, value) in found {
            out.push(TracedField {
                resource: id.short(),
                file: origin.map(|o| o.file.display().to_string()),
                line: origin.and_then(|o| o.line_of(&path)),
                path,
                value,
            });
        }
    }
    out.dedup();
    out
}

/// Whether Envoy's `message` quotes `value`: the whole value, or a
/// fragment of the message (3+ characters, not a plain word) that the
/// value contains (Envoy often quotes only the offending part, such as
/// `invalid perl operator: (?<=` for the regex `(?<=y)es`).
fn quotes(message: &str, value: &str) -> bool {
    if value.chars().count() >= 3 && message.contains(value) {
        return true;
    }
    message
        .split(|c: char| c.is_whitespace() || c == '\'' || c == '"')
        .map(|f| f.trim_end_matches([':', ',', '.']))
        .filter(|f| f.chars().count() >= 3 && !f.chars().all(char::is_alphanumeric))
        .any(|f| value.contains(f))
}

fn walk(v: &Value, path: String, message: &str, found: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) if quotes(message, s) => {
            found.push((path, s.clone()));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{path}[{i}]"), message, found);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(item, p, message, found);
            }
        }
        _ => {}
    }
}

/// The spec of `id` as JSON (the model's camelCase field names).
fn spec_json(model: &MeshModel, id: &ResourceId) -> Option<Value> {
    let mesh = model.mesh(&id.mesh)?;
    let parent = id.parent.clone().unwrap_or_default();
    let key = (parent, id.name.clone());
    let v = match id.kind {
        ResourceKind::Mesh => serde_json::to_value(mesh.mesh_spec()),
        ResourceKind::VirtualService => serde_json::to_value(mesh.virtual_services.get(&id.name)?),
        ResourceKind::VirtualNode => serde_json::to_value(mesh.virtual_nodes.get(&id.name)?),
        ResourceKind::VirtualRouter => serde_json::to_value(mesh.virtual_routers.get(&id.name)?),
        ResourceKind::Route => serde_json::to_value(mesh.routes.get(&key)?),
        ResourceKind::VirtualGateway => serde_json::to_value(mesh.virtual_gateways.get(&id.name)?),
        ResourceKind::GatewayRoute => serde_json::to_value(mesh.gateway_routes.get(&key)?),
    };
    v.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quoted_value_is_found_with_its_path() {
        let spec = serde_json::json!({"httpRoute": {"match": {"prefix": "/", "headers": [
            {"name": "x-canary", "match": {"regex": "(?<=y)es"}}]}}});
        let mut found = Vec::new();
        walk(
            &spec,
            String::new(),
            "Invalid regex '(?<=y)es': invalid perl operator: (?<",
            &mut found,
        );
        assert_eq!(
            found,
            vec![(
                "httpRoute.match.headers[0].match.regex".to_owned(),
                "(?<=y)es".to_owned()
            )]
        );
        let mut partial = Vec::new();
        walk(
            &spec,
            String::new(),
            "invalid perl operator: (?<=",
            &mut partial,
        );
        assert_eq!(partial, found);
    }
}
