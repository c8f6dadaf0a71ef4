//! The golden cases' specs as a model: `tests/golden/<case>/spec/*.json`
//! (App Mesh CLI-input JSON documents, a file may hold an array of them)
//! and `options.json` (`{"defaultRetryPolicy": false}`, ACM material).
//! Shared by the golden test and the App Mesh defaults test.
// Each test binary uses its part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use meshplane_spec::identity::ResourceKind;
use meshplane_spec::model::AnySpec;
use meshplane_spec::{MeshModel, ResourceId};
use meshplane_translate::TranslateOptions;
use serde_json::Value;

const OWNER: &str = "000000000000";

fn parse<T: serde::de::DeserializeOwned + Default>(doc: &Value, file: &Path) -> T {
    match doc.get("spec") {
        None => T::default(),
        Some(spec) => serde_json::from_value(spec.clone())
            .unwrap_or_else(|e| panic!("{}: bad spec: {e}", file.display())),
    }
}

fn insert(model: &mut MeshModel, doc: &Value, file: &Path) {
    let s = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
    let mesh = s("meshName").unwrap_or_else(|| panic!("{}: no meshName", file.display()));
    let owner = s("meshOwner").unwrap_or_else(|| OWNER.to_owned());
    let (id, spec) = if let Some(route) = s("gatewayRouteName") {
        let gateway = s("virtualGatewayName").expect("gateway route without virtualGatewayName");
        (
            ResourceId::child(&mesh, &owner, ResourceKind::GatewayRoute, &gateway, &route),
            AnySpec::GatewayRoute(parse(doc, file)),
        )
    } else if let Some(n) = s("virtualGatewayName") {
        (
            ResourceId::new(&mesh, &owner, ResourceKind::VirtualGateway, &n),
            AnySpec::VirtualGateway(parse(doc, file)),
        )
    } else if let Some(route) = s("routeName") {
        let router = s("virtualRouterName").expect("route without virtualRouterName");
        (
            ResourceId::child(&mesh, &owner, ResourceKind::Route, &router, &route),
            AnySpec::Route(parse(doc, file)),
        )
    } else if let Some(n) = s("virtualNodeName") {
        (
            ResourceId::new(&mesh, &owner, ResourceKind::VirtualNode, &n),
            AnySpec::VirtualNode(parse(doc, file)),
        )
    } else if let Some(n) = s("virtualServiceName") {
        (
            ResourceId::new(&mesh, &owner, ResourceKind::VirtualService, &n),
            AnySpec::VirtualService(parse(doc, file)),
        )
    } else if let Some(n) = s("virtualRouterName") {
        (
            ResourceId::new(&mesh, &owner, ResourceKind::VirtualRouter, &n),
            AnySpec::VirtualRouter(parse(doc, file)),
        )
    } else {
        (
            ResourceId::mesh(&mesh, &owner),
            AnySpec::Mesh(parse(doc, file)),
        )
    };
    model
        .insert(id, spec)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
}

/// PEM files by ARN and role (`chain`, `key`, `ca`), from `options.json`.
pub type Material = BTreeMap<String, BTreeMap<String, PathBuf>>;

pub fn material(dir: &Path) -> Material {
    let Ok(text) = fs::read_to_string(dir.join("options.json")) else {
        return Material::new();
    };
    let v: Value = serde_json::from_str(&text).expect("options.json");
    let Some(certs) = v.get("certificates").and_then(Value::as_object) else {
        return Material::new();
    };
    certs
        .iter()
        .map(|(arn, files)| {
            let files = files
                .as_object()
                .expect("certificate entry")
                .iter()
                .map(|(role, path)| (role.clone(), dir.join(path.as_str().expect("path"))))
                .collect();
            (arn.clone(), files)
        })
        .collect()
}

pub fn load_case(dir: &Path) -> (MeshModel, TranslateOptions) {
    let mut model = MeshModel::default();
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join("spec"))
        .expect("spec directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for file in files {
        let text = fs::read_to_string(&file).expect("read spec");
        let v: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        match v {
            Value::Array(docs) => docs.iter().for_each(|d| insert(&mut model, d, &file)),
            doc => insert(&mut model, &doc, &file),
        }
    }
    let mut opts = TranslateOptions::default();
    if let Ok(text) = fs::read_to_string(dir.join("options.json")) {
        let v: Value = serde_json::from_str(&text).expect("options.json");
        if let Some(b) = v.get("defaultRetryPolicy").and_then(Value::as_bool) {
            opts.default_retry_policy = b;
        }
    }
    opts.held_certificates = material(dir).into_keys().collect();
    (model, opts)
}

pub fn case(name: &str) -> (MeshModel, TranslateOptions) {
    load_case(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name),
    )
}
