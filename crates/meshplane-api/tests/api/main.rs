//! The App Mesh API through a real HTTP client against a real server and a
//! real SQLite store.

#![allow(clippy::unwrap_used)]

mod auth;
mod errors;
mod operations;
mod persistence;
mod support;
