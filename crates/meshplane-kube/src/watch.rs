//! One list+watch per kind (and per namespace when the namespaces are
//! limited). kube's watcher lists, then watches from the list's resource
//! version with bookmarks, and relists when the version expired (410 Gone);
//! errors back off exponentially. Every event goes to the source's loop.

use futures_util::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
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
}

pub fn spawn(client: Client, scope: Scope, tx: mpsc::UnboundedSender<Update>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let api = scope.api(client);
        let mut events = watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        while let Some(event) = events.next().await {
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
        }
    })
}
