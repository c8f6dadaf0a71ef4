//! The order in which this server sends resource types to a proxy. The types
//! themselves (type URLs, names) are meshplane-envoy's [`ResourceType`].

use crate::ResourceType;

/// Order in which additions and updates are sent after a change.
///
/// Secrets come first because clusters (upstream TLS) and listeners
/// (downstream TLS) reference them and warm until they arrive; then the
/// spec's make-before-break order CDS, EDS, LDS, RDS.
pub const PUSH_ORDER: [ResourceType; 5] = [
    ResourceType::Secret,
    ResourceType::Cluster,
    ResourceType::Endpoint,
    ResourceType::Listener,
    ResourceType::Route,
];

/// Order in which removals are sent, after every addition was answered:
/// users of a resource disappear before the resource they use.
pub const REMOVAL_ORDER: [ResourceType; 5] = [
    ResourceType::Listener,
    ResourceType::Route,
    ResourceType::Cluster,
    ResourceType::Endpoint,
    ResourceType::Secret,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn both_orders_hold_every_type_once() {
        let all: BTreeSet<_> = ResourceType::ALL.into_iter().collect();
        for order in [PUSH_ORDER, REMOVAL_ORDER] {
            let set: BTreeSet<_> = order.into_iter().collect();
            assert_eq!(set, all);
        }
        let names: Vec<_> = PUSH_ORDER.iter().map(|t| t.short_name()).collect();
        assert_eq!(names, ["SDS", "CDS", "EDS", "LDS", "RDS"]);
    }
}
