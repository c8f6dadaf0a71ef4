//! The objects held -> the mesh model served, and a verdict per object.
//!
//! Every object is read by the CRD file format's loader (all together, since
//! references cross objects) and the model validated as `validate` does. An
//! object with an error is replaced by its last good version, or left out if
//! it has none (or that one fails too, because something it refers to
//! went); then the rest is read again, until nothing fails. So a bad edit
//! never stops the rest of the mesh, and never half-applies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use meshplane_load::{load_texts, LoadOptions};
use meshplane_spec::{validate, ArnContext, Diagnostic, MeshModel, ResourceKind};

use crate::objects::Key;

/// What became of one object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verdict {
    /// The current version is served.
    pub accepted: bool,
    /// The findings against the current version (`error[rule]: path: message`).
    pub findings: Vec<String>,
    /// The served version's ARN, if any version is served.
    pub arn: Option<String>,
    /// A VirtualRouter's routes: name -> ARN.
    pub route_arns: BTreeMap<String, String>,
    /// A previous version is served instead of the current one.
    pub last_good_served: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub model: MeshModel,
    pub verdicts: BTreeMap<Key, Verdict>,
    /// The texts served, by key: the next last good versions.
    pub served: BTreeMap<Key, String>,
    /// Findings that name no object (none are expected); the previous model
    /// stays served when there are any.
    pub unplaced: Vec<String>,
}

/// `error[rule]: path: message`, without the object's "file" and line.
fn finding(d: &Diagnostic) -> String {
    let mut d = d.clone();
    d.file = None;
    d.line = None;
    d.to_string()
}

pub fn resolve(
    current: &BTreeMap<Key, String>,
    last_good: &BTreeMap<Key, String>,
    opts: &LoadOptions,
) -> Resolution {
    let by_path: BTreeMap<PathBuf, &Key> = current.keys().map(|k| (k.path(), k)).collect();
    let mut candidate: BTreeMap<Key, String> = current.clone();
    let mut fell_back: BTreeSet<Key> = BTreeSet::new();
    let mut failed: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    // Each round removes or replaces at least one object.
    for _ in 0..=2 * current.len() + 1 {
        let texts: Vec<(PathBuf, String)> = candidate
            .iter()
            .map(|(k, t)| (k.path(), t.clone()))
            .collect();
        let mut loaded = load_texts(&texts, opts);
        let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
        diagnostics.extend(validate(&loaded.model, &loaded.origins, &opts.arn));
        let mut bad: BTreeMap<Key, Vec<String>> = BTreeMap::new();
        let mut unplaced = Vec::new();
        for d in diagnostics.iter().filter(|d| d.is_error()) {
            match d.file.as_ref().and_then(|f| by_path.get(f)) {
                Some(key) => bad.entry((*key).clone()).or_default().push(finding(d)),
                None => unplaced.push(d.to_string()),
            }
        }
        if bad.is_empty() {
            let verdicts = verdicts(current, &candidate, &fell_back, &failed, &loaded, &opts.arn);
            return Resolution {
                model: loaded.model,
                verdicts,
                served: candidate,
                unplaced,
            };
        }
        for (key, findings) in bad {
            let first_failure = !failed.contains_key(&key);
            if first_failure {
                failed.insert(key.clone(), findings);
            }
            let good = last_good
                .get(&key)
                .filter(|good| Some(*good) != current.get(&key));
            match good {
                Some(good) if !fell_back.contains(&key) => {
                    candidate.insert(key.clone(), good.clone());
                    fell_back.insert(key);
                }
                _ => {
                    candidate.remove(&key);
                    fell_back.remove(&key);
                }
            }
        }
    }
    // Not reached: every round shrinks what can fail.
    Resolution {
        unplaced: vec!["the Kubernetes objects did not settle to a valid model".to_owned()],
        ..Resolution::default()
    }
}

fn verdicts(
    current: &BTreeMap<Key, String>,
    candidate: &BTreeMap<Key, String>,
    fell_back: &BTreeSet<Key>,
    failed: &BTreeMap<Key, Vec<String>>,
    loaded: &meshplane_load::Loaded,
    arn: &ArnContext,
) -> BTreeMap<Key, Verdict> {
    let mut out: BTreeMap<Key, Verdict> = current
        .keys()
        .map(|k| {
            let findings = failed.get(k).cloned().unwrap_or_default();
            let verdict = Verdict {
                accepted: candidate.contains_key(k)
                    && !fell_back.contains(k)
                    && findings.is_empty(),
                findings,
                last_good_served: fell_back.contains(k),
                ..Verdict::default()
            };
            (k.clone(), verdict)
        })
        .collect();
    let by_path: BTreeMap<PathBuf, &Key> = current.keys().map(|k| (k.path(), k)).collect();
    for (id, origin) in &loaded.origins.by_resource {
        let Some(key) = by_path.get(&origin.file) else {
            continue;
        };
        let Some(verdict) = out.get_mut(*key) else {
            continue;
        };
        let arn = id.arn(arn);
        if id.kind == ResourceKind::Route {
            verdict.route_arns.insert(id.name.clone(), arn);
        } else {
            verdict.arn = Some(arn);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::kinds::KINDS;

    fn key(kind: &str, name: &str) -> Key {
        let k = KINDS.iter().position(|k| k.kind == kind).unwrap();
        Key {
            kind: k,
            namespace: if kind == "Mesh" {
                String::new()
            } else {
                "shop".to_owned()
            },
            name: name.to_owned(),
        }
    }

    fn mesh() -> (Key, String) {
        (
            key("Mesh", "shop"),
            r#"{"apiVersion":"appmesh.k8s.aws/v1beta2","kind":"Mesh","metadata":{"name":"shop"},"spec":{}}"#.to_owned(),
        )
    }

    fn node(name: &str, port: i64) -> (Key, String) {
        (
            key("VirtualNode", name),
            format!(
                r#"{{"apiVersion":"appmesh.k8s.aws/v1beta2","kind":"VirtualNode","metadata":{{"name":"{name}","namespace":"shop"}},
                   "spec":{{"meshRef":{{"name":"shop"}},"listeners":[{{"portMapping":{{"port":{port},"protocol":"http"}}}}],
                            "serviceDiscovery":{{"dns":{{"hostname":"{name}.shop"}}}}}}}}"#
            ),
        )
    }

    fn nodes(r: &Resolution) -> Vec<String> {
        r.model.meshes["shop"]
            .virtual_nodes
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn valid_objects_are_served_with_their_arns() {
        let current: BTreeMap<Key, String> = [mesh(), node("web", 80)].into_iter().collect();
        let r = resolve(&current, &BTreeMap::new(), &LoadOptions::default());
        assert!(r.unplaced.is_empty(), "{:?}", r.unplaced);
        assert_eq!(nodes(&r), vec!["web_shop"]);
        let v = &r.verdicts[&key("VirtualNode", "web")];
        assert!(v.accepted);
        assert!(v
            .arn
            .as_deref()
            .unwrap()
            .ends_with(":mesh/shop/virtualNode/web_shop"));
    }

    #[test]
    fn an_invalid_edit_serves_the_last_good_version_and_names_the_field() {
        let good: BTreeMap<Key, String> = [mesh(), node("web", 80), node("api", 8080)]
            .into_iter()
            .collect();
        let current: BTreeMap<Key, String> = [mesh(), node("web", 70000), node("api", 8080)]
            .into_iter()
            .collect();
        let r = resolve(&current, &good, &LoadOptions::default());
        assert_eq!(nodes(&r), vec!["api_shop", "web_shop"]);
        let v = &r.verdicts[&key("VirtualNode", "web")];
        assert!(!v.accepted && v.last_good_served);
        assert!(
            v.findings[0].contains("listeners[0].portMapping.port"),
            "{:?}",
            v.findings
        );
        // The served text is the good one.
        assert_eq!(
            r.served[&key("VirtualNode", "web")],
            good[&key("VirtualNode", "web")]
        );
        assert!(r.verdicts[&key("VirtualNode", "api")].accepted);
    }

    #[test]
    fn an_invalid_new_object_is_left_out_and_the_rest_served() {
        let current: BTreeMap<Key, String> = [mesh(), node("web", 0), node("api", 8080)]
            .into_iter()
            .collect();
        let r = resolve(&current, &BTreeMap::new(), &LoadOptions::default());
        assert_eq!(nodes(&r), vec!["api_shop"]);
        let v = &r.verdicts[&key("VirtualNode", "web")];
        assert!(!v.accepted && !v.last_good_served && v.arn.is_none());
    }
}
