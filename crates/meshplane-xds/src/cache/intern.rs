//! Content-addressed interning: one shared copy of each (type, name, bytes).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, Weak};

use envoy_types::pb::google::protobuf::Any;
use prost::{Message, Name};
use sha2::{Digest, Sha256};

use super::references::{references, secret_references};
use super::resource::{Resource, ResourceError, ResourceInner};
use crate::ResourceType;

type Key = (ResourceType, [u8; 32], Arc<str>);

/// Hands out [`Resource`]s so that equal content is one allocation, shared by
/// every snapshot and stream that holds it. Cheap to clone; thread-safe.
/// Entries die with their last user; the table is pruned as it grows.
#[derive(Clone, Default)]
pub struct ResourceInterner {
    table: Arc<Mutex<Table>>,
}

#[derive(Default)]
struct Table {
    entries: HashMap<Key, Weak<ResourceInner>>,
    live_after_prune: usize,
}

impl std::fmt::Debug for ResourceInterner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceInterner")
            .field("entries", &self.len())
            .finish()
    }
}

impl ResourceInterner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Intern an encoded resource. `name` is the name proxies request it by.
    pub fn intern(
        &self,
        resource_type: ResourceType,
        name: &str,
        any: Any,
    ) -> Result<Resource, ResourceError> {
        if name.is_empty() {
            return Err(ResourceError::EmptyName { resource_type });
        }
        if any.type_url != resource_type.type_url() {
            return Err(ResourceError::WrongTypeUrl {
                resource_type,
                name: name.to_owned(),
                found: any.type_url,
                expected: resource_type.type_url(),
            });
        }
        let digest: [u8; 32] = Sha256::new()
            .chain_update(any.type_url.as_bytes())
            .chain_update([0u8])
            .chain_update(&any.value)
            .finalize()
            .into();
        let name: Arc<str> = Arc::from(name);
        let key = (resource_type, digest, name);
        if let Some(found) = self.lookup(&key) {
            return Ok(found);
        }
        let decode_error = |source| ResourceError::Decode {
            resource_type,
            name: key.2.to_string(),
            source,
        };
        let refs = references(resource_type, &any).map_err(decode_error)?;
        let secret_refs = secret_references(resource_type, &any).map_err(decode_error)?;
        let inner = Arc::new(ResourceInner {
            name: key.2.clone(),
            version: Arc::from(hex16(&digest)),
            any,
            references: refs.into_iter().map(Arc::from).collect(),
            secret_references: secret_refs.into_iter().map(Arc::from).collect(),
        });
        let mut table = self.lock();
        if let Some(existing) = table.entries.get(&key).and_then(Weak::upgrade) {
            return Ok(Resource { inner: existing });
        }
        table.entries.insert(key, Arc::downgrade(&inner));
        table.prune_if_grown();
        Ok(Resource { inner })
    }

    /// Encode and intern a message.
    pub fn intern_message<M: Message + Name>(
        &self,
        resource_type: ResourceType,
        name: &str,
        message: &M,
    ) -> Result<Resource, ResourceError> {
        let any = Any {
            type_url: M::type_url(),
            value: message.encode_to_vec(),
        };
        self.intern(resource_type, name, any)
    }

    /// Entries in the table (live or awaiting pruning).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lookup(&self, key: &Key) -> Option<Resource> {
        let table = self.lock();
        table
            .entries
            .get(key)
            .and_then(Weak::upgrade)
            .map(|inner| Resource { inner })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (each operation is a single insert or retain), so poison is ignored.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Table {
    fn prune_if_grown(&mut self) {
        if self.entries.len() > 2 * self.live_after_prune + 1024 {
            self.entries.retain(|_, w| w.strong_count() > 0);
            self.live_after_prune = self.entries.len();
        }
    }
}

fn hex16(digest: &[u8; 32]) -> String {
    let mut s = String::with_capacity(32);
    for b in &digest[..16] {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;

    fn cla(name: &str) -> ClusterLoadAssignment {
        ClusterLoadAssignment {
            cluster_name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn equal_content_is_one_allocation() {
        let interner = ResourceInterner::new();
        let a = interner
            .intern_message(ResourceType::Endpoint, "a", &cla("a"))
            .unwrap();
        let b = interner
            .intern_message(ResourceType::Endpoint, "a", &cla("a"))
            .unwrap();
        assert!(a.ptr_eq(&b));
        assert!(Arc::ptr_eq(a.version(), b.version()));
        let c = interner
            .intern_message(ResourceType::Endpoint, "c", &cla("c"))
            .unwrap();
        assert_ne!(a.version(), c.version());
        assert_eq!(a.version().len(), 32);
    }

    #[test]
    fn dead_entries_are_not_returned_and_get_pruned() {
        let interner = ResourceInterner::new();
        for i in 0..3000 {
            let n = format!("n{i}");
            drop(
                interner
                    .intern_message(ResourceType::Endpoint, &n, &cla(&n))
                    .unwrap(),
            );
        }
        assert!(interner.len() < 3000, "table pruned: {}", interner.len());
    }

    #[test]
    fn wrong_type_url_is_an_error_naming_the_resource() {
        let interner = ResourceInterner::new();
        let err = interner
            .intern_message(ResourceType::Cluster, "x", &cla("x"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`x`") && err.contains("ClusterLoadAssignment"),
            "{err}"
        );
    }
}
