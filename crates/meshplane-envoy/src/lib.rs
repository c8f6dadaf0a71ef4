//! Envoy v3 protobuf plumbing shared by the translator and the xDS server:
//! xDS type URLs, the resources of one proxy by type, and proto3 JSON for
//! any Envoy message (through a descriptor pool compiled from envoy-types'
//! .proto sources at build time).
//!
//! Running the Envoy binary (`envoy --mode validate`) is test tooling and
//! lives in the dev-only `meshplane-testsupport` crate.

pub mod descriptors;
pub mod json;
mod json_error;
pub mod resources;
pub mod type_url;

pub use json::{any_from_json, any_to_json, from_json, to_json, JsonError};
pub use resources::XdsResources;
pub use type_url::ResourceType;
