//! `MeshSpec`.

use serde::{Deserialize, Serialize};

use crate::common::IpPreference;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MeshSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_filter: Option<EgressFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_discovery: Option<MeshServiceDiscovery>,
}

impl MeshSpec {
    /// The effective egress filter: App Mesh's default is DROP_ALL.
    pub fn egress_filter_type(&self) -> EgressFilterType {
        self.egress_filter
            .as_ref()
            .map_or(EgressFilterType::DropAll, |f| f.type_)
    }

    pub fn ip_preference(&self) -> Option<IpPreference> {
        self.service_discovery
            .as_ref()
            .and_then(|d| d.ip_preference)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EgressFilter {
    #[serde(rename = "type")]
    pub type_: EgressFilterType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EgressFilterType {
    #[serde(rename = "ALLOW_ALL")]
    AllowAll,
    #[serde(rename = "DROP_ALL")]
    DropAll,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MeshServiceDiscovery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_preference: Option<IpPreference>,
}
