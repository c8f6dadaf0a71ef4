//! The descriptor pool of the Envoy API, compiled from envoy-types' .proto
//! sources by build.rs and decoded once on first use.

use std::sync::LazyLock;

use prost_reflect::{DescriptorPool, MessageDescriptor};

use crate::json_error::JsonError;

/// Encoded `google.protobuf.FileDescriptorSet` of the Envoy API roots listed
/// in build.rs, with all their imports.
pub static FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/envoy_descriptors.bin"));

static POOL: LazyLock<Result<DescriptorPool, String>> =
    LazyLock::new(|| DescriptorPool::decode(FILE_DESCRIPTOR_SET).map_err(|e| e.to_string()));

/// The shared pool; built on first call.
pub fn pool() -> Result<&'static DescriptorPool, JsonError> {
    POOL.as_ref()
        .map_err(|reason| JsonError::DescriptorSet(reason.clone()))
}

/// The descriptor of a fully qualified message name (`envoy.config.cluster.v3.Cluster`).
pub fn message(full_name: &str) -> Result<MessageDescriptor, JsonError> {
    pool()?
        .get_message_by_name(full_name)
        .ok_or_else(|| JsonError::UnknownMessage(full_name.to_owned()))
}
