//! Edits of a spec directory: route weights rewritten in place, and what an
//! existing directory holds (its virtual nodes, its rewritable routes).

use std::path::{Path, PathBuf};

use meshplane_load::LoadOptions;
use meshplane_spec::{ArnContext, ResourceKind};
use serde_json::Value;

const ROUTE_KINDS: &[&str] = &["httpRoute", "http2Route", "grpcRoute", "tcpRoute"];

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: no spec.<httpRoute|http2Route|grpcRoute|tcpRoute>.action.weightedTargets with two or more targets")]
    NoWeights { path: PathBuf },
    #[error("{dir}: the specs have errors:\n{messages}")]
    Invalid { dir: PathBuf, messages: String },
    #[error("{call} (the route of {file}): {message}")]
    Api {
        call: String,
        file: PathBuf,
        message: String,
    },
    #[error("{dir}: no virtual nodes")]
    NoNodes { dir: PathBuf },
}

fn targets_mut(doc: &mut Value) -> Option<&mut Vec<Value>> {
    let spec = doc.get_mut("spec")?;
    let kind = ROUTE_KINDS.iter().find(|k| spec.get(**k).is_some())?;
    let targets = spec
        .get_mut(*kind)?
        .get_mut("action")?
        .get_mut("weightedTargets")?
        .as_array_mut()?;
    (targets.len() >= 2).then_some(targets)
}

/// Weights of change `generation`: the first target gets 40 + generation
/// mod 50 (so consecutive generations differ), the rest share what is left
/// of 100.
fn weights(n: usize, generation: usize) -> Vec<u64> {
    let first = 40 + (generation % 50) as u64;
    let rest = 100 - first;
    let others = (n - 1) as u64;
    let mut w = vec![first];
    for i in 0..others {
        let share = rest / others + u64::from(i < rest % others);
        w.push(share);
    }
    w
}

/// Rewrite the weighted targets of a CLI-JSON route file. The new text is
/// written beside it and renamed over it, so the server never reads half a
/// file.
pub fn rewrite_weights(path: &Path, generation: usize) -> Result<(), EditError> {
    let text = std::fs::read_to_string(path).map_err(|source| EditError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut doc: Value = serde_json::from_str(&text).map_err(|source| EditError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let targets = targets_mut(&mut doc).ok_or_else(|| EditError::NoWeights {
        path: path.to_path_buf(),
    })?;
    let w = weights(targets.len(), generation);
    for (t, w) in targets.iter_mut().zip(w) {
        if let Some(obj) = t.as_object_mut() {
            obj.insert("weight".to_owned(), Value::from(w));
        }
    }
    let tmp = path.with_extension("json.tmp");
    let out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    std::fs::write(&tmp, out).map_err(|source| EditError::Write {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| EditError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The virtual nodes (full ARNs) of a spec directory, loaded as `meshplane
/// serve` loads it.
pub fn node_arns(dir: &Path, arn: &ArnContext) -> Result<Vec<String>, EditError> {
    let loaded = meshplane_load::load_paths(
        &[dir.to_path_buf()],
        &LoadOptions {
            arn: arn.clone(),
            ..LoadOptions::default()
        },
    );
    if loaded.has_errors() {
        let messages = loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("  {d}"))
            .collect::<Vec<_>>()
            .join("\n");
        return Err(EditError::Invalid {
            dir: dir.to_path_buf(),
            messages,
        });
    }
    let arns: Vec<String> = loaded
        .model
        .meshes
        .values()
        .flat_map(|m| {
            m.virtual_nodes
                .keys()
                .map(|n| m.id(ResourceKind::VirtualNode, n).arn(arn))
        })
        .collect();
    if arns.is_empty() {
        return Err(EditError::NoNodes {
            dir: dir.to_path_buf(),
        });
    }
    Ok(arns)
}

/// CLI-JSON route files (one route object per file) under `dir` whose
/// weights can be rewritten, sorted.
pub fn weighted_route_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                let Ok(text) = std::fs::read_to_string(&p) else {
                    continue;
                };
                let Ok(mut doc) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if doc.get("routeName").is_some() && targets_mut(&mut doc).is_some() {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_100_and_change_every_generation() {
        for n in 2..5 {
            for g in 0..120 {
                let w = weights(n, g);
                assert_eq!(w.len(), n);
                assert_eq!(w.iter().sum::<u64>(), 100);
                assert_ne!(w, weights(n, g + 1));
            }
        }
    }

    #[test]
    fn rewrite_keeps_the_rest_of_the_route() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("route.json");
        std::fs::write(
            &path,
            r#"{"meshName":"m","virtualRouterName":"r","routeName":"x","spec":{"http2Route":{"match":{"prefix":"/"},"action":{"weightedTargets":[{"virtualNode":"a","weight":75},{"virtualNode":"b","weight":25}]}}}}"#,
        )
        .unwrap();
        assert_eq!(weighted_route_files(dir.path()), vec![path.clone()]);
        rewrite_weights(&path, 3).unwrap();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let t = &doc["spec"]["http2Route"]["action"]["weightedTargets"];
        assert_eq!(t[0]["virtualNode"], "a");
        assert_eq!(t[0]["weight"], 43);
        assert_eq!(t[1]["weight"], 57);
        assert_eq!(doc["spec"]["http2Route"]["match"]["prefix"], "/");
        std::fs::write(&path, r#"{"routeName":"x","spec":{"httpRoute":{"action":{"weightedTargets":[{"virtualNode":"a","weight":100}]}}}}"#).unwrap();
        assert!(matches!(
            rewrite_weights(&path, 1),
            Err(EditError::NoWeights { .. })
        ));
    }
}
