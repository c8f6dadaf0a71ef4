//! What is asked of Cloud Map ([`QueryKey`]) and what is known about each
//! question ([`QueryState`], [`DiscoveredInstance`]).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::SystemTime;

use meshplane_translate::CloudMapQuery;

/// Instance attribute Cloud Map sets to the instance's IPv4 address.
pub const ATTR_IPV4: &str = "AWS_INSTANCE_IPV4";
/// Instance attribute Cloud Map sets to the instance's IPv6 address.
pub const ATTR_IPV6: &str = "AWS_INSTANCE_IPV6";
/// Instance attribute Cloud Map sets to the port the instance serves on.
pub const ATTR_PORT: &str = "AWS_INSTANCE_PORT";

/// One `DiscoverInstances` call: a namespace, a service and the attributes
/// every returned instance must carry (sorted by key, then value). Every
/// proxy whose clusters ask the same question shares one key, so it is
/// polled once whatever the number of proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueryKey {
    pub namespace: String,
    pub service: String,
    pub attributes: Vec<(String, String)>,
}

impl QueryKey {
    pub fn new(
        namespace: impl Into<String>,
        service: impl Into<String>,
        attributes: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let mut attributes: Vec<(String, String)> = attributes.into_iter().collect();
        attributes.sort();
        attributes.dedup();
        Self {
            namespace: namespace.into(),
            service: service.into(),
            attributes,
        }
    }

    /// The key a translated EDS cluster's query is answered under (the IP
    /// preference and port are applied later, by [`crate::endpoints_for`]).
    pub fn of(query: &CloudMapQuery) -> Self {
        Self::new(
            query.namespace_name.clone(),
            query.service_name.clone(),
            query.attributes.iter().cloned(),
        )
    }

    /// `service.namespace` plus the attribute filter, for logs.
    pub fn display(&self) -> String {
        let mut s = format!("{}.{}", self.service, self.namespace);
        if !self.attributes.is_empty() {
            let attrs: Vec<String> = self
                .attributes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            s.push_str(&format!(" [{}]", attrs.join(",")));
        }
        s
    }
}

impl From<&CloudMapQuery> for QueryKey {
    fn from(query: &CloudMapQuery) -> Self {
        Self::of(query)
    }
}

/// One healthy instance Cloud Map returned. Addresses and port come from
/// the `AWS_INSTANCE_*` attributes; a value that does not parse is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredInstance {
    pub instance_id: String,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    pub port: Option<u16>,
    /// Every attribute of the instance, the `AWS_INSTANCE_*` ones included.
    pub attributes: BTreeMap<String, String>,
}

impl DiscoveredInstance {
    /// An instance from its id and attributes as Cloud Map returned them.
    pub fn from_attributes(
        instance_id: impl Into<String>,
        attributes: BTreeMap<String, String>,
    ) -> Self {
        let parse = |name: &str| attributes.get(name).map(|v| v.trim().to_owned());
        Self {
            instance_id: instance_id.into(),
            ipv4: parse(ATTR_IPV4).and_then(|v| v.parse().ok()),
            ipv6: parse(ATTR_IPV6).and_then(|v| v.parse().ok()),
            port: parse(ATTR_PORT)
                .and_then(|v| v.parse().ok())
                .filter(|p| *p != 0),
            attributes,
        }
    }
}

/// What is known about one [`QueryKey`]. Errors never clear `instances`:
/// they keep the last answer Cloud Map gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryState {
    /// `None` until the first successful `DiscoverInstances`; then the
    /// instances of the last successful answer, sorted by instance id. An
    /// empty list means Cloud Map answered with no healthy instance.
    pub instances: Option<Arc<Vec<DiscoveredInstance>>>,
    /// The service's `InstancesRevision` the instances were read at (from
    /// `DiscoverInstancesRevision`, else from `DiscoverInstances`).
    pub revision: Option<i64>,
    /// When Cloud Map last answered (a revision check or a discovery).
    pub last_success: Option<SystemTime>,
    /// The error of the last failed call, cleared by the next success.
    pub last_error: Option<String>,
    /// Failed polls in a row (0 after a success).
    pub consecutive_errors: u32,
}

impl QueryState {
    /// Whether Cloud Map has answered at least once.
    pub fn is_known(&self) -> bool {
        self.instances.is_some()
    }
}

/// Everything the source knows, by query; sorted, shared with subscribers.
pub type QueryStates = BTreeMap<QueryKey, QueryState>;
