//! CreateX, UpdateX, DeleteX.

use meshplane_spec::{
    mesh::MeshSpec, validate, AnySpec, MeshGraph, MeshModel, Origins, ResourceId, ResourceKind,
};
use meshplane_store::{Change, IdempotentAnswer, Record};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::api::{now, store_error, Api};
use crate::body;
use crate::error::{ApiError, ErrorKind};
use crate::mirror::{decode_spec, encode_spec, put, remove, MeshState};
use crate::shape;
use crate::tags::parse_tags;

/// A clientToken (up to 36 characters, as the model documents) and the
/// digest of everything else the request said.
struct Token {
    token: String,
    request_hash: String,
}

fn token(
    operation: &str,
    labels: &str,
    map: &serde_json::Map<String, Value>,
) -> Result<Option<Token>, ApiError> {
    let Some(token) = body::string(operation, map, "clientToken")? else {
        return Ok(None);
    };
    if token.is_empty() || token.len() > 64 {
        return Err(ApiError::bad_request(format!(
            "{operation}: clientToken must be 1 to 64 characters"
        )));
    }
    let mut rest = map.clone();
    rest.remove("clientToken");
    let mut h = Sha256::new();
    h.update(operation.as_bytes());
    h.update([0]);
    h.update(labels.as_bytes());
    h.update([0]);
    h.update(Value::Object(rest).to_string().as_bytes());
    let request_hash = h
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    Ok(Some(Token {
        token,
        request_hash,
    }))
}

fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Api {
    /// The answer already given to this clientToken, or a conflict if it
    /// was used for another request.
    fn replay(&self, operation: &str, token: &Option<Token>) -> Result<Option<Value>, ApiError> {
        let Some(t) = token else { return Ok(None) };
        let Some(answer) = self
            .store
            .idempotent_answer(operation, &t.token)
            .map_err(|e| store_error(operation, e))?
        else {
            return Ok(None);
        };
        if answer.request_hash != t.request_hash {
            return Err(ApiError::conflict(format!(
                "{operation}: clientToken '{}' was already used for a different request",
                t.token
            )));
        }
        serde_json::from_str(&answer.response)
            .map(Some)
            .map_err(|e| ApiError::internal(format!("{operation}: stored answer unreadable: {e}")))
    }

    /// Validates `graph` (the mesh as it would be); every error is reported.
    fn check(
        &self,
        operation: &str,
        id: &ResourceId,
        graph: &MeshGraph,
        kind: ErrorKind,
    ) -> Result<(), ApiError> {
        let mut model = MeshModel::default();
        model.meshes.insert(graph.name.clone(), graph.clone());
        let errors: Vec<String> = validate(&model, &Origins::default(), &self.arn)
            .into_iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        Err(ApiError::new(
            kind,
            format!(
                "{operation} {}: refused, nothing applied ({} error(s)): {}",
                id.arn(&self.arn),
                errors.len(),
                errors.join("; ")
            ),
        ))
    }

    fn commit(
        &self,
        operation: &str,
        base: u64,
        change: Change,
        token: Option<Token>,
        response: &Value,
    ) -> Result<u64, ApiError> {
        let answer = token.map(|t| IdempotentAnswer {
            operation: operation.to_owned(),
            token: t.token,
            request_hash: t.request_hash,
            response: response.to_string(),
        });
        self.store
            .commit_at(base, std::slice::from_ref(&change), answer.as_ref())
            .map_err(|e| {
                if let meshplane_store::StoreError::Unavailable { .. } = &e {
                    self.status.failed(&e);
                }
                store_error(operation, e)
            })
    }

    pub(crate) fn create(
        &self,
        operation: &str,
        kind: ResourceKind,
        mesh: Option<&str>,
        parent: Option<&str>,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let name_member = crate::kind::name_member(kind);
        let required: &[&str] = if kind == ResourceKind::Mesh {
            &["meshName"]
        } else {
            &["spec", name_member]
        };
        let map = body::object(
            operation,
            body,
            &["clientToken", name_member, "spec", "tags"],
            required,
        )?;
        let name = body::string(operation, &map, name_member)?.ok_or_else(|| {
            ApiError::bad_request(format!("{operation}: '{name_member}' is missing"))
        })?;
        let mesh = mesh.unwrap_or(&name).to_owned();
        let labels = format!("{mesh}/{}", parent.unwrap_or(""));
        let token = token(operation, &labels, &map)?;
        let tags = parse_tags(operation, map.get("tags"))?;
        let mut mirror = self.lock();
        self.refresh(operation, &mut mirror)?;
        if let Some(answer) = self.replay(operation, &token)? {
            return Ok(answer);
        }
        let id = self.id(kind, &mesh, parent, &name);
        let arn = id.arn(&self.arn);
        if self.file_mesh(&mirror, &mesh).is_some() {
            if kind == ResourceKind::Mesh {
                return Err(ApiError::conflict(format!(
                    "{operation} {arn}: mesh '{mesh}' already exists (defined by files at {})",
                    self.files.as_ref().map(|f| f.paths.as_str()).unwrap_or("")
                )));
            }
            return Err(self.file_managed(operation, &mesh));
        }
        let spec_value = map.get("spec").cloned().unwrap_or_else(|| json!({}));
        let spec = decode_spec(kind, &spec_value)
            .map_err(|e| ApiError::bad_request(format!("{operation} {arn}: {e}")))?;
        let state = match mirror.meshes.get(&mesh) {
            Some(s) => s.clone(),
            None if kind == ResourceKind::Mesh => MeshState {
                graph: MeshGraph {
                    name: mesh.clone(),
                    owner: self.arn.account.clone(),
                    spec: None,
                    ..MeshGraph::default()
                },
                records: Default::default(),
            },
            None => {
                return Err(ApiError::not_found(format!(
                    "{operation} {arn}: mesh '{mesh}' does not exist"
                )))
            }
        };
        if let (Some(p), Some(pk)) = (parent, kind.parent_kind()) {
            let parent_id = self.id(pk, &mesh, None, p);
            if !state.records.contains_key(&parent_id) {
                return Err(ApiError::not_found(format!(
                    "{operation} {arn}: {pk} '{p}' does not exist in mesh '{mesh}'"
                )));
            }
        }
        if state.records.contains_key(&id) {
            return Err(ApiError::conflict(format!(
                "{operation} {arn}: a {kind} named '{name}' already exists"
            )));
        }
        let mut graph = state.graph.clone();
        put(&mut graph, &id, spec.clone());
        self.check(operation, &id, &graph, ErrorKind::BadRequest)?;
        let at = now();
        let record = Record {
            id: id.clone(),
            spec: encode_spec(&spec),
            uid: new_uid(),
            version: 1,
            created_at: at,
            last_updated_at: at,
            tags,
        };
        let response = shape::payload(kind, shape::data(&record, &self.arn, "ACTIVE"));
        let revision = self.commit(
            operation,
            mirror.revision,
            Change::Create(record.clone()),
            token,
            &response,
        )?;
        let entry = mirror.meshes.entry(mesh).or_insert(state);
        entry.graph = graph;
        entry.records.insert(id, record);
        mirror.revision = revision;
        self.status.applied(revision);
        drop(mirror);
        (self.on_commit)();
        Ok(response)
    }

    pub(crate) fn update(
        &self,
        operation: &str,
        id: ResourceId,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let required: &[&str] = if id.kind == ResourceKind::Mesh {
            &[]
        } else {
            &["spec"]
        };
        let map = body::object(operation, body, &["clientToken", "spec"], required)?;
        let arn = id.arn(&self.arn);
        let token = token(operation, &id.short(), &map)?;
        let mut mirror = self.lock();
        self.refresh(operation, &mut mirror)?;
        if let Some(answer) = self.replay(operation, &token)? {
            return Ok(answer);
        }
        if self.file_mesh(&mirror, &id.mesh).is_some() {
            return Err(self.file_managed(operation, &id.mesh));
        }
        let Some(state) = mirror.meshes.get(&id.mesh) else {
            return Err(ApiError::not_found(format!(
                "{operation} {arn}: mesh '{}' does not exist",
                id.mesh
            )));
        };
        let Some(old) = state.records.get(&id) else {
            return Err(ApiError::not_found(format!(
                "{operation} {arn}: {} '{}' does not exist",
                id.kind, id.name
            )));
        };
        let spec = match map.get("spec") {
            Some(v) => decode_spec(id.kind, v)
                .map_err(|e| ApiError::bad_request(format!("{operation} {arn}: {e}")))?,
            None => AnySpec::Mesh(state.graph.spec.clone().unwrap_or_else(MeshSpec::default)),
        };
        let mut graph = state.graph.clone();
        put(&mut graph, &id, spec.clone());
        self.check(operation, &id, &graph, ErrorKind::BadRequest)?;
        let record = Record {
            spec: encode_spec(&spec),
            version: old.version + 1,
            last_updated_at: now(),
            ..old.clone()
        };
        let response = shape::payload(id.kind, shape::data(&record, &self.arn, "ACTIVE"));
        let revision = self.commit(
            operation,
            mirror.revision,
            Change::Update(record.clone()),
            token,
            &response,
        )?;
        if let Some(state) = mirror.meshes.get_mut(&id.mesh) {
            state.graph = graph;
            state.records.insert(id, record);
        }
        mirror.revision = revision;
        self.status.applied(revision);
        drop(mirror);
        (self.on_commit)();
        Ok(response)
    }

    pub(crate) fn delete(&self, operation: &str, id: ResourceId) -> Result<Value, ApiError> {
        let arn = id.arn(&self.arn);
        let mut mirror = self.lock();
        self.refresh(operation, &mut mirror)?;
        if self.file_mesh(&mirror, &id.mesh).is_some() {
            return Err(self.file_managed(operation, &id.mesh));
        }
        let not_found = || {
            ApiError::not_found(format!(
                "{operation} {arn}: {} '{}' does not exist",
                id.kind, id.name
            ))
        };
        let state = mirror.meshes.get(&id.mesh).ok_or_else(not_found)?;
        let old = state.records.get(&id).ok_or_else(not_found)?.clone();
        let in_use = |what: String| {
            ApiError::new(
                ErrorKind::ResourceInUse,
                format!("{operation} {arn}: {what}"),
            )
        };
        match id.kind {
            ResourceKind::Mesh if state.records.len() > 1 => {
                return Err(in_use(format!(
                    "the mesh still holds {} resource(s); delete them first",
                    state.records.len() - 1
                )))
            }
            ResourceKind::VirtualRouter if state.graph.routes_of(&id.name).next().is_some() => {
                return Err(in_use(
                    "the virtual router still has routes; delete them first".into(),
                ))
            }
            ResourceKind::VirtualGateway
                if state.graph.gateway_routes_of(&id.name).next().is_some() =>
            {
                return Err(in_use(
                    "the virtual gateway still has gateway routes; delete them first".into(),
                ))
            }
            _ => {}
        }
        let mut graph = state.graph.clone();
        remove(&mut graph, &id);
        if id.kind != ResourceKind::Mesh {
            self.check(operation, &id, &graph, ErrorKind::ResourceInUse)?;
        }
        let response = shape::payload(id.kind, shape::data(&old, &self.arn, "DELETED"));
        let revision = self.commit(
            operation,
            mirror.revision,
            Change::Delete(id.clone()),
            None,
            &response,
        )?;
        if id.kind == ResourceKind::Mesh {
            mirror.meshes.remove(&id.mesh);
        } else if let Some(state) = mirror.meshes.get_mut(&id.mesh) {
            state.graph = graph;
            state.records.remove(&id);
        }
        mirror.revision = revision;
        self.status.applied(revision);
        drop(mirror);
        (self.on_commit)();
        Ok(response)
    }
}
