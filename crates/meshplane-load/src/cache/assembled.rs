//! The model of the last cached load, kept to be patched: when the files
//! are the same as then and the ones whose content changed still define
//! the same resources (CLI input only, every spec decoded before and
//! after), the next load replaces those resources' specs and origins in
//! it instead of assembling the model again from every file. Anything else
//! (a file added or removed, a resource added, removed or renamed, a spec
//! that no longer decodes, CloudFormation or Kubernetes documents, findings
//! that cross files such as duplicates) assembles the model afresh.

use std::path::PathBuf;
use std::sync::Arc;

use meshplane_spec::{Diagnostic, MeshModel, Origins};

use super::FilePart;
use crate::pending::in_report_order;
use crate::Loaded;

/// What reading one file gave: its part, or the error that stopped it.
pub(super) type PartResult = Result<Arc<FilePart>, Box<Diagnostic>>;

#[derive(Debug)]
pub(super) struct Assembled {
    files: Vec<PathBuf>,
    parts: Vec<Arc<FilePart>>,
    model: MeshModel,
    origins: Origins,
}

/// A part whose resources are final once decoded (no cross-file
/// resolution).
fn plain(part: &FilePart) -> bool {
    part.k8s.is_empty() && part.cfn.is_empty()
}

/// The findings a load reports from the parts alone, in the order it
/// reports them.
fn own_findings(parts: &[Arc<FilePart>]) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = parts
        .iter()
        .flat_map(|p| p.diagnostics.iter().cloned())
        .collect();
    out.extend(
        parts
            .iter()
            .flat_map(|p| p.decoded.iter().flat_map(|d| d.findings.iter().cloned())),
    );
    out
}

fn all_read(parts: &[PartResult]) -> Option<Vec<Arc<FilePart>>> {
    parts.iter().map(|p| p.as_ref().ok().cloned()).collect()
}

fn same_files(a: &[PathBuf], b: &[PathBuf]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.as_os_str().as_encoded_bytes() == y.as_os_str().as_encoded_bytes())
}

/// What a fresh assembly of `parts` gave (`loaded`), kept when a later
/// load may patch it: every file read, plain, and no finding beyond the
/// parts' own (no duplicate, no owner mismatch).
pub(super) fn record(
    files: &[PathBuf],
    parts: &[PartResult],
    walk_errors: bool,
    loaded: &Loaded,
) -> Option<Assembled> {
    if walk_errors {
        return None;
    }
    let parts = all_read(parts)?;
    if !parts.iter().all(|p| plain(p)) {
        return None;
    }
    let own: usize = parts
        .iter()
        .map(|p| p.diagnostics.len() + p.decoded.iter().map(|d| d.findings.len()).sum::<usize>())
        .sum();
    if loaded.diagnostics.len() != own {
        return None;
    }
    Some(Assembled {
        files: files.to_vec(),
        parts,
        model: loaded.model.clone(),
        origins: loaded.origins.clone(),
    })
}

impl Assembled {
    /// What reading each of `files` gave last time, when they are the
    /// files this model was assembled from.
    pub(super) fn parts_of(&self, files: &[PathBuf]) -> Option<&[Arc<FilePart>]> {
        same_files(&self.files, files).then_some(self.parts.as_slice())
    }
}

/// Whether `new` defines the resources `old` defined, in the same order,
/// each decoding before and after.
fn same_resources(old: &FilePart, new: &FilePart) -> bool {
    plain(new)
        && old.decoded.len() == new.decoded.len()
        && old
            .decoded
            .iter()
            .zip(&new.decoded)
            .all(|(o, n)| o.id == n.id && o.spec.is_some() && n.spec.is_some())
}

/// The load of `files` (read into `parts`) made by patching `kept`, when
/// it can be; `kept` is then up to date with it.
pub(super) fn patch(
    kept: &mut Option<Assembled>,
    files: &[PathBuf],
    parts: &[PartResult],
) -> Option<Loaded> {
    let a = kept.as_mut()?;
    if !same_files(&a.files, files) {
        return None;
    }
    let parts = all_read(parts)?;
    let mut changed = Vec::new();
    for (i, (old, new)) in a.parts.iter().zip(&parts).enumerate() {
        if Arc::ptr_eq(old, new) {
            continue;
        }
        if !same_resources(old, new) || !old.decoded.iter().all(|d| a.model.contains(&d.id)) {
            return None;
        }
        changed.push(i);
    }
    for i in changed {
        for d in &parts[i].decoded {
            if let Some(spec) = &d.spec {
                a.model.replace(&d.id, spec.clone());
                a.origins.insert(d.id.clone(), d.origin.clone());
            }
        }
    }
    a.parts = parts;
    let mut diagnostics = own_findings(&a.parts);
    let mut skipped: Vec<_> = a
        .parts
        .iter()
        .flat_map(|p| p.skipped.iter().cloned())
        .collect();
    in_report_order(&mut diagnostics, &mut skipped);
    Some(Loaded {
        model: a.model.clone(),
        origins: a.origins.clone(),
        diagnostics,
        files: files.to_vec(),
        skipped,
    })
}
