//! Reading a policy document from JSON, with a field path in every error.

use serde_json::{Map, Value};

use super::{ActionMatch, Effect, PolicyDocument, PolicyVersion, ResourceMatch, Statement};
use crate::glob::Pattern;

/// A policy document that cannot be used; `path` is the field path inside the
/// document (`Statement[1].Effect`), empty for the document itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct PolicyError {
    pub path: String,
    pub message: String,
}

fn err(path: &str, message: impl Into<String>) -> PolicyError {
    PolicyError {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

const DOCUMENT_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_KEYS: [&str; 6] = [
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
];

pub(super) fn document(value: &Value, source: &str) -> Result<PolicyDocument, PolicyError> {
    let obj = value.as_object().ok_or_else(|| {
        err(
            "",
            format!(
                "a policy document must be a JSON object, found {}",
                kind(value)
            ),
        )
    })?;
    check_keys(obj, "", &DOCUMENT_KEYS, |key| {
        match key {
        "Principal" | "NotPrincipal" => Some(
            "a policy attached to principals has no Principal element: name the principal under `principals:` in the auth config instead"
                .to_owned(),
        ),
        _ => None,
    }
    })?;
    let version = match obj.get("Version") {
        None => PolicyVersion::V2008_10_17,
        Some(Value::String(v)) if v == "2012-10-17" => PolicyVersion::V2012_10_17,
        Some(Value::String(v)) if v == "2008-10-17" => PolicyVersion::V2008_10_17,
        Some(other) => {
            return Err(err(
                "Version",
                format!("unknown policy version {other}: expected \"2012-10-17\" (or the older \"2008-10-17\")"),
            ))
        }
    };
    let id = optional_string(obj, "", "Id")?;
    let statements = match obj.get("Statement") {
        None => return Err(err("", "the policy has no Statement")),
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(err("Statement", "the Statement list is empty"))
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, s)| statement(s, i, &format!("Statement[{i}]"), version))
            .collect::<Result<Vec<_>, _>>()?,
        Some(single @ Value::Object(_)) => vec![statement(single, 0, "Statement", version)?],
        Some(other) => {
            return Err(err(
                "Statement",
                format!(
                    "Statement must be an object or an array of objects, found {}",
                    kind(other)
                ),
            ))
        }
    };
    Ok(PolicyDocument {
        source: source.to_owned(),
        id,
        version,
        statements,
    })
}

fn statement(
    value: &Value,
    index: usize,
    path: &str,
    version: PolicyVersion,
) -> Result<Statement, PolicyError> {
    let obj = value.as_object().ok_or_else(|| {
        err(
            path,
            format!("a statement must be an object, found {}", kind(value)),
        )
    })?;
    check_keys(obj, path, &STATEMENT_KEYS, |key| {
        match key {
        "Condition" => Some(
            "Condition is not supported: meshplane cannot evaluate IAM condition keys, and ignoring the condition would allow more than the policy says; remove it (or split the statement per resource) before using this policy"
                .to_owned(),
        ),
        "Principal" | "NotPrincipal" => Some(format!(
            "{key} is not supported: policies here are attached to principals under `principals:` in the auth config"
        )),
        _ => None,
    }
    })?;
    let sid = optional_string(obj, path, "Sid")?;
    let effect = match obj.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(err(
                &join(path, "Effect"),
                format!("Effect must be \"Allow\" or \"Deny\" (case-sensitive), found {other}"),
            ))
        }
        None => {
            return Err(err(
                path,
                "the statement has no Effect (\"Allow\" or \"Deny\")",
            ))
        }
    };
    let actions = match either(obj, path, "Action", "NotAction")? {
        Either::First(list) => ActionMatch::Action(actions(&list)?),
        Either::Second(list) => ActionMatch::NotAction(actions(&list)?),
    };
    let resources = match either(obj, path, "Resource", "NotResource")? {
        Either::First(list) => ResourceMatch::Resource(resources(&list, version)?),
        Either::Second(list) => ResourceMatch::NotResource(resources(&list, version)?),
    };
    Ok(Statement {
        index,
        sid,
        effect,
        actions,
        resources,
    })
}

enum Either {
    First(Vec<(String, String)>),
    Second(Vec<(String, String)>),
}

/// Exactly one of `first`/`second`, as a list of (path, string).
fn either(
    obj: &Map<String, Value>,
    path: &str,
    first: &str,
    second: &str,
) -> Result<Either, PolicyError> {
    match (obj.get(first), obj.get(second)) {
        (Some(_), Some(_)) => Err(err(
            path,
            format!("a statement has either {first} or {second}, not both"),
        )),
        (None, None) => Err(err(
            path,
            format!("the statement has neither {first} nor {second}"),
        )),
        (Some(v), None) => Ok(Either::First(string_list(v, &join(path, first))?)),
        (None, Some(v)) => Ok(Either::Second(string_list(v, &join(path, second))?)),
    }
}

fn string_list(value: &Value, path: &str) -> Result<Vec<(String, String)>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![(path.to_owned(), s.clone())]),
        Value::Array(items) if items.is_empty() => Err(err(path, "the list is empty")),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let item_path = format!("{path}[{i}]");
                match item {
                    Value::String(s) => Ok((item_path, s.clone())),
                    other => Err(err(
                        &item_path,
                        format!("expected a string, found {}", kind(other)),
                    )),
                }
            })
            .collect(),
        other => Err(err(
            path,
            format!(
                "expected a string or an array of strings, found {}",
                kind(other)
            ),
        )),
    }
}

fn actions(list: &[(String, String)]) -> Result<Vec<Pattern>, PolicyError> {
    list.iter()
        .map(|(path, action)| {
            let valid = action == "*"
                || action.split_once(':').is_some_and(|(service, name)| {
                    !service.is_empty()
                        && !name.is_empty()
                        && service.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if valid {
                Ok(Pattern::action(action))
            } else {
                Err(err(
                    path,
                    format!(
                        "'{action}' is not an action: write '<service>:<action>' (e.g. 'appmesh:StreamAggregatedResources', 'appmesh:*') or '*'"
                    ),
                ))
            }
        })
        .collect()
}

fn resources(
    list: &[(String, String)],
    version: PolicyVersion,
) -> Result<Vec<Pattern>, PolicyError> {
    list.iter()
        .map(|(path, resource)| {
            if resource == "*" {
                return Ok(Pattern::resource(resource));
            }
            if version == PolicyVersion::V2012_10_17 && resource.contains("${") {
                return Err(err(
                    path,
                    format!("'{resource}' uses an IAM policy variable, which is not supported: write the ARN out"),
                ));
            }
            if resource.starts_with("mesh/") {
                return Err(err(
                    path,
                    format!(
                        "'{resource}' is a short App Mesh name; policies match full ARNs: write 'arn:aws:appmesh:<region>:<account>:{resource}' (or 'arn:aws:appmesh:*:*:{resource}')"
                    ),
                ));
            }
            if !resource.starts_with("arn:") || resource.splitn(6, ':').count() < 6 {
                return Err(err(
                    path,
                    format!("'{resource}' is not an ARN: expected 'arn:<partition>:<service>:<region>:<account>:<resource>' or '*'"),
                ));
            }
            Ok(Pattern::resource(resource))
        })
        .collect()
}

fn optional_string(
    obj: &Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<Option<String>, PolicyError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(err(
            &join(path, key),
            format!("expected a string, found {}", kind(other)),
        )),
    }
}

/// Rejects keys outside `known`; `special` explains keys worth a specific message.
fn check_keys(
    obj: &Map<String, Value>,
    path: &str,
    known: &[&str],
    special: impl Fn(&str) -> Option<String>,
) -> Result<(), PolicyError> {
    for key in obj.keys() {
        if known.contains(&key.as_str()) {
            continue;
        }
        let key_path = join(path, key);
        if let Some(message) = special(key) {
            return Err(err(&key_path, message));
        }
        let hint = known
            .iter()
            .find(|k| k.eq_ignore_ascii_case(key))
            .map(|k| format!(" (element names are case-sensitive: did you mean '{k}'?)"))
            .unwrap_or_else(|| format!(" (expected one of {})", known.join(", ")));
        return Err(err(
            &key_path,
            format!("unknown policy element '{key}'{hint}"),
        ));
    }
    Ok(())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
