//! A real API server on a loopback port over a real SQLite store, and a
//! client that signs like the AWS SDKs (aws-sigv4) over reqwest.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use meshplane_api::{AccessFn, Api};
use meshplane_authz::{AccessControl, AuthConfig};
use meshplane_spec::ArnContext;
use meshplane_store::{SqliteStore, Store};
use serde_json::Value;

pub const ACCOUNT: &str = "111122223333";

pub fn arn_context() -> ArnContext {
    ArnContext {
        region: "eu-west-1".to_owned(),
        account: ACCOUNT.to_owned(),
        ..ArnContext::default()
    }
}

pub struct Server {
    pub url: String,
    pub store: Arc<dyn Store>,
    pub db: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the API over the database at `db` (created if missing).
pub async fn start(db: &Path, access: AccessControl) -> Server {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(db).unwrap());
    let api = Arc::new(Api::new(store.clone(), arn_context()).unwrap());
    let access = Arc::new(access);
    let access_fn: AccessFn = Arc::new(move || access.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = meshplane_api::router(api.clone(), access_fn);
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Server {
        url,
        store,
        db: db.to_owned(),
        task,
    }
}

pub async fn start_open(dir: &Path) -> Server {
    start(&dir.join("meshplane.db"), AccessControl::insecure_no_auth()).await
}

/// An auth config with `accessKeys` whose secrets are files (mode 600).
pub fn auth_config(dir: &Path, keys: &[(&str, &str, &str)], policy: &str) -> AccessControl {
    let mut yaml = String::from("accessKeys:\n");
    let mut principals = std::collections::BTreeSet::new();
    for (i, (id, principal, secret)) in keys.iter().enumerate() {
        let file = dir.join(format!("secret{i}"));
        std::fs::write(&file, secret).unwrap();
        set_mode(&file, 0o600);
        yaml.push_str(&format!(
            "  - accessKeyId: {id}\n    principal: {principal}\n    secretFile: {}\n",
            file.display()
        ));
        principals.insert(principal.to_owned());
    }
    yaml.push_str("principals:\n");
    for p in principals {
        yaml.push_str(&format!(
            "  {p}:\n    policies:\n      - inline: '{policy}'\n"
        ));
    }
    let path = dir.join("auth.yaml");
    std::fs::write(&path, yaml).unwrap();
    AccessControl::new(AuthConfig::from_file(&path).unwrap())
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// An answer: status, `x-amzn-ErrorType`, body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub error_type: Option<String>,
    pub request_id: Option<String>,
    pub content_type: Option<String>,
    pub body: Value,
}

impl Answer {
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "{self:?}");
        self.body
    }

    pub fn error(&self, status: u16, name: &str) -> String {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.error_type.as_deref(), Some(name), "{self:?}");
        self.body["message"].as_str().unwrap().to_owned()
    }
}

#[derive(Clone)]
pub struct Client {
    pub url: String,
    http: reqwest::Client,
    /// (access key id, secret); `None` sends unsigned requests.
    pub key: Option<(String, String)>,
    pub region: String,
    /// The signing time (default: now).
    pub time: Option<SystemTime>,
}

impl Client {
    pub fn new(url: &str) -> Client {
        Client {
            url: url.to_owned(),
            http: reqwest::Client::new(),
            key: Some(("AKIDEXAMPLE".to_owned(), "any".to_owned())),
            region: "eu-west-1".to_owned(),
            time: None,
        }
    }

    pub fn with_key(mut self, id: &str, secret: &str) -> Client {
        self.key = Some((id.to_owned(), secret.to_owned()));
        self
    }

    pub fn unsigned(mut self) -> Client {
        self.key = None;
        self
    }

    pub async fn raw(&self, method: &str, path_and_query: &str, body: &[u8]) -> Answer {
        let url = format!("{}{}", self.url, path_and_query);
        let host = self.url.trim_start_matches("http://").to_owned();
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host),
            ("content-type".into(), "application/json".into()),
        ];
        if let Some((id, secret)) = &self.key {
            let identity =
                aws_credential_types::Credentials::new(id, secret, None, None, "test").into();
            let params = v4::SigningParams::builder()
                .identity(&identity)
                .region(&self.region)
                .name("appmesh")
                .time(self.time.unwrap_or_else(SystemTime::now))
                .settings(SigningSettings::default())
                .build()
                .unwrap()
                .into();
            let signable = SignableRequest::new(
                method,
                path_and_query,
                headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                SignableBody::Bytes(body),
            )
            .unwrap();
            let (instructions, _) = sign(signable, &params).unwrap().into_parts();
            for (k, v) in instructions.headers() {
                headers.push((k.to_owned(), v.to_owned()));
            }
        }
        let mut req = self
            .http
            .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .body(body.to_vec());
        for (k, v) in &headers {
            if k != "host" {
                req = req.header(k, v);
            }
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let error_type = header("x-amzn-errortype");
        let request_id = header("x-amzn-requestid");
        let content_type = header("content-type");
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Answer {
            status,
            error_type,
            request_id,
            content_type,
            body,
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.raw(method, path, body.as_bytes()).await
    }
}
