//! Every one of the 38 operations on its happy path, with the shapes and
//! metadata App Mesh answered.

use serde_json::{json, Value};

use crate::support::{start_open, Client, ACCOUNT};

const M: &str = "/v20190125/meshes";

fn node_spec(host: &str) -> Value {
    json!({
        "listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}],
        "serviceDiscovery": {"dns": {"hostname": host}}
    })
}

fn route_spec(prefix: &str) -> Value {
    json!({"httpRoute": {"match": {"prefix": prefix}, "action": {"weightedTargets": [{"virtualNode": "vn", "weight": 1}]}}})
}

fn gateway_spec() -> Value {
    json!({"listeners": [{"portMapping": {"port": 8443, "protocol": "http"}}]})
}

fn gateway_route_spec(prefix: &str) -> Value {
    json!({"httpRoute": {"match": {"prefix": prefix}, "action": {"target": {"virtualService": {"virtualServiceName": "svc.local"}}}}})
}

fn check_metadata(data: &Value, arn: &str, version: i64) {
    let md = &data["metadata"];
    assert_eq!(md["arn"], json!(arn), "{data}");
    assert_eq!(md["version"], json!(version), "{data}");
    assert_eq!(md["meshOwner"], json!(ACCOUNT));
    assert_eq!(md["resourceOwner"], json!(ACCOUNT));
    assert!(
        md["createdAt"].is_number() && md["lastUpdatedAt"].is_number(),
        "{data}"
    );
    assert_eq!(md["uid"].as_str().unwrap().len(), 36);
}

#[tokio::test]
async fn all_38_operations_answer_like_app_mesh() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_open(dir.path()).await;
    let c = Client::new(&server.url);
    let arn = |rest: &str| format!("arn:aws:appmesh:eu-west-1:{ACCOUNT}:mesh/{rest}");

    // Creates (7).
    let a = c
        .call(
            "PUT",
            M,
            Some(json!({"meshName": "m", "spec": {"egressFilter": {"type": "DROP_ALL"}}})),
        )
        .await;
    assert_eq!(a.content_type.as_deref(), Some("application/json"));
    assert!(a.request_id.is_some());
    let mesh = a.ok();
    check_metadata(&mesh, &arn("m"), 1);
    assert_eq!(mesh["meshName"], "m");
    assert_eq!(mesh["status"]["status"], "ACTIVE");
    let vn = c
        .call(
            "PUT",
            &format!("{M}/m/virtualNodes"),
            Some(json!({"virtualNodeName": "vn", "spec": node_spec("vn.local")})),
        )
        .await
        .ok();
    check_metadata(&vn, &arn("m/virtualNode/vn"), 1);
    assert_eq!(vn["virtualNodeName"], "vn");
    assert_eq!(
        vn["spec"]["serviceDiscovery"]["dns"]["hostname"],
        "vn.local"
    );
    let vr = c.call("PUT", &format!("{M}/m/virtualRouters"), Some(json!({"virtualRouterName": "vr", "spec": {"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]}}))).await.ok();
    check_metadata(&vr, &arn("m/virtualRouter/vr"), 1);
    let route = c
        .call(
            "PUT",
            &format!("{M}/m/virtualRouter/vr/routes"),
            Some(json!({"routeName": "r", "spec": route_spec("/")})),
        )
        .await
        .ok();
    check_metadata(&route, &arn("m/virtualRouter/vr/route/r"), 1);
    assert_eq!(route["virtualRouterName"], "vr");
    assert_eq!(route["routeName"], "r");
    let vs = c.call("PUT", &format!("{M}/m/virtualServices"), Some(json!({"virtualServiceName": "svc.local", "spec": {"provider": {"virtualRouter": {"virtualRouterName": "vr"}}}}))).await.ok();
    check_metadata(&vs, &arn("m/virtualService/svc.local"), 1);
    let vg = c
        .call(
            "PUT",
            &format!("{M}/m/virtualGateways"),
            Some(json!({"virtualGatewayName": "gw", "spec": gateway_spec()})),
        )
        .await
        .ok();
    check_metadata(&vg, &arn("m/virtualGateway/gw"), 1);
    let gr = c
        .call(
            "PUT",
            &format!("{M}/m/virtualGateway/gw/gatewayRoutes"),
            Some(json!({"gatewayRouteName": "gr", "spec": gateway_route_spec("/")})),
        )
        .await
        .ok();
    check_metadata(&gr, &arn("m/virtualGateway/gw/gatewayRoute/gr"), 1);
    assert_eq!(gr["virtualGatewayName"], "gw");

    // Describes (7).
    for (path, name_member, name) in [
        (format!("{M}/m"), "meshName", "m"),
        (format!("{M}/m/virtualNodes/vn"), "virtualNodeName", "vn"),
        (
            format!("{M}/m/virtualRouters/vr"),
            "virtualRouterName",
            "vr",
        ),
        (format!("{M}/m/virtualRouter/vr/routes/r"), "routeName", "r"),
        (
            format!("{M}/m/virtualServices/svc.local"),
            "virtualServiceName",
            "svc.local",
        ),
        (
            format!("{M}/m/virtualGateways/gw"),
            "virtualGatewayName",
            "gw",
        ),
        (
            format!("{M}/m/virtualGateway/gw/gatewayRoutes/gr"),
            "gatewayRouteName",
            "gr",
        ),
    ] {
        let d = c
            .call("GET", &format!("{path}?meshOwner={ACCOUNT}"), None)
            .await
            .ok();
        assert_eq!(d[name_member], json!(name), "{path}: {d}");
        assert_eq!(d["status"]["status"], "ACTIVE");
        assert_eq!(d["metadata"]["version"], 1);
    }

    // Updates (7): version 2, spec replaced, createdAt kept.
    for (path, spec) in [
        (
            format!("{M}/m"),
            json!({"egressFilter": {"type": "ALLOW_ALL"}}),
        ),
        (format!("{M}/m/virtualNodes/vn"), node_spec("vn2.local")),
        (
            format!("{M}/m/virtualRouters/vr"),
            json!({"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]}),
        ),
        (
            format!("{M}/m/virtualRouter/vr/routes/r"),
            route_spec("/v2"),
        ),
        (
            format!("{M}/m/virtualServices/svc.local"),
            json!({"provider": {"virtualNode": {"virtualNodeName": "vn"}}}),
        ),
        (format!("{M}/m/virtualGateways/gw"), gateway_spec()),
        (
            format!("{M}/m/virtualGateway/gw/gatewayRoutes/gr"),
            gateway_route_spec("/v2"),
        ),
    ] {
        let before = c.call("GET", &path, None).await.ok();
        let u = c.call("PUT", &path, Some(json!({"spec": spec}))).await.ok();
        assert_eq!(u["metadata"]["version"], 2, "{path}: {u}");
        assert_eq!(u["metadata"]["createdAt"], before["metadata"]["createdAt"]);
        assert_eq!(u["metadata"]["uid"], before["metadata"]["uid"]);
        assert_eq!(u["spec"], spec, "{path}");
        assert_eq!(c.call("GET", &path, None).await.ok(), u);
    }

    // Lists (7): Ref shapes.
    for (path, member, name_member, name) in [
        (M.to_owned(), "meshes", "meshName", "m"),
        (
            format!("{M}/m/virtualNodes"),
            "virtualNodes",
            "virtualNodeName",
            "vn",
        ),
        (
            format!("{M}/m/virtualRouters"),
            "virtualRouters",
            "virtualRouterName",
            "vr",
        ),
        (
            format!("{M}/m/virtualRouter/vr/routes"),
            "routes",
            "routeName",
            "r",
        ),
        (
            format!("{M}/m/virtualServices"),
            "virtualServices",
            "virtualServiceName",
            "svc.local",
        ),
        (
            format!("{M}/m/virtualGateways"),
            "virtualGateways",
            "virtualGatewayName",
            "gw",
        ),
        (
            format!("{M}/m/virtualGateway/gw/gatewayRoutes"),
            "gatewayRoutes",
            "gatewayRouteName",
            "gr",
        ),
    ] {
        let l = c.call("GET", &path, None).await.ok();
        let items = l[member]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: {l}"));
        assert_eq!(items.len(), 1, "{path}: {l}");
        let r = &items[0];
        assert_eq!(r[name_member], json!(name));
        for k in [
            "arn",
            "createdAt",
            "lastUpdatedAt",
            "meshName",
            "meshOwner",
            "resourceOwner",
            "version",
        ] {
            assert!(r.get(k).is_some(), "{path}: {k} missing in {r}");
        }
        assert!(r.get("spec").is_none() && l.get("nextToken").is_none());
    }

    // Tags (3).
    let tagged = format!("/v20190125/tag?resourceArn={}", arn("m/virtualNode/vn"));
    assert_eq!(
        c.call(
            "PUT",
            &tagged,
            Some(json!({"tags": [{"key": "team", "value": "a"}, {"key": "env", "value": "prod"}]}))
        )
        .await
        .ok(),
        json!({})
    );
    let tags_path = format!("/v20190125/tags?resourceArn={}", arn("m/virtualNode/vn"));
    let t = c.call("GET", &tags_path, None).await.ok();
    assert_eq!(
        t["tags"],
        json!([{"key": "env", "value": "prod"}, {"key": "team", "value": "a"}])
    );
    let untag = format!("/v20190125/untag?resourceArn={}", arn("m/virtualNode/vn"));
    assert_eq!(
        c.call("PUT", &untag, Some(json!({"tagKeys": ["team"]})))
            .await
            .ok(),
        json!({})
    );
    let t = c.call("GET", &tags_path, None).await.ok();
    assert_eq!(t["tags"], json!([{"key": "env", "value": "prod"}]));
    // Tagging does not change the version.
    let d = c
        .call("GET", &format!("{M}/m/virtualNodes/vn"), None)
        .await
        .ok();
    assert_eq!(d["metadata"]["version"], 2);

    // Deletes (7), children first; the answer is the resource, DELETED.
    for path in [
        format!("{M}/m/virtualGateway/gw/gatewayRoutes/gr"),
        format!("{M}/m/virtualGateways/gw"),
        format!("{M}/m/virtualServices/svc.local"),
        format!("{M}/m/virtualRouter/vr/routes/r"),
        format!("{M}/m/virtualRouters/vr"),
        format!("{M}/m/virtualNodes/vn"),
        format!("{M}/m"),
    ] {
        let d = c.call("DELETE", &path, None).await.ok();
        assert_eq!(d["status"]["status"], "DELETED", "{path}: {d}");
        c.call("GET", &path, None)
            .await
            .error(404, "NotFoundException");
    }
    assert_eq!(c.call("GET", M, None).await.ok(), json!({"meshes": []}));
}

#[tokio::test]
async fn lists_paginate_with_limit_and_opaque_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_open(dir.path()).await;
    let c = Client::new(&server.url);
    c.call("PUT", M, Some(json!({"meshName": "m"}))).await.ok();
    for i in 0..5 {
        c.call(
            "PUT",
            &format!("{M}/m/virtualNodes"),
            Some(json!({"virtualNodeName": format!("n{i}"), "spec": {}})),
        )
        .await
        .ok();
    }
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &token {
            Some(t) => format!("?limit=2&nextToken={t}"),
            None => "?limit=2".to_owned(),
        };
        let l = c
            .call("GET", &format!("{M}/m/virtualNodes{q}"), None)
            .await
            .ok();
        pages += 1;
        for r in l["virtualNodes"].as_array().unwrap() {
            names.push(r["virtualNodeName"].as_str().unwrap().to_owned());
        }
        match l.get("nextToken") {
            Some(t) => token = Some(t.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["n0", "n1", "n2", "n3", "n4"]);
    let m = c
        .call("GET", &format!("{M}/m/virtualNodes?limit=101"), None)
        .await
        .error(400, "BadRequestException");
    assert!(m.contains("limit"), "{m}");
    c.call(
        "GET",
        &format!("{M}/m/virtualNodes?nextToken=garbage"),
        None,
    )
    .await
    .error(400, "BadRequestException");
}

#[tokio::test]
async fn client_token_replays_the_answer_and_refuses_another_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_open(dir.path()).await;
    let c = Client::new(&server.url);
    let body = json!({"meshName": "m", "clientToken": "tok-1"});
    let first = c.call("PUT", M, Some(body.clone())).await.ok();
    let again = c.call("PUT", M, Some(body)).await.ok();
    assert_eq!(first, again);
    let other = c
        .call(
            "PUT",
            M,
            Some(json!({"meshName": "m2", "clientToken": "tok-1"})),
        )
        .await;
    let m = other.error(409, "ConflictException");
    assert!(m.contains("tok-1"), "{m}");
    // Without the token, a second create of the same name is a conflict.
    c.call("PUT", M, Some(json!({"meshName": "m"})))
        .await
        .error(409, "ConflictException");
    // Updates are idempotent the same way: one version step.
    let u = json!({"spec": {"egressFilter": {"type": "ALLOW_ALL"}}, "clientToken": "tok-2"});
    let a = c.call("PUT", &format!("{M}/m"), Some(u.clone())).await.ok();
    let b = c.call("PUT", &format!("{M}/m"), Some(u)).await.ok();
    assert_eq!(a, b);
    assert_eq!(
        c.call("GET", &format!("{M}/m"), None).await.ok()["metadata"]["version"],
        2
    );
}
