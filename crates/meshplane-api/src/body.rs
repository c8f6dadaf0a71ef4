//! Request bodies: a JSON object with the operation's members only.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// Parses `body` as the input structure of `operation`: unknown members,
/// missing required members and a non-object are refused, naming the member.
pub fn object(
    operation: &str,
    body: &[u8],
    allowed: &[&str],
    required: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!(
                "{operation}: the request body is not valid JSON: {e}"
            ))
        })?
    };
    let Value::Object(map) = value else {
        return Err(ApiError::bad_request(format!(
            "{operation}: the request body must be a JSON object"
        )));
    };
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "{operation}: unknown field '{unknown}' in the request body (expected {})",
            allowed.join(", ")
        )));
    }
    if let Some(missing) = required.iter().find(|k| !map.contains_key(**k)) {
        return Err(ApiError::bad_request(format!(
            "{operation}: the required field '{missing}' is missing"
        )));
    }
    Ok(map)
}

/// A string member, if present; any other type is refused.
pub fn string(
    operation: &str,
    map: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ApiError::bad_request(format!(
            "{operation}: field '{field}' must be a string, not {}",
            type_name(other)
        ))),
    }
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
