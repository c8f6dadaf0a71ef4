//! Narrowing a NACK to the spec field behind it.
//!
//! A rejected Envoy resource (a whole route table, listener or cluster) is
//! built from several App Mesh resources. The trace narrows it to one field:
//! first by the library checks of the values the proxy refuses
//! (`meshplane_spec::PROXY_RULES`, e.g. RE2 compiling every regex, run
//! on the served specs of the resource's sources), then by finding a spec
//! value that Envoy's message quotes (a regex, a header name, a path). The
//! result reads like a `validate` finding:
//! `file:line: error[envoy.rejected]: ARN: field.path: Envoy's message`.

use std::collections::BTreeSet;

use meshplane_spec::{
    validate, ArnContext, Diagnostic, MeshModel, Origins, ResourceId, ResourceKind, PROXY_RULES,
};
use serde_json::Value;

use crate::served::Served;

/// The rule id of a traced NACK.
pub const RULE: &str = "envoy.rejected";

/// Shortest spec value taken as quoted by Envoy's message (shorter ones,
/// such as `/` or `GET`, appear in messages by chance).
const MIN_QUOTED_LEN: usize = 3;

/// The spec fields behind a NACK of resources built from `sources`, with
/// Envoy's `message`; empty when nothing narrows it.
pub fn trace(
    served: &Served,
    arn: &ArnContext,
    sources: &BTreeSet<ResourceId>,
    message: &str,
) -> Vec<Diagnostic> {
    let by_rules = by_proxy_rules(served, arn, sources, message);
    if !by_rules.is_empty() {
        return by_rules;
    }
    by_quoted_value(&served.model, &served.origins, arn, sources, message)
}

/// Findings of the proxy-compatibility rules on the sources. When several
/// fields fail, those whose value Envoy's message quotes come first (and
/// alone, if there are any).
fn by_proxy_rules(
    served: &Served,
    arn: &ArnContext,
    sources: &BTreeSet<ResourceId>,
    message: &str,
) -> Vec<Diagnostic> {
    let arns: BTreeSet<String> = sources.iter().map(|id| id.arn(arn)).collect();
    let found: Vec<Diagnostic> = validate(&served.model, &served.origins, arn)
        .into_iter()
        .filter(|d| d.is_error() && PROXY_RULES.contains(&d.rule))
        .filter(|d| d.resource.as_ref().is_some_and(|r| arns.contains(r)))
        .collect();
    let quoted: Vec<&Diagnostic> = found
        .iter()
        .filter(|d| quoted_value(&d.message).is_some_and(|v| message.contains(v)))
        .collect();
    let chosen: Vec<&Diagnostic> = if quoted.is_empty() {
        found.iter().collect()
    } else {
        quoted
    };
    chosen.into_iter().map(|d| rejected(d, message)).collect()
}

/// The first `'...'`-quoted value of a finding's message.
fn quoted_value(message: &str) -> Option<&str> {
    let start = message.find('\'')? + 1;
    let len = message[start..].find('\'')?;
    Some(&message[start..start + len])
}

/// `d` restated as the NACK's finding: same place, Envoy's words.
fn rejected(d: &Diagnostic, message: &str) -> Diagnostic {
    let mut out = Diagnostic::error(RULE, d.path.clone(), message);
    out.resource = d.resource.clone();
    out.file = d.file.clone();
    out.line = d.line;
    out
}

/// The longest spec string of the sources that Envoy's message contains.
fn by_quoted_value(
    model: &MeshModel,
    origins: &Origins,
    arn: &ArnContext,
    sources: &BTreeSet<ResourceId>,
    message: &str,
) -> Vec<Diagnostic> {
    let mut best: Option<(usize, &ResourceId, String)> = None;
    for id in sources {
        let Some(spec) = spec_json(model, id) else {
            continue;
        };
        let mut leaves = Vec::new();
        string_leaves(&spec, String::new(), &mut leaves);
        for (path, value) in leaves {
            let n = value.chars().count();
            let longer = best.as_ref().is_none_or(|(b, _, _)| n > *b);
            if n >= MIN_QUOTED_LEN && longer && message.contains(value.as_str()) {
                best = Some((n, id, path));
            }
        }
    }
    let Some((_, id, path)) = best else {
        return Vec::new();
    };
    let origin = origins.get(id);
    let doc_path = match origin {
        Some(o) => o.document_path(&path),
        None => format!("spec.{path}"),
    };
    let mut d = Diagnostic::error(RULE, doc_path, message).with_resource(id.arn(arn));
    if let Some(o) = origin {
        d = d.with_origin(o);
        d.line = o.line_of(&path);
    }
    vec![d]
}

/// Every string value of `v` with its spec-relative path
/// (`httpRoute.match.headers[0].name`).
fn string_leaves(v: &Value, path: String, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((path, s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                string_leaves(item, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(fields) => {
            for (k, item) in fields {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                string_leaves(item, p, out);
            }
        }
        _ => {}
    }
}

/// The spec of `id` as the API's JSON.
fn spec_json(model: &MeshModel, id: &ResourceId) -> Option<Value> {
    let g = model.mesh(&id.mesh)?;
    let parent = id.parent.clone().unwrap_or_default();
    let key = (parent, id.name.clone());
    let json = match id.kind {
        ResourceKind::Mesh => serde_json::to_value(g.spec.as_ref()?),
        ResourceKind::VirtualService => serde_json::to_value(g.virtual_services.get(&id.name)?),
        ResourceKind::VirtualNode => serde_json::to_value(g.virtual_nodes.get(&id.name)?),
        ResourceKind::VirtualRouter => serde_json::to_value(g.virtual_routers.get(&id.name)?),
        ResourceKind::Route => serde_json::to_value(g.routes.get(&key)?),
        ResourceKind::VirtualGateway => serde_json::to_value(g.virtual_gateways.get(&id.name)?),
        ResourceKind::GatewayRoute => serde_json::to_value(g.gateway_routes.get(&key)?),
    };
    json.ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use meshplane_spec::{MeshGraph, Origin};

    use super::*;

    const MESSAGE_RE2: &str = "invalid repetition size: {1,20}";

    /// Router `r` with route `x` whose header match is `header`, written in
    /// `routes.json` with the header's name on line 9 and match on line 11.
    fn served(header: Value) -> (Served, ResourceId) {
        let mut g = MeshGraph {
            name: "m".into(),
            owner: "111122223333".into(),
            ..MeshGraph::default()
        };
        let route = json_route(header);
        g.routes.insert(
            ("r".into(), "x".into()),
            serde_json::from_value(route).unwrap(),
        );
        let id = g.child_id(ResourceKind::Route, "r", "x");
        let mut model = MeshModel::default();
        model.meshes.insert("m".into(), g);
        let mut origins = Origins::default();
        origins.insert(
            id.clone(),
            Origin {
                file: "routes.json".into(),
                line: Some(1),
                spec_path: "spec".into(),
                field_lines: BTreeMap::from([
                    ("httpRoute.match.headers[0].name".to_owned(), 9),
                    ("httpRoute.match.headers[0].match.regex".to_owned(), 11),
                ]),
                ..Origin::default()
            },
        );
        let served = Served {
            model,
            origins,
            ..Served::default()
        };
        (served, id)
    }

    fn json_route(header: Value) -> Value {
        serde_json::json!({ "httpRoute": {
            "match": { "prefix": "/", "headers": [header] },
            "action": { "weightedTargets": [{ "virtualNode": "v", "weight": 1 }] }
        } })
    }

    #[test]
    fn a_regex_re2_refuses_is_traced_to_its_field_and_line() {
        let (served, id) = served(serde_json::json!({
            "name": "x-host",
            "match": { "regex": r"([a-z0-9]{1,100}\.){1,20}[a-z]{2,50}" }
        }));
        let ctx = ArnContext::default();
        let trace = trace(&served, &ctx, &BTreeSet::from([id.clone()]), MESSAGE_RE2);
        assert_eq!(trace.len(), 1, "{trace:?}");
        assert_eq!(
            trace[0].to_string(),
            format!(
                "routes.json:11: error[envoy.rejected]: {}: spec.httpRoute.match.headers[0].match.regex: {MESSAGE_RE2}",
                id.arn(&ctx)
            )
        );
    }

    #[test]
    fn otherwise_the_spec_value_envoy_quotes_is_the_field() {
        let (served, id) = served(serde_json::json!({
            "name": "x-odd-header",
            "match": { "exact": "yes" }
        }));
        let ctx = ArnContext::default();
        let message = "header matcher 'x-odd-header' is not allowed";
        let trace = trace(&served, &ctx, &BTreeSet::from([id]), message);
        assert_eq!(trace.len(), 1, "{trace:?}");
        assert_eq!(trace[0].path, "spec.httpRoute.match.headers[0].name");
        assert_eq!(trace[0].line, Some(9));
        assert_eq!(trace[0].message, message);
        // A message that names nothing of the spec narrows nothing.
        let (served, id) = served_plain();
        assert!(trace_of(&served, id, "unrelated failure").is_empty());
    }

    fn served_plain() -> (Served, ResourceId) {
        served(serde_json::json!({ "name": "x-a", "match": { "exact": "yes" } }))
    }

    fn trace_of(served: &Served, id: ResourceId, message: &str) -> Vec<Diagnostic> {
        trace(
            served,
            &ArnContext::default(),
            &BTreeSet::from([id]),
            message,
        )
    }
}
