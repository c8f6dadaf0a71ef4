//! A test's own copy of App Mesh spec files, changed the way an operator
//! would (whole-file replace, so the watcher never sees half a file).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::Value;

/// Copy every file under `from` into `to` (created).
pub fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Replace `path` atomically: write a sibling of `scratch` and rename.
pub fn replace_file(path: &Path, content: &str, scratch: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(scratch)?;
    let name = path.file_name().context("no file name")?;
    let tmp: PathBuf = scratch.join(name);
    std::fs::write(&tmp, content).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming onto {}", path.display()))?;
    Ok(())
}

/// Read a JSON spec, let `edit` change it, replace the file.
pub fn edit_json(path: &Path, scratch: &Path, edit: impl FnOnce(&mut Value)) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut v: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    edit(&mut v);
    replace_file(path, &serde_json::to_string_pretty(&v)?, scratch)
}

/// Set the weights of a route's weighted targets, by virtual node name.
pub fn set_weights(route: &mut Value, weights: &[(&str, u64)]) -> anyhow::Result<()> {
    let spec = route.get_mut("spec").context("route without spec")?;
    let kind = ["httpRoute", "http2Route", "grpcRoute", "tcpRoute"]
        .into_iter()
        .find(|k| spec.get(k).is_some())
        .context("route without httpRoute/http2Route/grpcRoute/tcpRoute")?;
    let targets = spec[kind]["action"]["weightedTargets"]
        .as_array_mut()
        .context("route without weightedTargets")?;
    for t in targets.iter_mut() {
        let node = t["virtualNode"].as_str().unwrap_or_default().to_owned();
        match weights.iter().find(|(n, _)| *n == node) {
            Some((_, w)) => t["weight"] = Value::from(*w),
            None => bail!("no weight given for target {node}"),
        }
    }
    Ok(())
}
