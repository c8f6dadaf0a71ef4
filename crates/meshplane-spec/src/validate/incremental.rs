//! Validating again only what a change can affect.
//!
//! A [`ValidationMemo`] keeps, per resource of the model it last validated,
//! the findings its checks made and the other resources they looked up
//! (`view.rs`). Given what changed since that model ([`ModelChanges`]), it
//! checks again the changed resources and every resource that looked one
//! of them up, and reuses the others' findings. A change of the mesh
//! resource, its owner, or the rules or ARN context checks the whole mesh.
//! The result is exactly [`super::validate_with`]'s, in the same order.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::context::Sink;
use super::resource::{check, resources, spec_of, SpecRef};
use super::rules::Rules;
use super::view::{Read, View};
use crate::diagnostic::Diagnostic;
use crate::identity::{ArnContext, ResourceId, ResourceKind};
use crate::model::{MeshGraph, MeshModel, Origins};
use crate::model_changes::{MeshDelta, ModelChanges};
use crate::parallel;

/// A resource of a mesh, ordered as validation reports them (by kind, then
/// parent and name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    kind: ResourceKind,
    parent: String,
    name: String,
}

impl Key {
    fn of(id: &ResourceId) -> Key {
        Key {
            kind: id.kind,
            parent: id.parent.clone().unwrap_or_default(),
            name: id.name.clone(),
        }
    }

    fn id(&self, g: &MeshGraph) -> ResourceId {
        match self.kind.parent_kind() {
            Some(_) => g.child_id(self.kind, &self.parent, &self.name),
            None if self.kind == ResourceKind::Mesh => ResourceId::mesh(&g.name, &g.owner),
            None => g.id(self.kind, &self.name),
        }
    }
}

/// What every check needs besides the model.
struct Context<'a> {
    origins: &'a Origins,
    ctx: &'a ArnContext,
    rules: Rules,
}

#[derive(Debug)]
struct Entry {
    findings: Vec<Diagnostic>,
    reads: Vec<Read>,
}

/// One mesh's findings and lookups, per resource.
#[derive(Debug, Default)]
struct MeshMemo {
    owner: String,
    entries: BTreeMap<Key, Entry>,
}

/// The findings of the last validated model, kept to validate the next one
/// incrementally (see the module documentation).
#[derive(Debug, Default)]
pub struct ValidationMemo {
    made_with: Option<(ArnContext, Rules)>,
    meshes: BTreeMap<String, MeshMemo>,
}

impl ValidationMemo {
    pub fn new() -> Self {
        ValidationMemo::default()
    }

    /// Forget everything: the next validation checks every resource.
    pub fn clear(&mut self) {
        self.meshes.clear();
    }

    /// Every finding about `model`, as [`super::validate_with`] reports
    /// them. `changes` says what differs from the model this memo last
    /// validated; `None` checks everything.
    pub fn validate(
        &mut self,
        model: &MeshModel,
        origins: &Origins,
        ctx: &ArnContext,
        rules: Rules,
        changes: Option<&ModelChanges>,
    ) -> Vec<Diagnostic> {
        let made_with = Some((ctx.clone(), rules));
        if changes.is_none() || self.made_with != made_with {
            self.meshes.clear();
            self.made_with = made_with;
        }
        self.meshes
            .retain(|name, _| model.meshes.contains_key(name));
        let mut out = Vec::new();
        for (name, g) in &model.meshes {
            let v = Context {
                origins,
                ctx,
                rules,
            };
            let memo = self.meshes.entry(name.clone()).or_default();
            let delta = changes.and_then(|c| c.mesh(name));
            let fresh = memo.entries.is_empty() || memo.owner != g.owner;
            match delta {
                _ if fresh => memo.rebuild(g, &v),
                Some(MeshDelta::Whole) => memo.rebuild(g, &v),
                Some(MeshDelta::Resources { specs, moved }) => {
                    // A resource's own findings depend on its origin too.
                    let ids: BTreeSet<&ResourceId> = specs.iter().chain(moved).collect();
                    if ids.iter().any(|id| id.kind == ResourceKind::Mesh) {
                        memo.rebuild(g, &v);
                    } else {
                        memo.update(g, &ids, &v);
                    }
                }
                None => {}
            }
            for entry in memo.entries.values() {
                out.extend(entry.findings.iter().cloned());
            }
        }
        out
    }
}

impl MeshMemo {
    /// Checks every resource of `g`.
    fn rebuild(&mut self, g: &MeshGraph, v: &Context<'_>) {
        self.owner = g.owner.clone();
        let all: Vec<(ResourceId, SpecRef)> = resources(g).collect();
        // On every core: the resources are independent of each other.
        let checked = parallel::map(&all, |(id, spec)| {
            (Key::of(id), Entry::of(g, id.clone(), *spec, v))
        });
        // In order already: a sorted build.
        self.entries = checked.into_iter().collect();
    }

    /// Checks again the resources `changed` names and those that looked
    /// one of them up.
    fn update(&mut self, g: &MeshGraph, changed: &BTreeSet<&ResourceId>, v: &Context<'_>) {
        let reads: HashSet<Read> = changed
            .iter()
            .map(|id| Read::of(id.kind, &id.name))
            .collect();
        let readers: Vec<ResourceId> = self
            .entries
            .iter()
            .filter(|(_, e)| e.reads.iter().any(|r| reads.contains(r)))
            .map(|(key, _)| key.id(g))
            .collect();
        let again: BTreeSet<ResourceId> = changed
            .iter()
            .map(|id| (*id).clone())
            .chain(readers)
            .collect();
        for id in again {
            self.check(g, id, v);
        }
    }

    /// Checks one resource (or forgets it when `g` no longer holds it).
    fn check(&mut self, g: &MeshGraph, id: ResourceId, v: &Context<'_>) {
        let key = Key::of(&id);
        self.entries.remove(&key);
        if let Some(spec) = spec_of(g, &id) {
            self.entries.insert(key, Entry::of(g, id, spec, v));
        }
    }
}

impl Entry {
    /// Checks one resource, noting its lookups.
    fn of(g: &MeshGraph, id: ResourceId, spec: SpecRef, v: &Context<'_>) -> Entry {
        let mut findings = Vec::new();
        let view = View::recording(g);
        check(
            &mut Sink::new(id, v.ctx, v.origins, &mut findings).with_rules(v.rules),
            &view,
            spec,
        );
        Entry {
            findings,
            reads: view.into_reads(),
        }
    }
}

#[cfg(test)]
mod tests;
