//! Auth config files that cannot be used are refused naming the file, the
//! field path and what to do.

use std::path::{Path, PathBuf};

use meshplane_authz::{AuthConfig, ConfigError};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Loads `yaml` as if it were tests/fixtures/auth.yaml.
fn load(yaml: &str) -> Result<AuthConfig, ConfigError> {
    AuthConfig::from_yaml_str(yaml, &fixtures().join("auth.yaml"))
}

fn refused(yaml: &str, file: &str, path: &str, fragments: &[&str]) {
    match load(yaml) {
        Ok(c) => panic!("accepted:\n{yaml}\n{c:?}"),
        Err(e) => {
            assert_eq!(e.file, fixtures().join(file), "{e}");
            assert_eq!(e.path, path, "{e}");
            let shown = e.to_string();
            for f in fragments {
                assert!(shown.contains(f), "{shown} lacks {f:?}");
            }
        }
    }
}

const TOKEN_HASH: &str = "506a0f00460e6e79e00477a263812dc35a453e092f4b07fe6c51527db6715fd4";

#[test]
fn a_minimal_config_loads() {
    let c = load(&format!(
        "tokens:\n  - principal: p\n    sha256: {TOKEN_HASH}\nprincipals:\n  p:\n    policies:\n      - file: policies/envoy-access.json\n      - file: policies/envoy-access.json\n"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.tokens.len(), 1);
    assert!(c.mtls.is_none());
    let policies = c.policies_for("p");
    assert_eq!(policies.len(), 2);
    assert!(policies[0].source.ends_with("envoy-access.json"));
    assert!(c.policies_for("q").is_empty());
}

#[test]
fn policy_file_errors_name_the_policy_file_and_the_reference() {
    refused(
        "mtls: {}\nprincipals:\n  p:\n    policies:\n      - file: policies/bad-effect.json\n",
        "policies/bad-effect.json",
        "Statement[1].Effect",
        &[
            "bad-effect.json: Statement[1].Effect: Effect must be",
            "referenced by",
            "auth.yaml principals.p.policies[0].file",
        ],
    );
    refused(
        "mtls: {}\nprincipals:\n  p:\n    policies:\n      - file: policies/with-condition.json\n",
        "policies/with-condition.json",
        "Statement.Condition",
        &["Condition is not supported"],
    );
    refused(
        "mtls: {}\nprincipals:\n  p:\n    policies:\n      - file: policies/not-json.json\n",
        "policies/not-json.json",
        "",
        &["not valid JSON", "line 5"],
    );
    refused(
        "mtls: {}\nprincipals:\n  p:\n    policies:\n      - file: policies/missing.json\n",
        "policies/missing.json",
        "",
        &[
            "cannot read the policy file",
            "principals.p.policies[0].file",
        ],
    );
}

#[test]
fn inline_policy_errors_are_paths_in_the_config() {
    refused(
        "mtls: {}\nprincipals:\n  web:\n    policies:\n      - inline: {Statement: [{Effect: Allow, Action: '*'}]}\n",
        "auth.yaml",
        "principals.web.policies[0].inline.Statement[0]",
        &["neither Resource nor NotResource"],
    );
    refused(
        "mtls: {}\nprincipals:\n  web:\n    policies:\n      - inline: '{\"Statement\": 1}'\n",
        "auth.yaml",
        "principals.web.policies[0].inline.Statement",
        &["object or an array"],
    );
    refused(
        "mtls: {}\nprincipals:\n  web:\n    policies:\n      - {}\n",
        "auth.yaml",
        "principals.web.policies[0]",
        &["`file:", "`inline:"],
    );
    refused(
        "mtls: {}\nprincipals:\n  web:\n    policies: []\n",
        "auth.yaml",
        "principals.web.policies",
        &["no policies"],
    );
}

#[test]
fn field_errors() {
    refused(
        "tokns: []\n",
        "auth.yaml",
        "tokns",
        &["unknown field `tokns`"],
    );
    refused(
        "tokens:\n  - principal: p\n    sha256: abc\nprincipals: {p: {policies: [{file: policies/envoy-access.json}]}}\n",
        "auth.yaml",
        "tokens[0].sha256",
        &["64 hexadecimal digits", "meshplane hash-token"],
    );
    refused(
        &format!("tokens:\n  - principal: p\n    sha256: {TOKEN_HASH}\n  - principal: q\n    sha256: {TOKEN_HASH}\nprincipals: {{'*': {{policies: [{{file: policies/envoy-access.json}}]}}}}\n"),
        "auth.yaml",
        "tokens[1].sha256",
        &["same token as tokens[0]"],
    );
    refused(
        &format!("tokens:\n  - principal: nobody\n    sha256: {TOKEN_HASH}\nprincipals: {{p: {{policies: [{{file: policies/envoy-access.json}}]}}}}\n"),
        "auth.yaml",
        "tokens[0].principal",
        &["'nobody' has no entry under `principals:`"],
    );
    refused(
        "mtls:\n  accept: [uriSan, spiffe]\n",
        "auth.yaml",
        "mtls.accept[1]",
        &["unknown variant `spiffe`"],
    );
    refused(
        "mtls:\n  accept: []\n",
        "auth.yaml",
        "mtls.accept",
        &["no certificate name kinds"],
    );
    refused(
        "mtls:\n  trustDomains: ['spiffe://example.org']\n",
        "auth.yaml",
        "mtls.trustDomains[0]",
        &["bare name"],
    );
    refused(
        "mtls:\n  accept: [dnsSan]\n  trustDomains: [example.org]\n",
        "auth.yaml",
        "mtls.trustDomains",
        &["uriSan is not in mtls.accept"],
    );
    refused(
        "principals: {}\n",
        "auth.yaml",
        "",
        &["no way to authenticate"],
    );
}

#[test]
fn yaml_and_io_errors() {
    refused("mtls: [\n", "auth.yaml", "", &["not valid YAML", "line"]);
    refused("", "auth.yaml", "", &["empty"]);
    refused(
        "mtls: {}\nmtls: {}\n",
        "auth.yaml",
        "",
        &["duplicate key \"mtls\"", "line 2"],
    );
    let missing = fixtures().join("no-such-config.yaml");
    let e = AuthConfig::from_file(&missing).expect_err("the file does not exist");
    assert_eq!(e.file, missing);
    assert!(e.to_string().contains("cannot read the auth config"), "{e}");
    assert!(Path::new(&e.file).ends_with("no-such-config.yaml"));
}
