//! What is being served: the last good spec set and the translation of
//! every proxy in it.

use std::collections::BTreeMap;
use std::sync::Arc;

use meshplane_spec::{MeshModel, Origins, ResourceId};
use meshplane_xds::ProxyKey;

use crate::served_translation::ServedTranslation;

/// One proxy identity being served: its App Mesh resource and translation.
#[derive(Debug, Clone)]
pub struct ServedProxy {
    pub id: ResourceId,
    pub translation: Arc<ServedTranslation>,
}

/// The last good spec set and the translation of every proxy in it.
#[derive(Debug, Clone, Default)]
pub struct Served {
    pub model: MeshModel,
    pub origins: Origins,
    /// By proxy key (the resource's full ARN).
    pub proxies: BTreeMap<ProxyKey, ServedProxy>,
}
