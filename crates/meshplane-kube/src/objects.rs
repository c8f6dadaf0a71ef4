//! The objects held from the watches, and the text the loader reads for each.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kube::api::DynamicObject;
use serde_json::{json, Value};

use crate::kinds::{Kind, GROUP, KINDS, VERSION};

/// Where an object lives: kind, namespace (empty for meshes), name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    /// Index into [`KINDS`].
    pub kind: usize,
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn of(kind: &Kind, object: &DynamicObject) -> Key {
        Key {
            kind: kind.index(),
            namespace: object.metadata.namespace.clone().unwrap_or_default(),
            name: object.metadata.name.clone().unwrap_or_default(),
        }
    }

    pub fn kind(&self) -> &'static Kind {
        &KINDS[self.kind]
    }

    /// The object's API path, the "file" its findings name:
    /// `kubernetes:/apis/appmesh.k8s.aws/v1beta2/namespaces/shop/virtualnodes/web`.
    pub fn path(&self) -> PathBuf {
        let kind = self.kind();
        let scope = if kind.namespaced {
            format!("namespaces/{}/", self.namespace)
        } else {
            String::new()
        };
        PathBuf::from(format!(
            "kubernetes:/apis/{GROUP}/{VERSION}/{scope}{}/{}",
            kind.plural, self.name
        ))
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.kind().kind;
        if self.namespace.is_empty() {
            write!(f, "{kind} {}", self.name)
        } else {
            write!(f, "{kind} {}/{}", self.namespace, self.name)
        }
    }
}

/// One object as last seen.
#[derive(Debug, Clone)]
pub struct Held {
    pub object: DynamicObject,
    /// What the loader reads: apiVersion, kind, name, namespace and spec
    /// (status and the rest of the metadata do not change the mesh).
    pub text: String,
}

impl Held {
    pub fn new(kind: &Kind, object: DynamicObject) -> Held {
        let mut metadata = json!({ "name": object.metadata.name });
        if let Some(ns) = &object.metadata.namespace {
            metadata["namespace"] = json!(ns);
        }
        let mut doc = json!({
            "apiVersion": format!("{GROUP}/{VERSION}"),
            "kind": kind.kind,
            "metadata": metadata,
        });
        if let Some(spec) = object.data.get("spec") {
            doc["spec"] = spec.clone();
        }
        Held {
            text: doc.to_string(),
            object,
        }
    }

    pub fn generation(&self) -> Option<i64> {
        self.object.metadata.generation
    }

    pub fn status(&self) -> Option<&Value> {
        self.object.data.get("status")
    }
}

/// Every object held, by key.
pub type Objects = BTreeMap<Key, Held>;
