//! ARCHITECTURE.md's invariants that a program can check: the dependency
//! rules between the workspace's crates (from `cargo metadata`) and the
//! file-level import graph inside each crate (no cycles).
#![allow(clippy::unwrap_used)]

#[path = "architecture/dependencies.rs"]
mod dependencies;
#[path = "architecture/imports.rs"]
mod imports;
#[path = "architecture/sources.rs"]
mod sources;
