//! An immutable set of resources for one proxy, versioned per type.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use prost::{Message, Name};
use sha2::{Digest, Sha256};

use super::intern::ResourceInterner;
use super::resource::{Resource, ResourceError};
use crate::push_order::PUSH_ORDER;
use crate::ResourceType;

/// The resources of one type and the type's version (a hash of every name and
/// resource version, so equal content always gives the same version).
#[derive(Debug)]
pub struct TypeResources {
    version: Arc<str>,
    resources: BTreeMap<Arc<str>, Resource>,
}

impl TypeResources {
    fn new(resources: BTreeMap<Arc<str>, Resource>) -> Self {
        TypeResources {
            version: Self::version_of(&resources),
            resources,
        }
    }

    /// The version of a set of resources: a hash of their names and versions.
    pub(crate) fn version_of(resources: &BTreeMap<Arc<str>, Resource>) -> Arc<str> {
        let mut h = Sha256::new();
        for (name, r) in resources {
            h.update(name.as_bytes());
            h.update([0u8]);
            h.update(r.version().as_bytes());
            h.update([0u8]);
        }
        let digest = h.finalize();
        let mut version = String::with_capacity(16);
        for b in &digest[..8] {
            let _ = write!(version, "{b:02x}");
        }
        Arc::from(version)
    }

    pub fn version(&self) -> &Arc<str> {
        &self.version
    }

    pub fn resources(&self) -> &BTreeMap<Arc<str>, Resource> {
        &self.resources
    }

    pub fn get(&self, name: &str) -> Option<&Resource> {
        self.resources.get(name)
    }
}

/// Everything one proxy is served. Immutable; cloning bumps a reference count.
#[derive(Debug, Clone)]
pub struct Snapshot {
    types: Arc<BTreeMap<ResourceType, TypeResources>>,
}

impl Snapshot {
    pub fn builder(interner: &ResourceInterner) -> SnapshotBuilder {
        SnapshotBuilder {
            interner: interner.clone(),
            types: BTreeMap::new(),
        }
    }

    /// The resources of a type (empty when the snapshot has none).
    pub fn of_type(&self, t: ResourceType) -> &TypeResources {
        // Every type is present: `SnapshotBuilder::build` inserts all five.
        &self.types[&t]
    }

    /// Whether both snapshots serve exactly the same resources.
    pub fn same_content(&self, other: &Snapshot) -> bool {
        Arc::ptr_eq(&self.types, &other.types)
            || PUSH_ORDER
                .iter()
                .all(|t| self.of_type(*t).version == other.of_type(*t).version)
    }

    /// Every EDS name referenced by an EDS cluster, every RDS name
    /// referenced by a listener's HTTP connection manager and every secret
    /// a cluster or listener requests over ADS must be present.
    pub fn check_consistency(&self) -> Result<(), ConsistencyError> {
        let mut missing = Vec::new();
        let typed: fn(&Resource) -> &[Arc<str>] = Resource::references;
        let secrets: fn(&Resource) -> &[Arc<str>] = Resource::secret_references;
        for (from, needed, refs) in [
            (ResourceType::Cluster, ResourceType::Endpoint, typed),
            (ResourceType::Listener, ResourceType::Route, typed),
            (ResourceType::Cluster, ResourceType::Secret, secrets),
            (ResourceType::Listener, ResourceType::Secret, secrets),
        ] {
            let available = self.of_type(needed);
            for (name, r) in &self.of_type(from).resources {
                for reference in refs(r) {
                    if available.get(reference).is_none() {
                        missing.push(MissingReference {
                            from_type: from,
                            from_name: name.to_string(),
                            missing_type: needed,
                            missing_name: reference.to_string(),
                        });
                    }
                }
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ConsistencyError { missing })
        }
    }
}

/// Collects resources, then [`SnapshotBuilder::build`]s a snapshot.
#[derive(Debug)]
pub struct SnapshotBuilder {
    interner: ResourceInterner,
    types: BTreeMap<ResourceType, BTreeMap<Arc<str>, Resource>>,
}

impl SnapshotBuilder {
    /// Add an already interned resource.
    pub fn add(
        &mut self,
        resource_type: ResourceType,
        resource: Resource,
    ) -> Result<&mut Self, ResourceError> {
        let map = self.types.entry(resource_type).or_default();
        if map.contains_key(resource.name()) {
            return Err(ResourceError::Duplicate {
                resource_type,
                name: resource.name().to_string(),
            });
        }
        map.insert(resource.name().clone(), resource);
        Ok(self)
    }

    /// Encode, intern and add a message.
    pub fn add_message<M: Message + Name>(
        &mut self,
        resource_type: ResourceType,
        name: &str,
        message: &M,
    ) -> Result<&mut Self, ResourceError> {
        let r = self.interner.intern_message(resource_type, name, message)?;
        self.add(resource_type, r)
    }

    pub fn build(mut self) -> Snapshot {
        let types = PUSH_ORDER
            .into_iter()
            .map(|t| {
                (
                    t,
                    TypeResources::new(self.types.remove(&t).unwrap_or_default()),
                )
            })
            .collect();
        Snapshot {
            types: Arc::new(types),
        }
    }
}

/// A reference from one resource to another that the snapshot lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingReference {
    pub from_type: ResourceType,
    pub from_name: String,
    pub missing_type: ResourceType,
    pub missing_name: String,
}

impl fmt::Display for MissingReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} `{}` references {} `{}`, which the snapshot does not contain",
            self.from_type, self.from_name, self.missing_type, self.missing_name
        )
    }
}

/// A snapshot refused because resources it references are missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConsistencyError {
    pub missing: Vec<MissingReference>,
}

impl fmt::Display for ConsistencyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "inconsistent snapshot: ")?;
        for (i, m) in self.missing.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{m}")?;
        }
        Ok(())
    }
}
