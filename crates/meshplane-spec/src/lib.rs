//! The App Mesh resource model.
//!
//! Spec types mirror the App Mesh API (2019-01-25) field for field, in the
//! API's camelCase JSON, rejecting unknown fields. Identity ([`ResourceId`])
//! ties a spec, a proxy and a diagnostic to one resource. The crate does no IO.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod common;
pub mod diagnostic;
pub mod gateway_route;
pub mod identity;
pub mod mesh;
pub mod model;
pub mod model_changes;
pub mod naming;
pub mod parallel;
pub mod route;
pub mod tls;
pub mod validate;
pub mod virtual_gateway;
pub mod virtual_node;
pub mod virtual_router;
pub mod virtual_service;

pub use diagnostic::{Diagnostic, Origin, Severity};
pub use identity::{check_account_id, ArnContext, IdentityError, ResourceId, ResourceKind};
pub use model::{AnySpec, DuplicateResource, MeshGraph, MeshModel, Origins};
pub use model_changes::{MeshDelta, ModelChanges};
pub use naming::FieldNaming;
pub use validate::{validate, validate_with, Rules, ValidationMemo, PROXY_RULES};
