//! How each input format spells the fields of a spec, so that a finding's
//! path uses the words of the file it points at.
//!
//! The model and the API use camelCase (`portMapping`). CloudFormation's
//! `AWS::AppMesh::*` properties are the API names with a capital first
//! letter, except the members that are one acronym, which it writes in
//! capitals (`TLS`, `DNS`, `ACM`, `SDS`, `GRPC`, `HTTP`, `HTTP2`, `TCP`) and
//! `awsCloudMap`, which it writes `AWSCloudMap`. A field the file has is shown
//! as written there; this naming is for the fields it lacks.

use serde::Serialize;

/// The field naming of a source format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldNaming {
    /// The API's camelCase (CLI input, describe output, Kubernetes CRDs).
    #[default]
    Api,
    /// CloudFormation's property names.
    CloudFormation,
}

impl FieldNaming {
    /// The name of the API member `key` in this format.
    pub fn name(self, key: &str) -> String {
        match self {
            FieldNaming::Api => key.to_owned(),
            FieldNaming::CloudFormation => cloudformation_name(key),
        }
    }
}

fn cloudformation_name(key: &str) -> String {
    match key {
        "tls" | "dns" | "acm" | "sds" | "grpc" | "http" | "http2" | "tcp" => {
            key.to_ascii_uppercase()
        }
        "awsCloudMap" => "AWSCloudMap".to_owned(),
        _ => {
            let mut chars = key.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        }
    }
}

/// One step of a field path: `listeners`, `[0]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'p> {
    Key(&'p str),
    Index(&'p str),
}

/// The steps of `listeners[0].portMapping.port`.
pub fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some(end) = rest.find(']') {
            out.push(Step::Index(rest.get(1..end).unwrap_or("")));
            rest = &rest[end + 1..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudformation_names_of_api_members() {
        for (api, cfn) in [
            ("portMapping", "PortMapping"),
            ("tls", "TLS"),
            ("awsCloudMap", "AWSCloudMap"),
            ("http2", "HTTP2"),
            ("http2Route", "Http2Route"),
            ("virtualNode", "VirtualNode"),
            ("", ""),
        ] {
            assert_eq!(FieldNaming::CloudFormation.name(api), cfn);
            assert_eq!(FieldNaming::Api.name(api), api);
        }
    }

    #[test]
    fn paths_split_into_keys_and_indexes() {
        assert_eq!(
            steps("listeners[0].portMapping.port"),
            [
                Step::Key("listeners"),
                Step::Index("0"),
                Step::Key("portMapping"),
                Step::Key("port")
            ]
        );
        assert_eq!(steps("[2][3]"), [Step::Index("2"), Step::Index("3")]);
        assert_eq!(steps(""), []);
    }
}
