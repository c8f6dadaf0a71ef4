//! Which resource type a request on a stream asks for.

use tonic::Status;

use crate::ResourceType;

/// The type of a request. A per-type service (`only`) accepts an empty type
/// URL as its own type and refuses others; ADS ignores unknown types.
pub(super) fn request_type(
    type_url: &str,
    only: Option<ResourceType>,
) -> Result<Option<ResourceType>, Status> {
    match only {
        Some(t) if type_url.is_empty() || type_url == t.type_url() => Ok(Some(t)),
        Some(t) => Err(Status::invalid_argument(format!(
            "this {} stream serves `{}`, not `{type_url}`",
            t.short_name(),
            t.type_url()
        ))),
        None => Ok(ResourceType::from_type_url(type_url)),
    }
}
