//! Loading App Mesh specs into the mesh model.
//!
//! Four formats are read, several documents per file, each document's format
//! detected on its own: the AWS CLI's `--cli-input-json` shape, `describe-*`
//! output, CloudFormation templates (JSON or YAML, intrinsics resolved where
//! decidable) and the App Mesh controller's Kubernetes CRDs
//! (`appmesh.k8s.aws/v1beta2`). Every problem of every document is reported
//! as a [`Diagnostic`] naming the file, line, resource ARN and field path; a
//! bad document never stops the others, and no input makes the loader panic.
//! Documents that are not App Mesh specs (the Deployments of a Kubernetes
//! manifest, a template without App Mesh resources) are [`Skipped`].
//!
//! [`read_values_file`] reads the parameter and import values a user keeps
//! for CloudFormation (`--parameter-overrides` files, parameters JSON,
//! `list-exports` output).
//!
//! [`export`] writes a model back in the CLI input shape (JSON or YAML), which
//! loads back to the same model.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cache;
mod cfn;
mod cli;
mod decode;
mod export;
mod k8s;
mod node;
pub use meshplane_spec::parallel;
mod pending;
mod read;
mod suggest;
mod values;
mod walk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use meshplane_spec::{ArnContext, Diagnostic, MeshModel, Origins};

pub use cache::{load_paths_cached, load_paths_changed, CacheStats, LoadCache};
pub use export::{export, ExportFormat};
pub use values::{parse_assignment, parse_values, read_values_file, ValuesError};

/// What the loader needs besides the files.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Partition, region and default account: the owner of resources that
    /// name none, the ARNs in diagnostics, CloudFormation's pseudo parameters.
    pub arn: ArnContext,
    /// CloudFormation parameter values (`--param Name=Value`); they win over
    /// a parameter's `Default`. `AWS::StackName` may be given here too.
    pub params: BTreeMap<String, String>,
    /// `Fn::ImportValue` values given by hand (`--import Name=Value`); they
    /// win over the exports of the templates loaded together.
    pub imports: BTreeMap<String, String>,
}

/// A document left out because it is not an App Mesh spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: PathBuf,
    /// The 0-based index of the document in its file.
    pub document: usize,
    pub line: Option<u32>,
    /// What it is (`Kubernetes Deployment 'web' (apps/v1) is not an App Mesh resource`).
    pub what: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = pending::place_of(&self.file, self.line);
        write!(
            f,
            "{place}: skipped document {}: {}",
            self.document, self.what
        )
    }
}

/// The result of a load: the model of every resource that loaded, where each
/// came from, and every problem found.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub model: MeshModel,
    pub origins: Origins,
    pub diagnostics: Vec<Diagnostic>,
    /// The files read, in the order they were read.
    pub files: Vec<PathBuf>,
    /// The documents that are not App Mesh specs, in file order.
    pub skipped: Vec<Skipped>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads files and directories (searched recursively for `.json`, `.yaml`
/// and `.yml` files, in sorted order).
pub fn load_paths(paths: &[PathBuf], opts: &LoadOptions) -> Loaded {
    let mut session = pending::Session::new(opts);
    let (files, errors) = walk::spec_files(paths);
    session.diagnostics.extend(errors);
    for file in &files {
        match std::fs::read(file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => session.read_file(file, &text),
                Err(_) => session
                    .diagnostics
                    .push(walk::read_error(file, "the file is not UTF-8 text")),
            },
            Err(e) => session
                .diagnostics
                .push(walk::read_error(file, &e.to_string())),
        }
    }
    let mut loaded = session.finish();
    loaded.files = files;
    loaded
}

/// Loads texts held in memory as if each were a file of that name, all in
/// one load so that references cross them: the objects a Kubernetes API
/// server holds, each named by where it lives there. A `.json` name is read
/// as JSON, any other as YAML (which reads JSON too).
pub fn load_texts(texts: &[(PathBuf, String)], opts: &LoadOptions) -> Loaded {
    let mut session = pending::Session::new(opts);
    for (file, text) in texts {
        session.read_file(file, text);
    }
    let mut loaded = session.finish();
    loaded.files = texts.iter().map(|(file, _)| file.clone()).collect();
    loaded
}

/// The spec files `load_paths` reads under `paths`, and the paths it
/// cannot read.
pub fn walk_spec_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    walk::spec_files(paths)
}

/// Loads one file's text; `file`'s extension picks JSON or YAML syntax.
pub fn load_str(file: &Path, text: &str, opts: &LoadOptions) -> Loaded {
    let mut session = pending::Session::new(opts);
    session.read_file(file, text);
    let mut loaded = session.finish();
    loaded.files = vec![file.to_owned()];
    loaded
}
