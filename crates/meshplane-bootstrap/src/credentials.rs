//! How the proxy proves who it is to meshplane. Stock Envoy cannot sign
//! requests with SigV4 as App Mesh's image did (the `aws_iam` gRPC credential
//! left Envoy in 1.35), so meshplane accepts a bearer token sent as gRPC
//! initial metadata, a TLS client certificate, or both.

use serde_json::{json, Map, Value};

use crate::address::Target;
use crate::env::Env;
use crate::error::BootstrapError;
use crate::files::{read_text, FileReader};
use crate::sds::{SDS_CLUSTER, SDS_SOCKET_PATH};
use crate::xds_endpoints::{XdsEndpoints, XDS_ENDPOINT};

pub const TOKEN_FILE: &str = "MESHPLANE_XDS_TOKEN_FILE";
pub const CLIENT_CERT: &str = "MESHPLANE_XDS_CLIENT_CERT";
pub const CLIENT_KEY: &str = "MESHPLANE_XDS_CLIENT_KEY";
pub const CA: &str = "MESHPLANE_XDS_CA";
pub const TLS_SERVER_NAME: &str = "MESHPLANE_XDS_TLS_SERVER_NAME";
/// The name of an SDS secret (SPIRE's own SVID is `default`) served on
/// `APPMESH_SDS_SOCKET_PATH`, used as the client certificate instead of files.
pub const CLIENT_SDS_SECRET: &str = "MESHPLANE_XDS_CLIENT_SDS_SECRET";

/// meshplane's server refuses shorter tokens (docs/authentication.md).
pub const MIN_TOKEN_LEN: usize = 32;

#[derive(Debug, Clone, Default)]
pub(crate) struct XdsCredentials {
    token: Option<String>,
    tls: Option<Tls>,
}

#[derive(Debug, Clone)]
enum ClientCert {
    Files { cert: String, key: String },
    Sds { secret: String },
}

#[derive(Debug, Clone)]
struct Tls {
    ca: String,
    client: Option<ClientCert>,
    server_name: Option<String>,
    /// The IP the server's certificate must name when no server name is set.
    server_ip: Option<String>,
}

impl XdsCredentials {
    pub(crate) fn from_env(
        env: &Env<'_>,
        files: &dyn FileReader,
        endpoints: &XdsEndpoints,
        warnings: &mut Vec<String>,
    ) -> Result<XdsCredentials, BootstrapError> {
        let token = match env.get(TOKEN_FILE) {
            Some(path) => Some(read_token(files, path)?),
            None => None,
        };
        let cert = env.get(CLIENT_CERT);
        let key = env.get(CLIENT_KEY);
        let client = match (cert, key) {
            (Some(cert), Some(key)) => {
                check_pem(files, CLIENT_CERT, cert, "CERTIFICATE")?;
                check_pem(files, CLIENT_KEY, key, "PRIVATE KEY")?;
                Some(ClientCert::Files { cert: cert.to_owned(), key: key.to_owned() })
            }
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                return Err(BootstrapError::Conflict(format!(
                    "{CLIENT_CERT} and {CLIENT_KEY} go together: set both (the client certificate chain and its \
                     private key) or neither"
                )))
            }
        };
        let client = match (env.get(CLIENT_SDS_SECRET), client) {
            (None, client) => client,
            (Some(_), Some(_)) => {
                return Err(BootstrapError::Conflict(format!(
                    "{CLIENT_SDS_SECRET} and {CLIENT_CERT}/{CLIENT_KEY} both name a client certificate; keep one"
                )))
            }
            (Some(secret), None) => {
                if env.get(SDS_SOCKET_PATH).is_none() {
                    return Err(BootstrapError::Conflict(format!(
                        "{CLIENT_SDS_SECRET} needs {SDS_SOCKET_PATH}: the secret is fetched from that SDS server"
                    )));
                }
                Some(ClientCert::Sds { secret: secret.to_owned() })
            }
        };
        let server_name = env.get(TLS_SERVER_NAME);
        let tls = match env.get(CA) {
            Some(ca) => {
                check_pem(files, CA, ca, "CERTIFICATE")?;
                let server_ip = match endpoints.single() {
                    Some(Target::Ip { ip, .. }) if server_name.is_none() => Some(ip.to_string()),
                    _ => None,
                };
                let server_name = server_name.or(endpoints.common_dns_name());
                if server_name.is_none() && server_ip.is_none() && endpoints.single().is_none() {
                    return Err(BootstrapError::Conflict(format!(
                        "{XDS_ENDPOINT} lists several replicas by different names or IPs and {CA} is set: \
                         set {TLS_SERVER_NAME} to the name every replica's certificate carries"
                    )));
                }
                Some(Tls {
                    ca: ca.to_owned(),
                    client,
                    server_name: server_name.map(str::to_owned),
                    server_ip,
                })
            }
            None => {
                if client.is_some() {
                    return Err(BootstrapError::Conflict(format!(
                        "a client certificate ({CLIENT_CERT}/{CLIENT_KEY} or {CLIENT_SDS_SECRET}) needs {CA}: it is \
                         only sent over TLS, and TLS to meshplane needs the CA that signed meshplane's server \
                         certificate"
                    )));
                }
                if server_name.is_some() {
                    return Err(BootstrapError::Conflict(format!(
                        "{TLS_SERVER_NAME} needs {CA}: without a CA the connection to meshplane is plaintext"
                    )));
                }
                None
            }
        };
        if token.is_some() && tls.is_none() && !endpoints.is_local() {
            warnings.push(format!(
                "{TOKEN_FILE} is set but {CA} is not: the token travels in cleartext to a non-loopback \
                 meshplane; set {CA} to use TLS"
            ));
        }
        Ok(XdsCredentials { token, tls })
    }

    /// `initial_metadata` of the ADS gRPC service: `authorization: Bearer <token>`.
    pub(crate) fn initial_metadata(&self) -> Option<Value> {
        self.token
            .as_ref()
            .map(|t| json!([{ "key": "authorization", "value": format!("Bearer {t}") }]))
    }

    pub(crate) fn server_name(&self) -> Option<&str> {
        self.tls.as_ref().and_then(|t| t.server_name.as_deref())
    }

    /// The `envoy.transport_sockets.tls` socket of the `meshplane_xds` cluster.
    pub(crate) fn transport_socket(&self) -> Option<Value> {
        let tls = self.tls.as_ref()?;
        let mut validation = Map::new();
        validation.insert("trusted_ca".into(), json!({ "filename": tls.ca }));
        let san = match (&tls.server_name, &tls.server_ip) {
            (Some(name), _) => Some(json!({ "san_type": "DNS", "matcher": { "exact": name } })),
            (None, Some(ip)) => {
                Some(json!({ "san_type": "IP_ADDRESS", "matcher": { "exact": ip } }))
            }
            (None, None) => None,
        };
        if let Some(san) = san {
            validation.insert("match_typed_subject_alt_names".into(), json!([san]));
        }
        let mut common = Map::new();
        common.insert("alpn_protocols".into(), json!(["h2"]));
        match &tls.client {
            Some(ClientCert::Files { cert, key }) => {
                common.insert(
                    "tls_certificates".into(),
                    json!([{ "certificate_chain": { "filename": cert }, "private_key": { "filename": key } }]),
                );
            }
            Some(ClientCert::Sds { secret }) => {
                common.insert(
                    "tls_certificate_sds_secret_configs".into(),
                    json!([{
                        "name": secret,
                        "sds_config": {
                            "resource_api_version": "V3",
                            "api_config_source": {
                                "api_type": "GRPC",
                                "transport_api_version": "V3",
                                "grpc_services": [{ "envoy_grpc": { "cluster_name": SDS_CLUSTER } }]
                            }
                        }
                    }]),
                );
            }
            None => {}
        }
        common.insert("validation_context".into(), Value::Object(validation));
        let mut context = Map::new();
        context.insert(
            "@type".into(),
            json!(
                "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
            ),
        );
        if let Some(name) = &tls.server_name {
            context.insert("sni".into(), json!(name));
        }
        context.insert("common_tls_context".into(), Value::Object(common));
        Some(
            json!({ "name": "envoy.transport_sockets.tls", "typed_config": Value::Object(context) }),
        )
    }
}

/// The token: the file's content without surrounding whitespace; it must be
/// a single line of visible ASCII to be a valid header value.
fn read_token(files: &dyn FileReader, path: &str) -> Result<String, BootstrapError> {
    let text = read_text(files, TOKEN_FILE, path)?;
    let token = text.trim();
    if token.is_empty() {
        return Err(BootstrapError::bad_file(
            TOKEN_FILE,
            path,
            "the token file is empty",
        ));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(BootstrapError::bad_file(
            TOKEN_FILE,
            path,
            "the token must be one line of visible ASCII characters (no spaces or control characters)",
        ));
    }
    if token.len() < MIN_TOKEN_LEN {
        return Err(BootstrapError::bad_file(
            TOKEN_FILE,
            path,
            format!(
                "the token has {} characters; meshplane refuses tokens shorter than {MIN_TOKEN_LEN} \
                 (make one with `openssl rand -hex 32`)",
                token.len()
            ),
        ));
    }
    Ok(token.to_owned())
}

/// Fails early, naming the variable, when a TLS file is missing or not PEM,
/// instead of leaving Envoy to reject the bootstrap.
fn check_pem(
    files: &dyn FileReader,
    variable: &str,
    path: &str,
    label: &str,
) -> Result<(), BootstrapError> {
    let text = read_text(files, variable, path)?;
    let has_block = text
        .lines()
        .any(|l| l.starts_with("-----BEGIN ") && l.trim_end().ends_with(&format!("{label}-----")));
    if !has_block {
        return Err(BootstrapError::bad_file(
            variable,
            path,
            format!("expected a PEM file with a {label} block"),
        ));
    }
    Ok(())
}
