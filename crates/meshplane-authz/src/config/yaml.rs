//! YAML text to a JSON value, so one serde model (and one set of field
//! paths) serves YAML and JSON alike.

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Parses one YAML document. Errors carry the YAML line and column.
pub fn parse(text: &str) -> Result<Value, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
    match docs.as_slice() {
        [] => Err("the file is empty".to_owned()),
        [doc] => to_json(doc, ""),
        _ => Err(format!("expected one YAML document, found {}", docs.len())),
    }
}

fn to_json(yaml: &Yaml, path: &str) -> Result<Value, String> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::Number((*i).into()),
        Yaml::Real(text) => match text.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) => Value::Number(n),
            None => Value::String(text.clone()),
        },
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_json(item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Hash(entries) => {
            let mut map = Map::new();
            for (key, value) in entries {
                let key = match key {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Real(r) => r.clone(),
                    Yaml::Boolean(b) => b.to_string(),
                    _ => {
                        return Err(format!(
                            "{}: a mapping key must be a plain scalar",
                            show(path)
                        ))
                    }
                };
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                map.insert(key, to_json(value, &child)?);
            }
            Value::Object(map)
        }
        Yaml::Alias(_) | Yaml::BadValue => {
            return Err(format!(
                "{}: YAML aliases are not supported here",
                show(path)
            ))
        }
    })
}

fn show(path: &str) -> &str {
    if path.is_empty() {
        "(document)"
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_maps_and_lists() {
        let v = parse("a: 1\nb: [x, 2.5, true, null]\nc: {d: e}\n").expect("valid YAML");
        assert_eq!(
            v,
            serde_json::json!({"a": 1, "b": ["x", 2.5, true, null], "c": {"d": "e"}})
        );
    }

    #[test]
    fn errors() {
        assert!(parse("").expect_err("invalid YAML").contains("empty"));
        assert!(parse("a: 1\n---\nb: 2\n")
            .expect_err("invalid YAML")
            .contains("one YAML document"));
        let dup = parse("a: 1\na: 2\n").expect_err("invalid YAML");
        assert!(dup.contains("duplicated key"), "{dup}");
        let bad = parse("a: [1, 2\n").expect_err("invalid YAML");
        assert!(bad.contains("line"), "{bad}");
    }
}
