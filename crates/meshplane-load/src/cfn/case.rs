//! CloudFormation's PascalCase property names to the API's camelCase.
//!
//! The AWS::AppMesh property names are the API member names with the first
//! letter capitalised, except where the API's name starts with an acronym,
//! which CloudFormation writes in capitals: `AWSCloudMap` (awsCloudMap),
//! `DNS`, `TLS`, `ACM`, `SDS`, `GRPC`, `HTTP`, `HTTP2`, `TCP`. Lower-casing
//! the leading run of capitals (all of it when the name is one acronym, all
//! but the last capital when a word follows) covers both forms, and the
//! regular `Http2Route` / `IpPreference` as well.

use crate::node::{Node, NodeKind};

pub fn camel_case(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    // The leading run of capitals and digits.
    let run = chars
        .iter()
        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        .count();
    if run == 0 {
        return key.to_owned();
    }
    // How many of them to lower-case: all when the run is the whole name or
    // a single capital; else all but the capital that starts the next word.
    let lower = if run == chars.len() || run == 1 {
        run
    } else {
        let last_upper = chars[..run]
            .iter()
            .rposition(|c| c.is_ascii_uppercase())
            .unwrap_or(0);
        if last_upper == 0 {
            1
        } else {
            last_upper
        }
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < lower {
                c.to_ascii_lowercase()
            } else {
                *c
            }
        })
        .collect()
}

/// Rewrites every key of a spec tree to camelCase, keeping the key as
/// written for messages.
pub fn camel_case_keys(node: &mut Node) {
    match &mut node.kind {
        NodeKind::Map(entries) => {
            for e in entries {
                e.key = camel_case(&e.source_key);
                camel_case_keys(&mut e.value);
            }
        }
        NodeKind::Seq(items) => items.iter_mut().for_each(camel_case_keys),
        NodeKind::Tagged(_, inner) => camel_case_keys(inner),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::camel_case;

    #[test]
    fn appmesh_property_names() {
        for (pascal, camel) in [
            ("AWSCloudMap", "awsCloudMap"),
            ("DNS", "dns"),
            ("TLS", "tls"),
            ("ACM", "acm"),
            ("SDS", "sds"),
            ("HTTP2", "http2"),
            ("GRPC", "grpc"),
            ("HTTP2Route", "http2Route"),
            ("Http2Route", "http2Route"),
            ("IpPreference", "ipPreference"),
            ("PortMapping", "portMapping"),
            ("CertificateAuthorityArns", "certificateAuthorityArns"),
            ("Type", "type"),
            ("V", "v"),
            ("alreadyCamel", "alreadyCamel"),
            ("", ""),
        ] {
            assert_eq!(camel_case(pascal), camel, "{pascal}");
        }
    }
}
