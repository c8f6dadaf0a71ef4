//! Output shapes: `...Data` (a resource with metadata, spec and status) and
//! `...Ref` (a list entry), as the model names their members.

use meshplane_spec::{ArnContext, ResourceId, ResourceKind};
use meshplane_store::Record;
use serde_json::{json, Map, Value};

use crate::kind;

fn names(id: &ResourceId, out: &mut Map<String, Value>) {
    out.insert("meshName".into(), json!(id.mesh));
    if let (Some(parent), Some(pk)) = (&id.parent, id.kind.parent_kind()) {
        out.insert(kind::name_member(pk).into(), json!(parent));
    }
    if id.kind != ResourceKind::Mesh {
        out.insert(kind::name_member(id.kind).into(), json!(id.name));
    }
}

/// `MeshData`, `VirtualNodeData`, ...; `status` is ACTIVE or DELETED.
pub fn data(record: &Record, arn: &ArnContext, status: &str) -> Value {
    let mut out = Map::new();
    names(&record.id, &mut out);
    out.insert(
        "metadata".into(),
        json!({
            "arn": record.id.arn(arn),
            "createdAt": record.created_at,
            "lastUpdatedAt": record.last_updated_at,
            "meshOwner": record.id.owner,
            "resourceOwner": record.id.owner,
            "uid": record.uid,
            "version": record.version,
        }),
    );
    out.insert("spec".into(), record.spec.clone());
    out.insert("status".into(), json!({ "status": status }));
    Value::Object(out)
}

/// `MeshRef`, `VirtualNodeRef`, ...
pub fn reference(record: &Record, arn: &ArnContext) -> Value {
    let mut out = Map::new();
    names(&record.id, &mut out);
    out.insert("arn".into(), json!(record.id.arn(arn)));
    out.insert("createdAt".into(), json!(record.created_at));
    out.insert("lastUpdatedAt".into(), json!(record.last_updated_at));
    out.insert("meshOwner".into(), json!(record.id.owner));
    out.insert("resourceOwner".into(), json!(record.id.owner));
    out.insert("version".into(), json!(record.version));
    Value::Object(out)
}

/// The response body of a single-resource operation. The model's output
/// shapes bind their one member (`mesh`, `virtualNode`, ...) as the HTTP
/// payload, so the body is that member's value itself; SDKs put it back
/// under the member name.
pub fn payload(_kind: ResourceKind, data: Value) -> Value {
    data
}
