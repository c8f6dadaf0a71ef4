//! Which of the 38 operations a request is: method and path as the model's
//! `requestUri`s define them (`/v20190125/meshes/{meshName}/...`).

use std::collections::BTreeMap;

use meshplane_spec::ResourceKind;
use percent_encoding::percent_decode_str;

use crate::error::ApiError;
use crate::kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Describe,
    Update,
    Delete,
    List,
}

/// One operation with its URI labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Resource {
        action: Action,
        kind: ResourceKind,
        /// `None` for CreateMesh and ListMeshes (the mesh name is in the body).
        mesh: Option<String>,
        /// The virtual router of a route, the virtual gateway of a gateway route.
        parent: Option<String>,
        /// The resource's own name for Describe, Update and Delete (the mesh
        /// name for the mesh operations).
        name: Option<String>,
    },
    TagResource,
    UntagResource,
    ListTagsForResource,
}

impl Operation {
    /// The model's operation name (`CreateVirtualNode`), which is also the
    /// IAM action after `appmesh:`.
    pub fn name(&self) -> String {
        match self {
            Operation::Resource { action, kind, .. } => match action {
                Action::Create => format!("Create{}", kind::op_suffix(*kind)),
                Action::Describe => format!("Describe{}", kind::op_suffix(*kind)),
                Action::Update => format!("Update{}", kind::op_suffix(*kind)),
                Action::Delete => format!("Delete{}", kind::op_suffix(*kind)),
                Action::List => format!("List{}", kind::op_plural(*kind)),
            },
            Operation::TagResource => "TagResource".to_owned(),
            Operation::UntagResource => "UntagResource".to_owned(),
            Operation::ListTagsForResource => "ListTagsForResource".to_owned(),
        }
    }
}

/// The query string's parameters (the last value of a repeated one wins).
pub fn query_params(query: Option<&str>) -> BTreeMap<String, String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Maps method and path to an operation.
pub fn operation(method: &str, path: &str) -> Result<Operation, ApiError> {
    let unknown = || {
        ApiError::bad_request(format!(
            "{method} {path} is not an App Mesh 2019-01-25 operation"
        ))
    };
    let rest = path.strip_prefix("/v20190125/").ok_or_else(unknown)?;
    let segments = rest
        .split('/')
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| ApiError::bad_request(format!("{path}: a path segment is not UTF-8")))
        })
        .collect::<Result<Vec<String>, ApiError>>()?;
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let res = |action, kind, mesh: Option<&str>, parent: Option<&str>, name: Option<&str>| {
        Operation::Resource {
            action,
            kind,
            mesh: mesh.map(str::to_owned),
            parent: parent.map(str::to_owned),
            name: name.map(str::to_owned),
        }
    };
    let by_method = |collection: bool| match (collection, method) {
        (true, "PUT") => Some(Action::Create),
        (true, "GET") => Some(Action::List),
        (false, "GET") => Some(Action::Describe),
        (false, "PUT") => Some(Action::Update),
        (false, "DELETE") => Some(Action::Delete),
        _ => None,
    };
    let op = match segs.as_slice() {
        ["tags"] if method == "GET" => Operation::ListTagsForResource,
        ["tag"] if method == "PUT" => Operation::TagResource,
        ["untag"] if method == "PUT" => Operation::UntagResource,
        ["meshes"] => res(
            by_method(true).ok_or_else(unknown)?,
            ResourceKind::Mesh,
            None,
            None,
            None,
        ),
        ["meshes", m] if !m.is_empty() => res(
            by_method(false).ok_or_else(unknown)?,
            ResourceKind::Mesh,
            Some(m),
            None,
            Some(m),
        ),
        ["meshes", m, coll] => {
            let k = kind::from_collection(coll).ok_or_else(unknown)?;
            res(by_method(true).ok_or_else(unknown)?, k, Some(m), None, None)
        }
        ["meshes", m, coll, n] => {
            let k = kind::from_collection(coll).ok_or_else(unknown)?;
            res(
                by_method(false).ok_or_else(unknown)?,
                k,
                Some(m),
                None,
                Some(n),
            )
        }
        ["meshes", m, parent_seg, p, coll, rest @ ..] if rest.len() <= 1 => {
            let k = match (*parent_seg, *coll) {
                ("virtualRouter", "routes") => ResourceKind::Route,
                ("virtualGateway", "gatewayRoutes") => ResourceKind::GatewayRoute,
                _ => return Err(unknown()),
            };
            let action = by_method(rest.is_empty()).ok_or_else(unknown)?;
            res(action, k, Some(m), Some(p), rest.first().copied())
        }
        _ => return Err(unknown()),
    };
    if let Operation::Resource {
        mesh, parent, name, ..
    } = &op
    {
        for label in [mesh, parent, name].into_iter().flatten() {
            if label.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "{path}: a URI label is empty"
                )));
            }
        }
    }
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singular_parent_segments_and_labels_decode() {
        let op = operation("PUT", "/v20190125/meshes/m/virtualRouter/r%2Fx/routes").unwrap();
        assert_eq!(op.name(), "CreateRoute");
        assert!(matches!(op, Operation::Resource { parent: Some(ref p), .. } if p == "r/x"));
        assert_eq!(
            operation(
                "DELETE",
                "/v20190125/meshes/m/virtualGateway/g/gatewayRoutes/x"
            )
            .unwrap()
            .name(),
            "DeleteGatewayRoute"
        );
        assert_eq!(
            operation("GET", "/v20190125/meshes").unwrap().name(),
            "ListMeshes"
        );
        assert!(operation("GET", "/v20190125/meshes/m/virtualRouters/r/routes").is_err());
        assert!(operation("POST", "/v20190125/meshes").is_err());
    }
}
