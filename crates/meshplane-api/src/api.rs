//! The operations themselves, over the store and its in-memory mirror.
//!
//! Writes are serialized by the mirror's lock: each one reads the mesh as it
//! is, builds the mesh as it would be, validates it with meshplane-spec's
//! rules, commits to the store (durable before this returns), then updates
//! the mirror and tells the reload pipeline. Any refusal happens before the
//! commit, so nothing of a refused write is applied.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use meshplane_spec::{ArnContext, MeshGraph, MeshModel, ResourceId, ResourceKind};
use meshplane_store::{Store, StoreError};
use serde_json::Value;

use crate::error::ApiError;
use crate::mirror::Mirror;
use crate::route::{Action, Operation};

/// Finds one file-defined mesh by name.
pub type MeshLookup = Arc<dyn Fn(&str) -> Option<MeshGraph> + Send + Sync>;

/// Meshes served from `--config` files: readable through the API, not writable.
#[derive(Clone)]
pub struct FileMeshes {
    /// The `--config` paths, for messages.
    pub paths: String,
    /// The file-defined meshes currently served.
    pub model: Arc<dyn Fn() -> MeshModel + Send + Sync>,
    /// One of them by name (without copying the others).
    pub mesh: MeshLookup,
}

impl std::fmt::Debug for FileMeshes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileMeshes")
            .field("paths", &self.paths)
            .finish()
    }
}

/// Called after every commit (the reload pipeline's trigger).
pub type OnCommit = Arc<dyn Fn() + Send + Sync>;

pub struct Api {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) status: Arc<crate::store_status::StoreStatus>,
    pub(crate) arn: ArnContext,
    pub(crate) mirror: Mutex<Mirror>,
    pub(crate) files: Option<FileMeshes>,
    pub(crate) on_commit: OnCommit,
    /// When the server started: the createdAt of file-defined resources.
    pub(crate) started: f64,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("store", &self.store.location())
            .field("arn", &self.arn)
            .finish()
    }
}

pub fn now() -> f64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_millis() as f64) / 1000.0
}

/// The end of the message of a write that lost a race with another
/// replica's commit: [`Api::call`] catches up and runs it again.
pub(crate) const RACED: &str = "another writer committed first; nothing was applied";

/// How many times a write that lost a race is run again before its
/// ConflictException is answered.
const RACE_ATTEMPTS: usize = 50;

pub(crate) fn store_error(operation: &str, e: StoreError) -> ApiError {
    match e {
        StoreError::Stale { .. } => ApiError::conflict(format!("{operation}: {RACED}")),
        StoreError::Unavailable { location, message } => {
            tracing::warn!(operation, store = %location, error = %message, "write refused: the store is unreachable");
            ApiError::new(
                crate::error::ErrorKind::ServiceUnavailable,
                format!("{operation}: the store {location} is unavailable ({message}); nothing was applied, retry later"),
            )
        }
        StoreError::Conflict(m) => ApiError::conflict(format!("{operation}: {m}")),
        StoreError::ReadOnly(m) => ApiError::bad_request(format!("{operation}: {m}")),
        other => {
            tracing::error!(error = %other, operation, "store failed");
            ApiError::internal(format!("{operation}: the store failed: {other}"))
        }
    }
}

impl Api {
    /// Loads the store into memory.
    pub fn new(store: Arc<dyn Store>, arn: ArnContext) -> Result<Api, String> {
        let snapshot = store.snapshot().map_err(|e| e.to_string())?;
        let mirror = Mirror::from_snapshot(snapshot)?;
        let status = Arc::new(crate::store_status::StoreStatus::default());
        status.applied(mirror.revision);
        Ok(Api {
            store,
            status,
            arn,
            mirror: Mutex::new(mirror),
            files: None,
            on_commit: Arc::new(|| {}),
            started: now(),
        })
    }

    pub fn with_files(mut self, files: FileMeshes) -> Api {
        self.files = Some(files);
        self
    }

    pub fn with_on_commit(mut self, on_commit: OnCommit) -> Api {
        self.on_commit = on_commit;
        self
    }

    pub fn arn_context(&self) -> &ArnContext {
        &self.arn
    }

    /// Every API-managed mesh (what the reload pipeline adds to the files').
    pub fn model(&self) -> MeshModel {
        self.lock().model()
    }

    /// The names of the API-managed meshes.
    pub fn mesh_names(&self) -> Vec<String> {
        self.lock().meshes.keys().cloned().collect()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Mirror> {
        self.mirror.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A mesh defined by the files (and not by the store).
    pub(crate) fn file_mesh(&self, mirror: &Mirror, mesh: &str) -> Option<MeshGraph> {
        if mirror.meshes.contains_key(mesh) {
            return None;
        }
        let files = self.files.as_ref()?;
        (files.mesh)(mesh)
    }

    pub(crate) fn file_managed(&self, operation: &str, mesh: &str) -> ApiError {
        let paths = self.files.as_ref().map(|f| f.paths.as_str()).unwrap_or("");
        ApiError::bad_request(format!(
            "{operation}: mesh '{mesh}' is managed by files at {paths}; change it there (the API cannot write it)"
        ))
    }

    /// `meshOwner` other than the own account: App Mesh's RAM sharing is not
    /// supported, so such a mesh does not exist here.
    pub(crate) fn check_owner(
        &self,
        operation: &str,
        query: &BTreeMap<String, String>,
    ) -> Result<(), ApiError> {
        match query.get("meshOwner") {
            Some(owner) if owner != &self.arn.account => Err(ApiError::not_found(format!(
                "{operation}: meshOwner {owner}: meshplane serves only the meshes of account {} (no RAM sharing)",
                self.arn.account
            ))),
            _ => Ok(()),
        }
    }

    pub(crate) fn id(
        &self,
        kind: ResourceKind,
        mesh: &str,
        parent: Option<&str>,
        name: &str,
    ) -> ResourceId {
        let owner = &self.arn.account;
        match parent {
            Some(p) => ResourceId::child(mesh, owner, kind, p, name),
            None if kind == ResourceKind::Mesh => ResourceId::mesh(mesh, owner),
            None => ResourceId::new(mesh, owner, kind, name),
        }
    }

    /// Runs one operation; the answer is the response body. A write that
    /// lost a race with another replica's commit is run again on the state
    /// it lost to (its validation then sees that commit).
    pub fn call(
        &self,
        op: &Operation,
        query: &BTreeMap<String, String>,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let mut attempt = 1;
        loop {
            match self.call_once(op, query, body) {
                Err(e)
                    if e.kind == crate::error::ErrorKind::Conflict
                        && e.message.ends_with(RACED)
                        && attempt < RACE_ATTEMPTS =>
                {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Whether the store answered its last call (else reads come from the
    /// last state this replica saw, and may be stale).
    pub fn store_is_up(&self) -> bool {
        self.status.is_up()
    }

    /// Before a write: brings the mirror up to the store (so the write is
    /// validated against every other replica's commits), asking for a
    /// reload when that changed something.
    pub(crate) fn refresh(&self, operation: &str, mirror: &mut Mirror) -> Result<(), ApiError> {
        match self.catch_up_locked(mirror) {
            Ok(true) => {
                (self.on_commit)();
                Ok(())
            }
            Ok(false) => Ok(()),
            Err(e) => Err(store_error(operation, e)),
        }
    }

    fn call_once(
        &self,
        op: &Operation,
        query: &BTreeMap<String, String>,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let name = op.name();
        match op {
            Operation::Resource {
                action,
                kind,
                mesh,
                parent,
                name: resource,
            } => {
                if !(*kind == ResourceKind::Mesh && *action == Action::Create) {
                    self.check_owner(&name, query)?;
                }
                let mesh = mesh.as_deref();
                let parent = parent.as_deref();
                let resource = resource.as_deref().unwrap_or("");
                match action {
                    Action::Create => self.create(&name, *kind, mesh, parent, body),
                    Action::Update => {
                        let id = self.id(*kind, mesh.unwrap_or(""), parent, resource);
                        self.update(&name, id, body)
                    }
                    Action::Delete => {
                        let id = self.id(*kind, mesh.unwrap_or(""), parent, resource);
                        self.delete(&name, id)
                    }
                    Action::Describe => {
                        let id = self.id(*kind, mesh.unwrap_or(""), parent, resource);
                        self.describe(&name, id)
                    }
                    Action::List => self.list(&name, *kind, mesh, parent, query),
                }
            }
            Operation::TagResource => self.tag(&name, query, body),
            Operation::UntagResource => self.untag(&name, query, body),
            Operation::ListTagsForResource => self.list_tags(&name, query),
        }
    }
}
