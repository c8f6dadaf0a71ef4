//! The HTTP side: body limit, authentication (SigV4) and authorization
//! (IAM policies), dispatch, and the rest-json answer with
//! `x-amzn-RequestId` on every response.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use meshplane_authz::{AccessControl, Principal, PrincipalSource};
use meshplane_spec::ResourceKind;

use crate::api::Api;
use crate::error::{ApiError, ErrorKind};
use crate::route::{self, Action, Operation};
use crate::sigv4;

/// The largest request body accepted (App Mesh's largest specs are a few
/// kilobytes).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Set on answers given while the store is unreachable: they come from the
/// last state this replica saw and may miss other replicas' writes.
pub const STALE_HEADER: &str = "x-meshplane-stale";

/// The access control currently in force (reloaded with the auth config).
pub type AccessFn = Arc<dyn Fn() -> Arc<AccessControl> + Send + Sync>;

#[derive(Clone)]
struct Shared {
    api: Arc<Api>,
    access: AccessFn,
}

/// The App Mesh API as an axum router (every path goes through one handler,
/// so that every answer, errors included, has App Mesh's shape).
pub fn router(api: Arc<Api>, access: AccessFn) -> Router {
    Router::new()
        .fallback(handle)
        .with_state(Shared { api, access })
}

fn respond(
    status: StatusCode,
    error_type: Option<&str>,
    body: String,
    request_id: &str,
) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(t) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-amzn-errortype", t);
    }
    response
}

async fn handle(State(shared): State<Shared>, req: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let api = shared.api.clone();
    let answer = serve(shared, req).await;
    let shared_up = api.store_is_up();
    match answer {
        Ok(body) => {
            let mut response = respond(StatusCode::OK, None, body.to_string(), &request_id);
            if !shared_up {
                // Answered from the last state this replica saw.
                tracing::warn!(%method, %path, "the store is unreachable: answering from the last known state (x-meshplane-stale: true)");
                response
                    .headers_mut()
                    .insert(STALE_HEADER, HeaderValue::from_static("true"));
            }
            response
        }
        Err(e) => {
            tracing::debug!(%method, %path, error = %e, "App Mesh API error");
            let body = serde_json::json!({ "message": e.message }).to_string();
            respond(e.kind.status(), Some(e.kind.name()), body, &request_id)
        }
    }
}

async fn serve(shared: Shared, req: Request) -> Result<serde_json::Value, ApiError> {
    let (parts, body) = req.into_parts();
    let op = route::operation(parts.method.as_str(), parts.uri.path())?;
    let name = op.name();
    let body = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        ApiError::bad_request(format!(
            "{name}: the request body is larger than {BODY_LIMIT} bytes (or could not be read)"
        ))
    })?;
    let query = route::query_params(parts.uri.query());
    let access = (shared.access)();
    let principal = authenticate(&shared.api, &access, &parts, &body)?;
    let resource = resource_arn(&shared.api, &op, &query, &body);
    access
        .authorize(&principal, &format!("appmesh:{name}"), &resource)
        .map_err(|e| ApiError::new(ErrorKind::AccessDenied, format!("{name}: {}", e.message())))?;
    let api = shared.api.clone();
    tokio::task::spawn_blocking(move || api.call(&op, &query, &body))
        .await
        .map_err(|e| ApiError::internal(format!("{name}: the request failed: {e}")))?
}

fn authenticate(
    api: &Api,
    access: &AccessControl,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<Principal, ApiError> {
    let auth = sigv4::parse_authorization(&parts.headers);
    let Some(config) = access.config() else {
        // No auth config (loopback, or --insecure-no-auth): signed or not,
        // any key, everyone is the anonymous principal.
        return Ok(Principal::anonymous());
    };
    let auth = auth?.ok_or_else(|| {
        ApiError::new(
            ErrorKind::MissingAuthenticationToken,
            "Missing Authentication Token: sign the request with Signature Version 4 and an access key of the auth config",
        )
    })?;
    let key = config.access_key(&auth.access_key_id).ok_or_else(|| {
        ApiError::new(
            ErrorKind::UnrecognizedClient,
            format!(
                "The security token included in the request is invalid: access key '{}' is not in the auth config",
                auth.access_key_id
            ),
        )
    })?;
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let received = sigv4::Received {
        method: parts.method.as_str(),
        path_and_query,
        headers: &parts.headers,
        body,
    };
    sigv4::verify(
        &received,
        &auth,
        key.secret.expose(),
        &api.arn_context().region,
        SystemTime::now(),
    )?;
    Ok(Principal::new(
        key.principal.clone(),
        PrincipalSource::AccessKey,
    ))
}

/// The ARN a request acts on, for IAM: the resource itself (its name taken
/// from the body for a create), the mesh for a list, `mesh/*` for
/// ListMeshes, `resourceArn` for the tag operations.
fn resource_arn(
    api: &Api,
    op: &Operation,
    query: &std::collections::BTreeMap<String, String>,
    body: &[u8],
) -> String {
    let arn = api.arn_context();
    match op {
        Operation::TagResource | Operation::UntagResource | Operation::ListTagsForResource => {
            query.get("resourceArn").cloned().unwrap_or_default()
        }
        Operation::Resource {
            action,
            kind,
            mesh,
            parent,
            name,
        } => {
            let from_body = || {
                serde_json::from_slice::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| {
                        v.get(crate::kind::name_member(*kind))?
                            .as_str()
                            .map(str::to_owned)
                    })
            };
            let name = match action {
                Action::Create => from_body().unwrap_or_else(|| "*".to_owned()),
                Action::List => "*".to_owned(),
                _ => name.clone().unwrap_or_default(),
            };
            match (mesh, action) {
                (None, Action::List) => format!(
                    "arn:{}:appmesh:{}:{}:mesh/*",
                    arn.partition, arn.region, arn.account
                ),
                (Some(m), Action::List) if *kind != ResourceKind::Mesh => {
                    api.id(ResourceKind::Mesh, m, None, m).arn(arn)
                }
                (None, _) => api.id(ResourceKind::Mesh, &name, None, &name).arn(arn),
                (Some(m), _) => api.id(*kind, m, parent.as_deref(), &name).arn(arn),
            }
        }
    }
}
