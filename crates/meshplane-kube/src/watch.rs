//! One list+watch per kind (and per namespace when the namespaces are
//! limited). kube's watcher lists, then watches from the list's resource
//! version with bookmarks, and relists when the version expired (410 Gone);
//! errors back off exponentially (kube's default backoff, applied here).
//! Every event goes to the source's loop.
//!
//! kube's watcher says nothing when a watch resumes after an error without
//! relisting (its version had not expired). A refused watch call fails at
//! once, so a call still open `RESUMED_AFTER` after the backoff, while a
//! one-object list of the same scope succeeds (the API server answers; a
//! hanging connection is not taken for an open watch), counts as resumed
//! (`Update::Resumed`); otherwise a quiet kind would look failing until its
//! next change.

use std::time::Duration;

use futures_util::StreamExt;
use kube::api::{Api, DynamicObject, ListParams};
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, DefaultBackoff, Event};
use kube::Client;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::kinds::{Kind, KINDS};
use crate::objects::Key;

/// What one watch covers: a kind, in one namespace or all.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub kind: usize,
    pub namespace: Option<String>,
}

impl Scope {
    pub fn kind(&self) -> &'static Kind {
        &KINDS[self.kind]
    }

    pub fn contains(&self, key: &Key) -> bool {
        key.kind == self.kind
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == key.namespace)
    }

    /// Every scope to watch: each kind in all namespaces, or each
    /// namespaced kind in each of `namespaces` (meshes are cluster-scoped).
    pub fn all(namespaces: &[String]) -> Vec<Scope> {
        let mut out = Vec::new();
        for (kind, k) in KINDS.iter().enumerate() {
            if namespaces.is_empty() || !k.namespaced {
                out.push(Scope {
                    kind,
                    namespace: None,
                });
            } else {
                out.extend(namespaces.iter().map(|ns| Scope {
                    kind,
                    namespace: Some(ns.clone()),
                }));
            }
        }
        out
    }

    pub fn api(&self, client: Client) -> Api<DynamicObject> {
        let resource = self.kind().api_resource();
        match &self.namespace {
            Some(ns) => Api::namespaced_with(client, ns, &resource),
            None => Api::all_with(client, &resource),
        }
    }
}

/// An event of one watch.
#[derive(Debug)]
pub enum Update {
    /// A (re)list begins; the objects it finds follow, then `Listed`.
    Relist(Scope),
    Listed(Scope, DynamicObject),
    /// The list is complete: it replaces what the scope held.
    ListDone(Scope),
    Applied(Scope, DynamicObject),
    Deleted(Scope, DynamicObject),
    /// The API server could not be reached or refused; retried with backoff.
    Failed(Scope, String),
    /// After a failure, the watch is open again (without a relist).
    Resumed(Scope),
}

/// How long a watch call must stay open after a failure to count as resumed.
const RESUMED_AFTER: Duration = Duration::from_secs(1);
/// How long that list may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub fn spawn(client: Client, scope: Scope, tx: mpsc::UnboundedSender<Update>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let api = scope.api(client);
        let mut events = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
        let mut backoff = DefaultBackoff::default();
        let mut failed = false;
        loop {
            let event = if failed {
                match tokio::time::timeout(RESUMED_AFTER, events.next()).await {
                    Ok(event) => event,
                    Err(_) => {
                        if answers(&api).await {
                            failed = false;
                            backoff.reset();
                            if tx.send(Update::Resumed(scope.clone())).is_err() {
                                return;
                            }
                        }
                        continue;
                    }
                }
            } else {
                events.next().await
            };
            let Some(event) = event else {
                return;
            };
            failed = event.is_err();
            if !failed {
                backoff.reset();
            }
            let update = match event {
                Ok(Event::Init) => Update::Relist(scope.clone()),
                Ok(Event::InitApply(o)) => Update::Listed(scope.clone(), o),
                Ok(Event::InitDone) => Update::ListDone(scope.clone()),
                Ok(Event::Apply(o)) => Update::Applied(scope.clone(), o),
                Ok(Event::Delete(o)) => Update::Deleted(scope.clone(), o),
                Err(e) => Update::Failed(scope.clone(), e.to_string()),
            };
            if tx.send(update).is_err() {
                return;
            }
            if failed {
                if let Some(delay) = backoff.next() {
                    tokio::time::sleep(delay).await;
                }
            }
        }
    })
}

/// Whether the API server lists (one object of) the scope.
async fn answers(api: &Api<DynamicObject>) -> bool {
    let params = ListParams::default().limit(1);
    let list = api.list_metadata(&params);
    matches!(tokio::time::timeout(PROBE_TIMEOUT, list).await, Ok(Ok(_)))
}
