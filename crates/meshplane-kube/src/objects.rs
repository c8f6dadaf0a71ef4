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
    /// The same with the spec meshplane last served for it
    /// (`status.meshplaneServedSpec`, written by any replica), when that
    /// differs from the current spec: the last good version of a replica
    /// that has not served the object itself.
    pub served_text: Option<String>,
}

impl Held {
    pub fn new(kind: &Kind, object: DynamicObject) -> Held {
        let mut metadata = json!({ "name": object.metadata.name });
        if let Some(ns) = &object.metadata.namespace {
            metadata["namespace"] = json!(ns);
        }
        let doc = |spec: Option<&Value>| {
            let mut doc = json!({
                "apiVersion": format!("{GROUP}/{VERSION}"),
                "kind": kind.kind,
                "metadata": metadata,
            });
            if let Some(spec) = spec {
                doc["spec"] = spec.clone();
            }
            doc.to_string()
        };
        let spec = object.data.get("spec");
        let served_text = served_spec(object.data.get("status"))
            .filter(|served| Some(served) != spec)
            .map(|served| doc(Some(&served)));
        Held {
            text: doc(spec),
            served_text,
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

/// The status field holding the spec meshplane last served (a JSON text,
/// so that a merge patch replaces it whole).
pub const SERVED_SPEC: &str = "meshplaneServedSpec";

/// The spec recorded in `status` as last served, if any.
pub fn served_spec(status: Option<&Value>) -> Option<Value> {
    let text = status?.get(SERVED_SPEC)?.as_str()?;
    serde_json::from_str(text).ok()
}

/// Every object held, by key.
pub type Objects = BTreeMap<Key, Held>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn object(spec: Value, status: Value) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "appmesh.k8s.aws/v1beta2",
            "kind": "VirtualNode",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": spec,
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn the_served_spec_in_status_is_a_last_good_version_when_it_differs() {
        let kind = &KINDS[1];
        let good = json!({"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]});
        let bad = json!({"listeners": [{"portMapping": {"port": 70000, "protocol": "http"}}]});
        let status = json!({ SERVED_SPEC: good.to_string() });
        let held = Held::new(kind, object(bad, status.clone()));
        let served = held.served_text.unwrap();
        assert!(
            served.contains("8080") && !served.contains("70000"),
            "{served}"
        );
        assert!(held.text.contains("70000"));
        // Served as it is: no other version.
        assert!(Held::new(kind, object(good, status)).served_text.is_none());
        // Nothing recorded, or not JSON: nothing.
        let held = Held::new(kind, object(json!({}), json!({ SERVED_SPEC: "{" })));
        assert!(held.served_text.is_none());
    }
}
