//! Whether a route's `match` takes a request, Envoy's way: the path (prefix,
//! exact path, whole-path regular expression, separated prefix; on the path
//! without its query string), then every header matcher, every query
//! parameter matcher and the gRPC match. A mismatch says why, for near misses.

use regex::Regex;
use serde_json::Value;

use crate::request::HttpRequest;
use crate::served::int;

/// `Ok(())` when the route matches, else why not.
pub fn matches(m: &Value, req: &HttpRequest) -> Result<(), String> {
    path(m, req)?;
    for h in m["headers"].as_array().into_iter().flatten() {
        header(h, req)?;
    }
    let params = req.query_params();
    for q in m["query_parameters"].as_array().into_iter().flatten() {
        query_parameter(q, &params)?;
    }
    if m.get("grpc").is_some() {
        let ct = req.header("content-type").unwrap_or_default();
        if !ct.starts_with("application/grpc") {
            return Err(format!(
                "the route takes gRPC requests and content-type is '{ct}'"
            ));
        }
    }
    Ok(())
}

fn path(m: &Value, req: &HttpRequest) -> Result<(), String> {
    let case_sensitive = m["case_sensitive"].as_bool().unwrap_or(true);
    let p = &req.path;
    let fold = |s: &str| {
        if case_sensitive {
            s.to_owned()
        } else {
            s.to_ascii_lowercase()
        }
    };
    if let Some(prefix) = m["prefix"].as_str() {
        if fold(p).starts_with(&fold(prefix)) {
            return Ok(());
        }
        return Err(format!("path '{p}' does not start with prefix '{prefix}'"));
    }
    if let Some(exact) = m["path"].as_str() {
        if fold(p) == fold(exact) {
            return Ok(());
        }
        return Err(format!("path '{p}' is not exactly '{exact}'"));
    }
    if let Some(re) = m["safe_regex"]["regex"].as_str() {
        return if full_match(re, p)? {
            Ok(())
        } else {
            Err(format!("path '{p}' does not match regex '{re}'"))
        };
    }
    if let Some(prefix) = m["path_separated_prefix"].as_str() {
        let rest = p.strip_prefix(prefix);
        if rest.is_some_and(|r| r.is_empty() || r.starts_with('/')) {
            return Ok(());
        }
        return Err(format!("path '{p}' is not '{prefix}' or under '{prefix}/'"));
    }
    Err("the route has no path match this explain knows".to_owned())
}

fn full_match(re: &str, s: &str) -> Result<bool, String> {
    let anchored = format!("^(?:{re})$");
    Regex::new(&anchored)
        .map(|r| r.is_match(s))
        .map_err(|e| format!("regex '{re}' does not compile: {e}"))
}

/// A `StringMatcher`: `Ok(None)` when the value matches, else a description
/// of what was wanted.
pub fn string_match(sm: &Value, value: &str) -> Result<bool, String> {
    let ignore_case = sm["ignore_case"].as_bool().unwrap_or(false);
    let (v, fold) = if ignore_case {
        (value.to_ascii_lowercase(), true)
    } else {
        (value.to_owned(), false)
    };
    let f = |s: &str| {
        if fold {
            s.to_ascii_lowercase()
        } else {
            s.to_owned()
        }
    };
    if let Some(x) = sm["exact"].as_str() {
        return Ok(v == f(x));
    }
    if let Some(x) = sm["prefix"].as_str() {
        return Ok(v.starts_with(&f(x)));
    }
    if let Some(x) = sm["suffix"].as_str() {
        return Ok(v.ends_with(&f(x)));
    }
    if let Some(x) = sm["contains"].as_str() {
        return Ok(v.contains(&f(x)));
    }
    if let Some(re) = sm["safe_regex"]["regex"].as_str() {
        return full_match(re, value);
    }
    Err("a string matcher this explain does not know".to_owned())
}

/// What a matcher asks for, in words.
pub fn describe_matcher(h: &Value) -> String {
    let sm = &h["string_match"];
    let base = if let Some(x) = sm["exact"].as_str() {
        format!("exactly '{x}'")
    } else if let Some(x) = sm["prefix"].as_str() {
        format!("starting with '{x}'")
    } else if let Some(x) = sm["suffix"].as_str() {
        format!("ending with '{x}'")
    } else if let Some(x) = sm["contains"].as_str() {
        format!("containing '{x}'")
    } else if let Some(x) = sm["safe_regex"]["regex"].as_str() {
        format!("matching regex '{x}'")
    } else if h.get("range_match").is_some() {
        format!(
            "an integer in [{}, {})",
            int(&h["range_match"]["start"]).unwrap_or(0),
            int(&h["range_match"]["end"]).unwrap_or(0)
        )
    } else if h.get("present_match").is_some() {
        if h["present_match"].as_bool().unwrap_or(false) {
            "present".to_owned()
        } else {
            "absent".to_owned()
        }
    } else {
        "anything".to_owned()
    };
    if h["invert_match"].as_bool().unwrap_or(false) {
        format!("not {base}")
    } else {
        base
    }
}

/// Envoy's `HeaderUtility::matchHeaders`: a missing header matches only a
/// `present_match` that asks for absence (or, inverted, for presence).
fn header(h: &Value, req: &HttpRequest) -> Result<(), String> {
    let name = h["name"].as_str().unwrap_or("");
    let invert = h["invert_match"].as_bool().unwrap_or(false);
    let want = describe_matcher(h);
    let present = h.get("present_match").and_then(Value::as_bool);
    let Some(value) = req.header(&name.to_ascii_lowercase()) else {
        let ok = match present {
            Some(p) => p == invert,
            None => false,
        };
        return if ok {
            Ok(())
        } else {
            Err(format!(
                "header {name} is absent; the route wants it {want}"
            ))
        };
    };
    let matched = if h.get("string_match").is_some() {
        string_match(&h["string_match"], &value)?
    } else if h.get("range_match").is_some() {
        let r = &h["range_match"];
        let (start, end) = (int(&r["start"]).unwrap_or(0), int(&r["end"]).unwrap_or(0));
        value.parse::<i64>().is_ok_and(|v| v >= start && v < end)
    } else {
        present.unwrap_or(true)
    };
    if matched != invert {
        Ok(())
    } else {
        Err(format!(
            "header {name} is '{value}'; the route wants it {want}"
        ))
    }
}

fn query_parameter(q: &Value, params: &[(String, String)]) -> Result<(), String> {
    let name = q["name"].as_str().unwrap_or("");
    let value = params.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let Some(value) = value else {
        return Err(format!("query parameter {name} is absent"));
    };
    if q.get("string_match").is_some() {
        if string_match(&q["string_match"], value)? {
            return Ok(());
        }
        return Err(format!(
            "query parameter {name} is '{value}'; the route wants it {}",
            describe_matcher(q)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Request;
    use serde_json::json;

    fn req(line: &str, headers: &[&str]) -> HttpRequest {
        let h: Vec<String> = headers.iter().map(|s| (*s).to_owned()).collect();
        Request::http(line, &h).unwrap().http.unwrap()
    }

    #[test]
    fn paths() {
        let r = req("GET http://a/v1/x?q=1", &[]);
        assert!(matches(&json!({"prefix": "/v1"}), &r).is_ok());
        assert!(matches(&json!({"path": "/v1/x"}), &r).is_ok());
        assert!(matches(&json!({"path": "/v1"}), &r).is_err());
        assert!(matches(&json!({"safe_regex": {"regex": "/v[0-9]/x"}}), &r).is_ok());
        assert!(matches(&json!({"safe_regex": {"regex": "/v[0-9]"}}), &r).is_err());
    }

    #[test]
    fn missing_header_only_matches_absence() {
        let r = req("GET http://a/", &["x-a: 5"]);
        let inv = json!({"prefix": "/", "headers": [{"name": "x-b", "invert_match": true, "string_match": {"exact": "e"}}]});
        assert!(matches(&inv, &r).is_err());
        let absent = json!({"prefix": "/", "headers": [{"name": "x-b", "present_match": false}]});
        assert!(matches(&absent, &r).is_ok());
        let range = json!({"prefix": "/", "headers": [{"name": "x-a", "range_match": {"start": "1", "end": "5"}}]});
        assert!(matches(&range, &r).is_err());
        let method = json!({"prefix": "/", "headers": [{"name": ":method", "string_match": {"exact": "GET"}}]});
        assert!(matches(&method, &r).is_ok());
    }

    #[test]
    fn query_parameters() {
        let r = req("GET http://a/?debug=1&trace", &[]);
        let m = json!({"prefix": "/", "query_parameters": [
            {"name": "debug", "string_match": {"exact": "1"}},
            {"name": "trace", "present_match": true}]});
        assert!(matches(&m, &r).is_ok());
        let m = json!({"prefix": "/", "query_parameters": [{"name": "x", "present_match": true}]});
        assert!(matches(&m, &r).is_err());
    }
}
