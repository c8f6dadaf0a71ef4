//! The embedded store: one SQLite file.
//!
//! Durability: WAL journal with `synchronous = FULL`, so a commit has been
//! fsynced when `commit` returns. The schema version is SQLite's
//! `user_version`; [`MIGRATIONS`] bring an older file up to date at open,
//! and a file from a newer meshplane is refused. Uniqueness of a resource's
//! identity is the table's primary key.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use meshplane_spec::{ResourceId, ResourceKind};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::record::{Change, IdempotentAnswer, Record, Snapshot, Tag};
use crate::{Store, StoreError};

/// Schema migrations, in order; migration `i` takes `user_version` from `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
     INSERT INTO revision (id, value) VALUES (1, 0);
     CREATE TABLE resources (
         mesh TEXT NOT NULL,
         kind TEXT NOT NULL,
         parent TEXT NOT NULL,
         name TEXT NOT NULL,
         owner TEXT NOT NULL,
         uid TEXT NOT NULL,
         version INTEGER NOT NULL,
         created_at REAL NOT NULL,
         last_updated_at REAL NOT NULL,
         spec TEXT NOT NULL,
         tags TEXT NOT NULL,
         revision INTEGER NOT NULL,
         PRIMARY KEY (mesh, kind, parent, name)
     );
     CREATE TABLE client_tokens (
         operation TEXT NOT NULL,
         token TEXT NOT NULL,
         request_hash TEXT NOT NULL,
         response TEXT NOT NULL,
         revision INTEGER NOT NULL,
         PRIMARY KEY (operation, token)
     );",
];

#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let location = format!("sqlite:{}", path.display());
        let fail = |message: String| StoreError::Backend {
            location: location.clone(),
            message,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| fail(e.to_string()))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| fail(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| fail(e.to_string()))?;
        migrate(&mut conn).map_err(fail)?;
        Ok(SqliteStore {
            path: path.to_owned(),
            conn: Mutex::new(conn),
        })
    }

    fn backend(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Backend {
            location: self.location(),
            message: e.to_string(),
        }
    }
}

fn migrate(conn: &mut Connection) -> Result<(), String> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(format!(
            "schema version {version} is newer than this meshplane knows ({known}); run a newer meshplane"
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        tx.execute_batch(sql)
            .map_err(|e| format!("migration {}: {e}", i + 1))?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn kind_from(s: &str) -> Option<ResourceKind> {
    ResourceKind::ALL.into_iter().find(|k| k.arn_segment() == s)
}

fn key(id: &ResourceId) -> (&str, &str, &str, &str) {
    (
        id.mesh.as_str(),
        id.kind.arn_segment(),
        id.parent.as_deref().unwrap_or(""),
        id.name.as_str(),
    )
}

fn apply(tx: &Transaction<'_>, change: &Change, revision: u64) -> Result<(), ApplyError> {
    match change {
        Change::Create(r) => {
            let (mesh, kind, parent, name) = key(&r.id);
            let spec = r.spec.to_string();
            let tags =
                serde_json::to_string(&r.tags).map_err(|e| ApplyError::Other(e.to_string()))?;
            let inserted = tx.execute(
                "INSERT INTO resources (mesh, kind, parent, name, owner, uid, version, created_at, last_updated_at, spec, tags, revision)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT DO NOTHING",
                params![mesh, kind, parent, name, r.id.owner, r.uid, r.version, r.created_at, r.last_updated_at, spec, tags, revision as i64],
            )?;
            if inserted == 0 {
                return Err(ApplyError::Conflict(format!("{} already exists", r.id)));
            }
        }
        Change::Update(r) => {
            let (mesh, kind, parent, name) = key(&r.id);
            let spec = r.spec.to_string();
            let tags =
                serde_json::to_string(&r.tags).map_err(|e| ApplyError::Other(e.to_string()))?;
            let updated = tx.execute(
                "UPDATE resources SET version = ?5, last_updated_at = ?6, spec = ?7, tags = ?8, revision = ?9
                 WHERE mesh = ?1 AND kind = ?2 AND parent = ?3 AND name = ?4 AND version = ?5 - 1",
                params![mesh, kind, parent, name, r.version, r.last_updated_at, spec, tags, revision as i64],
            )?;
            if updated == 0 {
                return Err(ApplyError::Conflict(format!(
                    "{} is missing or changed since it was read",
                    r.id
                )));
            }
        }
        Change::Delete(id) => {
            let (mesh, kind, parent, name) = key(id);
            let deleted = tx.execute(
                "DELETE FROM resources WHERE mesh = ?1 AND kind = ?2 AND parent = ?3 AND name = ?4",
                params![mesh, kind, parent, name],
            )?;
            if deleted == 0 {
                return Err(ApplyError::Conflict(format!("{id} does not exist")));
            }
        }
        Change::SetTags(id, new_tags) => {
            let (mesh, kind, parent, name) = key(id);
            let tags =
                serde_json::to_string(new_tags).map_err(|e| ApplyError::Other(e.to_string()))?;
            let updated = tx.execute(
                "UPDATE resources SET tags = ?5, revision = ?6 WHERE mesh = ?1 AND kind = ?2 AND parent = ?3 AND name = ?4",
                params![mesh, kind, parent, name, tags, revision as i64],
            )?;
            if updated == 0 {
                return Err(ApplyError::Conflict(format!("{id} does not exist")));
            }
        }
    }
    Ok(())
}

enum ApplyError {
    Conflict(String),
    Other(String),
}

impl From<rusqlite::Error> for ApplyError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if f.code == rusqlite::ErrorCode::ConstraintViolation {
                return ApplyError::Conflict(e.to_string());
            }
        }
        ApplyError::Other(e.to_string())
    }
}

impl Store for SqliteStore {
    fn location(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction().map_err(|e| self.backend(e))?;
        let revision: i64 = tx
            .query_row("SELECT value FROM revision WHERE id = 1", [], |r| r.get(0))
            .map_err(|e| self.backend(e))?;
        let mut stmt = tx
            .prepare(
                "SELECT mesh, kind, parent, name, owner, uid, version, created_at, last_updated_at, spec, tags
                 FROM resources ORDER BY mesh, kind, parent, name",
            )
            .map_err(|e| self.backend(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, f64>(7)?,
                    r.get::<_, f64>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, String>(10)?,
                ))
            })
            .map_err(|e| self.backend(e))?;
        let mut records = Vec::new();
        for row in rows {
            let (mesh, kind, parent, name, owner, uid, version, created_at, updated, spec, tags) =
                row.map_err(|e| self.backend(e))?;
            let kind = kind_from(&kind).ok_or_else(|| {
                self.backend(format!("unknown resource kind '{kind}' in the database"))
            })?;
            let id = ResourceId {
                mesh,
                owner,
                kind,
                parent: (!parent.is_empty()).then_some(parent),
                name,
            };
            let spec = serde_json::from_str(&spec)
                .map_err(|e| self.backend(format!("{id}: stored spec is not JSON: {e}")))?;
            let tags: Vec<Tag> = serde_json::from_str(&tags)
                .map_err(|e| self.backend(format!("{id}: stored tags are not JSON: {e}")))?;
            records.push(Record {
                id,
                spec,
                uid,
                version,
                created_at,
                last_updated_at: updated,
                tags,
            });
        }
        Ok(Snapshot {
            revision: revision as u64,
            records,
        })
    }

    fn commit(
        &self,
        changes: &[Change],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<u64, StoreError> {
        self.commit_on(None, changes, answer)
    }

    fn commit_at(
        &self,
        base: u64,
        changes: &[Change],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<u64, StoreError> {
        self.commit_on(Some(base), changes, answer)
    }

    fn idempotent_answer(
        &self,
        operation: &str,
        token: &str,
    ) -> Result<Option<IdempotentAnswer>, StoreError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.query_row(
            "SELECT request_hash, response FROM client_tokens WHERE operation = ?1 AND token = ?2",
            params![operation, token],
            |r| {
                Ok(IdempotentAnswer {
                    operation: operation.to_owned(),
                    token: token.to_owned(),
                    request_hash: r.get(0)?,
                    response: r.get(1)?,
                })
            },
        )
        .optional()
        .map_err(|e| self.backend(e))
    }
}

impl SqliteStore {
    fn commit_on(
        &self,
        base: Option<u64>,
        changes: &[Change],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction().map_err(|e| self.backend(e))?;
        let revision: i64 = tx
            .query_row(
                "UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.backend(e))?;
        let revision = revision as u64;
        if let Some(base) = base.filter(|b| b + 1 != revision) {
            return Err(StoreError::Stale {
                base,
                current: revision - 1,
            });
        }
        for change in changes {
            match apply(&tx, change, revision) {
                Ok(()) => {}
                Err(ApplyError::Conflict(m)) => return Err(StoreError::Conflict(m)),
                Err(ApplyError::Other(m)) => return Err(self.backend(m)),
            }
        }
        if let Some(a) = answer {
            tx.execute(
                "INSERT INTO client_tokens (operation, token, request_hash, response, revision) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![a.operation, a.token, a.request_hash, a.response, revision as i64],
            )
            .map_err(|e| match ApplyError::from(e) {
                ApplyError::Conflict(_) => StoreError::Conflict(format!(
                    "clientToken '{}' of {} is already used",
                    a.token, a.operation
                )),
                ApplyError::Other(m) => self.backend(m),
            })?;
        }
        tx.commit().map_err(|e| self.backend(e))?;
        Ok(revision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mesh(name: &str) -> Record {
        Record {
            id: ResourceId::mesh(name, "111122223333"),
            spec: serde_json::json!({}),
            uid: format!("uid-{name}"),
            version: 1,
            created_at: 0.0,
            last_updated_at: 0.0,
            tags: Vec::new(),
        }
    }

    #[test]
    fn commit_at_refuses_a_base_another_commit_moved_past() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(
            store
                .commit_at(0, &[Change::Create(mesh("a"))], None)
                .unwrap(),
            1
        );
        let stale = store.commit_at(0, &[Change::Create(mesh("b"))], None);
        assert!(
            matches!(
                stale,
                Err(StoreError::Stale {
                    base: 0,
                    current: 1
                })
            ),
            "{stale:?}"
        );
        assert_eq!(
            store.snapshot().unwrap().records.len(),
            1,
            "nothing of it applied"
        );
        assert_eq!(
            store
                .commit_at(1, &[Change::Create(mesh("b"))], None)
                .unwrap(),
            2
        );
    }
}
