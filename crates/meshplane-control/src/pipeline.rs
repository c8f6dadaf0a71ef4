//! Spec files -> validated model -> one snapshot per proxy in the cache.
//!
//! A reload that finds any error in loading or validation changes no
//! served configuration: the last good snapshots stay served, new ACM
//! material waits for a reload that applies, and the errors are reported
//! (log and `/debug/reload`). The auth config is an input of its own: a
//! valid one applies on every reload, whatever the specs say, so revoking a
//! token or an access key never waits for someone else's spec fix; a broken
//! one keeps the previous one in force and does not stop the specs from
//! applying. Otherwise every virtual node and virtual gateway is a
//! proxy key (its full ARN). A mesh whose specs are equal to the last good ones is not
//! translated again; inside a changed mesh every node is re-translated and
//! the cache's content comparison wakes only proxies whose resources
//! changed. A node deleted from the specs loses its key: its streams end
//! with NOT_FOUND and the proxies keep their last configuration.
//!
//! With `--certificates`, the ACM material is re-read on every reload; a
//! change in it (a rotation) re-translates every mesh, and each proxy's
//! snapshot carries exactly the secrets its own translation requests.

mod cloud_map;
mod dry_run;
pub mod snapshot;
pub mod source;

pub use source::{ModelSource, SourceStatus};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use meshplane_authz::AccessControl;
use meshplane_authz::AuthConfig;
use meshplane_load::load_paths;
use meshplane_spec::{validate_with, Diagnostic, MeshModel, Origins, ResourceKind, Rules};
use meshplane_translate::{translate_virtual_gateway, translate_virtual_node};
use meshplane_xds::{ProxyKey, SetOutcome, SnapshotCache};

use crate::certificates::CertificateStore;
use crate::clock::unix_seconds;
use crate::reload_diff;
use crate::served::{Served, ServedProxy};
use crate::settings::PipelineSettings;
use crate::state::{ControlState, ReloadChanges, ReloadDiff, ReloadReport};

/// Rebuilds the served snapshots from the spec files.
#[derive(Debug)]
pub struct Pipeline {
    settings: PipelineSettings,
    cache: SnapshotCache,
    state: Arc<ControlState>,
    /// Reloaded with the specs; `None` when serving without authentication.
    auth_config: Option<PathBuf>,
    /// The `--certificates` directory, re-read on every reload.
    certificates: Option<PathBuf>,
    /// The ACM material last read successfully.
    held: Mutex<Arc<CertificateStore>>,
    /// Meshes of other sources (the App Mesh API's store, a Kubernetes
    /// cluster), added to the files' at every reload.
    sources: Vec<ModelSource>,
    /// One reload at a time.
    running: Mutex<()>,
}

impl Pipeline {
    pub fn new(settings: PipelineSettings, cache: SnapshotCache, state: Arc<ControlState>) -> Self {
        Pipeline {
            settings,
            cache,
            state,
            auth_config: None,
            certificates: None,
            held: Mutex::new(Arc::new(CertificateStore::default())),
            sources: Vec::new(),
            running: Mutex::new(()),
        }
    }

    /// Also serve the meshes of this source (the API's store, a Kubernetes
    /// cluster); a mesh that two sources define is an error naming both.
    pub fn with_source(mut self, source: ModelSource) -> Self {
        self.sources.push(source);
        self
    }

    /// Also re-read this auth config on every reload (a broken one keeps the
    /// previous one in force; a good one applies even when the specs do
    /// not).
    pub fn with_auth_config(mut self, path: PathBuf) -> Self {
        self.auth_config = Some(path);
        self
    }

    /// Also read the ACM material of this `--certificates` directory on
    /// every reload (a broken one fails the reload, like a spec error).
    pub fn with_certificates(mut self, dir: PathBuf) -> Self {
        self.certificates = Some(dir);
        self
    }

    /// The ACM material currently served.
    pub fn held_certificates(&self) -> Arc<CertificateStore> {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the certificates directory; the new store (if any) and the
    /// error that keeps the previous one.
    fn read_certificates(&self) -> (Option<CertificateStore>, Option<Diagnostic>) {
        let Some(dir) = &self.certificates else {
            return (None, None);
        };
        match CertificateStore::load(dir) {
            Ok(store) => (Some(store), None),
            Err(e) => {
                let mut d = Diagnostic::error(
                    "serve.certificates",
                    "",
                    format!("{e}; the certificates are not reloaded"),
                );
                d.file = Some(dir.clone());
                (None, Some(d))
            }
        }
    }

    pub fn settings(&self) -> &PipelineSettings {
        &self.settings
    }

    pub fn state(&self) -> &Arc<ControlState> {
        &self.state
    }

    /// Load, validate, translate and publish. Blocking (file IO, CPU).
    pub fn reload(&self) -> Arc<ReloadReport> {
        let _one = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let started = Instant::now();
        let (mut auth, auth_error) = self.read_auth();
        let mut loaded = load_paths(&self.settings.paths, &self.settings.load);
        let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
        let mut placed = source::Placed::files(&loaded.model);
        for source in &self.sources {
            placed.merge(&mut loaded.model, source, &mut diagnostics);
        }
        diagnostics.extend(validate_with(
            &loaded.model,
            &loaded.origins,
            &self.settings.load.arn,
            validation_rules(),
        ));
        let (store, certificates_error) = self.read_certificates();
        diagnostics.extend(certificates_error);
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();

        let (applied, error, (changes, diff)) = if errors > 0 {
            let kept = if self.state.is_ready() {
                "the last good configuration is still served"
            } else {
                "nothing is served until the specs are fixed"
            };
            let error = format!("{errors} error(s) in the spec files; {kept}");
            for d in diagnostics.iter().filter(|d| d.is_error()) {
                tracing::warn!(diagnostic = %d, "spec error; reload not applied");
            }
            if let Some(auth) = auth.take() {
                self.state.set_access(AccessControl::new(auth));
                tracing::info!("auth config applied; the specs were not");
            }
            (false, Some(error), (ReloadChanges::default(), None))
        } else {
            let build_started = Instant::now();
            let rotated = match store {
                Some(store) => {
                    let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
                    let changed = **held != store;
                    *held = Arc::new(store);
                    changed
                }
                None => false,
            };
            let previous = self.state.served();
            let publishing = self.state.publishing();
            let (served, changes, found) = self.apply(loaded.model, loaded.origins, rotated);
            self.state
                .metrics
                .observe_snapshot_build(build_started.elapsed());
            diagnostics.extend(found);
            if let Some(auth) = auth {
                self.state.set_access(AccessControl::new(auth));
            }
            let served = Arc::new(served);
            self.state.set_served(served.clone());
            drop(publishing);
            // After publishing: the proxies and the NACK trace never wait
            // for the diff.
            let diff = previous.as_deref().map(|old| {
                let report = reload_diff::between(Some(old), &served, &self.settings.load.arn);
                ReloadDiff {
                    summary: report.summary(),
                    report,
                }
            });
            self.cloud_map_queries_changed();
            (true, None, (changes, diff))
        };
        sort_dedup(&mut diagnostics);
        for d in diagnostics.iter().filter(|d| !d.is_error()) {
            tracing::debug!(diagnostic = %d, "spec finding");
        }
        for s in &loaded.skipped {
            tracing::debug!(document = %s, "not an App Mesh spec; skipped");
        }
        let finished = SystemTime::now();
        let report = Arc::new(ReloadReport {
            finished_at: unix_seconds(finished),
            duration_seconds: started.elapsed().as_secs_f64(),
            applied,
            error,
            files: loaded.files,
            skipped_documents: loaded.skipped.iter().map(ToString::to_string).collect(),
            diagnostics,
            changes,
            diff,
            auth_error,
        });
        if applied {
            self.state.metrics.reload_succeeded(finished);
            tracing::info!(
                created = report.changes.created.len(),
                updated = report.changes.updated.len(),
                unchanged = report.changes.unchanged,
                skipped = report.changes.skipped,
                removed = report.changes.removed.len(),
                skipped_documents = report.skipped_documents.len(),
                seconds = report.duration_seconds,
                "specs reloaded"
            );
            if let Some(diff) = &report.diff {
                tracing::info!(diff = %diff.summary, "reload diff");
            }
        } else {
            self.state.metrics.reload_failed();
            tracing::error!(
                error = report.error.as_deref().unwrap_or(""),
                "specs not reloaded"
            );
        }
        self.state.set_last_reload(report.clone());
        report
    }

    /// Reads the auth config: the new one to apply with the specs, or the
    /// error that keeps the previous one in force.
    fn read_auth(&self) -> (Option<AuthConfig>, Option<String>) {
        let Some(path) = self.auth_config.as_ref() else {
            return (None, None);
        };
        match AuthConfig::from_file(path) {
            Ok(config) => (Some(config), None),
            Err(e) => {
                self.state.metrics.reload_failed();
                tracing::error!(error = %e, "auth config not reloaded; the previous one stays in force");
                (None, Some(e.to_string()))
            }
        }
    }

    /// Translate what changed and publish it; returns the new served set.
    fn apply(
        &self,
        model: MeshModel,
        origins: Origins,
        rotated: bool,
    ) -> (Served, ReloadChanges, Vec<Diagnostic>) {
        let previous = self.state.served();
        let arn = &self.settings.load.arn;
        let mut translate = self.settings.translate.clone();
        translate.held_certificates = self.held_certificates().arns();
        let mut proxies = BTreeMap::new();
        let mut changes = ReloadChanges::default();
        let mut found = Vec::new();
        for (mesh_name, graph) in &model.meshes {
            let same_mesh = !rotated
                && previous
                    .as_ref()
                    .and_then(|p| p.model.mesh(mesh_name))
                    .is_some_and(|old| old == graph);
            let nodes = graph
                .virtual_nodes
                .keys()
                .map(|n| (ResourceKind::VirtualNode, n));
            let gateways = graph
                .virtual_gateways
                .keys()
                .map(|n| (ResourceKind::VirtualGateway, n));
            for (kind, node_name) in nodes.chain(gateways) {
                let id = graph.id(kind, node_name);
                let key = ProxyKey::new(id.arn(arn));
                let old = previous.as_ref().and_then(|p| p.proxies.get(&key));
                if let (true, Some(old)) = (same_mesh, old) {
                    found.extend(old.translation.diagnostics.iter().cloned());
                    proxies.insert(key, old.clone());
                    changes.skipped += 1;
                    continue;
                }
                let translation = if kind == ResourceKind::VirtualGateway {
                    translate_virtual_gateway(graph, node_name, &translate)
                } else {
                    translate_virtual_node(graph, node_name, &translate)
                };
                found.extend(translation.diagnostics.iter().cloned());
                let resources = self.served_resources(&key, &translation, None);
                let published = snapshot::build(self.cache.interner(), &resources)
                    .map_err(|e| e.to_string())
                    .and_then(|s| self.cache.set(key.clone(), s).map_err(|e| e.to_string()));
                match published {
                    Ok(outcome) => {
                        match outcome {
                            SetOutcome::Created => changes.created.push(key.to_string()),
                            SetOutcome::Updated => changes.updated.push(key.to_string()),
                            SetOutcome::Unchanged => changes.unchanged += 1,
                        }
                        proxies.insert(
                            key,
                            ServedProxy {
                                id,
                                translation: Arc::new(translation),
                            },
                        );
                    }
                    Err(message) => {
                        let d = Diagnostic::error(
                            "serve.snapshot",
                            "",
                            format!("the Envoy resources of this node cannot be served ({message}); its proxies keep their previous configuration"),
                        )
                        .with_resource(id.arn(arn));
                        tracing::error!(diagnostic = %d, "snapshot not published");
                        found.push(d);
                        if let Some(old) = old {
                            proxies.insert(key, old.clone());
                        }
                    }
                }
            }
        }
        if let Some(previous) = &previous {
            for key in previous.proxies.keys() {
                if !proxies.contains_key(key) && self.cache.remove(key) {
                    tracing::info!(proxy = %key, "virtual node deleted from the specs; its streams end with NOT_FOUND");
                    changes.removed.push(key.to_string());
                }
            }
        }
        // Translation reports findings by resource ARN; place them at their
        // file and line like loading and validation findings.
        let found = found.into_iter().map(|d| origins.place(d, arn)).collect();
        (
            Served {
                model,
                origins,
                proxies,
            },
            changes,
            found,
        )
    }
}

fn sort_dedup(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by_cached_key(|d| (d.file.clone(), d.line, d.to_string()));
    diagnostics.dedup_by(|a, b| a == b);
}

/// Test-only switch: `MESHPLANE_TEST_SKIP_PROXY_RULES=1` leaves out the
/// rules about values the proxy refuses (`meshplane_spec::PROXY_RULES`), so
/// the end-to-end tests can serve such a spec and check how its NACK is
/// traced. Never set it in production: the proxies would NACK the change.
fn validation_rules() -> Rules {
    let skip = std::env::var_os(SKIP_PROXY_RULES).is_some_and(|v| v == "1");
    if skip {
        tracing::warn!(
            "{SKIP_PROXY_RULES}=1: the proxy-compatibility rules are skipped (tests only)"
        );
    }
    Rules {
        proxy_compatibility: !skip,
    }
}

/// The environment variable of [`validation_rules`].
pub const SKIP_PROXY_RULES: &str = "MESHPLANE_TEST_SKIP_PROXY_RULES";
