//! A load in progress: documents are read file by file into pending
//! resources; CloudFormation templates wait until every file is read (they
//! import each other's exports), and so do Kubernetes objects (their
//! references cross files); then every spec is decoded and inserted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use meshplane_spec::{AnySpec, Diagnostic, MeshModel, Origin, Origins, ResourceId};

use crate::node::Node;
use crate::read::{self, Document, Syntax};
use crate::{cfn, cli, decode, k8s, LoadOptions, Loaded, Skipped};

/// The format a resource was written in, which decides how its spec decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// CLI input or describe output: exactly what the API took.
    Cli,
    /// CloudFormation turns `"80"` into 80 (and back) by the property's type.
    CloudFormation,
    /// The API server pruned fields the CRD schema does not have.
    Kubernetes,
}

/// A resource whose identity is known and whose spec is not decoded yet.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: ResourceId,
    /// The spec in the API's camelCase terms (`Null` when absent).
    pub spec: Node,
    pub origin: Origin,
    pub format: SourceFormat,
}

/// A pending resource after decoding: its spec (`None` when it did not
/// decode) and the findings of decoding, reported when it is inserted.
#[derive(Debug, Clone)]
pub struct DecodedResource {
    pub id: ResourceId,
    pub origin: Origin,
    pub spec: Option<AnySpec>,
    pub findings: Vec<Diagnostic>,
}

pub struct Session<'o> {
    pub opts: &'o LoadOptions,
    pub diagnostics: Vec<Diagnostic>,
    pub pending: Vec<Pending>,
    pub k8s: Vec<k8s::Object>,
    pub cfn: Vec<(PathBuf, Document)>,
    pub skipped: Vec<Skipped>,
}

/// Which format a document is in.
enum Format {
    CloudFormation,
    Kubernetes,
    Cli,
    /// Not an App Mesh spec, but a file users keep beside their specs.
    Skipped(String),
    Unknown(String),
}

/// CloudFormation parameter values kept beside the templates (an item of a
/// parameters JSON file, a CodePipeline template configuration): read with
/// `--params-file`, not as specs.
fn parameters_file(node: &Node) -> Option<&'static str> {
    let keys: Vec<&str> = node.as_map()?.iter().map(|e| e.key.as_str()).collect();
    let within = |allowed: &[&str]| keys.iter().all(|k| allowed.contains(k));
    if keys.contains(&"ParameterKey")
        && within(&[
            "ParameterKey",
            "ParameterValue",
            "UsePreviousValue",
            "ResolvedValue",
        ])
    {
        return Some(
            "a CloudFormation parameter value (ParameterKey); pass the file with --params-file",
        );
    }
    if keys.contains(&"Parameters") && within(&["Parameters", "Tags", "StackPolicy"]) {
        return Some("a CloudFormation template configuration (Parameters); pass the file with --params-file");
    }
    None
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
    if node.get_str("apiVersion").is_some() {
        // Other kinds are skipped there, one by one (a `List` may mix them).
        return Format::Kubernetes;
    }
    if cli::is_cli_or_describe(node) {
        return Format::Cli;
    }
    if let Some(what) = parameters_file(node) {
        return Format::Skipped(what.into());
    }
    if node.get("spec").is_some() {
        return Format::Unknown(
            "CLI input without meshName: `aws appmesh` took the names given on the command line \
             (--mesh-name, --virtual-node-name, ...); write them into the file (meshName, \
             virtualNodeName, ...)"
                .into(),
        );
    }
    Format::Unknown(
        "not an App Mesh resource: expected CLI input (meshName, virtualNodeName, spec, ...), \
         describe output ({\"virtualNode\": {...}}), a CloudFormation template (Resources) or a \
         Kubernetes object (apiVersion, kind)"
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
            cfn: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// Records a document that is not an App Mesh spec and is left out.
    pub fn skip(&mut self, file: &Path, doc: &Document, what: String) {
        self.skip_at(file, doc.index, Some(doc.node.line), what);
    }

    pub fn skip_at(&mut self, file: &Path, document: usize, line: Option<u32>, what: String) {
        self.skipped.push(Skipped {
            file: file.to_owned(),
            document,
            line,
            what,
        });
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
            Format::CloudFormation => self.cfn.push((file.to_owned(), doc)),
            Format::Kubernetes => k8s::collect(self, file, doc),
            Format::Cli => cli::load(self, file, doc),
            Format::Skipped(what) => self.skip(file, &doc, what),
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
        self.locate(&mut d, file, line, id);
        self.diagnostics.push(d);
    }

    fn locate(&self, d: &mut Diagnostic, file: &Path, line: Option<u32>, id: Option<&ResourceId>) {
        d.file = Some(file.to_owned());
        d.line = line;
        d.resource = id.map(|id| id.arn(&self.opts.arn));
    }

    /// Loads the templates with the exports of them all, resolves the
    /// Kubernetes objects, decodes every spec and builds the model.
    pub fn finish(self) -> Loaded {
        self.finish_with(Vec::new())
    }

    /// [`Session::finish`] after `decoded`, the resources of files read
    /// earlier (already decoded, in file order; the ones read into this
    /// session come after them).
    pub fn finish_with(mut self, mut decoded: Vec<DecodedResource>) -> Loaded {
        let templates = std::mem::take(&mut self.cfn);
        let (imports, problems) = cfn::Imports::collect(self.opts, &templates);
        for (file, line, path, message) in problems {
            self.error(
                "load.cfn_duplicate_export",
                &file,
                Some(line),
                None,
                &path,
                message,
            );
        }
        for (file, doc) in &templates {
            cfn::load(&mut self, file, doc, &imports);
        }
        let objects = std::mem::take(&mut self.k8s);
        k8s::resolve(&mut self, objects);
        let pending = std::mem::take(&mut self.pending);
        decoded.extend(pending.into_iter().map(|p| self.decode(p)));
        self.finish_decoded(decoded)
    }

    /// Decodes one pending resource; its findings are kept with it and
    /// reported when it is inserted (so a cached decode reports them in
    /// the same order as a fresh one).
    pub fn decode(&self, p: Pending) -> DecodedResource {
        let Pending {
            id,
            spec,
            mut origin,
            format,
        } = p;
        origin.field_lines = spec.field_lines();
        origin.source_names = spec.source_names();
        let mut findings = Vec::new();
        let spec = match decode::decode(id.kind, &spec, format) {
            Ok(decoded) => {
                for e in decoded.pruned {
                    let path = origin.document_path(&e.path);
                    let line = origin.line_of(&e.path);
                    let mut d = Diagnostic::warning(e.rule, &path, e.message);
                    self.locate(&mut d, &origin.file, line, Some(&id));
                    findings.push(d);
                }
                Some(decoded.spec)
            }
            Err(errors) => {
                for e in errors {
                    let path = origin.document_path(&e.path);
                    let line = origin.line_of(&e.path);
                    let message = decode::in_source_words(&e.message, origin.naming);
                    let mut d = Diagnostic::error(e.rule, &path, message);
                    self.locate(&mut d, &origin.file, line, Some(&id));
                    findings.push(d);
                }
                None
            }
        };
        DecodedResource {
            id,
            origin,
            spec,
            findings,
        }
    }

    /// Inserts decoded resources in order (the first of a duplicate is
    /// kept) and builds the model.
    fn finish_decoded(mut self, decoded: Vec<DecodedResource>) -> Loaded {
        let mut model = MeshModel::default();
        let mut origins = Origins::default();
        // The owner of each mesh, and where it was first seen.
        let mut owners: BTreeMap<String, (String, Origin)> = BTreeMap::new();
        for r in decoded {
            let DecodedResource {
                id,
                origin,
                spec,
                findings,
            } = r;
            self.diagnostics.extend(findings);
            let Some(spec_value) = spec else {
                continue;
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
                origins.insert(id, origin);
            }
        }
        in_report_order(&mut self.diagnostics, &mut self.skipped);
        Loaded {
            model,
            origins,
            diagnostics: self.diagnostics,
            files: Vec::new(),
            skipped: self.skipped,
        }
    }
}

/// The order a load reports its findings and skipped documents in: file by
/// file, line by line (stable: same-line findings keep their order).
pub(crate) fn in_report_order(diagnostics: &mut [Diagnostic], skipped: &mut [Skipped]) {
    diagnostics.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    skipped.sort_by(|a, b| (&a.file, a.document, a.line).cmp(&(&b.file, b.document, b.line)));
}

/// `file:line` of an origin.
pub fn place(origin: &Origin) -> String {
    place_of(&origin.file, origin.line)
}

/// `file:line`, or `file` when the line is not known.
pub fn place_of(file: &Path, line: Option<u32>) -> String {
    match line {
        Some(line) => format!("{}:{line}", file.display()),
        None => file.display().to_string(),
    }
}
