//! TLS: listener termination (`listeners[].tls`) and origination towards
//! backends (client policies, and servers that require TLS).
//!
//! Certificates and trust come from files on the proxy or from the local
//! SDS server (SPIRE and the like) App Mesh's image reached through the
//! bootstrap cluster `static_cluster_sds_unix_socket`. ACM certificates and
//! ACM Private CA trust are requested as SDS secrets over ADS, as App Mesh
//! did; the control plane fills them from the PEM material it holds
//! (`--certificates`, see [`NeededSecret`]). An ARN it does not hold is
//! reported, and a listener that would need it is not served in STRICT mode
//! (never silently in plaintext).
//!
//! Secret names: an ACM certificate's is its ARN; trust in ACM Private CAs
//! is `trust:` + the CA ARNs joined by `,`; trust in the CA an ACM
//! certificate chains up to (a client without a client policy, user guide
//! "ACM-managed TLS certificates") is `issuer:` + the certificate ARN.
//!
//! Listener modes: STRICT -> the port's chain terminates TLS; PERMISSIVE ->
//! two chains on the port, TLS (`transport_protocol: tls`) and plaintext
//! (`raw_buffer`), told apart by the TLS inspector; DISABLED -> plaintext.
//! With `validation` the listener requires client certificates (mTLS),
//! checked against the trust and, when given, the subject alternative names
//! (matched exactly: as a URI SAN when the name has a scheme, else as a DNS SAN).
//!
//! Origination (user guide, "How App Mesh configures Envoys to negotiate
//! TLS"): an enforced client policy (the backend's, else the node's backend
//! defaults) whose ports include the target port configures the validation
//! context (trust, SANs; without SANs the certificate must name the target's
//! service discovery name) and the client certificate. Without a matching
//! policy, a target listener in STRICT or PERMISSIVE mode still gets TLS,
//! with its certificate not validated (App Mesh's behaviour for file
//! certificates).

use envoy_types::pb::envoy::config::core::v3::{
    api_config_source, config_source, data_source, grpc_service, transport_socket,
    AggregatedConfigSource, ApiConfigSource, ApiVersion, ConfigSource, DataSource, GrpcService,
    TransportSocket,
};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
    common_tls_context, subject_alt_name_matcher, CertificateValidationContext, CommonTlsContext,
    DownstreamTlsContext, SdsSecretConfig, SubjectAltNameMatcher,
    TlsCertificate as EnvoyCertificate, UpstreamTlsContext,
};
use envoy_types::pb::envoy::r#type::matcher::v3::{string_matcher, StringMatcher};
use envoy_types::pb::google::protobuf::BoolValue;
use meshplane_spec::common::Protocol;
use meshplane_spec::tls::{
    ClientPolicyTls, ListenerTls, TlsCertificate, TlsMode, TlsValidationContext,
};
use meshplane_spec::virtual_node::Listener as NodeListener;
use meshplane_spec::ResourceId;

use crate::emit::Emit;
use crate::output::NeededSecret;
use crate::proto::any;

/// The bootstrap cluster of the local SDS server (APPMESH_SDS_SOCKET_PATH).
pub const SDS_CLUSTER: &str = "static_cluster_sds_unix_socket";
pub const TLS_TRANSPORT_SOCKET: &str = "envoy.transport_sockets.tls";

/// How one node listener accepts connections.
pub enum Termination {
    Plaintext,
    Tls(TransportSocket),
    /// TLS and plaintext on the same port.
    Permissive(TransportSocket),
    /// TLS is required but cannot be configured: do not serve the port.
    Refused,
}

pub fn termination(
    emit: &mut Emit<'_>,
    node: &ResourceId,
    index: usize,
    l: &NodeListener,
) -> Termination {
    let Some(tls) = &l.tls else {
        return Termination::Plaintext;
    };
    if tls.mode == TlsMode::Disabled {
        return Termination::Plaintext;
    }
    let path = format!("spec.listeners[{index}].tls");
    match downstream_context(emit, node, &path, tls, l.port_mapping.protocol) {
        Some(ctx) => {
            let socket = socket(any(&ctx));
            if tls.mode == TlsMode::Strict {
                Termination::Tls(socket)
            } else {
                Termination::Permissive(socket)
            }
        }
        None if tls.mode == TlsMode::Strict => Termination::Refused,
        None => Termination::Plaintext,
    }
}

fn downstream_context(
    emit: &mut Emit<'_>,
    node: &ResourceId,
    path: &str,
    tls: &ListenerTls,
    tls_protocol: Protocol,
) -> Option<DownstreamTlsContext> {
    let mut common = CommonTlsContext::default();
    if let Err(problem) = certificate(emit, &tls.certificate, &mut common) {
        let consequence = if tls.mode == TlsMode::Strict {
            "the listener is not served (STRICT mode never falls back to plaintext)"
        } else {
            "the listener serves plaintext only"
        };
        let (rule, message) = match problem {
            CertificateProblem::NotHeld(arn) => ("translate.tls.acm", format!("ACM certificate {arn} is not held by meshplane: add its PEM chain and key to the --certificates configuration; {consequence}")),
            CertificateProblem::Missing => ("translate.tls.certificate", format!("the certificate names no acm, file or sds source; {consequence}")),
        };
        emit.error(rule, node, &format!("{path}.certificate"), message);
        return None;
    }
    if tls_protocol.is_http_family() {
        common.alpn_protocols = vec!["h2".to_owned(), "http/1.1".to_owned()];
    }
    let mut require_client_certificate = None;
    if let Some(validation) = &tls.validation {
        if validate(
            emit,
            node,
            &format!("{path}.validation"),
            validation,
            Vec::new(),
            &mut common,
        ) {
            require_client_certificate = Some(BoolValue { value: true });
        }
    }
    Some(DownstreamTlsContext {
        common_tls_context: Some(common),
        require_client_certificate,
        ..Default::default()
    })
}

/// The TLS a connection to a target listener originates, if any.
/// `policy` is the backend's enforced client policy (already matched to the
/// port by the caller), `san_default` the target's service discovery name.
pub fn origination(
    emit: &mut Emit<'_>,
    client: &ResourceId,
    policy: Option<(&str, &ClientPolicyTls)>,
    target: &NodeListener,
    target_host: Option<&str>,
) -> Option<TransportSocket> {
    let sni = target_host.unwrap_or_default().to_owned();
    // HTTP/2 and gRPC upstreams negotiate h2 (the server offers h2 and http/1.1).
    let alpn = || match target.port_mapping.protocol {
        Protocol::Http2 | Protocol::Grpc => vec!["h2".to_owned()],
        Protocol::Http | Protocol::Tcp => Vec::new(),
    };
    if let Some((path, p)) = policy {
        let mut common = CommonTlsContext {
            alpn_protocols: alpn(),
            ..Default::default()
        };
        if let Some(cert) = &p.certificate {
            if cert.acm.is_some() || certificate(emit, cert, &mut common).is_err() {
                emit.error(
                    "translate.tls.certificate",
                    client,
                    &format!("{path}.certificate"),
                    "client certificates come from a file or SDS; this one is ignored".to_owned(),
                );
            }
        }
        let default_sans = target_host.map(|h| vec![h.to_owned()]).unwrap_or_default();
        validate(
            emit,
            client,
            &format!("{path}.validation"),
            &p.validation,
            default_sans,
            &mut common,
        );
        let ctx = UpstreamTlsContext {
            common_tls_context: Some(common),
            sni,
            ..Default::default()
        };
        return Some(socket(any(&ctx)));
    }
    let tls = target
        .tls
        .as_ref()
        .filter(|t| t.mode != TlsMode::Disabled)?;
    let mut common = CommonTlsContext::default();
    // An ACM-held server certificate is validated against the CA it chains
    // up to; a file or SDS one is not validated.
    if let Some(acm) = &tls.certificate.acm {
        let arn = &acm.certificate_arn;
        if emit.opts.held_certificates.contains(arn) {
            let name = issuer_secret_name(arn);
            emit.need_secret(&name, NeededSecret::IssuerOf { arn: arn.clone() });
            common.validation_context_type = Some(
                common_tls_context::ValidationContextType::ValidationContextSdsSecretConfig(
                    ads_secret(&name),
                ),
            );
        }
    }
    let ctx = UpstreamTlsContext {
        common_tls_context: Some(common),
        sni,
        ..Default::default()
    };
    Some(socket(any(&ctx)))
}

/// Why a certificate could not be configured.
enum CertificateProblem {
    /// An ACM certificate whose material meshplane does not hold.
    NotHeld(String),
    /// No source at all.
    Missing,
}

/// The SDS secret name of trust in these ACM Private CAs.
pub fn trust_secret_name(authorities: &[String]) -> String {
    format!("trust:{}", authorities.join(","))
}

/// The SDS secret name of trust in the CA the ACM certificate `arn` chains up to.
pub fn issuer_secret_name(arn: &str) -> String {
    format!("issuer:{arn}")
}

/// Adds the certificate to `common` (an ACM one as a secret over ADS).
fn certificate(
    emit: &mut Emit<'_>,
    cert: &TlsCertificate,
    common: &mut CommonTlsContext,
) -> Result<(), CertificateProblem> {
    if let Some(acm) = &cert.acm {
        let arn = &acm.certificate_arn;
        if !emit.opts.held_certificates.contains(arn) {
            return Err(CertificateProblem::NotHeld(arn.clone()));
        }
        emit.need_secret(arn, NeededSecret::Certificate { arn: arn.clone() });
        common
            .tls_certificate_sds_secret_configs
            .push(ads_secret(arn));
        Ok(())
    } else if let Some(file) = &cert.file {
        common.tls_certificates.push(EnvoyCertificate {
            certificate_chain: Some(file_source(&file.certificate_chain)),
            private_key: Some(file_source(&file.private_key)),
            ..Default::default()
        });
        Ok(())
    } else if let Some(sds) = &cert.sds {
        common
            .tls_certificate_sds_secret_configs
            .push(sds_secret(&sds.secret_name));
        Ok(())
    } else {
        Err(CertificateProblem::Missing)
    }
}

/// Adds trust and SAN checks to `common`; false (reported) when the trust
/// cannot be configured (ACM Private CAs meshplane does not hold).
fn validate(
    emit: &mut Emit<'_>,
    owner: &ResourceId,
    path: &str,
    v: &TlsValidationContext,
    default_sans: Vec<String>,
    common: &mut CommonTlsContext,
) -> bool {
    let sans = v
        .subject_alternative_names
        .as_ref()
        .map_or(default_sans, |s| s.match_.exact.clone());
    // SANs are FQDNs or URIs (user guide); each is matched as what it is.
    let matchers: Vec<SubjectAltNameMatcher> = sans
        .iter()
        .map(|name| {
            let ty = if name.contains("://") {
                subject_alt_name_matcher::SanType::Uri
            } else {
                subject_alt_name_matcher::SanType::Dns
            };
            SubjectAltNameMatcher {
                san_type: ty as i32,
                matcher: Some(StringMatcher {
                    match_pattern: Some(string_matcher::MatchPattern::Exact(name.clone())),
                    ignore_case: false,
                }),
                ..Default::default()
            }
        })
        .collect();
    let validation = |trusted_ca: Option<DataSource>| CertificateValidationContext {
        trusted_ca,
        match_typed_subject_alt_names: matchers.clone(),
        ..Default::default()
    };
    if let Some(file) = &v.trust.file {
        common.validation_context_type = Some(
            common_tls_context::ValidationContextType::ValidationContext(validation(Some(
                file_source(&file.certificate_chain),
            ))),
        );
        true
    } else if let Some(sds) = &v.trust.sds {
        common.validation_context_type = Some(secret_validation(
            sds_secret(&sds.secret_name),
            validation(None),
            matchers.is_empty(),
        ));
        true
    } else if let Some(acm) = &v.trust.acm {
        let mut authorities = acm.certificate_authority_arns.clone();
        authorities.sort();
        authorities.dedup();
        let missing: Vec<&str> = authorities
            .iter()
            .filter(|a| !emit.opts.held_certificates.contains(*a))
            .map(String::as_str)
            .collect();
        if authorities.is_empty() || !missing.is_empty() {
            emit.error(
                "translate.tls.acm",
                owner,
                &format!("{path}.trust.acm.certificateAuthorityArns"),
                format!("ACM Private CA(s) {} not held by meshplane: add their PEM chains to the --certificates configuration; certificates are not validated", missing.join(", ")),
            );
            return false;
        }
        let name = trust_secret_name(&authorities);
        emit.need_secret(&name, NeededSecret::Trust { authorities });
        common.validation_context_type = Some(secret_validation(
            ads_secret(&name),
            validation(None),
            matchers.is_empty(),
        ));
        true
    } else {
        emit.error(
            "translate.tls.trust",
            owner,
            &format!("{path}.trust"),
            "the trust names no acm, file or sds source; certificates are not validated".to_owned(),
        );
        false
    }
}

/// Trust from an SDS secret, with the SAN checks (if any) kept locally.
fn secret_validation(
    secret: SdsSecretConfig,
    local: CertificateValidationContext,
    no_sans: bool,
) -> common_tls_context::ValidationContextType {
    if no_sans {
        common_tls_context::ValidationContextType::ValidationContextSdsSecretConfig(secret)
    } else {
        common_tls_context::ValidationContextType::CombinedValidationContext(
            common_tls_context::CombinedCertificateValidationContext {
                default_validation_context: Some(local),
                validation_context_sds_secret_config: Some(secret),
                ..Default::default()
            },
        )
    }
}

/// A secret the control plane serves over ADS (ACM material it holds).
fn ads_secret(name: &str) -> SdsSecretConfig {
    SdsSecretConfig {
        name: name.to_owned(),
        sds_config: Some(ConfigSource {
            resource_api_version: ApiVersion::V3 as i32,
            config_source_specifier: Some(config_source::ConfigSourceSpecifier::Ads(
                AggregatedConfigSource::default(),
            )),
            ..Default::default()
        }),
    }
}

fn file_source(path: &str) -> DataSource {
    DataSource {
        specifier: Some(data_source::Specifier::Filename(path.to_owned())),
        ..Default::default()
    }
}

/// A secret from the local SDS server.
fn sds_secret(name: &str) -> SdsSecretConfig {
    SdsSecretConfig {
        name: name.to_owned(),
        sds_config: Some(ConfigSource {
            resource_api_version: ApiVersion::V3 as i32,
            config_source_specifier: Some(config_source::ConfigSourceSpecifier::ApiConfigSource(
                ApiConfigSource {
                    api_type: api_config_source::ApiType::Grpc as i32,
                    transport_api_version: ApiVersion::V3 as i32,
                    grpc_services: vec![GrpcService {
                        target_specifier: Some(grpc_service::TargetSpecifier::EnvoyGrpc(
                            grpc_service::EnvoyGrpc {
                                cluster_name: SDS_CLUSTER.to_owned(),
                                ..Default::default()
                            },
                        )),
                        ..Default::default()
                    }],
                    ..Default::default()
                },
            )),
            ..Default::default()
        }),
    }
}

fn socket(config: envoy_types::pb::google::protobuf::Any) -> TransportSocket {
    TransportSocket {
        name: TLS_TRANSPORT_SOCKET.to_owned(),
        config_type: Some(transport_socket::ConfigType::TypedConfig(config)),
    }
}
