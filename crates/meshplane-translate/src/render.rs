//! Proxy resources as JSON, the shape of Envoy's `/config_dump`: each
//! resource a proto3 JSON object carrying its `@type`.

use meshplane_envoy::JsonError;
use meshplane_envoy::XdsResources;
use prost::{Message, Name};
use serde_json::{Map, Value};

use crate::output::ProxyResources;
use crate::proto::any;

/// `{"listeners": [...], "routes": [...], "clusters": [...], "endpoints": [...], "secrets": [...]}`.
pub fn to_json(r: &ProxyResources) -> Result<Value, JsonError> {
    let mut out = Map::new();
    out.insert("listeners".to_owned(), list(&r.listeners)?);
    out.insert("routes".to_owned(), list(&r.routes)?);
    out.insert("clusters".to_owned(), list(&r.clusters)?);
    out.insert("endpoints".to_owned(), list(&r.endpoints)?);
    out.insert("secrets".to_owned(), list(&r.secrets)?);
    Ok(Value::Object(out))
}

fn list<M: Message + Name>(items: &[M]) -> Result<Value, JsonError> {
    items
        .iter()
        .map(|m| meshplane_envoy::any_to_json(&any(m)))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

impl ProxyResources {
    /// The same resources in the shape the Envoy checker takes.
    pub fn to_xds(&self) -> XdsResources {
        XdsResources {
            listeners: self.listeners.clone(),
            clusters: self.clusters.clone(),
            routes: self.routes.clone(),
            endpoints: self.endpoints.clone(),
            secrets: self.secrets.clone(),
        }
    }
}
