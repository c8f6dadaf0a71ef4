//! Loading again when the file watch says which paths changed: only those
//! files are looked at, and the files found last time stand for the rest
//! (no walk of the directories, no look at each file's metadata).
//!
//! The events are trusted only as far as they can be: a path under the
//! spec paths that is not a file the last load read (a new file, a
//! directory, a file gone, a symbolic link swapped the way Kubernetes
//! updates a mounted ConfigMap) makes it a full cached load, as does a
//! load without a listing to start from. Files the walk would not read
//! (another extension, a hidden name) and paths outside the spec paths
//! (the auth config, TLS files) are left out.

use std::collections::{BTreeSet, HashSet};
use std::ffi::OsStr;
use std::path::PathBuf;

use super::{assemble, look, same_options, LoadCache, Outcome};
use crate::{walk, CacheStats, LoadOptions, Loaded};

/// [`super::load_paths_cached`], told by a file watch which paths (absolute)
/// were created, changed, renamed or removed since the last load of
/// `paths` into `cache`.
pub fn load_paths_changed(
    paths: &[PathBuf],
    opts: &LoadOptions,
    cache: &mut LoadCache,
    changed: &BTreeSet<PathBuf>,
) -> (Loaded, CacheStats) {
    same_options(opts, cache);
    let files = match (&cache.listing, to_look(cache, paths, changed)) {
        (Some((listed_for, files)), Some(looked)) if listed_for == paths => {
            Some((files.clone(), looked))
        }
        _ => None,
    };
    let Some((files, looked)) = files else {
        return super::load_paths_cached(paths, opts, cache);
    };
    // Compared by their bytes: `looked` holds the cache's own keys, named
    // as the walk named them (hashing a `Path` walks its components, which
    // for 40,000 files costs more than the rest of the load).
    let looked: HashSet<&OsStr> = looked.iter().map(|p| p.as_os_str()).collect();
    // The parts of the kept model are in the files' order: no lookup by
    // path for the files that did not change.
    let kept = cache.assembled.as_ref().and_then(|a| a.parts_of(&files));
    let outcomes = files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let part = if looked.contains(file.as_os_str()) {
                None
            } else {
                kept.map(|parts| parts[i].clone())
                    .or_else(|| cache.files.get(file).map(|e| e.part.clone()))
            };
            match part {
                Some(part) => Outcome::Unchanged(part),
                None => look(file, opts, cache),
            }
        })
        .collect();
    assemble(files, Vec::new(), outcomes, opts, cache)
}

/// The files among `changed` to read again, as the walk names them; `None`
/// when a change may be anything else than an edit of a file read before.
fn to_look(
    cache: &LoadCache,
    roots: &[PathBuf],
    changed: &BTreeSet<PathBuf>,
) -> Option<HashSet<PathBuf>> {
    let absolute: Vec<(PathBuf, &PathBuf)> = roots
        .iter()
        .map(|r| (std::path::absolute(r).unwrap_or_else(|_| r.clone()), r))
        .collect();
    let mut looked = HashSet::new();
    for path in changed {
        let Some((rest, file)) = absolute.iter().find_map(|(abs, root)| {
            let rest = path.strip_prefix(abs).ok()?;
            let file = if rest.as_os_str().is_empty() {
                (*root).clone()
            } else {
                root.join(rest)
            };
            Some((rest, file))
        }) else {
            continue;
        };
        let is_file = path.is_file();
        if let (Some((key, _)), true) = (cache.files.get_key_value(&file), is_file) {
            looked.insert(key.clone());
        } else if is_file && (!walk::has_spec_extension(path) || walk::hidden_below(rest)) {
            // Not a file the walk reads.
        } else {
            return None;
        }
    }
    Some(looked)
}
