//! Why resources could not be assembled into a static bootstrap, and the
//! decoding of typed configs that can fail that way.

use envoy_types::pb::google::protobuf::Any;
use meshplane_envoy::JsonError;
use prost::Message;

/// Why resources could not be assembled into a static bootstrap.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("listener `{listener}`: its HTTP connection manager asks RDS for `{route}`, but no route configuration has that name")]
    MissingRoute { listener: String, route: String },
    #[error("cluster `{cluster}`: EDS asks for `{service}`, but no cluster load assignment has that name")]
    MissingEndpoints { cluster: String, service: String },
    #[error(
        "{owner}: its TLS context refers to SDS secret `{secret}`, but no secret has that name"
    )]
    MissingSecret { owner: String, secret: String },
    #[error("{owner}: typed_config `{type_url}` does not decode: {source}")]
    Decode {
        owner: String,
        type_url: String,
        #[source]
        source: prost::DecodeError,
    },
    #[error("the bootstrap could not be written as JSON: {0}")]
    Json(#[from] JsonError),
}

pub(super) fn decode<M: Message + Default>(any: &Any, owner: &str) -> Result<M, BootstrapError> {
    M::decode(any.value.as_slice()).map_err(|source| BootstrapError::Decode {
        owner: owner.to_owned(),
        type_url: any.type_url.clone(),
        source,
    })
}
