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
//! proxy key (its full ARN).
//!
//! Reloads are incremental: only files whose content changed are parsed
//! again (`meshplane_load::LoadCache`); a mesh whose specs are equal to the
//! last good ones is not translated again, and inside a changed mesh only
//! the proxies whose translation inputs the change touches are
//! (`apply.rs`); the cache's content comparison then wakes only proxies
//! whose resources changed. Validation checks again only the resources a
//! change can affect (`meshplane_spec::ValidationMemo`), relative to the
//! served model.
//! [`Pipeline::with_full_reloads`] does all of it every time (the
//! reference the incremental reload is tested against). A node deleted from the specs loses its key: its streams end
//! with NOT_FOUND and the proxies keep their last configuration.
//!
//! With `--certificates`, the ACM material is re-read on every reload; a
//! change in it (a rotation) re-translates every mesh, and each proxy's
//! snapshot carries exactly the secrets its own translation requests.

mod apply;
mod cloud_map;
mod dry_run;
mod parallel;
mod proxies;
pub mod snapshot;
pub mod source;
mod tls_order;

pub use source::{ModelSource, SourceStatus};

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use meshplane_authz::AccessControl;
use meshplane_authz::AuthConfig;
use meshplane_load::{load_paths, load_paths_cached, load_paths_changed, CacheStats, LoadCache};
use meshplane_spec::{Diagnostic, ModelChanges, Rules, ValidationMemo};
use meshplane_xds::{ProxyRegistry, SnapshotCache};

use crate::certificates::CertificateStore;
use crate::changed_files::ChangedFiles;
use crate::clock::unix_seconds;
use crate::reload_diff;
use crate::settings::PipelineSettings;
use crate::state::{ControlState, ReloadChanges, ReloadDiff, ReloadPhases, ReloadReport};

/// What a reload keeps for the next one: the files read, and the findings
/// of the model validated (which the next reload's changes are relative
/// to: the served model, or nothing after a reload that did not apply).
#[derive(Debug, Default)]
struct Running {
    files: LoadCache,
    validation: ValidationMemo,
}

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
    /// One reload at a time; holds what earlier reloads read and found.
    running: Mutex<Running>,
    /// Re-read every file and re-translate every proxy of a changed mesh
    /// (the reference the incremental reload is tested against).
    full_reloads: bool,
    /// The xDS server's streams, for publishing in order (see `tls_order`).
    streams: Option<ProxyRegistry>,
    /// What the file watch saw change (without a watch, every reload looks
    /// at every file).
    changed_files: Option<Arc<ChangedFiles>>,
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
            running: Mutex::new(Running::default()),
            full_reloads: false,
            streams: None,
            changed_files: None,
        }
    }

    /// Reload in full every time: read and parse every file, translate
    /// every proxy of a changed mesh. Same result as the default,
    /// incremental reloads, at a higher cost.
    pub fn with_full_reloads(mut self) -> Self {
        self.full_reloads = true;
        self
    }

    /// Read only the files the file watch noted here (or every file when
    /// it may have missed something) instead of looking at every file.
    pub fn with_changed_files(mut self, changed: Arc<ChangedFiles>) -> Self {
        self.changed_files = Some(changed);
        self
    }

    /// Watch these streams' acknowledgements when a reload must publish
    /// some proxies after others (a TLS switch between them).
    pub fn with_streams(mut self, streams: ProxyRegistry) -> Self {
        self.streams = Some(streams);
        self
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
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let Running {
            files: load_cache,
            validation,
        } = &mut *running;
        let started = Instant::now();
        let (mut auth, auth_error) = self.read_auth();
        let (mut loaded, files) = if self.full_reloads {
            let loaded = load_paths(&self.settings.paths, &self.settings.load);
            let parsed = loaded.files.len();
            (
                loaded,
                CacheStats {
                    parsed,
                    ..CacheStats::default()
                },
            )
        } else {
            let (paths, opts) = (&self.settings.paths, &self.settings.load);
            match self.changed_files.as_ref().and_then(|c| c.take()) {
                Some(changed) => load_paths_changed(paths, opts, load_cache, &changed),
                None => load_paths_cached(paths, opts, load_cache),
            }
        };
        let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
        let mut placed = source::Placed::files(&loaded.model);
        for source in &self.sources {
            placed.merge(&mut loaded.model, source, &mut diagnostics);
        }
        let loaded_at = Instant::now();
        // What changed since the served model, which the memo validated
        // and whose translations apply keeps (`None`: validate and
        // translate everything).
        let changes = match self.state.served() {
            Some(served) if !self.full_reloads => Some(ModelChanges::between(
                &served.model,
                &served.origins,
                &loaded.model,
                &loaded.origins,
            )),
            _ => None,
        };
        diagnostics.extend(validation.validate(
            &loaded.model,
            &loaded.origins,
            &self.settings.load.arn,
            validation_rules(),
            changes.as_ref(),
        ));
        let validated_at = Instant::now();
        let (store, certificates_error) = self.read_certificates();
        diagnostics.extend(certificates_error);
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();

        let mut published_at = None;
        let mut build_started_at = None;
        let (applied, error, (changes, diff)) = if errors > 0 {
            let kept = if self.state.is_ready() {
                "the last good configuration is still served"
            } else {
                "nothing is served until the specs are fixed"
            };
            let error = format!("{errors} error(s) in the spec files; {kept}");
            // The memo now holds what a model that is not served gave.
            validation.clear();
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
            build_started_at = Some(build_started);
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
            let (served, changes, found) =
                self.apply(loaded.model, loaded.origins, rotated, changes.as_ref());
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
            published_at = Some(Instant::now());
            // After publishing: the proxies and the NACK trace never wait
            // for the diff.
            let diff = previous.as_deref().map(|old| {
                let report = reload_diff::between_detailed(
                    Some(old),
                    &served,
                    &self.settings.load.arn,
                    reload_diff::RELOAD_DIFF_DETAIL,
                );
                ReloadDiff {
                    summary: report.summary(),
                    report,
                }
            });
            self.cloud_map_queries_changed();
            // The replaced spec set and translations are freed on another
            // thread: at 1,000 nodes that takes a while, and nobody waits.
            if let Some(previous) = previous {
                let _ = std::thread::Builder::new()
                    .name("drop-served".into())
                    .spawn(move || drop(previous));
            }
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
        let finished_at = Instant::now();
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
            phases: ReloadPhases {
                load_seconds: (loaded_at - started).as_secs_f64(),
                validate_seconds: (validated_at - loaded_at).as_secs_f64(),
                build_seconds: build_started_at
                    .zip(published_at)
                    .map_or(0.0, |(b, p)| (p - b).as_secs_f64()),
                diff_seconds: published_at.map_or(0.0, |p| (finished_at - p).as_secs_f64()),
            },
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
                files_parsed = files.parsed,
                files_read_unchanged = files.same_content,
                files_not_opened = files.unchanged,
                model_patched = files.patched,
                load_seconds = (loaded_at - started).as_secs_f64(),
                validate_seconds = (validated_at - loaded_at).as_secs_f64(),
                publish_seconds = published_at.map(|p| (p - validated_at).as_secs_f64()),
                diff_seconds = published_at.map(|p| (finished_at - p).as_secs_f64()),
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
