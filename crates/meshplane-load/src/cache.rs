//! Loading again without re-reading what did not change.
//!
//! A [`LoadCache`] keeps, per file, what reading it alone produced: its
//! syntax and format findings, its CLI resources already decoded, and the
//! CloudFormation documents and Kubernetes objects it holds (those are
//! resolved across files on every load, as a fresh load does). A file is
//! parsed again only when its content changed: when its size and
//! modification time are those recorded, and that time is older than the
//! read that recorded them (a write in the same clock tick as the read
//! cannot hide), the file is not even opened; otherwise it is read and its
//! content hash decides. The files are looked at (and read and parsed) on
//! every core, then recorded in order. The result of a cached load is exactly that of
//! [`crate::load_paths`] on the same files. The model it assembled is kept
//! too, and patched by a load that only changed some resources' specs
//! (`assembled.rs`).

mod assembled;
mod changed;

pub use changed::load_paths_changed;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use meshplane_spec::Diagnostic;

use crate::pending::{DecodedResource, Session};
use crate::read::Document;
use crate::{k8s, walk, LoadOptions, Loaded, Skipped};

/// How long after its modification a file's metadata alone is trusted:
/// a file modified within this time of the read that recorded it is read
/// again (file system clocks are coarse).
const RACY: Duration = Duration::from_secs(2);

/// What reading one file alone produced.
#[derive(Debug, Default)]
struct FilePart {
    diagnostics: Vec<Diagnostic>,
    decoded: Vec<DecodedResource>,
    k8s: Vec<k8s::Object>,
    cfn: Vec<(PathBuf, Document)>,
    skipped: Vec<Skipped>,
}

#[derive(Debug)]
struct CachedFile {
    len: u64,
    modified: Option<SystemTime>,
    /// When the content was last read.
    read_at: SystemTime,
    hash: u64,
    part: Arc<FilePart>,
}

/// Counts of one cached load, for the reload's log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Files whose metadata showed them unchanged (not opened).
    pub unchanged: usize,
    /// Files read whose content was the same (not parsed).
    pub same_content: usize,
    /// Files parsed.
    pub parsed: usize,
    /// Whether the model of the previous load was patched with the changed
    /// files' resources (otherwise it was assembled from every file).
    pub patched: bool,
}

/// Per-file results of earlier loads with the same [`LoadOptions`].
#[derive(Debug, Default)]
pub struct LoadCache {
    /// The options the entries were made with (another set clears them).
    options: Option<String>,
    files: HashMap<PathBuf, CachedFile>,
    /// The model of the last load, when the next one may patch it.
    assembled: Option<assembled::Assembled>,
    /// The paths of the last load and the files found under them, when
    /// finding them gave no error (what [`load_paths_changed`] starts from).
    listing: Option<(Vec<PathBuf>, Vec<PathBuf>)>,
}

impl LoadCache {
    pub fn new() -> Self {
        LoadCache::default()
    }

    /// How many files it holds.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

fn content_hash(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

fn parse(opts: &LoadOptions, file: &Path, text: &str) -> FilePart {
    let mut session = Session::new(opts);
    session.read_file(file, text);
    let pending = std::mem::take(&mut session.pending);
    let decoded = pending.into_iter().map(|p| session.decode(p)).collect();
    FilePart {
        diagnostics: session.diagnostics,
        decoded,
        k8s: session.k8s,
        cfn: session.cfn,
        skipped: session.skipped,
    }
}

/// [`crate::load_paths`], reusing `cache` for the files that did not change
/// since it last saw them; files no longer found leave the cache.
pub fn load_paths_cached(
    paths: &[PathBuf],
    opts: &LoadOptions,
    cache: &mut LoadCache,
) -> (Loaded, CacheStats) {
    same_options(opts, cache);
    let (files, errors) = walk::spec_files(paths);
    cache.listing = errors.is_empty().then(|| (paths.to_vec(), files.clone()));
    let outcomes = crate::parallel::map(&files, |file| look(file, opts, cache));
    assemble(files, errors, outcomes, opts, cache)
}

/// Empties `cache` when it was filled with other options.
fn same_options(opts: &LoadOptions, cache: &mut LoadCache) {
    let options = format!("{opts:?}");
    if cache.options.as_ref() != Some(&options) {
        cache.files.clear();
        cache.assembled = None;
        cache.listing = None;
        cache.options = Some(options);
    }
}

/// Records what looking at `files` found and makes the load of them.
fn assemble(
    files: Vec<PathBuf>,
    errors: Vec<Diagnostic>,
    outcomes: Vec<Outcome>,
    opts: &LoadOptions,
    cache: &mut LoadCache,
) -> (Loaded, CacheStats) {
    let mut stats = CacheStats::default();
    let parts: Vec<assembled::PartResult> = files
        .iter()
        .zip(outcomes)
        .map(|(file, outcome)| record(file, outcome, cache, &mut stats))
        .collect();
    // Every file read is in the cache; anything more is a file gone.
    if cache.files.len() != parts.iter().filter(|p| p.is_ok()).count() {
        let seen: std::collections::HashSet<&Path> = files.iter().map(PathBuf::as_path).collect();
        cache.files.retain(|p, _| seen.contains(p.as_path()));
    }
    if errors.is_empty() {
        if let Some(loaded) = assembled::patch(&mut cache.assembled, &files, &parts) {
            stats.patched = true;
            return (loaded, stats);
        }
    }
    let walk_errors = !errors.is_empty();
    let mut session = Session::new(opts);
    session.diagnostics.extend(errors);
    let mut decoded = Vec::new();
    for part in &parts {
        match part {
            Ok(part) => {
                session.diagnostics.extend(part.diagnostics.iter().cloned());
                decoded.extend(part.decoded.iter().cloned());
                session.k8s.extend(part.k8s.iter().cloned());
                session.cfn.extend(part.cfn.iter().cloned());
                session.skipped.extend(part.skipped.iter().cloned());
            }
            Err(e) => session.diagnostics.push((**e).clone()),
        }
    }
    let mut loaded = session.finish_with(decoded);
    cache.assembled = assembled::record(&files, &parts, walk_errors, &loaded);
    loaded.files = files;
    (loaded, stats)
}

/// What looking at one file gave, before the cache records it.
enum Outcome {
    /// Its size and modification time are those recorded (not opened).
    Unchanged(Arc<FilePart>),
    /// Read; its content is what was recorded.
    SameContent {
        part: Arc<FilePart>,
        len: u64,
        modified: Option<SystemTime>,
        read_at: SystemTime,
    },
    /// Read and parsed.
    Parsed(CachedFile),
    Failed(Box<Diagnostic>),
}

/// Looks at one file against what `cache` recorded (the files are looked
/// at in parallel; [`record`] then updates the cache one by one).
fn look(file: &Path, opts: &LoadOptions, cache: &LoadCache) -> Outcome {
    let meta = std::fs::metadata(file).ok();
    let len = meta.as_ref().map(std::fs::Metadata::len);
    let modified = meta.as_ref().and_then(|m| m.modified().ok());
    let entry = cache.files.get(file);
    if let (Some(entry), Some(len)) = (entry, len) {
        let settled =
            modified.is_some_and(|m| entry.read_at.duration_since(m).is_ok_and(|age| age >= RACY));
        if entry.len == len && entry.modified == modified && settled {
            return Outcome::Unchanged(entry.part.clone());
        }
    }
    let read_at = SystemTime::now();
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return Outcome::Failed(Box::new(walk::read_error(file, &e.to_string()))),
    };
    let hash = content_hash(&bytes);
    let len = bytes.len() as u64;
    if let Some(entry) = entry.filter(|e| e.hash == hash) {
        return Outcome::SameContent {
            part: entry.part.clone(),
            len,
            modified,
            read_at,
        };
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return Outcome::Failed(Box::new(walk::read_error(
            file,
            "the file is not UTF-8 text",
        )));
    };
    Outcome::Parsed(CachedFile {
        len,
        modified,
        read_at,
        hash,
        part: Arc::new(parse(opts, file, &text)),
    })
}

/// Records what [`look`] found in the cache and the counts.
fn record(
    file: &Path,
    outcome: Outcome,
    cache: &mut LoadCache,
    stats: &mut CacheStats,
) -> Result<Arc<FilePart>, Box<Diagnostic>> {
    match outcome {
        Outcome::Unchanged(part) => {
            stats.unchanged += 1;
            Ok(part)
        }
        Outcome::SameContent {
            part,
            len,
            modified,
            read_at,
        } => {
            stats.same_content += 1;
            if let Some(entry) = cache.files.get_mut(file) {
                entry.len = len;
                entry.modified = modified;
                entry.read_at = read_at;
            }
            Ok(part)
        }
        Outcome::Parsed(entry) => {
            stats.parsed += 1;
            let part = entry.part.clone();
            cache.files.insert(file.to_owned(), entry);
            Ok(part)
        }
        Outcome::Failed(e) => {
            cache.files.remove(file);
            Err(e)
        }
    }
}
