//! Policy documents that cannot be used are refused with the field path and a
//! message saying what to write instead.

use meshplane_authz::policy::{ActionMatch, Effect, PolicyVersion, ResourceMatch};
use meshplane_authz::PolicyDocument;
use serde_json::json;

/// Parses `doc`, expecting an error at `path` whose message has every fragment.
fn refused(doc: serde_json::Value, path: &str, fragments: &[&str]) {
    match PolicyDocument::from_value(&doc, "test.json") {
        Ok(parsed) => panic!("accepted {doc}: {parsed:?}"),
        Err(e) => {
            assert_eq!(e.path, path, "{e}");
            for f in fragments {
                assert!(e.message.contains(f), "{e} lacks {f:?}");
            }
        }
    }
}

fn allow_all() -> serde_json::Value {
    json!({"Effect": "Allow", "Action": "appmesh:StreamAggregatedResources", "Resource": "*"})
}

#[test]
fn a_lone_statement_object_and_string_or_list_forms() {
    let doc = PolicyDocument::from_value(
        &json!({"Version": "2012-10-17", "Id": "p1", "Statement": {"Sid": "One", "Effect": "Deny", "NotAction": ["s3:*", "ec2:*"], "NotResource": "arn:aws:appmesh:*:*:mesh/a"}}),
        "inline",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc.version, PolicyVersion::V2012_10_17);
    assert_eq!(doc.id.as_deref(), Some("p1"));
    assert_eq!(doc.statements.len(), 1);
    let s = &doc.statements[0];
    assert_eq!(
        (s.index, s.sid.as_deref(), s.effect),
        (0, Some("One"), Effect::Deny)
    );
    assert!(matches!(&s.actions, ActionMatch::NotAction(p) if p.len() == 2));
    assert!(matches!(&s.resources, ResourceMatch::NotResource(p) if p.len() == 1));
    assert_eq!(s.describe(), "statement 'One' (Statement[0])");
}

#[test]
fn bad_effect() {
    refused(
        json!({"Version": "2012-10-17", "Statement": [allow_all(), {"Effect": "allow", "Action": "*", "Resource": "*"}]}),
        "Statement[1].Effect",
        &["\"Allow\" or \"Deny\"", "case-sensitive", "\"allow\""],
    );
    refused(
        json!({"Statement": {"Action": "*", "Resource": "*"}}),
        "Statement",
        &["no Effect"],
    );
}

#[test]
fn condition_is_refused_not_ignored() {
    refused(
        json!({"Version": "2012-10-17", "Statement": [allow_all(), {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a"}}}]}),
        "Statement[1].Condition",
        &["Condition is not supported", "remove it"],
    );
}

#[test]
fn missing_or_doubled_resource() {
    refused(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}),
        "Statement[0]",
        &["neither Resource nor NotResource"],
    );
    refused(
        json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"}}),
        "Statement",
        &["either Resource or NotResource, not both"],
    );
    refused(
        json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": []}}),
        "Statement.Resource",
        &["empty"],
    );
}

#[test]
fn missing_action() {
    refused(
        json!({"Statement": [{"Effect": "Allow", "Resource": "*"}]}),
        "Statement[0]",
        &["neither Action nor NotAction"],
    );
    refused(
        json!({"Statement": [{"Effect": "Allow", "Action": ["appmesh:*", 3], "Resource": "*"}]}),
        "Statement[0].Action[1]",
        &["expected a string, found a number"],
    );
    refused(
        json!({"Statement": [{"Effect": "Allow", "Action": "StreamAggregatedResources", "Resource": "*"}]}),
        "Statement[0].Action",
        &["not an action", "appmesh:StreamAggregatedResources"],
    );
}

#[test]
fn resources_must_be_full_arns() {
    refused(
        json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": ["*", "mesh/app1/virtualNode/a"]}]}),
        "Statement[0].Resource[1]",
        &[
            "short App Mesh name",
            "arn:aws:appmesh:<region>:<account>:mesh/app1/virtualNode/a",
        ],
    );
    refused(
        json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:appmesh"}]}),
        "Statement[0].Resource",
        &["not an ARN"],
    );
    refused(
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:appmesh:*:*:mesh/${aws:username}"}]}),
        "Statement[0].Resource",
        &["policy variable"],
    );
}

#[test]
fn document_shape() {
    refused(json!([allow_all()]), "", &["must be a JSON object"]);
    refused(json!({"Version": "2012-10-17"}), "", &["no Statement"]);
    refused(
        json!({"Version": "2012-10-17", "Statement": []}),
        "Statement",
        &["empty"],
    );
    refused(
        json!({"Version": "2013-01-01", "Statement": allow_all()}),
        "Version",
        &["2012-10-17"],
    );
    refused(
        json!({"version": "2012-10-17", "Statement": allow_all()}),
        "version",
        &["case-sensitive", "'Version'"],
    );
    refused(
        json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": {"AWS": "*"}}]}),
        "Statement[0].Principal",
        &["principals:"],
    );
    refused(
        json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Foo": 1}]}),
        "Statement[0].Foo",
        &["unknown policy element", "expected one of Sid, Effect"],
    );
}

#[test]
fn json_syntax_errors_name_the_line() {
    let e = PolicyDocument::from_json("{\n  \"Statement\": [,]\n}", "x.json")
        .expect_err("a stray comma");
    assert!(e.message.contains("line 2"), "{e}");
}
