//! TLS scenario: an ACM certificate served by meshplane over ADS and
//! rotated under load. serviceB's listener is STRICT with
//! `certificate.acm.certificateArn`; serviceA's client policy trusts the
//! Private CA by `validation.trust.acm.certificateAuthorityArns`. meshplane
//! (`serve --certificates DIR`) maps both ARNs to PEM files and sends them
//! as SDS secrets. While serviceA's application sends requests without
//! pause, serviceB's certificate and key are replaced (same CA, new serial,
//! each file written aside and renamed over the old one): serviceB's Envoy
//! takes the new certificate (its `/certs`, and a new TLS connection to its
//! listener, verified against the CA) and no request fails.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::tls::{
    TlsMesh, INGRESS_HANDSHAKES, SERVICE_B_EGRESS, SERVICE_B_TLS_URL,
};
use meshplane_e2e::harness::certs::Pki;
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::topology::Topology;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SerialNumber,
};

const CERTIFICATE_ARN: &str = "arn:aws:acm:us-east-1:111122223333:certificate/abc";
const AUTHORITY_ARN: &str = "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/ca1";
const SERVER_NAME: &str = "serviceb.tls.local";
const CHAIN_FILE: &str = "serviceb.tls.local.pem";
const KEY_FILE: &str = "serviceb.tls.local.key";
const FIRST_SERIAL: u64 = 0x1001;
const ROTATED_SERIAL: u64 = 0x2002;

type Ca = CertifiedIssuer<'static, KeyPair>;

fn new_ca() -> anyhow::Result<Ca> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "meshplane e2e private CA");
    Ok(CertifiedIssuer::self_signed(params, KeyPair::generate()?)?)
}

/// serviceB's leaf (PEM chain, PEM key) with `serial`, signed by `ca`.
fn issue(ca: &Ca, serial: u64) -> anyhow::Result<(String, String)> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec![SERVER_NAME.to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, SERVER_NAME);
    params.serial_number = Some(SerialNumber::from(serial));
    let cert = params.signed_by(&key, ca)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Write `dir/name` aside and rename it over the old file.
fn replace_file(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    let aside = dir.join(format!(".{name}.new"));
    let target = dir.join(name);
    std::fs::write(&aside, text).with_context(|| format!("writing {}", aside.display()))?;
    std::fs::rename(&aside, &target).with_context(|| format!("renaming to {}", target.display()))
}

/// The serials of the certificate chains serviceB's Envoy holds
/// (`/certs`), as Envoy prints them (hex).
fn served_serials(t: &Topology) -> anyhow::Result<Vec<String>> {
    let (status, body) = t.envoy_admin("serviceB", "/certs")?;
    if status != 200 {
        bail!("serviceB's Envoy /certs answered {status}");
    }
    let certs: serde_json::Value = serde_json::from_str(&body).context("parsing /certs")?;
    let mut serials: Vec<String> = certs["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["cert_chain"].as_array().into_iter().flatten())
        .filter_map(|c| c["serial_number"].as_str())
        .map(|s| s.trim_start_matches('0').to_lowercase())
        .collect();
    serials.sort();
    serials.dedup();
    Ok(serials)
}

/// The serial (hex) of the certificate a new TLS connection to serviceB:80
/// (redirected to its Envoy's inbound listener; from the switch namespace,
/// SNI serviceB's name) is shown, the chain verified against `ca`.
fn handshake_serial(t: &Topology, ca: &Path) -> anyhow::Result<String> {
    let ip = t.app("serviceB")?.ip;
    let out = t
        .switch
        .command("openssl")
        .args(["s_client", "-connect", &format!("{ip}:80")])
        .args([
            "-servername",
            SERVER_NAME,
            "-verify_return_error",
            "-CAfile",
        ])
        .arg(ca)
        .stdin(std::process::Stdio::null())
        .output()
        .context("running openssl s_client")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let begin = text.find("-----BEGIN CERTIFICATE-----").with_context(|| {
        format!(
            "openssl s_client got no certificate: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    if !text.contains("Verify return code: 0 (ok)") {
        bail!("serviceB's certificate did not verify against the CA:\n{text}");
    }
    let mut x509 = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-serial"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("running openssl x509")?;
    {
        use std::io::Write;
        let mut stdin = x509.stdin.take().context("no stdin")?;
        stdin.write_all(text[begin..].as_bytes())?;
    }
    let out = x509.wait_with_output()?;
    let line = String::from_utf8_lossy(&out.stdout);
    let serial = line
        .trim()
        .strip_prefix("serial=")
        .with_context(|| format!("openssl x509 printed {line:?}"))?;
    Ok(serial.trim_start_matches('0').to_lowercase())
}

fn hex(serial: u64) -> String {
    format!("{serial:x}")
}

#[test]
fn acm_certificate_rotates_under_load_without_a_failed_request() -> anyhow::Result<()> {
    let start = Instant::now();
    let ca = new_ca()?;
    let mut write = |dir: &Path| -> anyhow::Result<Pki> {
        let ca_path = dir.join("ca.pem");
        std::fs::write(&ca_path, ca.pem())?;
        let (chain, key) = issue(&ca, FIRST_SERIAL)?;
        replace_file(dir, CHAIN_FILE, &chain)?;
        replace_file(dir, KEY_FILE, &key)?;
        std::fs::write(
            dir.join("certificates.yaml"),
            format!(
                "certificates:\n  - arn: {CERTIFICATE_ARN}\n    chain: {CHAIN_FILE}\n    key: {KEY_FILE}\n    ca: ca.pem\n\
                 certificateAuthorities:\n  - arn: {AUTHORITY_ARN}\n    chain: ca.pem\n"
            ),
        )?;
        Ok(Pki {
            ca: ca_path,
            servers: vec![(
                SERVER_NAME.to_owned(),
                dir.join(CHAIN_FILE),
                dir.join(KEY_FILE),
            )],
        })
    };
    let mesh = TlsMesh::start_with_certificates(
        "tls-acm-rotation",
        binaries!()?,
        "tls-acm",
        &["serviceA"],
        &mut write,
    )?;
    let t = &mesh.t;
    let pki_dir = mesh
        .pki
        .ca
        .parent()
        .context("CA file without a directory")?
        .to_path_buf();

    let first = served_serials(t)?;
    assert_eq!(
        first,
        vec![hex(FIRST_SERIAL)],
        "serviceB's Envoy does not hold the ACM certificate meshplane serves"
    );
    assert_eq!(handshake_serial(t, &mesh.pki.ca)?, hex(FIRST_SERIAL));
    let handshakes_start = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    let watch = t.watch(
        "serviceA",
        SERVICE_B_TLS_URL,
        &HttpLoad::default().concurrency(4),
        0,
    )?;
    std::thread::sleep(Duration::from_millis(1000));
    let before = watch.count();
    let handshakes_before = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;

    let (chain, key) = issue(&ca, ROTATED_SERIAL)?;
    let rotated_at = Instant::now();
    replace_file(&pki_dir, KEY_FILE, &key)?;
    replace_file(&pki_dir, CHAIN_FILE, &chain)?;
    let deadline = rotated_at + Duration::from_secs(15);
    let mut served = first.clone();
    while served != vec![hex(ROTATED_SERIAL)] {
        if Instant::now() > deadline {
            bail!(
                "serviceB's Envoy still holds serials {served:?} 15 s after the rotation (expected {})",
                hex(ROTATED_SERIAL)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
        served = served_serials(t)?;
    }
    let took = rotated_at.elapsed();
    let on_the_wire = handshake_serial(t, &mesh.pki.ca)?;
    std::thread::sleep(Duration::from_millis(1500));
    let (_, summary) = watch.stop()?;
    let handshakes_after = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    let upstream = mesh.stat(
        "serviceA",
        &format!("cluster.{SERVICE_B_EGRESS}.ssl.handshake"),
    )?;
    println!(
        "tls acm rotation: requests sent {}, failed {} ({before} before the rotation); statuses {:?}, errors {:?}; serial {} -> {} in serviceB's Envoy {} ms after the files changed, {on_the_wire} shown to a new connection; serviceB handshakes {handshakes_start} -> {handshakes_before} (under load) -> {handshakes_after}; serviceA upstream handshakes {upstream}",
        summary.sent,
        summary.failed,
        summary.by_status,
        summary.errors,
        hex(FIRST_SERIAL),
        hex(ROTATED_SERIAL),
        took.as_millis(),
    );
    assert_eq!(
        summary.failed, 0,
        "failed requests during the rotation: {summary:?}"
    );
    assert!(
        before > 0 && summary.count("serviceB") == summary.sent,
        "serviceB did not answer every request: {summary:?}"
    );
    assert_eq!(
        on_the_wire,
        hex(ROTATED_SERIAL),
        "a new connection is still shown the old certificate"
    );
    assert!(
        handshakes_before > handshakes_start,
        "serviceB's Envoy counted no TLS handshake under load"
    );
    assert!(upstream > 0, "serviceA's Envoy originated no TLS");
    println!(
        "tls acm rotation wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
