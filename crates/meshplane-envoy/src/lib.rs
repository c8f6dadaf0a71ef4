//! Envoy v3 protobuf plumbing shared by the translator and the xDS server:
//! xDS type URLs, proto3 JSON for any Envoy message (through a descriptor
//! pool compiled from envoy-types' .proto sources at build time), and a
//! checker that assembles resources into a static bootstrap and has the real
//! Envoy binary validate it.

pub mod bootstrap_check;
pub mod descriptors;
pub mod json;
pub mod type_url;

pub use json::{any_from_json, any_to_json, from_json, to_json, JsonError};
pub use type_url::ResourceType;
