//! Name=value files: CloudFormation parameter values and import values
//! given by hand.
//!
//! A file may be in any of the shapes the AWS tools write or read:
//! - `aws cloudformation deploy --parameter-overrides` shorthand: `Name=Value`
//!   pairs separated by spaces or newlines (`Name="a b"` quotes a value;
//!   lines starting with `#` are comments);
//! - the same option's JSON list of `"Name=Value"` strings;
//! - CloudFormation's parameters JSON (`create-stack --parameters file://`):
//!   `[{"ParameterKey": ..., "ParameterValue": ...}]`;
//! - a CodePipeline template configuration: `{"Parameters": {"Name": "Value"}}`;
//! - `aws cloudformation list-exports` output: `{"Exports": [{"Name": ..., "Value": ...}]}`;
//! - a plain JSON object `{"Name": "Value"}`.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A file that could not be read as name=value pairs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ValuesError {
    pub file: PathBuf,
    pub line: Option<u32>,
    pub message: String,
}

/// `Name=Value` (the value may be empty and may hold `=`).
pub fn parse_assignment(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("'{s}' is not of the form Name=Value")),
    }
}

/// Reads a file of name=value pairs, in file order.
pub fn read_values_file(file: &Path) -> Result<Vec<(String, String)>, ValuesError> {
    let text = std::fs::read_to_string(file).map_err(|e| ValuesError {
        file: file.to_owned(),
        line: None,
        message: e.to_string(),
    })?;
    parse_values(file, &text)
}

/// Parses the text of a name=value file (`file` only names it in errors).
pub fn parse_values(file: &Path, text: &str) -> Result<Vec<(String, String)>, ValuesError> {
    let error = |line: Option<u32>, message: String| ValuesError {
        file: file.to_owned(),
        line,
        message,
    };
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| error(Some(e.line() as u32), format!("not valid JSON: {e}")))?;
        return from_json(&value).map_err(|m| error(None, m));
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = Some(i as u32 + 1);
        if line.trim_start().starts_with('#') {
            continue;
        }
        for word in words(line).map_err(|m| error(number, m))? {
            out.push(parse_assignment(&word).map_err(|m| error(number, m))?);
        }
    }
    Ok(out)
}

/// The words of a shorthand line, with quotes removed (`A="x y"` is one word).
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(q) = quote {
        return Err(format!("a {q} quote is not closed"));
    }
    words.extend(word);
    Ok(words)
}

fn from_json(value: &Value) -> Result<Vec<(String, String)>, String> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| list_item(i, item))
            .collect(),
        Value::Object(map) => {
            if let Some(params) = map.get("Parameters") {
                let Value::Object(params) = params else {
                    return Err("Parameters must be an object of names and values".into());
                };
                return params
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), text(k, v)?)))
                    .collect();
            }
            if let Some(exports) = map.get("Exports") {
                let Value::Array(items) = exports else {
                    return Err("Exports must be a list of {Name, Value} objects".into());
                };
                return items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| pair(i, item, "Name", "Value"))
                    .collect();
            }
            map.iter()
                .map(|(k, v)| Ok((k.clone(), text(k, v)?)))
                .collect()
        }
        _ => Err("expected a JSON list or object of names and values".into()),
    }
}

fn list_item(i: usize, item: &Value) -> Result<(String, String), String> {
    match item {
        Value::String(s) => parse_assignment(s).map_err(|m| format!("item {i}: {m}")),
        Value::Object(_) => pair(i, item, "ParameterKey", "ParameterValue"),
        _ => Err(format!(
            "item {i}: expected \"Name=Value\" or {{\"ParameterKey\": ..., \"ParameterValue\": ...}}"
        )),
    }
}

fn pair(
    i: usize,
    item: &Value,
    name_key: &str,
    value_key: &str,
) -> Result<(String, String), String> {
    let name = item
        .get(name_key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("item {i}: {name_key} is missing or not a string"))?;
    let value = item
        .get(value_key)
        .ok_or_else(|| format!("item {i} ({name}): {value_key} is missing"))?;
    Ok((name.to_owned(), text(name, value)?))
}

/// A value as text: strings as they are, numbers and booleans written out,
/// lists joined with commas (CloudFormation's `CommaDelimitedList`).
fn text(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Array(items) => items
            .iter()
            .map(|v| text(name, v))
            .collect::<Result<Vec<_>, _>>()
            .map(|parts| parts.join(",")),
        _ => Err(format!("the value of {name} must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<(String, String)>, ValuesError> {
        parse_values(Path::new("params"), text)
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_shape_the_aws_tools_use() {
        let want = pairs(&[("ProjectName", "howto"), ("Port", "8080")]);
        for text in [
            "ProjectName=howto Port=8080\n",
            "# deploy overrides\nProjectName=howto\nPort='8080'\n",
            r#"["ProjectName=howto", "Port=8080"]"#,
            r#"[{"ParameterKey": "ProjectName", "ParameterValue": "howto"},
                {"ParameterKey": "Port", "ParameterValue": "8080", "UsePreviousValue": false}]"#,
            r#"{"Parameters": {"ProjectName": "howto", "Port": 8080}, "Tags": {}}"#,
            r#"{"Exports": [{"ExportingStackId": "arn:x", "Name": "ProjectName", "Value": "howto"},
                            {"Name": "Port", "Value": "8080"}]}"#,
            r#"{"ProjectName": "howto", "Port": "8080"}"#,
        ] {
            assert_eq!(parse(text).unwrap(), want, "{text}");
        }
        assert_eq!(
            parse("A=\"x y\" B=a=b C=").unwrap(),
            pairs(&[("A", "x y"), ("B", "a=b"), ("C", "")])
        );
        assert_eq!(
            parse(r#"{"Parameters": {"Subnets": ["a", "b"]}}"#).unwrap(),
            pairs(&[("Subnets", "a,b")])
        );
    }

    #[test]
    fn mistakes_name_the_file_and_line() {
        let e = parse("A=1\nnovalue\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "params:2: 'novalue' is not of the form Name=Value"
        );
        let e = parse("A='open\n").unwrap_err();
        assert_eq!(e.line, Some(1));
        let e = parse(r#"[{"ParameterKey": "A"}]"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "params: item 0 (A): ParameterValue is missing"
        );
        assert!(parse("[1,")
            .unwrap_err()
            .message
            .starts_with("not valid JSON"));
        assert!(parse(r#"{"Parameters": {"A": {"x": 1}}}"#).is_err());
    }
}
