//! The App Mesh controller's way in (docs/app-mesh-api.md): a client that
//! cannot be given an endpoint reaches meshplane through the regional App
//! Mesh name. Here the real `aws` CLI, without `--endpoint-url`, in a
//! namespace whose hosts file maps `appmesh.us-west-2.amazonaws.com` to
//! meshplane, which serves the API with TLS on 443 from a certificate for
//! that name; `AWS_CA_BUNDLE` trusts its CA. Without the bundle the same
//! command fails certificate verification.

use meshplane_e2e::binaries;
use meshplane_e2e::harness::api::AwsCall;
use meshplane_e2e::harness::certs::write_pki;
use meshplane_e2e::harness::topology::SWITCH_IP;
use meshplane_e2e::Topology;

const REGIONAL: &str = "appmesh.us-west-2.amazonaws.com";

#[test]
fn aws_cli_reaches_meshplane_by_the_regional_name_and_ca_bundle() -> anyhow::Result<()> {
    let mut t = Topology::new("api-regional-tls", binaries!()?)?;
    let pki = write_pki(&t.path("pki"), &[REGIONAL])?;
    let (cert, key) = pki.server(REGIONAL).expect("certificate written");
    t.control_args.extend([
        "--tls-cert".to_owned(),
        cert.display().to_string(),
        "--tls-key".to_owned(),
        key.display().to_string(),
    ]);
    t.add_host(REGIONAL, SWITCH_IP)?;
    t.start_control_api_on(443)?;

    let trusted = AwsCall {
        endpoint: None,
        env: vec![("AWS_CA_BUNDLE".into(), pki.ca.display().to_string())],
    };
    let created = t.aws_appmesh_with(&["create-mesh", "--mesh-name", "apps"], &trusted)?;
    assert!(created.contains("arn:aws:appmesh:"), "{created}");
    let listed = t.aws_appmesh_with(&["list-meshes"], &trusted)?;
    let v: serde_json::Value = serde_json::from_str(&listed)?;
    assert_eq!(v["meshes"][0]["meshName"], "apps", "{listed}");

    let untrusted = AwsCall::default();
    let err = t
        .aws_appmesh_with(&["list-meshes"], &untrusted)
        .expect_err("the CLI trusted meshplane's test CA without AWS_CA_BUNDLE");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("CERTIFICATE_VERIFY_FAILED") || msg.contains("certificate verify failed"),
        "expected a certificate verification failure: {msg}"
    );
    Ok(())
}
