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
use meshplane_spec::{AnySpec, ResourceKind};

use crate::node::{Node, NodeKind};

/// A field that did not decode. `path` is relative to the spec, in the
/// model's terms (`listeners[0].portMapping.port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub rule: &'static str,
    pub path: String,
    pub message: String,
}

/// How many scalars CloudFormation-style coercion may rewrite in one spec.
const MAX_COERCIONS: usize = 10_000;

pub fn decode(
    kind: ResourceKind,
    spec: &Node,
    lenient_scalars: bool,
) -> Result<AnySpec, Vec<DecodeError>> {
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
    loop {
        match decode_value(kind, &value) {
            Ok(spec) => return Ok(spec),
            Err((path, message)) => {
                if lenient_scalars
                    && coerced < MAX_COERCIONS
                    && coerce_at(&mut value, &path, &message)
                {
                    coerced += 1;
                    continue;
                }
                let rule = if message.starts_with("unknown field") {
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
        let err = decode(ResourceKind::VirtualNode, &spec, false).unwrap_err();
        assert_eq!(err[0].rule, "load.unknown_field");
        assert_eq!(err[0].path, "listeners[0].portMaping");
        let spec = node("listeners:\n  - portMapping:\n      port: eighty\n      protocol: http\n");
        let err = decode(ResourceKind::VirtualNode, &spec, false).unwrap_err();
        assert_eq!(err[0].rule, "load.invalid_field");
        assert_eq!(err[0].path, "listeners[0].portMapping.port");
    }

    #[test]
    fn cloudformation_scalars_are_coerced_to_the_field_type() {
        let spec = node("listeners:\n  - portMapping:\n      port: '80'\n      protocol: http\nbackends:\n  - virtualService:\n      virtualServiceName: 1234\n");
        assert!(decode(ResourceKind::VirtualNode, &spec, false).is_err());
        let AnySpec::VirtualNode(vn) = decode(ResourceKind::VirtualNode, &spec, true).unwrap()
        else {
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
}
