//! Finding spec files under the paths a user names.

use std::path::{Path, PathBuf};

use meshplane_spec::Diagnostic;

const EXTENSIONS: [&str; 3] = ["json", "yaml", "yml"];

/// The files to read: named files as given, directories searched
/// recursively for spec files (each directory's files in sorted order).
/// Repeated paths are read once.
pub fn spec_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.is_dir() {
            // In sorted order: each directory's entries are sorted by name.
            collect(path, &mut files, &mut errors, 0);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            errors.push(read_error(path, "no such file or directory"));
        }
    }
    if paths.len() > 1 {
        let mut seen = std::collections::BTreeSet::new();
        files.retain(|f| seen.insert(f.clone()));
    }
    (files, errors)
}

/// Whether a file of this name is read from a directory (`.json`, `.yaml`,
/// `.yml`, in any case).
pub(crate) fn has_spec_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Whether a directory walk skips this path below its root (a component
/// whose name starts with a dot).
pub(crate) fn hidden_below(rest: &Path) -> bool {
    rest.components()
        .any(|c| c.as_os_str().as_encoded_bytes().starts_with(b"."))
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<Diagnostic>, depth: usize) {
    if depth > 64 {
        errors.push(read_error(dir, "directories nest too deep"));
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(read_error(dir, &e.to_string()));
            return;
        }
    };
    let mut entries: Vec<std::fs::DirEntry> = entries
        .flatten()
        .filter(|e| !e.file_name().as_encoded_bytes().starts_with(b"."))
        .collect();
    // By name: the order of the paths, since they share this directory.
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        // The entry's type comes with the directory listing; only a
        // symbolic link needs a stat to tell whether it leads to a directory.
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => path.is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => path.is_dir(),
        };
        if is_dir {
            collect(&path, out, errors, depth + 1);
        } else if has_spec_extension(&path) {
            out.push(path);
        }
    }
}

pub fn read_error(path: &Path, message: &str) -> Diagnostic {
    let mut d = Diagnostic::error("load.read", "", format!("cannot read: {message}"));
    d.file = Some(path.to_owned());
    d
}
