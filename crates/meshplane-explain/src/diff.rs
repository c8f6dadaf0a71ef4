//! What changes between two configurations of every proxy: the Envoy
//! resources added, removed or changed (each change a structural JSON diff),
//! the App Mesh resources that cause each, and the risks (`risk`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::risk::{self, Risk};
use crate::served::{resource_name, ServedProxy, Source, KINDS};

/// One difference inside a resource: the JSON path and both sides (absent
/// on the side that lacks it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One Envoy resource that changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    /// `listeners`, `routes`, `clusters`, `endpoints` or `secrets`.
    pub kind: String,
    pub name: String,
    pub change: ChangeKind,
    /// For `changed`: every field that differs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// The changed App Mesh resources behind it (else all its sources).
    pub causes: Vec<Source>,
}

/// What changes for one proxy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProxyDiff {
    /// `added` or `removed` when the proxy itself appears or goes away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ChangeKind>,
    pub resources: Vec<ResourceChange>,
    pub risks: Vec<Risk>,
}

/// Every proxy's diff (only those that change) and how many do not change.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DiffReport {
    pub proxies: BTreeMap<String, ProxyDiff>,
    pub unaffected: usize,
    /// Proxies that change but whose diff was not computed (a reload diff
    /// details a bounded number of proxies).
    #[serde(skip_serializing_if = "is_zero")]
    pub not_detailed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl DiffReport {
    pub fn resources_changed(&self) -> usize {
        self.proxies.values().map(|p| p.resources.len()).sum()
    }

    /// `N proxies affected, M resources changed (a added, r removed, c changed), K unaffected, R risks`.
    pub fn summary(&self) -> String {
        let count = |k: ChangeKind| {
            self.proxies
                .values()
                .flat_map(|p| &p.resources)
                .filter(|r| r.change == k)
                .count()
        };
        let risks: usize = self.proxies.values().map(|p| p.risks.len()).sum();
        let more = if self.not_detailed > 0 {
            format!(
                " ({} more proxies affected, not detailed)",
                self.not_detailed
            )
        } else {
            String::new()
        };
        format!(
            "{} proxies affected, {} resources changed ({} added, {} removed, {} changed), {} unaffected, {} risks{more}",
            self.proxies.len(),
            self.resources_changed(),
            count(ChangeKind::Added),
            count(ChangeKind::Removed),
            count(ChangeKind::Changed),
            self.unaffected,
            risks
        )
    }
}

/// Compares every proxy of `from` with the same proxy of `to`.
/// `changed_specs` are the ARNs of the App Mesh resources that differ.
pub fn diff_proxies(
    from: &BTreeMap<String, ServedProxy>,
    to: &BTreeMap<String, ServedProxy>,
    changed_specs: &BTreeSet<String>,
) -> DiffReport {
    let empty = ServedProxy::default();
    let mut report = DiffReport::default();
    let arns: BTreeSet<&String> = from.keys().chain(to.keys()).collect();
    for arn in arns {
        let (a, b) = (from.get(arn), to.get(arn));
        let resources = diff_resources(a.unwrap_or(&empty), b.unwrap_or(&empty), changed_specs);
        let risks = match b {
            Some(b) => risk::assess(a.unwrap_or(&empty), b),
            None => Vec::new(),
        };
        let proxy = match (a, b) {
            (None, Some(_)) => Some(ChangeKind::Added),
            (Some(_), None) => Some(ChangeKind::Removed),
            _ => None,
        };
        if resources.is_empty() && risks.is_empty() && proxy.is_none() {
            report.unaffected += 1;
        } else {
            report.proxies.insert(
                arn.clone(),
                ProxyDiff {
                    proxy,
                    resources,
                    risks,
                },
            );
        }
    }
    report
}

fn diff_resources(
    a: &ServedProxy,
    b: &ServedProxy,
    changed_specs: &BTreeSet<String>,
) -> Vec<ResourceChange> {
    let mut out = Vec::new();
    for kind in KINDS {
        let by_name = |p: &ServedProxy| -> BTreeMap<String, Value> {
            p.list(kind)
                .iter()
                .map(|r| (resource_name(kind, r).to_owned(), r.clone()))
                .collect()
        };
        let (old, new) = (by_name(a), by_name(b));
        let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for name in names {
            let (change, fields) = match (old.get(name), new.get(name)) {
                (None, Some(_)) => (ChangeKind::Added, Vec::new()),
                (Some(_), None) => (ChangeKind::Removed, Vec::new()),
                (Some(x), Some(y)) if x != y => (ChangeKind::Changed, json_diff(x, y)),
                _ => continue,
            };
            let mut all: Vec<Source> = b.sources_of(kind, name).to_vec();
            for s in a.sources_of(kind, name) {
                if !all.iter().any(|x| x.arn == s.arn) {
                    all.push(s.clone());
                }
            }
            let own: Vec<Source> = all
                .iter()
                .filter(|s| changed_specs.contains(&s.arn))
                .cloned()
                .collect();
            out.push(ResourceChange {
                kind: kind.to_owned(),
                name: name.clone(),
                change,
                fields,
                causes: if own.is_empty() { all } else { own },
            });
        }
    }
    out
}

/// A structural diff: objects key by key, arrays of named objects by name,
/// other arrays position by position.
pub fn json_diff(a: &Value, b: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", a, b, &mut out);
    out
}

fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<FieldChange>) {
    if a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => walk(&p, u, v, out),
                    (u, v) => out.push(FieldChange {
                        path: p,
                        from: u.cloned(),
                        to: v.cloned(),
                    }),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if identity(x, y).is_some() => {
            let field = identity(x, y).unwrap_or("name");
            let key = |v: &Value| match &v[field] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let mut names: Vec<String> = x.iter().map(key).collect();
            for n in y.iter().map(key) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            for n in names {
                let p = format!("{path}[{n}]");
                match (
                    x.iter().find(|v| key(v) == n),
                    y.iter().find(|v| key(v) == n),
                ) {
                    (Some(u), Some(v)) => walk(&p, u, v, out),
                    (u, v) => out.push(FieldChange {
                        path: p,
                        from: u.cloned(),
                        to: v.cloned(),
                    }),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let p = format!("{path}[{i}]");
                match (x.get(i), y.get(i)) {
                    (Some(u), Some(v)) => walk(&p, u, v, out),
                    (u, v) => out.push(FieldChange {
                        path: p,
                        from: u.cloned(),
                        to: v.cloned(),
                    }),
                }
            }
        }
        _ => out.push(FieldChange {
            path: if path.is_empty() {
                ".".to_owned()
            } else {
                path.to_owned()
            },
            from: Some(a.clone()),
            to: Some(b.clone()),
        }),
    }
}

/// The field that tells the elements of both lists apart: `name` (most
/// resources' parts), `filter_chain_match` (filter chains) or
/// `cluster_name`, when every element has a distinct one.
fn identity(x: &[Value], y: &[Value]) -> Option<&'static str> {
    ["name", "filter_chain_match", "cluster_name"]
        .into_iter()
        .find(|f| distinct(x, f) && distinct(y, f) && !(x.is_empty() && y.is_empty()))
}

fn distinct(list: &[Value], field: &str) -> bool {
    let keys: BTreeSet<String> = list
        .iter()
        .filter_map(|v| v.get(field).map(Value::to_string))
        .collect();
    keys.len() == list.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn named_arrays_are_matched_by_name() {
        let a = json!({"clusters": [{"name": "a", "weight": 75}, {"name": "b", "weight": 25}]});
        let b = json!({"clusters": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]});
        let d = json_diff(&a, &b);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].path, ".clusters[a].weight");
    }
}
