//! JSON values to YAML text, through yaml-rust2's emitter. Key order is
//! kept, so the same value always renders to the same bytes, and strings
//! that would read back as something else are quoted.

use serde_json::Value;
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter};

/// Renders `value` as one YAML document (starting `---`, ending in a newline).
pub fn to_yaml(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    YamlEmitter::new(&mut out)
        .dump(&to_node(value))
        .map_err(|e| e.to_string())?;
    out.push('\n');
    Ok(out)
}

fn to_node(value: &Value) -> Yaml {
    match value {
        Value::Null => Yaml::Null,
        Value::Bool(b) => Yaml::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Integer(i),
            None => Yaml::Real(n.to_string()),
        },
        Value::String(s) => Yaml::String(s.clone()),
        Value::Array(items) => Yaml::Array(items.iter().map(to_node).collect()),
        Value::Object(map) => {
            let mut hash = Hash::new();
            for (k, v) in map {
                hash.insert(Yaml::String(k.clone()), to_node(v));
            }
            Yaml::Hash(hash)
        }
    }
}
