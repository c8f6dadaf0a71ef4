//! Operator-supplied bootstrap fragments, merged into the generated
//! bootstrap as the image merged them:
//!
//! - `ENVOY_TRACING_CFG_FILE`: a `tracing` block (and the `static_resources`
//!   its collector cluster needs); replaces the built-in drivers.
//! - `ENVOY_STATS_CONFIG_FILE`: a `stats_config`; replaces the built-in tags.
//! - `ENVOY_STATS_SINKS_CFG_FILE`: `stats_sinks` (required in the file);
//!   replaces the DogStatsD sink.
//! - `ENVOY_RESOURCES_CONFIG_FILE`: any further bootstrap fields.
//!
//! Each file is YAML or JSON, top-level keys in snake_case or lowerCamelCase.
//! `tracing` and `stats_config` may be defined once; `stats_sinks` and the
//! `listeners`, `clusters` and `secrets` of `static_resources` are appended
//! (a name already defined is an error); any other key replaces the
//! generated value, with a warning.

use serde_json::{Map, Value};

use crate::error::BootstrapError;
use crate::files::{read_text, FileReader};

pub const TRACING_CFG_FILE: &str = "ENVOY_TRACING_CFG_FILE";
pub const STATS_CONFIG_FILE: &str = "ENVOY_STATS_CONFIG_FILE";
pub const STATS_SINKS_CFG_FILE: &str = "ENVOY_STATS_SINKS_CFG_FILE";
pub const RESOURCES_CONFIG_FILE: &str = "ENVOY_RESOURCES_CONFIG_FILE";

/// The merge order.
pub const FILE_VARIABLES: [&str; 4] = [
    TRACING_CFG_FILE,
    STATS_CONFIG_FILE,
    STATS_SINKS_CFG_FILE,
    RESOURCES_CONFIG_FILE,
];

/// Reads the file `variable` names and merges it into `bootstrap`.
pub(crate) fn merge_file(
    bootstrap: &mut Map<String, Value>,
    files: &dyn FileReader,
    variable: &str,
    path: &str,
    warnings: &mut Vec<String>,
) -> Result<(), BootstrapError> {
    let text = read_text(files, variable, path)?;
    let value = meshplane_yaml::read_single(&text)
        .map_err(|e| BootstrapError::bad_file(variable, path, e.to_string()))?
        .unwrap_or(Value::Null);
    if value.is_null() {
        return Err(BootstrapError::bad_file(
            variable,
            path,
            "the file is empty",
        ));
    }
    let Value::Object(fragment) = value else {
        return Err(BootstrapError::bad_file(
            variable,
            path,
            "expected a mapping of bootstrap fields",
        ));
    };
    if fragment.is_empty() {
        return Err(BootstrapError::bad_file(
            variable,
            path,
            "the file is empty",
        ));
    }
    let fragment = snake_keys(fragment).map_err(|e| BootstrapError::bad_file(variable, path, e))?;
    if variable == STATS_SINKS_CFG_FILE && !fragment.contains_key("stats_sinks") {
        return Err(BootstrapError::bad_file(
            variable,
            path,
            "the file has no stats_sinks",
        ));
    }
    let bad = |reason: String| BootstrapError::bad_file(variable, path, reason);
    for (key, value) in fragment {
        match key.as_str() {
            "tracing" | "stats_config" => {
                if bootstrap.contains_key(&key) {
                    return Err(bad(format!(
                        "{key} is already defined (by a built-in setting or another file); define it once"
                    )));
                }
                bootstrap.insert(key, value);
            }
            "stats_sinks" => {
                let Value::Array(sinks) = value else {
                    return Err(bad("stats_sinks must be a list".to_owned()));
                };
                append(bootstrap, "stats_sinks", sinks);
            }
            "static_resources" => {
                let Value::Object(resources) = value else {
                    return Err(bad("static_resources must be a mapping".to_owned()));
                };
                merge_static_resources(bootstrap, resources).map_err(bad)?;
            }
            _ => {
                if bootstrap.contains_key(&key) {
                    warnings.push(format!("{variable}={path:?} replaces the generated {key}"));
                }
                bootstrap.insert(key, value);
            }
        }
    }
    Ok(())
}

fn append(map: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    let entry = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(existing) = entry {
        existing.extend(items);
    }
}

fn merge_static_resources(
    bootstrap: &mut Map<String, Value>,
    resources: Map<String, Value>,
) -> Result<(), String> {
    let resources = snake_keys(resources)?;
    let target = bootstrap
        .entry("static_resources")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(target) = target else {
        return Err("static_resources must be a mapping".to_owned());
    };
    for (kind, items) in resources {
        if !matches!(kind.as_str(), "listeners" | "clusters" | "secrets") {
            return Err(format!("static_resources.{kind} is not a static resource list (listeners, clusters, secrets)"));
        }
        let Value::Array(items) = items else {
            return Err(format!("static_resources.{kind} must be a list"));
        };
        let existing: Vec<String> = match target.get(&kind) {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|i| i.get("name")?.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        for item in &items {
            if let Some(name) = item.get("name").and_then(Value::as_str) {
                if existing.iter().any(|e| e == name) {
                    return Err(format!(
                        "static_resources.{kind} defines '{name}', which the bootstrap already has"
                    ));
                }
            }
        }
        append(target, &kind, items);
    }
    Ok(())
}

/// Top-level keys in snake_case; a key given in both spellings is an error.
fn snake_keys(map: Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (key, value) in map {
        let snake = snake_case(&key);
        if out.contains_key(&snake) {
            return Err(format!(
                "{snake} is given twice (snake_case and lowerCamelCase); keep one"
            ));
        }
        out.insert(snake, value);
    }
    Ok(out)
}

fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_camel_case_keys() {
        assert_eq!(snake_case("statsConfig"), "stats_config");
        assert_eq!(snake_case("static_resources"), "static_resources");
        assert_eq!(snake_case("tracing"), "tracing");
    }
}
