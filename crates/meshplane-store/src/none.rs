//! No store: `meshplane serve --config DIR` without `--store` serves the
//! files' meshes through the API read-only.

use crate::record::{Change, IdempotentAnswer, Snapshot};
use crate::{Store, StoreError};

#[derive(Debug, Default)]
pub struct NoStore;

const WHY: &str = "this server keeps no store (started with --config and without --store); start it with --store sqlite:PATH to manage meshes through the API";

impl Store for NoStore {
    fn location(&self) -> String {
        "(no store)".to_owned()
    }

    fn snapshot(&self) -> Result<Snapshot, StoreError> {
        Ok(Snapshot::default())
    }

    fn commit(&self, _: &[Change], _: Option<&IdempotentAnswer>) -> Result<u64, StoreError> {
        Err(StoreError::ReadOnly(WHY.to_owned()))
    }

    fn commit_at(
        &self,
        _: u64,
        _: &[Change],
        _: Option<&IdempotentAnswer>,
    ) -> Result<u64, StoreError> {
        Err(StoreError::ReadOnly(WHY.to_owned()))
    }

    fn idempotent_answer(&self, _: &str, _: &str) -> Result<Option<IdempotentAnswer>, StoreError> {
        Ok(None)
    }
}
