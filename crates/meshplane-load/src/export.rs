//! The model written back as AWS CLI input documents (`--cli-input-json`),
//! one per resource, as a JSON array or as `---`-separated YAML documents.
//!
//! Resources come mesh by mesh (meshes by name), each mesh in the order
//! they can be created: the mesh, virtual nodes, virtual routers, routes,
//! virtual services, virtual gateways, gateway routes, each kind by name.
//! Every document carries `meshOwner`, so the export loads back to the same
//! model whatever account the loader defaults to (`create-mesh` itself takes
//! no `meshOwner`; meshplane reads it there too).

use serde::Serialize;
use serde_json::{Map, Value};

use meshplane_spec::{MeshGraph, MeshModel};

use crate::read::needs_quotes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A pretty-printed JSON array of CLI input documents.
    CliJson,
    /// The same documents as YAML, separated by `---`.
    Yaml,
}

pub fn export(model: &MeshModel, format: ExportFormat) -> String {
    let documents: Vec<Value> = model.meshes.values().flat_map(documents_of).collect();
    match format {
        ExportFormat::CliJson => {
            let mut text =
                serde_json::to_string_pretty(&documents).unwrap_or_else(|_| "[]".to_owned());
            text.push('\n');
            text
        }
        ExportFormat::Yaml => {
            let mut out = String::new();
            for doc in &documents {
                out.push_str("---\n");
                yaml_block(&mut out, doc, 0);
            }
            out
        }
    }
}

fn documents_of(graph: &MeshGraph) -> Vec<Value> {
    let mut docs = Vec::new();
    let doc = |names: &[(&str, &str)], spec: Value| {
        let mut map = Map::new();
        map.insert("meshName".into(), Value::String(graph.name.clone()));
        map.insert("meshOwner".into(), Value::String(graph.owner.clone()));
        for (key, name) in names {
            map.insert((*key).into(), Value::String((*name).to_owned()));
        }
        map.insert("spec".into(), spec);
        Value::Object(map)
    };
    if let Some(spec) = &graph.spec {
        docs.push(doc(&[], json(spec)));
    }
    for (name, spec) in &graph.virtual_nodes {
        docs.push(doc(&[("virtualNodeName", name)], json(spec.as_ref())));
    }
    for (name, spec) in &graph.virtual_routers {
        docs.push(doc(&[("virtualRouterName", name)], json(spec.as_ref())));
    }
    for ((router, name), spec) in &graph.routes {
        docs.push(doc(
            &[("virtualRouterName", router), ("routeName", name)],
            json(spec.as_ref()),
        ));
    }
    for (name, spec) in &graph.virtual_services {
        docs.push(doc(&[("virtualServiceName", name)], json(spec.as_ref())));
    }
    for (name, spec) in &graph.virtual_gateways {
        docs.push(doc(&[("virtualGatewayName", name)], json(spec.as_ref())));
    }
    for ((gateway, name), spec) in &graph.gateway_routes {
        docs.push(doc(
            &[("virtualGatewayName", gateway), ("gatewayRouteName", name)],
            json(spec.as_ref()),
        ));
    }
    docs
}

fn json<T: Serialize + ?Sized>(spec: &T) -> Value {
    serde_json::to_value(spec).unwrap_or(Value::Null)
}

/// Block-style YAML for a mapping or list at `indent` spaces.
fn yaml_block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                out.push_str(&pad);
                out.push_str(&yaml_scalar_str(key));
                out.push(':');
                yaml_after_key(out, v, indent);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // The first key goes on the dash's line.
                        let mut first = true;
                        for (key, v) in map {
                            if first {
                                out.push(' ');
                                first = false;
                            } else {
                                out.push_str(&pad);
                                out.push_str("  ");
                            }
                            out.push_str(&yaml_scalar_str(key));
                            out.push(':');
                            yaml_after_key(out, v, indent + 2);
                        }
                    }
                    Value::Array(inner) if !inner.is_empty() => {
                        out.push('\n');
                        yaml_block(out, item, indent + 2);
                    }
                    _ => {
                        out.push(' ');
                        out.push_str(&yaml_scalar(item));
                        out.push('\n');
                    }
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&yaml_scalar(other));
            out.push('\n');
        }
    }
}

/// What follows `key:` for a value of a mapping at `indent`.
fn yaml_after_key(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            yaml_block(out, value, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            yaml_block(out, value, indent + 2);
        }
        _ => {
            out.push(' ');
            out.push_str(&yaml_scalar(value));
            out.push('\n');
        }
    }
}

fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => yaml_scalar_str(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn yaml_scalar_str(s: &str) -> String {
    if needs_quotes(s) {
        serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
    } else {
        s.to_owned()
    }
}
