//! Route changes made through the App Mesh API (`UpdateRoute`) instead of
//! file writes: the generated mesh is imported into the server's store, and
//! change `k` sends the route's new weights as
//! `PUT /v20190125/meshes/{mesh}/virtualRouter/{router}/routes/{route}`,
//! signed with SigV4 like the AWS SDKs. The fan-out is timed from the API's
//! 200 answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use meshplane_spec::ArnContext;
use serde_json::Value;

use crate::change::{Change, ChangeSource};
use crate::mesh_gen::GeneratedMesh;
use crate::spec_edit::EditError;

/// The access key the requests are signed with. A server on loopback
/// without an auth config accepts any key; one with an auth config needs
/// one of its `accessKeys`.
#[derive(Debug, Clone)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
}

impl Default for AccessKey {
    fn default() -> Self {
        AccessKey {
            id: "AKIDMESHPLANELOADGEN".to_owned(),
            secret: "loopback-any-key".to_owned(),
        }
    }
}

/// A signed HTTP/1.1 request's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// The headers (name, value) of a SigV4-signed App Mesh API request.
pub fn signed_headers(
    api: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    key: &AccessKey,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let mut headers = vec![
        ("host".to_owned(), api.to_string()),
        ("content-type".to_owned(), "application/json".to_owned()),
    ];
    let identity = aws_credential_types::Credentials::new(
        key.id.clone(),
        key.secret.clone(),
        None,
        None,
        "meshplane-loadgen",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("appmesh")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new(
        method,
        path,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    for (k, v) in instructions.headers() {
        headers.push((k.to_owned(), v.to_owned()));
    }
    Ok(headers)
}

/// One request over a fresh connection (`Connection: close`), blocking.
pub fn request(
    api: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut s = TcpStream::connect_timeout(&api, Duration::from_secs(10))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let malformed = || std::io::Error::other(format!("{method} {path}: malformed HTTP answer"));
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(malformed)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(malformed)?;
    Ok(Answer {
        status,
        body: body.to_owned(),
    })
}

/// The `UpdateRoute` request of a CLI-input route document: its path and
/// body (`{"spec": ...}`).
pub fn update_route(doc: &Value) -> Option<(String, String)> {
    let mesh = doc.get("meshName")?.as_str()?;
    let router = doc.get("virtualRouterName")?.as_str()?;
    let route = doc.get("routeName")?.as_str()?;
    let path = format!("/v20190125/meshes/{mesh}/virtualRouter/{router}/routes/{route}");
    let body = serde_json::json!({ "spec": doc.get("spec")? }).to_string();
    Some((path, body))
}

/// The generated mesh's route changes, sent through the API.
#[derive(Debug, Clone)]
pub struct ApiRoutes {
    pub mesh: GeneratedMesh,
    pub api: SocketAddr,
    pub arn: ArnContext,
    pub key: AccessKey,
    /// When the last change's 200 answer arrived.
    answered: Option<Instant>,
}

impl ApiRoutes {
    pub fn new(mesh: GeneratedMesh, api: SocketAddr, arn: ArnContext, key: AccessKey) -> Self {
        ApiRoutes {
            mesh,
            api,
            arn,
            key,
            answered: None,
        }
    }

    fn send(&self, doc: &Value, file: &std::path::Path) -> Result<(), EditError> {
        let api_error = |call: &str, message: String| EditError::Api {
            call: call.to_owned(),
            file: file.to_path_buf(),
            message,
        };
        let (path, body) = update_route(doc).ok_or_else(|| {
            api_error(
                "UpdateRoute",
                "no meshName, virtualRouterName, routeName or spec".to_owned(),
            )
        })?;
        let call = format!("UpdateRoute PUT {path}");
        let headers = signed_headers(
            self.api,
            "PUT",
            &path,
            body.as_bytes(),
            &self.key,
            &self.arn.region,
            SystemTime::now(),
        )
        .map_err(|e| api_error(&call, format!("signing: {e}")))?;
        let answer = request(self.api, "PUT", &path, &headers, body.as_bytes())
            .map_err(|e| api_error(&call, e.to_string()))?;
        if answer.status != 200 {
            return Err(api_error(
                &call,
                format!("HTTP {}: {}", answer.status, answer.body.trim()),
            ));
        }
        Ok(())
    }
}

impl ChangeSource for ApiRoutes {
    fn apply(&mut self, k: usize) -> Result<Change, EditError> {
        // The generator rewrites the route's CLI-input file (which the
        // server does not read: it serves the store); its text is the
        // UpdateRoute request.
        let (label, expected) = self.mesh.change(k)?;
        let file = self.mesh.route_file(self.mesh.changed_service(k));
        let text = std::fs::read_to_string(&file).map_err(|source| EditError::Read {
            path: file.clone(),
            source,
        })?;
        let doc: Value = serde_json::from_str(&text).map_err(|source| EditError::Json {
            path: file.clone(),
            source,
        })?;
        // A blocking call on loopback: let the runtime move other tasks off
        // this worker meanwhile.
        let on_multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if on_multi_thread {
            tokio::task::block_in_place(|| self.send(&doc, &file))?;
        } else {
            self.send(&doc, &file)?;
        }
        self.answered = Some(Instant::now());
        Ok(Change {
            label: format!("{label} via API"),
            expected_nodes: Some(expected),
        })
    }

    fn applied_at(&self) -> Option<Instant> {
        self.answered
    }

    fn describe(&self) -> &'static str {
        "UpdateRoute 200"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_document_is_an_update_route_request() {
        let doc: Value = serde_json::from_str(
            r#"{"meshName":"gen","virtualRouterName":"router-00001","routeName":"route-00001",
               "spec":{"httpRoute":{"action":{"weightedTargets":[{"virtualNode":"a","weight":41}]}}}}"#,
        )
        .unwrap();
        let (path, body) = update_route(&doc).unwrap();
        assert_eq!(
            path,
            "/v20190125/meshes/gen/virtualRouter/router-00001/routes/route-00001"
        );
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body["spec"]["httpRoute"]["action"]["weightedTargets"][0]["weight"],
            41
        );
        assert!(update_route(&serde_json::json!({"meshName": "gen"})).is_none());
    }

    #[test]
    fn requests_are_signed_for_appmesh_in_the_region() {
        let api: SocketAddr = "127.0.0.1:9080".parse().unwrap();
        let headers = signed_headers(
            api,
            "PUT",
            "/v20190125/meshes/gen",
            b"{}",
            &AccessKey::default(),
            "eu-west-1",
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )
        .unwrap();
        let get = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert_eq!(get("x-amz-date"), "20231114T221320Z");
        let auth = get("authorization");
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDMESHPLANELOADGEN/20231114/eu-west-1/appmesh/aws4_request"
            ),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date"),
            "{auth}"
        );
    }
}
