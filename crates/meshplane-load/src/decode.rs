//! Spec trees to typed specs, with the exact path of every bad field.

use serde::de::DeserializeOwned;
use serde_json::Value;

use meshplane_spec::gateway_route::GatewayRouteSpec;
use meshplane_spec::mesh::MeshSpec;
use meshplane_spec::route::RouteSpec;
use meshplane_spec::virtual_gateway::VirtualGatewaySpec;
use meshplane_spec::virtual_node::VirtualNodeSpec;
use meshplane_spec::virtual_router::VirtualRouterSpec;
use meshplane_spec::virtual_service::VirtualServiceSpec;
use meshplane_spec::{AnySpec, FieldNaming, ResourceKind};

use crate::node::{Node, NodeKind};
use crate::pending::SourceFormat;

/// A field that did not decode. `path` is relative to the spec, in the
/// model's terms (`listeners[0].portMapping.port`); the message names
/// fields as the API does (see [`in_source_words`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub rule: &'static str,
    pub path: String,
    pub message: String,
}

/// How many scalars CloudFormation-style coercion may rewrite, or unknown
/// Kubernetes fields be pruned, in one spec.
const MAX_COERCIONS: usize = 10_000;

/// A decoded spec, and the unknown fields left out of it (Kubernetes only).
#[derive(Debug)]
pub struct Decoded {
    pub spec: AnySpec,
    pub pruned: Vec<DecodeError>,
}

/// Decodes a spec as its format's API took it: CloudFormation coerces
/// scalars to the property's type; for Kubernetes, an unknown field is left
/// out with a warning (the API server pruned what the CRD schema does not
/// define, so the cluster never had it); everywhere else a mistake is an error.
pub fn decode(
    kind: ResourceKind,
    spec: &Node,
    format: SourceFormat,
) -> Result<Decoded, Vec<DecodeError>> {
    let mut value = match &spec.kind {
        NodeKind::Null => Value::Object(serde_json::Map::new()),
        _ => spec.to_json().map_err(|e| {
            vec![DecodeError {
                rule: "load.yaml_tag",
                path: e.path,
                message: format!(
                    "the YAML tag !{} is only understood in CloudFormation templates",
                    e.tag
                ),
            }]
        })?,
    };
    let mut coerced = 0;
    let mut pruned = Vec::new();
    loop {
        match decode_value(kind, &value) {
            Ok(spec) => return Ok(Decoded { spec, pruned }),
            Err((path, message)) => {
                let unknown = message.starts_with("unknown field");
                if format == SourceFormat::CloudFormation
                    && coerced < MAX_COERCIONS
                    && coerce_at(&mut value, &path, &message)
                {
                    coerced += 1;
                    continue;
                }
                if format == SourceFormat::Kubernetes
                    && unknown
                    && pruned.len() < MAX_COERCIONS
                    && remove_at(&mut value, &path)
                {
                    pruned.push(DecodeError {
                        rule: "load.k8s_pruned_field",
                        path,
                        message: format!(
                            "{message}: ignored, as the Kubernetes API server prunes fields the App Mesh \
                             CRD schema does not define (the cluster never stored it)"
                        ),
                    });
                    continue;
                }
                // A missing field is reported at its own path, not its parent's.
                let path = match message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.split_once('`'))
                {
                    Some((field, _)) => crate::node::join(&path, field),
                    None => path,
                };
                let rule = if unknown {
                    "load.unknown_field"
                } else {
                    "load.invalid_field"
                };
                return Err(vec![DecodeError {
                    rule,
                    path,
                    message,
                }]);
            }
        }
    }
}

/// A message about missing or unknown fields with the field names spelt as
/// the source format spells them (`VirtualNodeName` in a template). Other
/// messages are kept: their quoted words are values, not field names.
pub fn in_source_words(message: &str, naming: FieldNaming) -> String {
    if naming == FieldNaming::Api
        || !(message.starts_with("missing field") || message.starts_with("unknown field"))
    {
        return message.to_owned();
    }
    let mut out = String::new();
    for (i, part) in message.split('`').enumerate() {
        if i % 2 == 1 {
            out.push('`');
            out.push_str(&naming.name(part));
            out.push('`');
        } else {
            out.push_str(part);
        }
    }
    out
}

fn decode_value(kind: ResourceKind, value: &Value) -> Result<AnySpec, (String, String)> {
    Ok(match kind {
        ResourceKind::Mesh => AnySpec::Mesh(typed::<MeshSpec>(value)?),
        ResourceKind::VirtualService => {
            AnySpec::VirtualService(typed::<VirtualServiceSpec>(value)?)
        }
        ResourceKind::VirtualNode => AnySpec::VirtualNode(typed::<VirtualNodeSpec>(value)?),
        ResourceKind::VirtualRouter => AnySpec::VirtualRouter(typed::<VirtualRouterSpec>(value)?),
        ResourceKind::Route => AnySpec::Route(typed::<RouteSpec>(value)?),
        ResourceKind::VirtualGateway => {
            AnySpec::VirtualGateway(typed::<VirtualGatewaySpec>(value)?)
        }
        ResourceKind::GatewayRoute => AnySpec::GatewayRoute(typed::<GatewayRouteSpec>(value)?),
    })
}

fn typed<T: DeserializeOwned>(value: &Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = model_path(e.path());
        (path, e.into_inner().to_string())
    })
}

/// `listeners[0].portMapping`, and `` for the spec itself.
fn model_path(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Map { key }
            | serde_path_to_error::Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    out
}

/// Rewrites the scalar at `path` the way CloudFormation would for the
/// expected type: a numeric string to a number, `"true"` to a boolean, a
/// number or boolean to a string. False when there is nothing to rewrite.
fn coerce_at(value: &mut Value, path: &str, message: &str) -> bool {
    let Some(slot) = pointer_mut(value, path) else {
        return false;
    };
    let wants_string = message.contains("expected a string");
    let wants_bool = message.contains("expected a boolean");
    let wants_int = message.contains("expected i64") || message.contains("expected u");
    let replacement = match &*slot {
        Value::String(s) if wants_int => s.trim().parse::<i64>().ok().map(Value::from),
        Value::String(s) if wants_bool => match s.as_str() {
            "true" | "True" | "TRUE" => Some(Value::Bool(true)),
            "false" | "False" | "FALSE" => Some(Value::Bool(false)),
            _ => None,
        },
        Value::Number(n) if wants_string => Some(Value::String(n.to_string())),
        Value::Bool(b) if wants_string => Some(Value::String(b.to_string())),
        _ => None,
    };
    match replacement {
        Some(r) => {
            *slot = r;
            true
        }
        None => false,
    }
}

/// Removes the field at `path` from its object. False when there is none.
fn remove_at(value: &mut Value, path: &str) -> bool {
    let (parent, key) = match path.rfind(['.', '[']) {
        Some(i) if path[i..].starts_with('.') => (&path[..i], &path[i + 1..]),
        Some(_) => return false,
        None => ("", path),
    };
    pointer_mut(value, parent)
        .and_then(Value::as_object_mut)
        .and_then(|object| object.remove(key))
        .is_some()
}

fn pointer_mut<'v>(value: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut pointer = String::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            pointer.push('/');
            pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            pointer.push('/');
            pointer.push_str(idx.trim_end_matches(']'));
        }
    }
    value.pointer_mut(&pointer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{read, Syntax};

    fn node(yaml: &str) -> Node {
        read(yaml, Syntax::Yaml).documents.remove(0).node
    }

    #[test]
    fn unknown_fields_and_wrong_types_name_their_path() {
        let spec = node("listeners:\n  - portMaping:\n      port: 80\n");
        let err = decode(ResourceKind::VirtualNode, &spec, SourceFormat::Cli).unwrap_err();
        assert_eq!(err[0].rule, "load.unknown_field");
        assert_eq!(err[0].path, "listeners[0].portMaping");
        let spec = node("listeners:\n  - portMapping:\n      port: eighty\n      protocol: http\n");
        let err = decode(ResourceKind::VirtualNode, &spec, SourceFormat::Cli).unwrap_err();
        assert_eq!(err[0].rule, "load.invalid_field");
        assert_eq!(err[0].path, "listeners[0].portMapping.port");
    }

    #[test]
    fn cloudformation_scalars_are_coerced_to_the_field_type() {
        let spec = node("listeners:\n  - portMapping:\n      port: '80'\n      protocol: http\nbackends:\n  - virtualService:\n      virtualServiceName: 1234\n");
        assert!(decode(ResourceKind::VirtualNode, &spec, SourceFormat::Cli).is_err());
        let decoded = decode(
            ResourceKind::VirtualNode,
            &spec,
            SourceFormat::CloudFormation,
        );
        let AnySpec::VirtualNode(vn) = decoded.unwrap().spec else {
            panic!()
        };
        assert_eq!(vn.listeners()[0].port_mapping.port, 80);
        assert_eq!(
            vn.backends()[0]
                .virtual_service
                .as_ref()
                .unwrap()
                .virtual_service_name,
            "1234"
        );
    }

    #[test]
    fn kubernetes_unknown_fields_are_pruned_with_a_warning() {
        let spec = node("backendDefaults:\n  clientPolicy:\n    tls:\n      mode: STRICT\n      validation:\n        trust:\n          file: {certificateChain: /ca.pem}\nlisteners:\n  - portMapping: {port: 80, protocol: http}\n    colour: blue\n");
        for format in [SourceFormat::Cli, SourceFormat::CloudFormation] {
            let err = decode(ResourceKind::VirtualNode, &spec, format).unwrap_err();
            assert_eq!(err[0].rule, "load.unknown_field");
        }
        let decoded = decode(ResourceKind::VirtualNode, &spec, SourceFormat::Kubernetes).unwrap();
        let paths: Vec<&str> = decoded.pruned.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "backendDefaults.clientPolicy.tls.mode",
                "listeners[0].colour"
            ]
        );
        assert!(
            decoded.pruned[0].message.contains("ignored"),
            "{}",
            decoded.pruned[0].message
        );
        let AnySpec::VirtualNode(vn) = decoded.spec else {
            panic!()
        };
        assert_eq!(vn.listeners()[0].port_mapping.port, 80);
        // A wrong type is still an error.
        let spec = node("listeners:\n  - portMapping: {port: eighty, protocol: http}\n");
        assert!(decode(ResourceKind::VirtualNode, &spec, SourceFormat::Kubernetes).is_err());
    }
}
