//! The status meshplane writes on each object, as the App Mesh controller
//! did: the ARN field (`status.virtualNodeARN`; a VirtualRouter's
//! `routeARNs` too), the kind's `...Active` condition and
//! `observedGeneration`. Nothing else of the status is touched: other
//! conditions are kept, and the write is a merge patch on `/status` that
//! carries the resourceVersion it was computed from, so a concurrent write
//! (another replica) is a conflict and the patch is computed again.
//! A condition whose status, reason and message are already there is not
//! written again, so two replicas agree and never flap.

use serde_json::{json, Map, Value};

use crate::kinds::Kind;
use crate::objects::SERVED_SPEC;
use crate::resolve::Verdict;

const REASON_SERVED: &str = "Served";
const REASON_INVALID: &str = "InvalidSpec";
const KEPT_LAST_GOOD: &str = "the last good version is still served";
const KEPT_NOTHING: &str = "this object is not served";

/// A False condition's message without what it says is served instead.
/// That part depends on the replica's history (one started while the object
/// was invalid never served it), so a message differing only there is left
/// as another replica wrote it: rewriting it would make two replicas
/// overwrite each other without end.
fn findings_of(message: &str) -> &str {
    [KEPT_LAST_GOOD, KEPT_NOTHING]
        .iter()
        .find_map(|kept| message.strip_suffix(format!(" ({kept})").as_str()))
        .unwrap_or(message)
}

/// The condition meshplane wants: (status, reason, message).
fn wanted_condition(verdict: &Verdict) -> (&'static str, &'static str, String) {
    if verdict.accepted {
        ("True", REASON_SERVED, "served by meshplane".to_owned())
    } else {
        let kept = if verdict.last_good_served {
            KEPT_LAST_GOOD
        } else {
            KEPT_NOTHING
        };
        let findings = if verdict.findings.is_empty() {
            "it did not load".to_owned()
        } else {
            verdict.findings.join("; ")
        };
        ("False", REASON_INVALID, format!("{findings} ({kept})"))
    }
}

/// The merge patch that brings `status` to what meshplane wants, or `None`
/// when it is already there. `served_spec` is the object's spec when that
/// is what is served: it is recorded as `meshplaneServedSpec` (the last good
/// version for replicas that never served the object).
pub fn patch(
    kind: &Kind,
    verdict: &Verdict,
    served_spec: Option<&Value>,
    generation: Option<i64>,
    resource_version: Option<&str>,
    status: Option<&Value>,
    now: &str,
) -> Option<Value> {
    let condition_type = kind.condition?;
    let empty = Map::new();
    let status = status.and_then(Value::as_object).unwrap_or(&empty);
    let mut out = Map::new();
    if let Some(field) = kind.arn_field {
        if let Some(arn) = &verdict.arn {
            if status.get(field).and_then(Value::as_str) != Some(arn.as_str()) {
                out.insert(field.to_owned(), json!(arn));
            }
        }
    }
    if kind.kind == "VirtualRouter" && (verdict.accepted || verdict.last_good_served) {
        let have = status.get("routeARNs").and_then(Value::as_object);
        let mut routes = Map::new();
        for (name, arn) in &verdict.route_arns {
            if have.and_then(|h| h.get(name)).and_then(Value::as_str) != Some(arn.as_str()) {
                routes.insert(name.clone(), json!(arn));
            }
        }
        for name in have.into_iter().flat_map(|h| h.keys()) {
            if !verdict.route_arns.contains_key(name) {
                routes.insert(name.clone(), Value::Null);
            }
        }
        if !routes.is_empty() {
            out.insert("routeARNs".to_owned(), Value::Object(routes));
        }
    }
    if let Some(spec) = served_spec {
        let recorded = status
            .get(SERVED_SPEC)
            .and_then(Value::as_str)
            .and_then(|text| serde_json::from_str::<Value>(text).ok());
        if recorded.as_ref() != Some(spec) {
            out.insert(SERVED_SPEC.to_owned(), json!(spec.to_string()));
        }
    }
    let (want_status, reason, message) = wanted_condition(verdict);
    let conditions: Vec<Value> = status
        .get("conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let ours = conditions
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(condition_type));
    let same = |c: &Value, key: &str, want: &str| c.get(key).and_then(Value::as_str) == Some(want);
    let unchanged = ours.is_some_and(|c| {
        same(c, "status", want_status)
            && same(c, "reason", reason)
            && c.get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| findings_of(m) == findings_of(&message))
    });
    if !unchanged {
        let since = match ours {
            Some(c) if same(c, "status", want_status) => c
                .get("lastTransitionTime")
                .cloned()
                .unwrap_or_else(|| json!(now)),
            _ => json!(now),
        };
        let mine = json!({
            "type": condition_type,
            "status": want_status,
            "reason": reason,
            "message": message,
            "lastTransitionTime": since,
        });
        let mut list: Vec<Value> = conditions
            .iter()
            .filter(|c| c.get("type").and_then(Value::as_str) != Some(condition_type))
            .cloned()
            .collect();
        list.push(mine);
        out.insert("conditions".to_owned(), Value::Array(list));
    }
    if let Some(generation) = generation {
        if status.get("observedGeneration").and_then(Value::as_i64) != Some(generation) {
            out.insert("observedGeneration".to_owned(), json!(generation));
        }
    }
    if out.is_empty() {
        return None;
    }
    let mut patch = json!({ "status": Value::Object(out) });
    if let Some(rv) = resource_version {
        patch["metadata"] = json!({ "resourceVersion": rv });
    }
    Some(patch)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::kinds::KINDS;

    fn node() -> &'static Kind {
        &KINDS[1]
    }

    fn accepted() -> Verdict {
        Verdict {
            accepted: true,
            arn: Some("arn:aws:appmesh:us-west-2:111122223333:mesh/m/virtualNode/web".to_owned()),
            ..Verdict::default()
        }
    }

    #[test]
    fn first_write_sets_the_arn_condition_and_generation() {
        let p = patch(node(), &accepted(), None, Some(3), Some("17"), None, "T1").unwrap();
        assert_eq!(p["metadata"]["resourceVersion"], "17");
        assert_eq!(
            p["status"]["virtualNodeARN"],
            "arn:aws:appmesh:us-west-2:111122223333:mesh/m/virtualNode/web"
        );
        assert_eq!(p["status"]["observedGeneration"], 3);
        let c = &p["status"]["conditions"][0];
        assert_eq!(c["type"], "VirtualNodeActive");
        assert_eq!(c["status"], "True");
        assert_eq!(c["lastTransitionTime"], "T1");
    }

    #[test]
    fn a_status_already_written_is_not_written_again() {
        let p = patch(node(), &accepted(), None, Some(3), Some("17"), None, "T1").unwrap();
        // Another replica computes the same status later.
        assert_eq!(
            patch(
                node(),
                &accepted(),
                None,
                Some(3),
                Some("18"),
                Some(&p["status"]),
                "T2"
            ),
            None
        );
    }

    #[test]
    fn replicas_that_serve_different_fallbacks_do_not_rewrite_each_other() {
        let finding = "error[spec.range]: spec.listeners[0].portMapping.port: must be 1-65535";
        let failed = |last_good_served| Verdict {
            findings: vec![finding.to_owned()],
            last_good_served,
            arn: accepted().arn,
            ..Verdict::default()
        };
        // One replica served a good version before the bad edit...
        let first = patch(node(), &failed(true), None, Some(4), Some("20"), None, "T1").unwrap();
        // ...the other started after it and never did: it leaves the message.
        assert_eq!(
            patch(
                node(),
                &failed(false),
                None,
                Some(4),
                Some("21"),
                Some(&first["status"]),
                "T2"
            ),
            None
        );
        // Other findings are written.
        let other = Verdict {
            findings: vec!["error[spec.required]: spec.listeners: missing".to_owned()],
            ..failed(false)
        };
        let p = patch(
            node(),
            &other,
            None,
            Some(5),
            Some("22"),
            Some(&first["status"]),
            "T3",
        )
        .unwrap();
        let message = p["status"]["conditions"][0]["message"].as_str().unwrap();
        assert!(message.starts_with("error[spec.required]"), "{message}");
        assert_eq!(p["status"]["conditions"][0]["lastTransitionTime"], "T1");
    }

    #[test]
    fn other_conditions_are_kept_and_a_failure_names_the_finding() {
        let status = json!({
            "conditions": [{"type": "SomeoneElse", "status": "True"}],
        });
        let failed = Verdict {
            findings: vec![
                "error[spec.range]: spec.listeners[0].portMapping.port: must be 1-65535".to_owned(),
            ],
            last_good_served: true,
            arn: accepted().arn,
            ..Verdict::default()
        };
        let p = patch(node(), &failed, None, Some(4), None, Some(&status), "T3").unwrap();
        let list = p["status"]["conditions"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["type"], "SomeoneElse");
        assert_eq!(list[1]["status"], "False");
        assert_eq!(list[1]["reason"], "InvalidSpec");
        let message = list[1]["message"].as_str().unwrap();
        assert!(
            message.contains("spec.listeners[0].portMapping.port"),
            "{message}"
        );
        assert!(
            message.contains("last good version is still served"),
            "{message}"
        );
    }

    #[test]
    fn the_served_spec_is_recorded_once_and_only_when_served() {
        let spec = json!({"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]});
        let p = patch(node(), &accepted(), Some(&spec), Some(3), None, None, "T1").unwrap();
        let recorded = p["status"][SERVED_SPEC].as_str().unwrap();
        assert_eq!(serde_json::from_str::<Value>(recorded).unwrap(), spec);
        // The same spec with its keys in another order is already there.
        let mut status = p["status"].clone();
        status[SERVED_SPEC] =
            json!(r#"{"listeners":[{"portMapping":{"protocol":"http","port":8080}}]}"#);
        assert_eq!(
            patch(
                node(),
                &accepted(),
                Some(&spec),
                Some(3),
                None,
                Some(&status),
                "T2"
            ),
            None
        );
        // An invalid version is not recorded: the served one stays.
        let failed = Verdict {
            findings: vec![
                "error[spec.range]: spec.listeners[0].portMapping.port: must be 1-65535".to_owned(),
            ],
            last_good_served: true,
            ..accepted()
        };
        let failed = Verdict {
            accepted: false,
            ..failed
        };
        let p = patch(node(), &failed, None, Some(4), None, Some(&status), "T3").unwrap();
        assert!(p["status"].get(SERVED_SPEC).is_none(), "{p}");
    }
}
