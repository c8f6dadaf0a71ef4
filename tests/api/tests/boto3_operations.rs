//! boto3 over all 38 operations of App Mesh 2019-01-25 against a real
//! `meshplane serve` (`py/operations.py`): every answer checked against the
//! model's output shape, metadata, pagination through boto3's paginators
//! (`PaginationConfig`), clientToken idempotency and each modeled error.

use meshplane_api_tests::tools::check_script;
use meshplane_api_tests::{run_script, Server, ServerOptions};

#[test]
fn every_operation_through_boto3() {
    let server = Server::start(ServerOptions::default()).unwrap();
    let out = run_script("operations.py", &[], &server.script_env()).unwrap();
    let stdout = check_script("operations.py", &out)
        .map_err(|e| format!("{e:#}\n--- server log\n{}", server.log()))
        .unwrap();
    assert!(stdout.contains("ok: 38 operations"), "{stdout}");
    print!("{stdout}");
}
