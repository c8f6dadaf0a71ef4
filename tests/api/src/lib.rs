//! Harness of the App Mesh API tests: `meshplane serve` as a real process
//! on free loopback ports with a SQLite store, and the real clients (boto3
//! and the `aws` CLI from the `.venv` that `scripts/test.sh` installs).
//! A missing tool fails the test with what to install; nothing skips.
//! The several-replica tests use the PostgreSQL server `scripts/test.sh`
//! starts ([`postgres`]).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod cluster;
pub mod http;
pub mod postgres;
pub mod relay;
pub mod server;
pub mod tools;
pub mod unsigned;

pub use server::{Server, ServerOptions};
pub use tools::{aws_cli, python, run_script};

/// Region and account the test servers put in their ARNs.
pub const REGION: &str = "us-west-2";
pub const ACCOUNT: &str = "111122223333";
