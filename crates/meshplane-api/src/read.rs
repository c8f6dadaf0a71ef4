//! DescribeX and ListX, over the store's meshes and the file-defined ones.

use std::collections::BTreeMap;

use meshplane_spec::{MeshGraph, ResourceId, ResourceKind};
use meshplane_store::Record;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::api::Api;
use crate::error::ApiError;
use crate::kind;
use crate::mirror::{encode_spec, get, Mirror};
use crate::shape;

/// The `limit` query parameter within `1..=max` (default `max`).
pub fn limit(
    operation: &str,
    query: &BTreeMap<String, String>,
    max: usize,
) -> Result<usize, ApiError> {
    match query.get("limit") {
        None => Ok(max),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{operation}: limit '{s}' must be an integer from 1 to {max}"
                ))
            }),
    }
}

/// Opaque pagination tokens: the sort key of the last item returned.
pub fn encode_token(key: &str) -> String {
    let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
    format!("mp1.{hex}")
}

pub fn decode_token(operation: &str, token: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "{operation}: nextToken '{token}' is not a token this server gave"
        ))
    };
    let hex = token.strip_prefix("mp1.").ok_or_else(bad)?;
    if hex.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    String::from_utf8(bytes).map_err(|_| bad())
}

/// One page of `items` (sorted by key) after `nextToken`.
pub fn page<T>(
    operation: &str,
    query: &BTreeMap<String, String>,
    max: usize,
    items: Vec<(String, T)>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let limit = limit(operation, query, max)?;
    let after = match query.get("nextToken") {
        Some(t) => Some(decode_token(operation, t)?),
        None => None,
    };
    let mut rest: Vec<(String, T)> = items
        .into_iter()
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k > a))
        .collect();
    let more = rest.len() > limit;
    rest.truncate(limit);
    let next = if more {
        rest.last().map(|(k, _)| encode_token(k))
    } else {
        None
    };
    Ok((rest.into_iter().map(|(_, v)| v).collect(), next))
}

impl Api {
    /// The record of a file-defined resource: version 1, created when the
    /// server started, a uid derived from the ARN.
    fn file_record(&self, graph: &MeshGraph, id: &ResourceId) -> Option<Record> {
        let spec = get(graph, id)?;
        let digest = Sha256::digest(id.arn(&self.arn).as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        Some(Record {
            id: ResourceId {
                owner: graph.owner.clone(),
                ..id.clone()
            },
            spec: encode_spec(&spec),
            uid: format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ),
            version: 1,
            created_at: self.started,
            last_updated_at: self.started,
            tags: Vec::new(),
        })
    }

    /// The record of `id`, stored or file-defined.
    pub(crate) fn find(&self, mirror: &Mirror, id: &ResourceId) -> Option<Record> {
        if let Some(r) = mirror.record(id) {
            return Some(r.clone());
        }
        let graph = self.file_mesh(mirror, &id.mesh)?;
        self.file_record(&graph, id)
    }

    pub(crate) fn describe(&self, operation: &str, id: ResourceId) -> Result<Value, ApiError> {
        let mirror = self.lock();
        let record = self.find(&mirror, &id).ok_or_else(|| {
            ApiError::not_found(format!(
                "{operation} {}: {} '{}' does not exist",
                id.arn(&self.arn),
                id.kind,
                id.name
            ))
        })?;
        Ok(shape::payload(
            id.kind,
            shape::data(&record, &self.arn, "ACTIVE"),
        ))
    }

    pub(crate) fn list(
        &self,
        operation: &str,
        kind: ResourceKind,
        mesh: Option<&str>,
        parent: Option<&str>,
        query: &BTreeMap<String, String>,
    ) -> Result<Value, ApiError> {
        let mirror = self.lock();
        let mut records: Vec<Record> = Vec::new();
        match mesh {
            None => {
                records.extend(mirror.meshes.values().filter_map(|m| {
                    m.records
                        .get(&ResourceId::mesh(&m.graph.name, &m.graph.owner))
                        .cloned()
                }));
                if let Some(files) = &self.files {
                    for (name, graph) in (files.model)().meshes {
                        if !mirror.meshes.contains_key(&name) {
                            records.extend(
                                self.file_record(&graph, &ResourceId::mesh(&name, &graph.owner)),
                            );
                        }
                    }
                }
            }
            Some(mesh) => {
                let mesh_id = self.id(ResourceKind::Mesh, mesh, None, mesh);
                let missing = |what: String| {
                    ApiError::not_found(format!("{operation}: {what} does not exist"))
                };
                if self.find(&mirror, &mesh_id).is_none() {
                    return Err(missing(format!("mesh '{mesh}'")));
                }
                if let (Some(p), Some(pk)) = (parent, kind.parent_kind()) {
                    if self.find(&mirror, &self.id(pk, mesh, None, p)).is_none() {
                        return Err(missing(format!("{pk} '{p}' in mesh '{mesh}'")));
                    }
                }
                let wanted = |id: &ResourceId| id.kind == kind && id.parent.as_deref() == parent;
                match mirror.meshes.get(mesh) {
                    Some(state) => {
                        records.extend(state.records.values().filter(|r| wanted(&r.id)).cloned())
                    }
                    None => {
                        if let Some(graph) = self.file_mesh(&mirror, mesh) {
                            for id in graph.resource_ids().iter().filter(|id| wanted(id)) {
                                records.extend(self.file_record(&graph, id));
                            }
                        }
                    }
                }
            }
        }
        let items: Vec<(String, Value)> = records
            .iter()
            .map(|r| (r.id.name.clone(), shape::reference(r, &self.arn)))
            .collect();
        let mut items = items;
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let (refs, next) = page(operation, query, 100, items)?;
        let mut out = serde_json::Map::new();
        out.insert(kind::list_member(kind).into(), json!(refs));
        if let Some(next) = next {
            out.insert("nextToken".into(), json!(next));
        }
        Ok(Value::Object(out))
    }
}
