//! A load in progress: documents are read file by file into pending
//! resources; Kubernetes objects wait until every file is read (their
//! references cross files); then every spec is decoded and inserted.

use std::collections::BTreeMap;
use std::path::Path;

use meshplane_spec::{Diagnostic, MeshModel, Origin, Origins, ResourceId};

use crate::node::Node;
use crate::read::{self, Document, Syntax};
use crate::{cfn, cli, decode, k8s, LoadOptions, Loaded};

/// A resource whose identity is known and whose spec is not decoded yet.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: ResourceId,
    /// The spec in the API's camelCase terms (`Null` when absent).
    pub spec: Node,
    pub origin: Origin,
    /// CloudFormation turns `"80"` into 80 (and back) by the property's type.
    pub lenient_scalars: bool,
}

pub struct Session<'o> {
    pub opts: &'o LoadOptions,
    pub diagnostics: Vec<Diagnostic>,
    pub pending: Vec<Pending>,
    pub k8s: Vec<k8s::Object>,
}

/// Which format a document is in.
enum Format {
    CloudFormation,
    Kubernetes,
    Cli,
    Unknown(String),
}

fn detect(node: &Node) -> Format {
    if node.as_map().is_none() {
        return Format::Unknown(format!(
            "a document must be an object, not {}",
            node.type_name()
        ));
    }
    if node.get("Resources").is_some() || node.get("AWSTemplateFormatVersion").is_some() {
        return Format::CloudFormation;
    }
    if let Some(api) = node.get_str("apiVersion") {
        if api.starts_with("appmesh.k8s.aws/") || node.get_str("kind") == Some("List") {
            return Format::Kubernetes;
        }
        return Format::Unknown(format!(
            "apiVersion '{api}' is not an App Mesh CRD (expected appmesh.k8s.aws/v1beta2)"
        ));
    }
    if cli::is_cli_or_describe(node) {
        return Format::Cli;
    }
    Format::Unknown(
        "not an App Mesh resource: expected CLI input (meshName, virtualNodeName, spec, ...), \
         describe output ({\"virtualNode\": {...}}), a CloudFormation template (Resources) or an \
         appmesh.k8s.aws/v1beta2 Kubernetes object"
            .into(),
    )
}

impl<'o> Session<'o> {
    pub fn new(opts: &'o LoadOptions) -> Session<'o> {
        Session {
            opts,
            diagnostics: Vec::new(),
            pending: Vec::new(),
            k8s: Vec::new(),
        }
    }

    pub fn read_file(&mut self, file: &Path, text: &str) {
        let read = read::read(text, Syntax::of_path(file));
        for e in read.errors {
            self.error("load.parse", file, e.line, None, "", e.message);
        }
        for doc in read.documents {
            self.document(file, doc);
        }
    }

    fn document(&mut self, file: &Path, doc: Document) {
        match detect(&doc.node) {
            Format::CloudFormation => cfn::load(self, file, doc),
            Format::Kubernetes => k8s::collect(self, file, doc),
            Format::Cli => cli::load(self, file, doc),
            Format::Unknown(why) => {
                let line = Some(doc.node.line);
                self.error(
                    "load.unknown_document",
                    file,
                    line,
                    None,
                    "",
                    format!("document {}: {why}", doc.index),
                );
            }
        }
    }

    /// Records an error about a file, line, resource and document path.
    pub fn error(
        &mut self,
        rule: &'static str,
        file: &Path,
        line: Option<u32>,
        id: Option<&ResourceId>,
        path: &str,
        message: impl Into<String>,
    ) {
        let d = Diagnostic::error(rule, path, message);
        self.push(d, file, line, id);
    }

    pub fn warning(
        &mut self,
        rule: &'static str,
        file: &Path,
        line: Option<u32>,
        id: Option<&ResourceId>,
        path: &str,
        message: impl Into<String>,
    ) {
        let d = Diagnostic::warning(rule, path, message);
        self.push(d, file, line, id);
    }

    fn push(&mut self, mut d: Diagnostic, file: &Path, line: Option<u32>, id: Option<&ResourceId>) {
        d.file = Some(file.to_owned());
        d.line = line;
        d.resource = id.map(|id| id.arn(&self.opts.arn));
        self.diagnostics.push(d);
    }

    /// Resolves the Kubernetes objects, decodes every spec and builds the model.
    pub fn finish(mut self) -> Loaded {
        let objects = std::mem::take(&mut self.k8s);
        k8s::resolve(&mut self, objects);
        let mut model = MeshModel::default();
        let mut origins = Origins::default();
        // The owner of each mesh, and where it was first seen.
        let mut owners: BTreeMap<String, (String, Origin)> = BTreeMap::new();
        let pending = std::mem::take(&mut self.pending);
        for p in pending {
            let Pending {
                id,
                spec,
                mut origin,
                lenient_scalars,
            } = p;
            origin.field_lines = spec.field_lines();
            let decoded = decode::decode(id.kind, &spec, lenient_scalars);
            let spec_value = match decoded {
                Ok(v) => v,
                Err(errors) => {
                    for e in errors {
                        let path = origin.document_path(&spec.source_path(&e.path));
                        let line = origin.line_of(&e.path);
                        self.error(e.rule, &origin.file, line, Some(&id), &path, e.message);
                    }
                    continue;
                }
            };
            if let Some(first) = origins.get(&id) {
                let message = format!(
                    "{} '{}' is defined twice: at {} and at {} (the first is kept)",
                    id.kind,
                    id.name,
                    place(first),
                    place(&origin)
                );
                let line = origin.line;
                let file = origin.file.clone();
                self.error(
                    "load.duplicate",
                    &file,
                    line,
                    Some(&id),
                    &origin.spec_path,
                    message,
                );
                continue;
            }
            if let Some((owner, first)) = owners.get(&id.mesh) {
                if *owner != id.owner {
                    let message = format!(
                        "mesh '{}' is owned by account {owner} (as loaded from {}), but this resource names owner {}; \
                         set meshOwner consistently, or pass --account with the owner's account",
                        id.mesh,
                        place(first),
                        id.owner
                    );
                    let (file, line) = (origin.file.clone(), origin.line);
                    self.error(
                        "load.owner_mismatch",
                        &file,
                        line,
                        Some(&id),
                        &origin.spec_path,
                        message,
                    );
                    continue;
                }
            }
            owners
                .entry(id.mesh.clone())
                .or_insert_with(|| (id.owner.clone(), origin.clone()));
            if model.insert(id.clone(), spec_value).is_ok() {
                origins.by_resource.insert(id, origin);
            }
        }
        // File by file, line by line (stable: same-line findings keep their order).
        self.diagnostics
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Loaded {
            model,
            origins,
            diagnostics: self.diagnostics,
            files: Vec::new(),
        }
    }
}

/// `file:line` of an origin.
pub fn place(origin: &Origin) -> String {
    match origin.line {
        Some(line) => format!("{}:{line}", origin.file.display()),
        None => origin.file.display().to_string(),
    }
}
