use super::*;

fn pem_pair() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["secure.apps.local".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

fn dir_with(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = pem_pair();
    std::fs::write(dir.path().join("server.pem"), &cert).unwrap();
    std::fs::write(dir.path().join("server.key"), key).unwrap();
    std::fs::write(dir.path().join("ca.pem"), &cert).unwrap();
    std::fs::write(dir.path().join("certificates.yaml"), yaml).unwrap();
    dir
}

const GOOD: &str = "certificates:
  - arn: arn:aws:acm:us-east-1:111122223333:certificate/abc
    chain: server.pem
    key: server.key
certificateAuthorities:
  - arn: arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/x
    chain: ca.pem
";

#[test]
fn loads_arns_and_builds_only_the_requested_secrets() {
    let dir = dir_with(GOOD);
    let store = CertificateStore::load(dir.path()).unwrap();
    assert_eq!(
        store.arns().into_iter().collect::<Vec<_>>(),
        [
            "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/x",
            "arn:aws:acm:us-east-1:111122223333:certificate/abc"
        ]
    );
    let cert_arn = "arn:aws:acm:us-east-1:111122223333:certificate/abc".to_owned();
    let mut needed = BTreeMap::new();
    needed.insert(
        cert_arn.clone(),
        NeededSecret::Certificate {
            arn: cert_arn.clone(),
        },
    );
    needed.insert(
        "trust:x".to_owned(),
        NeededSecret::Trust {
            authorities: vec![
                "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/x".to_owned(),
            ],
        },
    );
    needed.insert(
        "issuer".to_owned(),
        NeededSecret::IssuerOf {
            arn: cert_arn.clone(),
        },
    );
    // Not held: left out (the translation reported it).
    needed.insert(
        "ghost".to_owned(),
        NeededSecret::Certificate {
            arn: "arn:aws:acm:us-east-1:111122223333:certificate/ghost".to_owned(),
        },
    );
    let secrets = store.secrets(&needed);
    let names: Vec<&str> = secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [cert_arn.as_str(), "issuer", "trust:x"]);
    let chain = std::fs::read(dir.path().join("server.pem")).unwrap();
    match &secrets[0].r#type {
        Some(secret::Type::TlsCertificate(c)) => {
            assert_eq!(c.certificate_chain, Some(inline(chain.clone())));
        }
        other => panic!("{other:?}"),
    }
    // Without `ca`, clients trust the certificate's own chain.
    assert_eq!(secrets[1].r#type, Some(trust(chain)));
}

#[test]
fn errors_name_the_file_and_the_field() {
    let cases = [
        ("certificates:\n  - arn: arn:aws:acm:r:1:certificate/a\n    chain: server.pem\n", "certificates[0].key: required"),
        ("certificates:\n  - arn: arn:aws:acm-pca:r:1:certificate-authority/a\n    chain: server.pem\n    key: server.key\n", "certificates[0].arn: 'arn:aws:acm-pca"),
        ("certificates:\n  - arn: arn:aws:acm:r:1:certificate/a\n    chain: server.key\n    key: server.key\n", "certificates[0].chain: "),
        ("certificates:\n  - arn: arn:aws:acm:r:1:certificate/a\n    chain: missing.pem\n    key: server.key\n", "certificates[0].chain: cannot read"),
        ("certificateAuthorities:\n  - arn: arn:aws:acm-pca:r:1:certificate-authority/a\n    chain: ca.pem\n    colour: red\n", "certificateAuthorities[0].colour: unknown field"),
        ("certificateAuthorities:\n  - arn: arn:aws:acm-pca:r:1:certificate-authority/a\n    chain: ca.pem\n  - arn: arn:aws:acm-pca:r:1:certificate-authority/a\n    chain: ca.pem\n", "certificateAuthorities[1].arn: arn:aws:acm-pca:r:1:certificate-authority/a is listed twice"),
        ("certificates: [\n", "not valid YAML"),
    ];
    for (yaml, expected) in cases {
        let dir = dir_with(yaml);
        let e = CertificateStore::load(dir.path()).unwrap_err().to_string();
        let file = dir.path().join("certificates.yaml").display().to_string();
        assert!(e.starts_with(&file), "{e}");
        assert!(e.contains(expected), "{e} lacks {expected}");
    }
    let empty = tempfile::tempdir().unwrap();
    let e = CertificateStore::load(empty.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no certificates.yaml"), "{e}");
}
