//! The loop that follows the cluster: applies watch events to the objects
//! held, resolves them into a model when a burst of events is over,
//! publishes the model (calling `on_change` when it differs) and hands the
//! status writes to one writer task.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use kube::api::{Patch, PatchParams};
use kube::Client;
use meshplane_load::LoadOptions;
use meshplane_spec::MeshModel;
use serde_json::Value;
use tokio::sync::{mpsc, watch as tokio_watch};

use crate::client::{connect, ConnectError};
use crate::objects::{Held, Key, Objects};
use crate::resolve::{resolve, Verdict};
use crate::status;
use crate::watch::{self, Scope, Update};

/// Events closer together than this are resolved together...
const BURST: Duration = Duration::from_millis(20);
/// ...up to this long after the first: a steady stream of events (a large
/// `kubectl apply`, status writes) is resolved in steps, not at its end.
const BURST_MAX: Duration = Duration::from_millis(100);
/// How long `start` waits for the first complete list.
const FIRST_LIST: Duration = Duration::from_secs(30);
/// Status writes tried again after a conflict.
const CONFLICT_RETRIES: usize = 5;

#[derive(Debug, Clone, Default)]
pub struct KubeSettings {
    pub kubeconfig: Option<PathBuf>,
    /// Watch only these namespaces (meshes are cluster-scoped and always
    /// watched); empty: all.
    pub namespaces: Vec<String>,
    pub load: LoadOptions,
}

/// How the source follows the cluster (a snapshot: the admin server
/// renders it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeStatus {
    /// Every watch has listed and its last call succeeded.
    pub up: bool,
    pub objects: usize,
    /// Objects whose current version is not served.
    pub rejected: usize,
    pub resolutions: u64,
    pub status_writes: u64,
    pub status_conflicts: u64,
    /// Status writes that failed (other than conflicts, which are retried).
    pub status_errors: u64,
    /// Watch failures plus failed status writes.
    pub errors: u64,
    pub last_error: Option<String>,
    /// One per watch, in kind order.
    pub watches: Vec<WatchStatus>,
}

/// How one watch (a kind, in one namespace or in all) follows the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchStatus {
    pub kind: &'static str,
    /// `None`: all namespaces (and meshes, which have none).
    pub namespace: Option<String>,
    /// The first list is complete.
    pub listed: bool,
    /// Listed, and no error since the last list or event.
    pub synced: bool,
    /// Objects held from this watch.
    pub objects: usize,
    /// Lists after the first: kube's watcher lists again when the resource
    /// version it watches from has expired (410 Gone).
    pub relists: u64,
    pub errors: u64,
    /// When the last event (list, change, deletion) arrived.
    pub last_event: Option<SystemTime>,
    /// The last error and when it happened.
    pub last_error: Option<(SystemTime, String)>,
}

impl WatchStatus {
    fn new(scope: &Scope) -> WatchStatus {
        WatchStatus {
            kind: scope.kind().kind,
            namespace: scope.namespace.clone(),
            listed: false,
            synced: false,
            objects: 0,
            relists: 0,
            errors: 0,
            last_event: None,
            last_error: None,
        }
    }
}

#[derive(Debug)]
struct Shared {
    location: String,
    model: Mutex<MeshModel>,
    status: Mutex<KubeStatus>,
}

/// The meshes of the cluster's App Mesh objects, kept up to date.
#[derive(Debug, Clone)]
pub struct KubeSource {
    shared: Arc<Shared>,
}

impl KubeSource {
    /// The model of the objects last resolved (invalid ones at their last
    /// good version, or left out).
    pub fn model(&self) -> MeshModel {
        lock(&self.shared.model).clone()
    }

    /// `kubernetes (appmesh.k8s.aws/v1beta2, namespaces a,b)`, for messages.
    pub fn location(&self) -> String {
        self.shared.location.clone()
    }

    pub fn status(&self) -> KubeStatus {
        lock(&self.shared.status).clone()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Connects, starts the watches and the loop, and returns once every watch
/// has listed once and the first model is published (or after 30 s, with
/// what is known; the watches go on retrying).
pub async fn start(
    settings: KubeSettings,
    on_change: Arc<dyn Fn() + Send + Sync>,
) -> Result<KubeSource, ConnectError> {
    let client = connect(settings.kubeconfig.as_deref()).await?;
    let scope_text = if settings.namespaces.is_empty() {
        "all namespaces".to_owned()
    } else {
        format!("namespaces {}", settings.namespaces.join(","))
    };
    let shared = Arc::new(Shared {
        location: format!("the Kubernetes cluster (appmesh.k8s.aws/v1beta2, {scope_text})"),
        model: Mutex::new(MeshModel::default()),
        status: Mutex::new(KubeStatus::default()),
    });
    // In the order of `Follow::scopes` (a set), which the watches' status
    // follows; a namespace named twice is watched once.
    let mut scopes = Scope::all(&settings.namespaces);
    scopes.sort();
    scopes.dedup();
    lock(&shared.status).watches = scopes.iter().map(WatchStatus::new).collect();
    let (tx, rx) = mpsc::unbounded_channel();
    for scope in &scopes {
        watch::spawn(client.clone(), scope.clone(), tx.clone());
    }
    drop(tx);
    let (writes_tx, writes_rx) = mpsc::unbounded_channel();
    tokio::spawn(write_statuses(client, writes_rx, shared.clone()));
    let (first_tx, mut first_rx) = tokio_watch::channel(false);
    let follow = Follow {
        shared: shared.clone(),
        load: settings.load,
        scopes: scopes.into_iter().collect(),
        on_change,
        writes: writes_tx,
        first: first_tx,
    };
    tokio::spawn(follow.run(rx));
    if tokio::time::timeout(FIRST_LIST, first_rx.wait_for(|done| *done))
        .await
        .is_err()
    {
        tracing::warn!("the Kubernetes API server has not listed every App Mesh kind within 30 s; serving without its meshes until it does");
    }
    Ok(KubeSource { shared })
}

struct Follow {
    shared: Arc<Shared>,
    load: LoadOptions,
    scopes: BTreeSet<Scope>,
    on_change: Arc<dyn Fn() + Send + Sync>,
    writes: mpsc::UnboundedSender<Write>,
    first: tokio_watch::Sender<bool>,
}

/// The state of the loop.
#[derive(Default)]
struct Held_ {
    objects: Objects,
    listing: HashMap<Scope, Objects>,
    listed: BTreeSet<Scope>,
    last_good: BTreeMap<Key, String>,
    resolved: Option<BTreeMap<Key, String>>,
    verdicts: BTreeMap<Key, Verdict>,
    /// The verdict last handed to the writer for an object at a resourceVersion.
    sent: HashMap<Key, (Verdict, Option<String>)>,
}

impl Held_ {
    fn apply(&mut self, update: Update, shared: &Shared) {
        watch_event(&update, shared);
        match update {
            Update::Relist(scope) => {
                self.listing.insert(scope, Objects::new());
            }
            Update::Listed(scope, object) => {
                let key = Key::of(scope.kind(), &object);
                let held = Held::new(scope.kind(), object);
                self.listing.entry(scope).or_default().insert(key, held);
            }
            Update::ListDone(scope) => {
                let listed = self.listing.remove(&scope).unwrap_or_default();
                self.objects.retain(|k, _| !scope.contains(k));
                self.objects.extend(listed);
                self.listed.insert(scope);
            }
            Update::Applied(scope, object) => {
                let key = Key::of(scope.kind(), &object);
                self.objects.insert(key, Held::new(scope.kind(), object));
            }
            Update::Deleted(scope, object) => {
                let key = Key::of(scope.kind(), &object);
                self.objects.remove(&key);
                self.sent.remove(&key);
            }
            Update::Resumed(scope) => {
                tracing::info!(kind = scope.kind().kind, namespace = ?scope.namespace, "Kubernetes watch resumed");
            }
            Update::Failed(scope, error) => {
                tracing::warn!(kind = scope.kind().kind, namespace = ?scope.namespace, %error, "Kubernetes watch failed; retrying with backoff");
                let mut status = lock(&shared.status);
                status.errors += 1;
                status.last_error = Some(error);
            }
        }
    }
}

/// Counts an event in its watch's status: relists (an `Init` after the
/// first list), errors, the time of the last event.
fn watch_event(update: &Update, shared: &Shared) {
    let scope = match update {
        Update::Relist(s)
        | Update::Listed(s, _)
        | Update::ListDone(s)
        | Update::Applied(s, _)
        | Update::Deleted(s, _)
        | Update::Failed(s, _)
        | Update::Resumed(s) => s,
    };
    let now = SystemTime::now();
    let mut status = lock(&shared.status);
    let Some(w) = status
        .watches
        .iter_mut()
        .find(|w| w.kind == scope.kind().kind && w.namespace == scope.namespace)
    else {
        return;
    };
    match update {
        Update::Relist(_) => {
            if w.listed {
                w.relists += 1;
                tracing::info!(kind = w.kind, namespace = ?w.namespace, relists = w.relists, "Kubernetes watch listing again");
            }
        }
        Update::Failed(_, error) => {
            w.errors += 1;
            w.synced = false;
            w.last_error = Some((now, error.clone()));
            status.up = false;
            return;
        }
        Update::ListDone(_) => {
            w.listed = true;
            w.synced = true;
        }
        Update::Applied(..) | Update::Deleted(..) => w.synced = w.listed,
        Update::Resumed(_) => {
            w.synced = w.listed;
            // Not an event of the cluster.
            status.up = status.watches.iter().all(|w| w.synced);
            return;
        }
        Update::Listed(..) => {}
    }
    w.last_event = Some(now);
    status.up = status.watches.iter().all(|w| w.synced);
}

impl Follow {
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Update>) {
        let mut held = Held_::default();
        while let Some(update) = rx.recv().await {
            held.apply(update, &self.shared);
            // The rest of the burst.
            let burst_end = tokio::time::Instant::now() + BURST_MAX;
            loop {
                let wait =
                    BURST.min(burst_end.saturating_duration_since(tokio::time::Instant::now()));
                if wait.is_zero() {
                    break;
                }
                match tokio::time::timeout(wait, rx.recv()).await {
                    Ok(Some(update)) => held.apply(update, &self.shared),
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            {
                let mut status = lock(&self.shared.status);
                status.objects = held.objects.len();
                for (scope, w) in self.scopes.iter().zip(status.watches.iter_mut()) {
                    w.objects = held.objects.keys().filter(|k| scope.contains(k)).count();
                }
            }
            if held.listed.len() < self.scopes.len() {
                continue;
            }
            self.resolve(&mut held).await;
            self.queue_status_writes(&mut held);
            let _ = self.first.send(true);
        }
    }

    async fn resolve(&self, held: &mut Held_) {
        let current: BTreeMap<Key, String> = held
            .objects
            .iter()
            .filter(|(k, _)| k.kind().condition.is_some() || k.kind().kind == "BackendGroup")
            .map(|(k, h)| (k.clone(), h.text.clone()))
            .collect();
        if held.resolved.as_ref() == Some(&current) {
            return;
        }
        // The last good versions: what this replica served, else what any
        // replica recorded as served in the object's status (one started
        // while an object is invalid then serves what the others serve).
        let mut last_good = held.last_good.clone();
        for (key, object) in &held.objects {
            if let (false, Some(text)) = (last_good.contains_key(key), &object.served_text) {
                last_good.insert(key.clone(), text.clone());
            }
        }
        let load = self.load.clone();
        let input = current.clone();
        let started = std::time::Instant::now();
        let Ok(resolution) =
            tokio::task::spawn_blocking(move || resolve(&input, &last_good, &load)).await
        else {
            return;
        };
        tracing::debug!(
            objects = current.len(),
            seconds = started.elapsed().as_secs_f64(),
            "Kubernetes objects resolved"
        );
        lock(&self.shared.status).resolutions += 1;
        if !resolution.unplaced.is_empty() {
            for finding in &resolution.unplaced {
                tracing::warn!(%finding, "Kubernetes objects: a finding that names no object; the previous model stays served");
            }
            return;
        }
        held.last_good = resolution.served;
        held.resolved = Some(current);
        let rejected = resolution.verdicts.values().filter(|v| !v.accepted).count();
        for (key, verdict) in resolution.verdicts.iter().filter(|(_, v)| !v.accepted) {
            tracing::warn!(object = %key, findings = ?verdict.findings, "Kubernetes object not served as it is");
        }
        held.verdicts = resolution.verdicts;
        lock(&self.shared.status).rejected = rejected;
        let changed = {
            let mut model = lock(&self.shared.model);
            let changed = *model != resolution.model;
            *model = resolution.model;
            changed
        };
        if changed {
            (self.on_change)();
        }
    }

    fn queue_status_writes(&self, held: &mut Held_) {
        let now = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        for (key, verdict) in &held.verdicts {
            let Some(object) = held.objects.get(key) else {
                continue;
            };
            let rv = object.object.metadata.resource_version.clone();
            if held.sent.get(key) == Some(&(verdict.clone(), rv.clone())) {
                continue;
            }
            let served_spec = verdict
                .accepted
                .then(|| object.object.data.get("spec").cloned())
                .flatten();
            let wanted = status::patch(
                key.kind(),
                verdict,
                served_spec.as_ref(),
                object.generation(),
                rv.as_deref(),
                object.status(),
                &now,
            );
            if wanted.is_some() {
                held.sent.insert(key.clone(), (verdict.clone(), rv));
                let _ = self.writes.send(Write {
                    key: key.clone(),
                    verdict: verdict.clone(),
                    served_spec,
                    generation: object.generation(),
                    patch: wanted,
                });
            }
        }
    }
}

/// One status write to make.
struct Write {
    key: Key,
    verdict: Verdict,
    /// The spec served, when it is the object's current one.
    served_spec: Option<Value>,
    generation: Option<i64>,
    patch: Option<Value>,
}

async fn write_statuses(
    client: Client,
    mut rx: mpsc::UnboundedReceiver<Write>,
    shared: Arc<Shared>,
) {
    while let Some(write) = rx.recv().await {
        let scope = Scope {
            kind: write.key.kind,
            namespace: write
                .key
                .kind()
                .namespaced
                .then(|| write.key.namespace.clone()),
        };
        let api = scope.api(client.clone());
        let mut patch = write.patch;
        for _ in 0..CONFLICT_RETRIES {
            let Some(body) = patch.take() else {
                break;
            };
            match api
                .patch_status(
                    &write.key.name,
                    &PatchParams::default(),
                    &Patch::Merge(&body),
                )
                .await
            {
                Ok(_) => {
                    lock(&shared.status).status_writes += 1;
                    break;
                }
                Err(kube::Error::Api(e)) if e.code == 409 => {
                    // Someone else wrote (another replica): compute again
                    // from what is there now.
                    lock(&shared.status).status_conflicts += 1;
                    let Ok(fresh) = api.get_status(&write.key.name).await else {
                        break;
                    };
                    let now = jiff::Timestamp::now()
                        .strftime("%Y-%m-%dT%H:%M:%SZ")
                        .to_string();
                    let generation = fresh.metadata.generation.or(write.generation);
                    patch = status::patch(
                        write.key.kind(),
                        &write.verdict,
                        write.served_spec.as_ref(),
                        generation,
                        fresh.metadata.resource_version.as_deref(),
                        fresh.data.get("status"),
                        &now,
                    );
                }
                Err(kube::Error::Api(e)) if e.code == 404 => break,
                Err(e) => {
                    tracing::warn!(object = %write.key, error = %e, "status not written");
                    let mut status = lock(&shared.status);
                    status.errors += 1;
                    status.status_errors += 1;
                    status.last_error = Some(format!("status of {}: {e}", write.key));
                    break;
                }
            }
        }
    }
}
