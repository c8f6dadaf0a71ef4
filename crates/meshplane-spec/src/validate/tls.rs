//! TLS: listener termination, client policies and backend defaults.
//!
//! One set of types serves nodes and gateways; the positions where the API
//! allows fewer union members (no `acm` listener validation trust, no `acm`
//! client certificate) are checked here.

use super::context::{Path, Sink};
use super::fields;
use crate::tls::{
    BackendDefaults, ClientPolicy, ListenerTls, TlsCertificate, TlsValidationContext,
};

/// Which side of a connection a validation context belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Terminating: a listener validating client certificates (file|sds trust).
    Listener,
    /// Originating: a client policy validating the server (acm|file|sds trust).
    Client,
}

pub(crate) fn listener_tls(s: &mut Sink, p: &Path, tls: &ListenerTls) {
    let cp = p.field("certificate");
    fields::exactly_one(
        s,
        &cp,
        "listener TLS certificate",
        &[
            ("acm", tls.certificate.acm.is_some()),
            ("file", tls.certificate.file.is_some()),
            ("sds", tls.certificate.sds.is_some()),
        ],
    );
    certificate_fields(s, &cp, &tls.certificate);
    if let Some(v) = &tls.validation {
        validation(s, &p.field("validation"), v, Side::Listener, false);
    }
}

pub(crate) fn backend_defaults(s: &mut Sink, p: &Path, bd: Option<&BackendDefaults>) {
    if let Some(cp) = bd.and_then(|b| b.client_policy.as_ref()) {
        client_policy(s, &p.field("clientPolicy"), cp);
    }
}

pub(crate) fn client_policy(s: &mut Sink, p: &Path, cp: &ClientPolicy) {
    let Some(tls) = &cp.tls else { return };
    let tp = p.field("tls");
    if let Some(cert) = &tls.certificate {
        let cp = tp.field("certificate");
        if cert.acm.is_some() {
            s.error(
                "tls.client_certificate",
                &cp.field("acm"),
                "a client certificate cannot come from ACM; use file or sds",
            );
        }
        if cert.acm.is_none() || cert.file.is_some() || cert.sds.is_some() {
            fields::exactly_one(
                s,
                &cp,
                "client TLS certificate",
                &[("file", cert.file.is_some()), ("sds", cert.sds.is_some())],
            );
        }
        certificate_fields(s, &cp, cert);
    }
    for (i, port) in tls.ports.iter().flatten().enumerate() {
        fields::port(s, &tp.field("ports").index(i), Some(*port));
    }
    let enforce = tls.enforce.unwrap_or(true);
    validation(
        s,
        &tp.field("validation"),
        &tls.validation,
        Side::Client,
        enforce,
    );
}

fn certificate_fields(s: &mut Sink, p: &Path, cert: &TlsCertificate) {
    if let Some(file) = &cert.file {
        let fp = p.field("file");
        fields::length(
            s,
            &fp.field("certificateChain"),
            &file.certificate_chain,
            1,
            255,
        );
        fields::length(s, &fp.field("privateKey"), &file.private_key, 1, 255);
    }
}

fn validation(s: &mut Sink, p: &Path, v: &TlsValidationContext, side: Side, enforce: bool) {
    let tp = p.field("trust");
    let trust = &v.trust;
    if side == Side::Listener && trust.acm.is_some() {
        s.error(
            "tls.validation_trust",
            &tp.field("acm"),
            "a listener cannot validate client certificates against ACM; use file or sds trust",
        );
    }
    let members: Vec<(&str, bool)> = match side {
        Side::Listener if trust.acm.is_some() && trust.file.is_none() && trust.sds.is_none() => {
            vec![]
        }
        Side::Listener => vec![("file", trust.file.is_some()), ("sds", trust.sds.is_some())],
        Side::Client => vec![
            ("acm", trust.acm.is_some()),
            ("file", trust.file.is_some()),
            ("sds", trust.sds.is_some()),
        ],
    };
    if !members.is_empty() {
        fields::exactly_one(s, &tp, "TLS validation trust", &members);
    }
    if let Some(acm) = &trust.acm {
        let ap = tp.field("acm").field("certificateAuthorityArns");
        fields::list_size(s, &ap, acm.certificate_authority_arns.len(), 1, Some(3));
    }
    if let Some(file) = &trust.file {
        fields::length(
            s,
            &tp.field("file").field("certificateChain"),
            &file.certificate_chain,
            1,
            255,
        );
    }
    let Some(sans) = &v.subject_alternative_names else {
        return;
    };
    let sp = p
        .field("subjectAlternativeNames")
        .field("match")
        .field("exact");
    for (i, san) in sans.match_.exact.iter().enumerate() {
        fields::length(s, &sp.index(i), san, 1, 254);
        if enforce && san.contains('*') {
            s.error(
                "tls.san_wildcard",
                &sp.index(i),
                format!("wildcard SAN '{san}' is not accepted while the client policy enforces TLS; list exact names, or set enforce to false"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::validate::testing::{check, messages};

    const A: &str = "mesh/m/virtualNode/a";

    fn listener_tls(tls: Value) -> Value {
        json!({
            "listeners": [{"portMapping": {"port": 443, "protocol": "http"}, "tls": tls}],
            "serviceDiscovery": {"dns": {"hostname": "a.local"}}
        })
    }

    fn client(tls: Value) -> Value {
        json!({"backendDefaults": {"clientPolicy": {"tls": tls}}})
    }

    #[test]
    fn listener_certificates_and_trust() {
        check(
            &[(
                A,
                listener_tls(
                    json!({"mode": "STRICT", "certificate": {"sds": {"secretName": "s"}},
            "validation": {"trust": {"file": {"certificateChain": "/ca.pem"}}}}),
                ),
            )],
            &[],
        );
        check(
            &[(
                A,
                listener_tls(json!({"mode": "STRICT", "certificate": {}})),
            )],
            &["error[union.exactly_one] mesh/m/virtualNode/a spec.listeners[0].tls.certificate"],
        );
        check(
            &[(
                A,
                listener_tls(json!({"mode": "STRICT",
            "certificate": {"file": {"certificateChain": "", "privateKey": "/k"}},
            "validation": {"trust": {"acm": {"certificateAuthorityArns": ["arn:x"]}}}})),
            )],
            &[
                "error[field.length] mesh/m/virtualNode/a spec.listeners[0].tls.certificate.file.certificateChain",
                "error[tls.validation_trust] mesh/m/virtualNode/a spec.listeners[0].tls.validation.trust.acm",
            ],
        );
    }

    #[test]
    fn client_policies() {
        let trust = json!({"trust": {"acm": {"certificateAuthorityArns": ["a", "b", "c", "d"]}}});
        check(&[(A, client(json!({"validation": trust, "ports": [0]})))], &[
            "error[field.list_size] mesh/m/virtualNode/a spec.backendDefaults.clientPolicy.tls.validation.trust.acm.certificateAuthorityArns",
            "error[field.range] mesh/m/virtualNode/a spec.backendDefaults.clientPolicy.tls.ports[0]",
        ]);
        check(&[(A, client(json!({"certificate": {"acm": {"certificateArn": "arn:c"}},
            "validation": {"trust": {"sds": {"secretName": "ca"}}}})))], &[
            "error[tls.client_certificate] mesh/m/virtualNode/a spec.backendDefaults.clientPolicy.tls.certificate.acm",
        ]);
        check(
            &[(
                A,
                client(json!({"validation": {"trust": {
            "sds": {"secretName": "ca"}, "file": {"certificateChain": "/ca"}}}})),
            )],
            &["error[union.exactly_one] mesh/m/virtualNode/a spec.backendDefaults.clientPolicy.tls.validation.trust"],
        );
    }

    #[test]
    fn wildcard_sans_only_without_enforcement() {
        let v = json!({"trust": {"sds": {"secretName": "ca"}},
            "subjectAlternativeNames": {"match": {"exact": ["*.apps.local"]}}});
        check(&[(A, client(json!({"validation": v.clone()})))], &[
            "error[tls.san_wildcard] mesh/m/virtualNode/a spec.backendDefaults.clientPolicy.tls.validation.subjectAlternativeNames.match.exact[0]",
        ]);
        check(
            &[(
                A,
                client(json!({"validation": v.clone(), "enforce": false})),
            )],
            &[],
        );
        let backend = json!({"backends": [{"virtualService": {"virtualServiceName": "b.local",
            "clientPolicy": {"tls": {"enforce": true, "validation": v}}}}]});
        let msgs = messages(
            &[(A, backend), ("mesh/m/virtualService/b.local", json!({}))],
            "tls.san_wildcard",
        );
        assert_eq!(msgs.len(), 1);
        assert!(msgs[0].contains("enforce"), "{}", msgs[0]);
    }
}
