//! The parts of a template the resolver reads: parameters, conditions,
//! mappings and the resources that `Ref` / `Fn::GetAtt` may name.

use std::collections::BTreeMap;

use meshplane_spec::ResourceKind;

use super::imports::Imports;
use crate::node::{Node, NodeKind};
use crate::LoadOptions;

/// An AppMesh resource type and the property holding each part of its name.
pub struct AppMeshType {
    pub kind: ResourceKind,
    /// The property naming the resource itself (`None` for a mesh).
    pub name_property: Option<&'static str>,
    /// The property naming the parent router or gateway.
    pub parent_property: Option<&'static str>,
}

pub fn appmesh_type(type_name: &str) -> Option<AppMeshType> {
    let t = |kind, name_property, parent_property| {
        Some(AppMeshType {
            kind,
            name_property,
            parent_property,
        })
    };
    match type_name {
        "AWS::AppMesh::Mesh" => t(ResourceKind::Mesh, None, None),
        "AWS::AppMesh::VirtualNode" => t(ResourceKind::VirtualNode, Some("VirtualNodeName"), None),
        "AWS::AppMesh::VirtualService" => t(
            ResourceKind::VirtualService,
            Some("VirtualServiceName"),
            None,
        ),
        "AWS::AppMesh::VirtualRouter" => {
            t(ResourceKind::VirtualRouter, Some("VirtualRouterName"), None)
        }
        "AWS::AppMesh::Route" => t(
            ResourceKind::Route,
            Some("RouteName"),
            Some("VirtualRouterName"),
        ),
        "AWS::AppMesh::VirtualGateway" => t(
            ResourceKind::VirtualGateway,
            Some("VirtualGatewayName"),
            None,
        ),
        "AWS::AppMesh::GatewayRoute" => t(
            ResourceKind::GatewayRoute,
            Some("GatewayRouteName"),
            Some("VirtualGatewayName"),
        ),
        _ => None,
    }
}

pub struct Resource<'t> {
    pub type_name: &'t str,
    pub properties: Option<&'t Node>,
}

/// A parameter's value, or why there is none.
pub type ParamValue = Result<Node, String>;

pub struct Template<'t> {
    pub params: BTreeMap<String, ParamValue>,
    pub conditions: BTreeMap<&'t str, &'t Node>,
    pub mappings: Option<&'t Node>,
    pub resources: BTreeMap<&'t str, Resource<'t>>,
    pub opts: &'t LoadOptions,
    pub imports: &'t Imports,
}

impl<'t> Template<'t> {
    pub fn new(root: &'t Node, opts: &'t LoadOptions, imports: &'t Imports) -> Template<'t> {
        let mut params = BTreeMap::new();
        for e in root
            .get("Parameters")
            .and_then(Node::as_map)
            .unwrap_or_default()
        {
            params.insert(e.key.clone(), param_value(&e.key, &e.value, e.line, opts));
        }
        let conditions = root
            .get("Conditions")
            .and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .map(|e| (e.key.as_str(), &e.value))
            .collect();
        let mut resources = BTreeMap::new();
        for e in root
            .get("Resources")
            .and_then(Node::as_map)
            .unwrap_or_default()
        {
            resources.insert(
                e.key.as_str(),
                Resource {
                    type_name: e.value.get_str("Type").unwrap_or(""),
                    properties: e.value.get("Properties"),
                },
            );
        }
        Template {
            params,
            conditions,
            mappings: root.get("Mappings"),
            resources,
            opts,
            imports,
        }
    }
}

fn param_value(name: &str, def: &Node, line: u32, opts: &LoadOptions) -> ParamValue {
    let given = opts.params.get(name).map(|v| Node::string(line, v.clone()));
    let type_name = def.get_str("Type").unwrap_or("String");
    if given.is_none() && type_name.starts_with("AWS::SSM::Parameter::Value") {
        // The Default names the SSM parameter; its value is only known in the account.
        let key = def.get("Default").and_then(scalar_text).unwrap_or_default();
        return Err(format!(
            "parameter {name} takes its value from the SSM parameter '{key}', which meshplane cannot read \
             (pass --param {name}=VALUE)"
        ));
    }
    let value = match given.or_else(|| def.get("Default").cloned()) {
        Some(v) => v,
        None => {
            return Err(format!(
                "parameter {name} has no Default and no value was given (pass --param {name}=VALUE)"
            ))
        }
    };
    let text = match &value.kind {
        NodeKind::String(s) => s.clone(),
        NodeKind::Number(n) => n.to_string(),
        NodeKind::Bool(b) => b.to_string(),
        NodeKind::Seq(_) => return Ok(value),
        _ => {
            return Err(format!(
                "parameter {name}'s value must be a string, not {}",
                value.type_name()
            ))
        }
    };
    if let Some(allowed) = def.get("AllowedValues").and_then(Node::as_seq) {
        let ok = allowed
            .iter()
            .any(|a| scalar_text(a).as_deref() == Some(text.as_str()));
        if !ok {
            return Err(format!(
                "parameter {name}'s value '{text}' is not one of its AllowedValues"
            ));
        }
    }
    if type_name == "CommaDelimitedList" || type_name.starts_with("List<") {
        let items = text
            .split(',')
            .map(|s| Node::string(value.line, s.trim().to_owned()))
            .collect();
        return Ok(Node::new(value.line, NodeKind::Seq(items)));
    }
    Ok(Node::string(value.line, text))
}

/// The text of a scalar, as CloudFormation compares and joins values.
pub fn scalar_text(node: &Node) -> Option<String> {
    match &node.kind {
        NodeKind::String(s) => Some(s.clone()),
        NodeKind::Number(n) => Some(n.to_string()),
        NodeKind::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
