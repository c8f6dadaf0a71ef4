//! What got a 200 is in the database: a new server over the same file
//! serves it.

use serde_json::json;

use crate::support::{start_open, Client};

#[tokio::test]
async fn acknowledged_writes_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (created, revision) = {
        let server = start_open(dir.path()).await;
        let c = Client::new(&server.url);
        c.call(
            "PUT",
            "/v20190125/meshes",
            Some(json!({"meshName": "m", "clientToken": "t1"})),
        )
        .await
        .ok();
        let vn = c.call("PUT", "/v20190125/meshes/m/virtualNodes", Some(json!({"virtualNodeName": "vn", "spec": {}, "tags": [{"key": "a", "value": "b"}]}))).await.ok();
        c.call(
            "PUT",
            "/v20190125/meshes/m/virtualNodes/vn",
            Some(json!({"spec": {"backends": []}})),
        )
        .await
        .ok();
        (vn, server.store.snapshot().unwrap().revision)
    };
    let server = start_open(dir.path()).await;
    assert_eq!(server.store.snapshot().unwrap().revision, revision);
    let c = Client::new(&server.url);
    let vn = c
        .call("GET", "/v20190125/meshes/m/virtualNodes/vn", None)
        .await
        .ok();
    assert_eq!(vn["metadata"]["uid"], created["metadata"]["uid"]);
    assert_eq!(vn["metadata"]["version"], 2);
    let tags = c.call("GET", "/v20190125/tags?resourceArn=arn:aws:appmesh:eu-west-1:111122223333:mesh/m/virtualNode/vn", None).await.ok();
    assert_eq!(tags["tags"], json!([{"key": "a", "value": "b"}]));
    // The clientToken answers are durable too.
    let replay = c
        .call(
            "PUT",
            "/v20190125/meshes",
            Some(json!({"meshName": "m", "clientToken": "t1"})),
        )
        .await
        .ok();
    assert_eq!(replay["metadata"]["version"], 1);
    assert_eq!(server.db, dir.path().join("meshplane.db"));
}
