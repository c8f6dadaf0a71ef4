//! Loading App Mesh specs into the mesh model.
//!
//! Four formats are read, several documents per file, each document's format
//! detected on its own: the AWS CLI's `--cli-input-json` shape, `describe-*`
//! output, CloudFormation templates (JSON or YAML, intrinsics resolved where
//! decidable) and the App Mesh controller's Kubernetes CRDs
//! (`appmesh.k8s.aws/v1beta2`). Every problem of every document is reported
//! as a [`Diagnostic`] naming the file, line, resource ARN and field path; a
//! bad document never stops the others, and no input makes the loader panic.
//!
//! [`export`] writes a model back in the CLI input shape (JSON or YAML), which
//! loads back to the same model.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cfn;
mod cli;
mod decode;
mod export;
mod k8s;
mod node;
mod pending;
mod read;
mod suggest;
mod walk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use meshplane_spec::{ArnContext, Diagnostic, MeshModel, Origins};

pub use export::{export, ExportFormat};

/// What the loader needs besides the files.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Partition, region and default account: the owner of resources that
    /// name none, the ARNs in diagnostics, CloudFormation's pseudo parameters.
    pub arn: ArnContext,
    /// CloudFormation parameter values (`--param Name=Value`); they win over
    /// a parameter's `Default`. `AWS::StackName` may be given here too.
    pub params: BTreeMap<String, String>,
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

/// Loads one file's text; `file`'s extension picks JSON or YAML syntax.
pub fn load_str(file: &Path, text: &str, opts: &LoadOptions) -> Loaded {
    let mut session = pending::Session::new(opts);
    session.read_file(file, text);
    let mut loaded = session.finish();
    loaded.files = vec![file.to_owned()];
    loaded
}
