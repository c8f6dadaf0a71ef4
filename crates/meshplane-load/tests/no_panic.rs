#![allow(clippy::unwrap_used)]
//! No input makes the loader panic: random JSON/YAML values, mutated and
//! truncated example files, arbitrary bytes, each under every extension.

use std::path::{Path, PathBuf};

use meshplane_load::{export, load_str, ExportFormat, LoadOptions};
use proptest::prelude::*;
use serde_json::Value;

const EXTENSIONS: [&str; 3] = ["json", "yaml", "yml"];

fn example_texts() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/examples");
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [
        "apps/cli-json",
        "apps/describe",
        "apps/cloudformation",
        "apps/kubernetes",
        "external-traffic",
    ] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        found.sort();
        files.extend(
            found
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e != "md")),
        );
    }
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

/// Keys the loader looks at, so random documents reach past detection.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "meshName", "virtualNodeName", "virtualRouterName", "routeName", "virtualServiceName",
            "virtualGatewayName", "gatewayRouteName", "spec", "meshOwner", "virtualNode", "Resources", "Type",
            "Properties", "MeshName", "VirtualNodeName", "Spec", "Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If",
            "Fn::Join", "Conditions", "Parameters", "Default", "apiVersion", "kind", "metadata", "name",
            "namespace", "awsName", "meshRef", "listeners", "portMapping", "port", "protocol", "routes",
            "virtualNodeRef", "virtualServiceRef", "backends", "virtualService", "provider", "items",
        ]).prop_map(str::to_owned),
        1 => "[a-zA-Z:]{0,8}",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "appmesh.k8s.aws/v1beta2",
            "VirtualNode",
            "VirtualRouter",
            "Mesh",
            "GatewayRoute",
            "List",
            "AWS::AppMesh::VirtualNode",
            "AWS::AppMesh::Route",
            "AWS::AppMesh::Mesh",
            "m",
            "http",
            "tcp",
            "Mesh.MeshName",
            "${AWS::Region}-${X}",
            "arn:aws:appmesh:us-east-1:1:mesh/m/virtualNode/a",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        "\\PC{0,10}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Loads `text` as each file type; whatever loaded must survive export -> load.
fn load_everywhere(text: &str) {
    for ext in EXTENSIONS {
        let file = PathBuf::from(format!("input.{ext}"));
        let loaded = load_str(&file, text, &LoadOptions::default());
        for d in &loaded.diagnostics {
            assert_eq!(d.file.as_deref(), Some(file.as_path()), "{d}");
            assert!(d.rule.starts_with("load."), "{d}");
        }
        for (format, name) in [
            (ExportFormat::CliJson, "x.json"),
            (ExportFormat::Yaml, "x.yaml"),
        ] {
            let exported = export(&loaded.model, format);
            let again = load_str(Path::new(name), &exported, &LoadOptions::default());
            assert!(
                again.diagnostics.is_empty(),
                "{:?}\n{exported}",
                again.diagnostics
            );
            assert_eq!(again.model, loaded.model, "{exported}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_documents(doc in value()) {
        load_everywhere(&serde_json::to_string_pretty(&doc).unwrap());
        load_everywhere(&meshplane_json_as_yaml(&doc));
    }

    #[test]
    fn mutated_examples(which in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(),
                        edits in prop::collection::vec((any::<prop::sample::Index>(), "\\PC{0,3}|[\\[\\]{}:,\"'!&*\\-\n ]{1,3}"), 0..4)) {
        let texts = example_texts();
        let mut text = texts[which.index(texts.len())].clone();
        for (at, insert) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) { i -= 1; }
            // Replace one character (if any) at i by the inserted text.
            let end = text[i..].chars().next().map_or(i, |c| i + c.len_utf8());
            text.replace_range(i..end, &insert);
        }
        let mut end = cut.index(text.len() + 1);
        while !text.is_char_boundary(end) { end -= 1; }
        load_everywhere(&text);
        load_everywhere(&text[..end]);
    }

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        load_everywhere(&String::from_utf8_lossy(&bytes));
    }
}

/// Flow-style YAML of a JSON value with YAML-only syntax mixed in (tags, plain scalars).
fn meshplane_json_as_yaml(doc: &Value) -> String {
    match doc {
        Value::Object(map) => {
            let mut out = String::new();
            for (k, v) in map {
                let tag = if k.starts_with("Fn") { "!Sub " } else { "" };
                out.push_str(&format!(
                    "{k}: {tag}{}\n",
                    serde_json::to_string(v).unwrap()
                ));
            }
            out
        }
        other => format!(
            "--- {}\n--- !Ref x\n",
            serde_json::to_string(other).unwrap()
        ),
    }
}

#[test]
fn hostile_inputs() {
    for text in [
        "[".repeat(10_000),
        "{\"a\":".repeat(10_000),
        "- ".repeat(5_000),
        "a: &a [*a]".to_owned(),
        "? [a]\n: b\n".to_owned(),
        "Resources: {A: {Type: AWS::AppMesh::Mesh, Properties: {MeshName: !GetAtt B.MeshName}}, B: {Type: AWS::AppMesh::Mesh, Properties: {MeshName: !GetAtt A.MeshName}}}".to_owned(),
        "Conditions: {C: !Condition C}\nResources: {A: {Type: AWS::AppMesh::Mesh, Condition: C, Properties: {MeshName: m}}}".to_owned(),
        "Resources: {A: {Type: AWS::AppMesh::Mesh, Properties: {MeshName: !Sub '${'}}}".to_owned(),
        "\u{feff}meshName: m\n".to_owned(),
        "%YAML 1.2\n---\nmeshName: m\n...\n".to_owned(),
    ] {
        load_everywhere(&text);
    }
    let cycle = load_str(
        Path::new("c.yaml"),
        "Resources: {A: {Type: AWS::AppMesh::Mesh, Properties: {MeshName: !GetAtt B.MeshName}}, B: {Type: AWS::AppMesh::Mesh, Properties: {MeshName: !GetAtt A.MeshName}}}",
        &LoadOptions::default(),
    );
    assert!(
        cycle
            .diagnostics
            .iter()
            .any(|d| d.rule == "load.cfn_unresolved" && d.message.contains("circle")),
        "{:?}",
        cycle.diagnostics
    );
}

#[test]
fn every_line_prefix_of_every_example() {
    for text in example_texts() {
        let mut end = 0;
        for line in text.split_inclusive('\n') {
            end += line.len();
            load_everywhere(&text[..end]);
        }
    }
}
