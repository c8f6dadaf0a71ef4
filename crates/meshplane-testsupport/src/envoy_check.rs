//! Checks a set of xDS resources with the real Envoy: the resources are
//! assembled into a static bootstrap (RDS inlined into each HTTP connection
//! manager, EDS clusters given their load assignment, SDS secrets made
//! static) and `envoy --mode validate` is run on it.
//!
//! The check is stricter than serving the same resources over xDS in one
//! way: an inline route configuration keeps Envoy's static default
//! `validate_clusters: true`, so a route to a cluster missing from the set is
//! rejected (over RDS it would answer 503). Validation mode loads
//! certificates and keys but resolves no DNS names and binds no sockets.

mod error;
mod inline;
mod tls;
mod validate;

use envoy_types::pb::envoy::config::bootstrap::v3::{bootstrap::StaticResources, Bootstrap};
use envoy_types::pb::envoy::config::core::v3::Node;
use meshplane_envoy::json;

pub use error::BootstrapError;
pub use meshplane_envoy::XdsResources;
pub use validate::{envoy_validate, envoy_validate_file, EnvoyError};

/// Either step of [`check`] failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Bootstrap(#[from] BootstrapError),
    #[error(transparent)]
    Envoy(#[from] EnvoyError),
}

/// The node every checked bootstrap carries.
pub const CHECK_NODE_ID: &str = "meshplane-bootstrap-check";

/// A static Envoy bootstrap (proto3 JSON) holding `resources`, with every
/// ADS reference between them resolved locally.
pub fn static_bootstrap(resources: &XdsResources) -> Result<serde_json::Value, BootstrapError> {
    let static_resources = StaticResources {
        listeners: resources
            .listeners
            .iter()
            .map(|l| inline::listener(l, resources))
            .collect::<Result<_, _>>()?,
        clusters: resources
            .clusters
            .iter()
            .map(|c| inline::cluster(c, resources))
            .collect::<Result<_, _>>()?,
        secrets: resources.secrets.clone(),
    };
    let bootstrap = Bootstrap {
        node: Some(Node {
            id: CHECK_NODE_ID.to_owned(),
            cluster: CHECK_NODE_ID.to_owned(),
            ..Default::default()
        }),
        static_resources: Some(static_resources),
        ..Default::default()
    };
    Ok(json::to_json(&bootstrap)?)
}

/// Assembles `resources` into a static bootstrap and has Envoy validate it.
pub fn check(resources: &XdsResources) -> Result<(), CheckError> {
    let bootstrap = static_bootstrap(resources)?;
    envoy_validate(&bootstrap)?;
    Ok(())
}
