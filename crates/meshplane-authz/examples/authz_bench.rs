//! Prints how long authentication and authorization take with a large auth
//! config: `cargo run -p meshplane-authz --example authz_bench [principals]`.
//!
//! The config has one SPIFFE principal per virtual node with App Mesh's
//! per-node policy, a namespace-wide wildcard principal with an Allow and a
//! Deny, and one token per hundred principals.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use meshplane_authz::{
    AccessControl, AuthConfig, PeerCredentials, TokenHash, STREAM_AGGREGATED_RESOURCES,
};

fn main() {
    let principals: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let tokens = principals / 100 + 1;
    let mut yaml =
        String::from("mtls:\n  accept: [uriSan]\n  trustDomains: [example.org]\ntokens:\n");
    for t in 0..tokens {
        let _ = writeln!(
            yaml,
            "  - principal: token-{t}\n    sha256: {}",
            TokenHash::of(&format!("token-secret-{t}"))
        );
    }
    yaml.push_str("principals:\n");
    for t in 0..tokens {
        let _ = writeln!(yaml, "  token-{t}:\n    policies: [{{inline: {{Statement: {{Effect: Allow, Action: '*', Resource: '*'}}}}}}]");
    }
    for i in 0..principals {
        let _ = writeln!(
            yaml,
            "  spiffe://example.org/ns/apps/sa/node-{i}:\n    policies:\n      - inline: {{Version: '2012-10-17', Statement: [{{Effect: Allow, Action: appmesh:StreamAggregatedResources, Resource: [arn:aws:appmesh:us-west-2:111122223333:mesh/apps/virtualNode/node-{i}]}}]}}"
        );
    }
    yaml.push_str("  spiffe://example.org/ns/apps/*:\n    policies:\n      - inline: {Statement: [{Effect: Deny, Action: 'appmesh:*', Resource: 'arn:aws:appmesh:*:*:mesh/apps/virtualNode/payments*'}]}\n");

    let start = Instant::now();
    let config = match AuthConfig::from_yaml_str(&yaml, Path::new("bench.yaml")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let load = start.elapsed();
    let access = AccessControl::new(config);

    let rounds = 20_000usize;
    let start = Instant::now();
    let mut allowed = 0usize;
    for r in 0..rounds {
        let i = r % principals;
        let creds = PeerCredentials {
            tls_uri_sans: vec![format!("spiffe://example.org/ns/apps/sa/node-{i}")],
            ..PeerCredentials::default()
        };
        let arn = format!("arn:aws:appmesh:us-west-2:111122223333:mesh/apps/virtualNode/node-{i}");
        allowed += usize::from(
            access
                .check(&creds, STREAM_AGGREGATED_RESOURCES, &arn)
                .is_ok(),
        );
    }
    let mtls = start.elapsed();

    let start = Instant::now();
    for r in 0..rounds {
        let creds = PeerCredentials {
            bearer_token: Some(format!("token-secret-{}", r % tokens)),
            ..PeerCredentials::default()
        };
        allowed += usize::from(access.authenticate(&creds).is_ok());
    }
    let token = start.elapsed();

    assert_eq!(allowed, 2 * rounds, "every request should have passed");
    println!("principals: {principals}, tokens: {tokens}");
    println!(
        "config load (YAML + {} policies): {:.1} ms",
        principals + tokens + 1,
        load.as_secs_f64() * 1e3
    );
    println!(
        "mTLS authenticate + authorize: {:.2} us/request",
        mtls.as_secs_f64() * 1e6 / rounds as f64
    );
    println!(
        "token authenticate ({tokens} digests, constant time): {:.2} us/request",
        token.as_secs_f64() * 1e6 / rounds as f64
    );
}
