//! Bad input and refused writes: the modeled error, a message naming the
//! operation, the ARN and the field, and nothing applied.

use serde_json::json;

use crate::support::{start_open, Client, ACCOUNT};

const M: &str = "/v20190125/meshes";

#[tokio::test]
async fn semantics_errors_are_the_modeled_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_open(dir.path()).await;
    let c = Client::new(&server.url);
    // Missing parent mesh / router.
    let m = c
        .call(
            "PUT",
            &format!("{M}/nope/virtualNodes"),
            Some(json!({"virtualNodeName": "a", "spec": {}})),
        )
        .await
        .error(404, "NotFoundException");
    assert!(
        m.contains("CreateVirtualNode") && m.contains("mesh/nope/virtualNode/a"),
        "{m}"
    );
    c.call("PUT", M, Some(json!({"meshName": "m"}))).await.ok();
    c.call(
        "PUT",
        &format!("{M}/m/virtualRouter/none/routes"),
        Some(json!({"routeName": "r", "spec": {}})),
    )
    .await
    .error(404, "NotFoundException");
    // meshOwner of another account: no RAM sharing.
    let m = c
        .call("GET", &format!("{M}/m?meshOwner=999999999999"), None)
        .await
        .error(404, "NotFoundException");
    assert!(m.contains("999999999999"), "{m}");
    c.call("GET", &format!("{M}/m?meshOwner={ACCOUNT}"), None)
        .await
        .ok();
    // In use: a node named as a provider, a router with routes, a mesh with anything.
    c.call(
        "PUT",
        &format!("{M}/m/virtualNodes"),
        Some(json!({"virtualNodeName": "vn", "spec": {}})),
    )
    .await
    .ok();
    c.call("PUT", &format!("{M}/m/virtualServices"), Some(json!({"virtualServiceName": "s", "spec": {"provider": {"virtualNode": {"virtualNodeName": "vn"}}}}))).await.ok();
    let m = c
        .call("DELETE", &format!("{M}/m/virtualNodes/vn"), None)
        .await
        .error(409, "ResourceInUseException");
    assert!(m.contains("virtualService/s"), "{m}");
    c.call("PUT", &format!("{M}/m/virtualRouters"), Some(json!({"virtualRouterName": "vr", "spec": {"listeners": [{"portMapping": {"port": 80, "protocol": "http"}}]}}))).await.ok();
    c.call("PUT", &format!("{M}/m/virtualRouter/vr/routes"), Some(json!({"routeName": "r", "spec": {"httpRoute": {"match": {"prefix": "/"}, "action": {"weightedTargets": [{"virtualNode": "vn", "weight": 1}]}}}}))).await.ok();
    c.call("DELETE", &format!("{M}/m/virtualRouters/vr"), None)
        .await
        .error(409, "ResourceInUseException");
    c.call("DELETE", &format!("{M}/m"), None)
        .await
        .error(409, "ResourceInUseException");
    c.call("PUT", &format!("{M}/m/virtualGateways"), Some(json!({"virtualGatewayName": "gw", "spec": {"listeners": [{"portMapping": {"port": 8443, "protocol": "http"}}]}}))).await.ok();
    c.call("PUT", &format!("{M}/m/virtualGateway/gw/gatewayRoutes"), Some(json!({"gatewayRouteName": "g", "spec": {"httpRoute": {"match": {"prefix": "/"}, "action": {"target": {"virtualService": {"virtualServiceName": "s"}}}}}}))).await.ok();
    c.call("DELETE", &format!("{M}/m/virtualGateways/gw"), None)
        .await
        .error(409, "ResourceInUseException");
    // Name taken.
    c.call(
        "PUT",
        &format!("{M}/m/virtualNodes"),
        Some(json!({"virtualNodeName": "vn", "spec": {}})),
    )
    .await
    .error(409, "ConflictException");
    // Too many tags.
    let tags: Vec<_> = (0..51)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    c.call(
        "PUT",
        &format!("{M}/m/virtualNodes"),
        Some(json!({"virtualNodeName": "t", "spec": {}, "tags": tags})),
    )
    .await
    .error(400, "TooManyTagsException");
    let arn = format!("arn:aws:appmesh:eu-west-1:{ACCOUNT}:mesh/m");
    let fifty: Vec<_> = (0..50)
        .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
        .collect();
    c.call(
        "PUT",
        &format!("/v20190125/tag?resourceArn={arn}"),
        Some(json!({"tags": fifty})),
    )
    .await
    .ok();
    c.call(
        "PUT",
        &format!("/v20190125/tag?resourceArn={arn}"),
        Some(json!({"tags": [{"key": "one-more", "value": ""}]})),
    )
    .await
    .error(400, "TooManyTagsException");
    let l = c
        .call(
            "GET",
            &format!("/v20190125/tags?resourceArn={arn}&limit=50"),
            None,
        )
        .await
        .ok();
    assert_eq!(l["tags"].as_array().unwrap().len(), 50);
    c.call(
        "GET",
        &format!("/v20190125/tags?resourceArn={arn}&limit=51"),
        None,
    )
    .await
    .error(400, "BadRequestException");
}

#[tokio::test]
async fn bad_bodies_name_the_field_and_apply_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_open(dir.path()).await;
    let c = Client::new(&server.url);
    c.call("PUT", M, Some(json!({"meshName": "m"}))).await.ok();
    let nodes = format!("{M}/m/virtualNodes");
    let revision = server.store.snapshot().unwrap().revision;

    let m = c
        .raw("PUT", &nodes, b"{not json")
        .await
        .error(400, "BadRequestException");
    assert!(m.contains("not valid JSON"), "{m}");
    let m = c
        .call(
            "PUT",
            &nodes,
            Some(json!({"virtualNodeName": "a", "spec": {}, "colour": 1})),
        )
        .await
        .error(400, "BadRequestException");
    assert!(m.contains("'colour'"), "{m}");
    let m = c.call("PUT", &nodes, Some(json!({"virtualNodeName": "a", "spec": {"listeners": [{"portMapping": {"port": "80", "protocol": "http"}}]}}))).await.error(400, "BadRequestException");
    assert!(
        m.contains("spec.listeners[0].portMapping.port") && m.contains("mesh/m/virtualNode/a"),
        "{m}"
    );
    let m = c.call("PUT", &nodes, Some(json!({"virtualNodeName": "a", "spec": {"backends": [{"virtualService": {"virtualServiceName": "x", "extra": true}}]}}))).await.error(400, "BadRequestException");
    assert!(
        m.contains("spec.backends[0].virtualService") && m.contains("extra"),
        "{m}"
    );
    let m = c
        .call("PUT", &nodes, Some(json!({"spec": {}})))
        .await
        .error(400, "BadRequestException");
    assert!(m.contains("virtualNodeName"), "{m}");
    // Validation: the same words as `meshplane validate` (rule, ARN, path).
    let m = c.call("PUT", &nodes, Some(json!({"virtualNodeName": "a", "spec": {"listeners": [{"portMapping": {"port": 99999, "protocol": "http"}}], "serviceDiscovery": {"dns": {"hostname": "a.local"}}}}))).await.error(400, "BadRequestException");
    assert!(
        m.contains("error[field.range]") && m.contains("spec.listeners[0].portMapping.port"),
        "{m}"
    );
    // A route to a node that does not exist: validated against the whole mesh.
    c.call("PUT", &format!("{M}/m/virtualRouters"), Some(json!({"virtualRouterName": "vr", "spec": {"listeners": [{"portMapping": {"port": 80, "protocol": "http"}}]}}))).await.ok();
    let revision_after_router = server.store.snapshot().unwrap().revision;
    assert_eq!(revision_after_router, revision + 1);
    let m = c.call("PUT", &format!("{M}/m/virtualRouter/vr/routes"), Some(json!({"routeName": "r", "spec": {"httpRoute": {"match": {"prefix": "/"}, "action": {"weightedTargets": [{"virtualNode": "ghost", "weight": 1}]}}}}))).await.error(400, "BadRequestException");
    assert!(
        m.contains("reference.missing") && m.contains("ghost"),
        "{m}"
    );
    // An invalid update leaves the stored resource as it was.
    let before = c
        .call("GET", &format!("{M}/m/virtualRouters/vr"), None)
        .await
        .ok();
    c.call(
        "PUT",
        &format!("{M}/m/virtualRouters/vr"),
        Some(json!({"spec": {"listeners": [{"portMapping": {"port": 0, "protocol": "http"}}]}})),
    )
    .await
    .error(400, "BadRequestException");
    assert_eq!(
        c.call("GET", &format!("{M}/m/virtualRouters/vr"), None)
            .await
            .ok(),
        before
    );
    assert_eq!(
        server.store.snapshot().unwrap().revision,
        revision_after_router
    );
    // Oversized body.
    let big = vec![b' '; meshplane_api::BODY_LIMIT + 10];
    let m = c
        .raw("PUT", &nodes, &big)
        .await
        .error(400, "BadRequestException");
    assert!(m.contains("larger than"), "{m}");
    // Unknown operation.
    c.call("POST", M, None)
        .await
        .error(400, "BadRequestException");
}

#[tokio::test]
async fn writes_to_file_meshes_name_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn meshplane_store::Store> =
        std::sync::Arc::new(meshplane_store::SqliteStore::open(&dir.path().join("db")).unwrap());
    let mut model = meshplane_spec::MeshModel::default();
    model
        .insert(
            meshplane_spec::ResourceId::mesh("files", ACCOUNT),
            meshplane_spec::AnySpec::Mesh(Default::default()),
        )
        .unwrap();
    let api = meshplane_api::Api::new(store, crate::support::arn_context())
        .unwrap()
        .with_files(meshplane_api::FileMeshes {
            paths: "/etc/meshplane/specs".to_owned(),
            model: std::sync::Arc::new({
                let model = model.clone();
                move || model.clone()
            }),
            mesh: std::sync::Arc::new(move |name: &str| model.mesh(name).cloned()),
        });
    let q = Default::default();
    let op = meshplane_api::route::operation("GET", "/v20190125/meshes/files").unwrap();
    let d = api.call(&op, &q, b"").unwrap();
    assert_eq!(d["metadata"]["version"], 1);
    let op =
        meshplane_api::route::operation("PUT", "/v20190125/meshes/files/virtualNodes").unwrap();
    let e = api
        .call(&op, &q, br#"{"virtualNodeName": "x", "spec": {}}"#)
        .unwrap_err();
    assert_eq!(e.kind, meshplane_api::ErrorKind::BadRequest);
    assert!(e.message.contains("/etc/meshplane/specs"), "{e}");
    let op = meshplane_api::route::operation("PUT", "/v20190125/meshes").unwrap();
    let e = api.call(&op, &q, br#"{"meshName": "files"}"#).unwrap_err();
    assert_eq!(e.kind, meshplane_api::ErrorKind::Conflict);
    let op = meshplane_api::route::operation("GET", "/v20190125/meshes").unwrap();
    assert_eq!(
        api.call(&op, &q, b"").unwrap()["meshes"][0]["meshName"],
        "files"
    );
}
