//! The paths the file watch saw change since a reload last took them, so
//! that the reload reads those files alone (`meshplane_load::load_paths_changed`)
//! instead of walking the spec directories.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

/// Beyond this many paths, a walk of the directories is as cheap.
const MAX_PATHS: usize = 10_000;

/// Shared by the file watch (which notes) and the pipeline (which takes).
#[derive(Debug, Default)]
pub struct ChangedFiles {
    /// `None`: anything may have changed (before the first reload, after a
    /// watch error or an event queue overflow, or too many paths).
    paths: Mutex<Option<BTreeSet<PathBuf>>>,
}

impl ChangedFiles {
    /// Anything may have changed until a reload takes the paths.
    pub fn new() -> Self {
        ChangedFiles::default()
    }

    pub fn note(&self, changed: impl IntoIterator<Item = PathBuf>) {
        let mut paths = self.paths.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(set) = paths.as_mut() {
            set.extend(changed);
            if set.len() > MAX_PATHS {
                *paths = None;
            }
        }
    }

    /// The watch may have missed events.
    pub fn note_anything(&self) {
        *self.paths.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// What changed since the last call (`None`: anything), and starts
    /// noting afresh.
    pub fn take(&self) -> Option<BTreeSet<PathBuf>> {
        self.paths
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(BTreeSet::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anything_first_then_what_was_noted_then_anything_after_a_miss() {
        let c = ChangedFiles::new();
        c.note([PathBuf::from("/s/a.json")]);
        assert_eq!(c.take(), None);
        c.note([PathBuf::from("/s/a.json"), PathBuf::from("/s/b.json")]);
        c.note([PathBuf::from("/s/a.json")]);
        assert_eq!(c.take().map(|s| s.len()), Some(2));
        assert_eq!(c.take(), Some(BTreeSet::new()));
        c.note([PathBuf::from("/s/a.json")]);
        c.note_anything();
        c.note([PathBuf::from("/s/b.json")]);
        assert_eq!(c.take(), None);
        c.note((0..=MAX_PATHS).map(|i| PathBuf::from(format!("/s/{i}.json"))));
        assert_eq!(c.take(), None);
    }
}
