//! One named, versioned, immutable xDS resource.

use std::sync::Arc;

use envoy_types::pb::google::protobuf::Any;

use crate::ResourceType;

/// A resource as served: its name, a content-hash version and the encoded
/// message. Cloning copies four pointers; the bytes are shared.
/// Cloning bumps one reference count.
#[derive(Debug, Clone)]
pub struct Resource {
    pub(crate) inner: Arc<ResourceInner>,
}

#[derive(Debug)]
pub(crate) struct ResourceInner {
    pub(crate) name: Arc<str>,
    pub(crate) version: Arc<str>,
    pub(crate) any: Any,
    /// Names of the EDS (for a cluster) or RDS (for a listener) resources this
    /// one needs; empty for other types.
    pub(crate) references: Box<[Arc<str>]>,
    /// Names of the secrets a cluster or listener requests over ADS.
    pub(crate) secret_references: Box<[Arc<str>]>,
}

impl Resource {
    /// The resource name (`Cluster.name`, `ClusterLoadAssignment.cluster_name`, ...).
    pub fn name(&self) -> &Arc<str> {
        &self.inner.name
    }

    /// Lowercase hex of the first 16 bytes of the SHA-256 of the type URL and bytes.
    pub fn version(&self) -> &Arc<str> {
        &self.inner.version
    }

    /// The encoded message.
    pub fn any(&self) -> &Any {
        &self.inner.any
    }

    /// EDS names (cluster) or RDS names (listener) this resource references.
    pub fn references(&self) -> &[Arc<str>] {
        &self.inner.references
    }

    /// Secrets (over ADS) this cluster or listener references.
    pub fn secret_references(&self) -> &[Arc<str>] {
        &self.inner.secret_references
    }

    /// Whether both handles share one allocation (true for equal content
    /// interned by the same interner).
    pub fn ptr_eq(&self, other: &Resource) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// A resource that cannot be added to a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("{resource_type} resource `{name}` has type URL `{found}`, expected `{expected}`")]
    WrongTypeUrl {
        resource_type: ResourceType,
        name: String,
        found: String,
        expected: &'static str,
    },
    #[error("{resource_type} resource `{name}` cannot be decoded: {source}")]
    Decode {
        resource_type: ResourceType,
        name: String,
        #[source]
        source: prost::DecodeError,
    },
    #[error("{resource_type} resource name `{name}` appears twice in one snapshot")]
    Duplicate {
        resource_type: ResourceType,
        name: String,
    },
    #[error("{resource_type} resource has an empty name")]
    EmptyName { resource_type: ResourceType },
}
