//! JSON values to YAML text and back, through yaml-rust2 (the YAML library
//! the workspace already uses). Key order is kept, so the same bootstrap
//! always renders to the same bytes.

use serde_json::{Map, Number, Value};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

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

/// Parses a YAML (or JSON) text holding at most one document; an empty text
/// is `null`.
pub fn from_yaml(text: &str) -> Result<Value, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    match docs.as_slice() {
        [] => Ok(Value::Null),
        [doc] => from_node(doc),
        _ => Err(format!("expected one YAML document, found {}", docs.len())),
    }
}

fn from_node(node: &Yaml) -> Result<Value, String> {
    Ok(match node {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::Number((*i).into()),
        Yaml::Real(text) => {
            let f = node
                .as_f64()
                .ok_or_else(|| format!("'{text}' is not a number"))?;
            Value::Number(
                Number::from_f64(f).ok_or_else(|| format!("'{text}' is not a finite number"))?,
            )
        }
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(items.iter().map(from_node).collect::<Result<_, _>>()?),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            for (k, v) in hash {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    Yaml::Real(r) => r.clone(),
                    _ => return Err("a mapping key must be a scalar".to_owned()),
                };
                map.insert(key, from_node(v)?);
            }
            Value::Object(map)
        }
        Yaml::Alias(_) => return Err("YAML aliases are not supported".to_owned()),
        Yaml::BadValue => return Err("invalid YAML value".to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_values_that_need_quoting() {
        let value = json!({
            "@type": "type.googleapis.com/x",
            "port": 9901,
            "flag": true,
            "rate": 0.25,
            "numeric_string": "1000",
            "bool_string": "true",
            "colon": "a: b",
            "empty": {},
            "list": [],
            "nested": [{ "k": "v" }, "s"],
            "auth": "Bearer abc.def-ghi_jkl~=",
            "multi": "line1\nline2"
        });
        let text = to_yaml(&value).unwrap_or_default();
        assert!(text.starts_with("---\n"), "{text}");
        assert_eq!(from_yaml(&text), Ok(value), "{text}");
    }

    #[test]
    fn rejects_several_documents() {
        assert!(from_yaml("a: 1\n---\nb: 2\n").is_err());
        assert_eq!(from_yaml(""), Ok(Value::Null));
    }
}
