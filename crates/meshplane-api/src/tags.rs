//! TagResource, UntagResource, ListTagsForResource, and the tags of a create.

use std::collections::BTreeMap;

use meshplane_spec::ResourceId;
use meshplane_store::{Change, Tag};
use serde_json::{json, Value};

use crate::api::{store_error, Api};
use crate::body;
use crate::error::{ApiError, ErrorKind};
use crate::read::page;

/// The model's limit on a resource's tags (`TagList`).
pub const MAX_TAGS: usize = 50;

/// A `TagList` member: `[{key, value}]`, keys 1-128 and values 0-256 characters.
pub fn parse_tags(operation: &str, value: Option<&Value>) -> Result<Vec<Tag>, ApiError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = value else {
        return Err(ApiError::bad_request(format!(
            "{operation}: tags must be an array of {{key, value}}"
        )));
    };
    if items.len() > MAX_TAGS {
        return Err(ApiError::new(
            ErrorKind::TooManyTags,
            format!(
                "{operation}: {} tags given; a resource has at most {MAX_TAGS}",
                items.len()
            ),
        ));
    }
    let mut tags: Vec<Tag> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let tag: Tag = serde_path_to_error::deserialize(item).map_err(|e| {
            ApiError::bad_request(format!("{operation}: tags[{i}]: {}", e.into_inner()))
        })?;
        let chars = tag.key.chars().count();
        if !(1..=128).contains(&chars) {
            return Err(ApiError::bad_request(format!(
                "{operation}: tags[{i}].key must be 1 to 128 characters"
            )));
        }
        if tag.value.chars().count() > 256 {
            return Err(ApiError::bad_request(format!(
                "{operation}: tags[{i}].value must be at most 256 characters"
            )));
        }
        tags.retain(|t| t.key != tag.key);
        tags.push(tag);
    }
    Ok(tags)
}

impl Api {
    fn tagged_id(
        &self,
        operation: &str,
        query: &BTreeMap<String, String>,
    ) -> Result<ResourceId, ApiError> {
        let arn = query.get("resourceArn").ok_or_else(|| {
            ApiError::bad_request(format!(
                "{operation}: the required query parameter 'resourceArn' is missing"
            ))
        })?;
        let id = ResourceId::parse(arn, &self.arn)
            .map_err(|e| ApiError::bad_request(format!("{operation}: resourceArn: {e}")))?;
        if id.owner != self.arn.account {
            return Err(ApiError::not_found(format!(
                "{operation}: {arn}: meshplane serves only the meshes of account {} (no RAM sharing)",
                self.arn.account
            )));
        }
        Ok(id)
    }

    fn set_tags(
        &self,
        operation: &str,
        query: &BTreeMap<String, String>,
        edit: impl FnOnce(&mut Vec<Tag>) -> Result<(), ApiError>,
    ) -> Result<Value, ApiError> {
        let id = self.tagged_id(operation, query)?;
        let arn = id.arn(&self.arn);
        let mut mirror = self.lock();
        self.refresh(operation, &mut mirror)?;
        if self.file_mesh(&mirror, &id.mesh).is_some() {
            return Err(self.file_managed(operation, &id.mesh));
        }
        let Some(record) = mirror.record(&id).cloned() else {
            return Err(ApiError::not_found(format!(
                "{operation} {arn}: the resource does not exist"
            )));
        };
        let mut tags = record.tags.clone();
        edit(&mut tags)?;
        if tags.len() > MAX_TAGS {
            return Err(ApiError::new(
                ErrorKind::TooManyTags,
                format!(
                    "{operation} {arn}: the resource would have {} tags; at most {MAX_TAGS}",
                    tags.len()
                ),
            ));
        }
        let revision = self
            .store
            .commit_at(
                mirror.revision,
                &[Change::SetTags(id.clone(), tags.clone())],
                None,
            )
            .map_err(|e| store_error(operation, e))?;
        if let Some(state) = mirror.meshes.get_mut(&id.mesh) {
            if let Some(r) = state.records.get_mut(&id) {
                r.tags = tags;
            }
        }
        mirror.revision = revision;
        self.status.applied(revision);
        Ok(json!({}))
    }

    pub(crate) fn tag(
        &self,
        operation: &str,
        query: &BTreeMap<String, String>,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let map = body::object(operation, body, &["tags"], &["tags"])?;
        let new = parse_tags(operation, map.get("tags"))?;
        self.set_tags(operation, query, |tags| {
            for t in new {
                tags.retain(|old| old.key != t.key);
                tags.push(t);
            }
            Ok(())
        })
    }

    pub(crate) fn untag(
        &self,
        operation: &str,
        query: &BTreeMap<String, String>,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let map = body::object(operation, body, &["tagKeys"], &["tagKeys"])?;
        let keys: Vec<String> =
            serde_path_to_error::deserialize(map.get("tagKeys").cloned().unwrap_or(Value::Null))
                .map_err(|e| {
                    ApiError::bad_request(format!("{operation}: tagKeys: {}", e.into_inner()))
                })?;
        self.set_tags(operation, query, |tags| {
            tags.retain(|t| !keys.contains(&t.key));
            Ok(())
        })
    }

    pub(crate) fn list_tags(
        &self,
        operation: &str,
        query: &BTreeMap<String, String>,
    ) -> Result<Value, ApiError> {
        let id = self.tagged_id(operation, query)?;
        let mirror = self.lock();
        let record = self.find(&mirror, &id).ok_or_else(|| {
            ApiError::not_found(format!(
                "{operation} {}: the resource does not exist",
                id.arn(&self.arn)
            ))
        })?;
        let items: Vec<(String, Value)> = record
            .tags
            .iter()
            .map(|t| (t.key.clone(), json!({"key": t.key, "value": t.value})))
            .collect();
        let mut items = items;
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let (tags, next) = page(operation, query, MAX_TAGS, items)?;
        let mut out = serde_json::Map::new();
        out.insert("tags".into(), json!(tags));
        if let Some(next) = next {
            out.insert("nextToken".into(), json!(next));
        }
        Ok(Value::Object(out))
    }
}
