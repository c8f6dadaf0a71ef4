//! Validation: every error and warning about a loaded mesh model, at once.
//!
//! [`validate`] checks each resource's fields against the App Mesh API model
//! (lengths, ranges, list sizes, patterns, unions), then the semantics the
//! API enforces between resources (references, route kinds against listener
//! protocols, ports), then reports warnings for configurations App Mesh
//! accepts but that misbehave. Every finding is a [`Diagnostic`] with a
//! stable rule id, the resource ARN, the field's document path, and file and
//! line where the loader recorded them. The order is deterministic: meshes
//! by name, resources by kind then name, checks in a fixed order.
//! `VALIDATION.md` beside this crate lists every rule.

mod common;
mod context;
mod duration_limit;
mod fields;
mod gateways;
mod incremental;
mod log_format;
mod nodes;
mod references;
mod regex;
mod resource;
mod routes;
mod rules;
mod services;
mod tls;
mod view;
mod warnings;

#[cfg(test)]
mod testing;

use context::Sink;
pub use incremental::ValidationMemo;
use resource::{check, resources};
pub use rules::Rules;
use view::View;

use crate::diagnostic::Diagnostic;
use crate::identity::{ArnContext, ResourceId};
use crate::model::{MeshGraph, MeshModel, Origins};

/// The ids of the rules about values the proxy refuses although the API
/// accepts them.
pub const PROXY_RULES: &[&str] = &[regex::RULE, duration_limit::RULE, log_format::RULE];

/// Every error and warning about `model`, in a deterministic order.
pub fn validate(model: &MeshModel, origins: &Origins, ctx: &ArnContext) -> Vec<Diagnostic> {
    validate_with(model, origins, ctx, Rules::all())
}

/// [`validate`] with a choice of rule groups.
pub fn validate_with(
    model: &MeshModel,
    origins: &Origins,
    ctx: &ArnContext,
    rules: Rules,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for g in model.meshes.values() {
        let mut v = Validation {
            origins,
            ctx,
            rules,
            out: &mut out,
        };
        validate_mesh(g, &mut v);
    }
    out
}

struct Validation<'a> {
    origins: &'a Origins,
    ctx: &'a ArnContext,
    rules: Rules,
    out: &'a mut Vec<Diagnostic>,
}

impl Validation<'_> {
    fn sink(&mut self, id: ResourceId) -> Sink<'_> {
        Sink::new(id, self.ctx, self.origins, self.out).with_rules(self.rules)
    }
}

fn validate_mesh(g: &MeshGraph, v: &mut Validation<'_>) {
    for (id, spec) in resources(g) {
        let view = View::new(g);
        check(&mut v.sink(id), &view, spec);
    }
}
