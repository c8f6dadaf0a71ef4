//! Translating a validated model and publishing what changed.
//!
//! A mesh whose specs equal the served ones is not translated again. In a
//! changed mesh, a proxy is re-translated only when the change touches one
//! of its translation's inputs (`meshplane_translate::inputs`: its own
//! resource, its backends, their providers, routes and targets, the mesh
//! itself); the others keep their served translation (and snapshot) as
//! they are. A rotation of the ACM material, or a pipeline set to full
//! reloads, re-translates everything. The proxies to translate are
//! translated in batches on every core (`parallel.rs`) and published in
//! order, batch after batch.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use meshplane_spec::{ArnContext, Diagnostic, MeshModel, ModelChanges, Origins, ResourceId};
use meshplane_translate::inputs::MeshChanges;
use meshplane_xds::{ProxyKey, SetOutcome, Snapshot};

use super::{parallel, proxies, tls_order, Pipeline};
use crate::served::{Served, ServedProxy};
use crate::served_translation::ServedTranslation;
use crate::state::ReloadChanges;

impl Pipeline {
    /// Before publishing `waiting` proxies last: wait until the proxies
    /// published `first` have acknowledged their new listeners and clusters.
    fn wait_for_first(&self, first: &BTreeMap<ProxyKey, Snapshot>, waiting: usize) {
        let Some(streams) = &self.streams else {
            return;
        };
        let started = Instant::now();
        let late = tls_order::wait_for_acks(streams, first, tls_order::ACK_WAIT);
        if late.is_empty() {
            tracing::info!(
                proxies = waiting,
                waited_ms = started.elapsed().as_millis() as u64,
                "TLS switch: published after the proxies they talk to acknowledged theirs"
            );
        } else {
            tracing::warn!(
                proxies = waiting,
                unacknowledged = ?late.iter().map(ProxyKey::as_str).collect::<Vec<_>>(),
                "TLS switch: published without every acknowledgement after the wait"
            );
        }
    }

    /// Translate what changed and publish it; returns the new served set.
    pub(super) fn apply(
        &self,
        model: MeshModel,
        origins: Origins,
        rotated: bool,
        changes: Option<&ModelChanges>,
    ) -> (Served, ReloadChanges, Vec<Diagnostic>) {
        let previous = self.state.served();
        let arn = &self.settings.load.arn;
        let mut translate = self.settings.translate.clone();
        translate.held_certificates = self.held_certificates().arns();
        let mut out = Published::default();
        // Proxies to publish after the others (see `tls_order`), and the
        // snapshots of the others, whose acknowledgements they wait for.
        let mut deferred = Vec::new();
        let mut first = BTreeMap::new();
        for (mesh_name, graph) in &model.meshes {
            let old_graph = previous
                .as_ref()
                .and_then(|p| p.model.mesh(mesh_name))
                .filter(|_| !rotated);
            // What changed in this mesh (`changes`: since the served
            // model, none with full reloads); `None`: re-translate every
            // proxy.
            let mesh_changes = match (old_graph, changes) {
                (Some(_), Some(c)) => Some(MeshChanges::of_delta(c.mesh(mesh_name))),
                (Some(old), None) if old == graph => Some(MeshChanges::default()),
                _ => None,
            };
            let affected = mesh_changes.as_ref().map(|c| c.affected(graph));
            // The proxies to translate again, in order.
            let mut todo = Vec::new();
            for (kind, node_name) in proxies::of(graph) {
                let id = graph.id(kind, node_name);
                let key = ProxyKey::new(id.arn(arn));
                let old = previous.as_ref().and_then(|p| p.proxies.get(&key));
                let unaffected = affected
                    .as_ref()
                    .is_some_and(|a| !a.proxy(graph, kind, node_name));
                if let (true, Some(old)) = (unaffected, old) {
                    out.found
                        .extend(old.translation.diagnostics.iter().cloned());
                    out.proxies.insert(key, old.clone());
                    out.changes.skipped += 1;
                    continue;
                }
                todo.push((kind, node_name, id, key, old));
            }
            // In batches, so the first proxies are published while the
            // others translate.
            let mut todo = todo.into_iter().peekable();
            while todo.peek().is_some() {
                let batch: Vec<_> = todo.by_ref().take(parallel::BATCH).collect();
                let built_all = parallel::map(&batch, |(kind, node_name, _, key, _)| {
                    let translation = proxies::translate(graph, *kind, node_name, &translate);
                    let diagnostics = translation.diagnostics.clone();
                    let built = ServedTranslation::encode(translation, self.cache.interner())
                        .and_then(|t| Ok((self.served_snapshot(key, &t, None)?, t)))
                        .map_err(|e| e.to_string());
                    (diagnostics, built)
                });
                for ((_, _, id, key, old), (diagnostics, built)) in batch.into_iter().zip(built_all)
                {
                    out.found.extend(diagnostics);
                    let last = match (&built, old) {
                        (Ok((_, new)), Some(old)) => {
                            tls_order::publish_last_served(&old.translation, new)
                        }
                        _ => false,
                    };
                    let pending = Pending {
                        key,
                        id,
                        old: old.cloned(),
                    };
                    match built {
                        Ok((s, t)) if last => deferred.push((pending, s, t)),
                        built => {
                            let published = built.and_then(|(s, t)| {
                                let outcome = self.cache.set(pending.key.clone(), s.clone());
                                if matches!(outcome, Ok(SetOutcome::Updated)) {
                                    first.insert(pending.key.clone(), s);
                                }
                                outcome.map(|o| (o, t)).map_err(|e| e.to_string())
                            });
                            out.record(pending, published, arn);
                        }
                    }
                }
            }
        }
        if !deferred.is_empty() {
            self.wait_for_first(&first, deferred.len());
            for (pending, s, t) in deferred {
                let published = self
                    .cache
                    .set(pending.key.clone(), s)
                    .map(|o| (o, t))
                    .map_err(|e| e.to_string());
                out.record(pending, published, arn);
            }
        }
        if let Some(previous) = &previous {
            for key in previous.proxies.keys() {
                if !out.proxies.contains_key(key) && self.cache.remove(key) {
                    tracing::info!(proxy = %key, "virtual node deleted from the specs; its streams end with NOT_FOUND");
                    out.changes.removed.push(key.to_string());
                }
            }
        }
        // Translation reports findings by resource ARN; place them at their
        // file and line like loading and validation findings.
        let Published {
            proxies,
            changes,
            found,
        } = out;
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

/// A translated proxy on its way to the cache.
struct Pending {
    key: ProxyKey,
    id: ResourceId,
    /// What the proxy was served before this reload.
    old: Option<ServedProxy>,
}

/// What a reload's publications add up to: the proxies served, the changes
/// and the translation findings.
#[derive(Default)]
struct Published {
    proxies: BTreeMap<ProxyKey, ServedProxy>,
    changes: ReloadChanges,
    found: Vec<Diagnostic>,
}

impl Published {
    /// Account for one proxy's publication: the served set keeps the new
    /// translation, or the old one when the snapshot could not be published.
    fn record(
        &mut self,
        pending: Pending,
        published: Result<(SetOutcome, ServedTranslation), String>,
        arn: &ArnContext,
    ) {
        let Published {
            proxies,
            changes,
            found,
        } = self;
        let Pending { key, id, old } = pending;
        match published {
            Ok((outcome, translation)) => {
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
                    proxies.insert(key, old);
                }
            }
        }
    }
}
