//! File access for the few variables that name files (the xDS token, the TLS
//! files, the custom tracing and stats configuration files, the X-Ray
//! sampling manifest). Building a bootstrap reads files only through
//! [`FileReader`], so it stays a function of its inputs and tests can hand
//! it files from memory.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::BootstrapError;

pub trait FileReader {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
}

/// Reads the local file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalFiles;

impl FileReader for LocalFiles {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// Files held in memory, keyed by path.
#[derive(Debug, Clone, Default)]
pub struct MemoryFiles {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemoryFiles {
    pub fn new() -> MemoryFiles {
        MemoryFiles::default()
    }

    pub fn with(mut self, path: impl Into<PathBuf>, content: impl Into<Vec<u8>>) -> MemoryFiles {
        self.files.insert(path.into(), content.into());
        self
    }
}

impl FileReader for MemoryFiles {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "No such file or directory"))
    }
}

/// Reads the file named by `variable` as UTF-8 text.
pub(crate) fn read_text(
    files: &dyn FileReader,
    variable: &str,
    path: &str,
) -> Result<String, BootstrapError> {
    let bytes = files
        .read(Path::new(path))
        .map_err(|source| BootstrapError::Unreadable {
            variable: variable.to_owned(),
            path: PathBuf::from(path),
            source,
        })?;
    String::from_utf8(bytes)
        .map_err(|_| BootstrapError::bad_file(variable, path, "the file is not UTF-8 text"))
}
