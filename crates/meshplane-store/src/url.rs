//! `--store` URLs.

use std::sync::Arc;

use crate::{PostgresStore, SqliteStore, Store, StoreError};

/// Opens the store a `--store` URL names: `sqlite:PATH` (created, with its
/// directory, if missing) or `postgres://USER@HOST:PORT/DB?sslmode=...`
/// (the schema created or migrated).
pub fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    match url.split_once(':') {
        Some(("sqlite", path)) if !path.is_empty() => {
            let path = path.strip_prefix("//").unwrap_or(path);
            Ok(Arc::new(SqliteStore::open(std::path::Path::new(path))?))
        }
        Some(("postgres" | "postgresql", _)) => Ok(Arc::new(PostgresStore::open(url)?)),
        _ => Err(StoreError::Url {
            url: url.to_owned(),
            message: "expected sqlite:PATH or postgres://USER@HOST:PORT/DB".to_owned(),
        }),
    }
}
