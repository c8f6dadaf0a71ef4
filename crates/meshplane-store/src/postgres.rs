//! The shared store: one PostgreSQL database for several meshplane replicas.
//!
//! - Writes: one transaction per commit. The revision row is locked first
//!   (`SELECT ... FOR UPDATE`), so commits are serialized and numbered in
//!   commit order; [`Store::commit_at`] refuses when another replica
//!   committed since the writer's base revision. Identity and clientToken
//!   uniqueness are primary keys; updates check the previous version.
//! - Propagation: each commit sends `NOTIFY meshplane_revision` (delivered at
//!   commit); readers treat it as a wake-up and read
//!   [`Store::changes_since`] their applied revision (rows with a newer
//!   revision, tombstones included).
//! - Faults: a lost connection is dropped and reopened on the next call; its
//!   errors are [`StoreError::Unavailable`].

mod config;
mod listen;
mod schema;

use std::sync::Mutex;

use meshplane_spec::{ResourceId, ResourceKind};
use postgres::{Client, GenericClient, Row};

use crate::record::{Change, Changes, IdempotentAnswer, Record, Snapshot, Tag};
use crate::{Listener, Store, StoreError};

use config::describe;
pub use config::PgConfig;
use listen::CHANNEL;

pub struct PostgresStore {
    config: PgConfig,
    client: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.config.location())
            .finish()
    }
}

const COLUMNS: &str =
    "mesh, kind, parent, name, owner, uid, version, created_at, last_updated_at, spec, tags, deleted";

impl PostgresStore {
    /// Connects and migrates the schema (under an advisory lock).
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let env = |k: &str| std::env::var(k).ok();
        let config = PgConfig::parse(url, &env).map_err(|message| StoreError::Url {
            url: redacted(url),
            message,
        })?;
        let store = PostgresStore {
            config,
            client: Mutex::new(None),
        };
        store.with_client(|c| schema::migrate(c).map_err(Failure::Message))?;
        Ok(store)
    }

    /// Runs `f` on the connection (opened if needed); a connection that
    /// failed is dropped so that the next call reconnects.
    fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, Failure>,
    ) -> Result<T, StoreError> {
        let mut slot = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_some_and(|c| c.is_closed()) {
            *slot = None;
        }
        if slot.is_none() {
            let client = self.config.connect().map_err(|e| self.classify(e))?;
            *slot = Some(client);
        }
        let Some(client) = slot.as_mut() else {
            return Err(self.unavailable("no connection"));
        };
        let result = f(client);
        if client.is_closed() {
            *slot = None;
        }
        result.map_err(|failure| match failure {
            Failure::Db(e) => self.classify(e),
            Failure::Message(m) => StoreError::Backend {
                location: self.location(),
                message: m,
            },
            Failure::Store(e) => e,
        })
    }

    fn unavailable(&self, message: impl std::fmt::Display) -> StoreError {
        StoreError::Unavailable {
            location: self.location(),
            message: message.to_string(),
        }
    }

    /// A client error as a store error: no server answer, or the server
    /// going away, is "unavailable"; a unique violation is a conflict.
    fn classify(&self, e: postgres::Error) -> StoreError {
        match e.code().map(|c| c.code()) {
            Some("23505") => StoreError::Conflict(describe(&e)),
            Some("40001") | Some("40P01") => StoreError::Stale {
                base: 0,
                current: 0,
            },
            Some(code)
                if code.starts_with("08") || code.starts_with("57") || code.starts_with("53") =>
            {
                self.unavailable(describe(&e))
            }
            Some(_) => StoreError::Backend {
                location: self.location(),
                message: describe(&e),
            },
            None if unreachable(&e) => self.unavailable(describe(&e)),
            None => StoreError::Backend {
                location: self.location(),
                message: describe(&e),
            },
        }
    }

    fn commit_on(
        &self,
        base: Option<u64>,
        changes: &[Change],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<u64, StoreError> {
        self.with_client(|client| {
            let mut tx = client.transaction()?;
            let current: i64 = tx
                .query_one(
                    "SELECT value FROM meshplane_revision WHERE id = 1 FOR UPDATE",
                    &[],
                )?
                .get(0);
            let current = current as u64;
            if let Some(base) = base.filter(|b| *b != current) {
                return Err(Failure::Store(StoreError::Stale { base, current }));
            }
            let revision = current + 1;
            tx.execute(
                "UPDATE meshplane_revision SET value = $1 WHERE id = 1",
                &[&(revision as i64)],
            )?;
            for change in changes {
                apply(&mut tx, change, revision)?;
            }
            if let Some(a) = answer {
                let inserted = tx.execute(
                    "INSERT INTO meshplane_client_tokens (operation, token, request_hash, response, revision)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    &[&a.operation, &a.token, &a.request_hash, &a.response, &(revision as i64)],
                )?;
                if inserted == 0 {
                    return Err(Failure::Store(StoreError::Conflict(format!(
                        "clientToken '{}' of {} is already used",
                        a.token, a.operation
                    ))));
                }
            }
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &revision.to_string()])?;
            tx.commit()?;
            Ok(revision)
        })
    }
}

/// Whether a client error without a server answer means the server could
/// not be reached (as opposed to, say, a value that does not serialize).
fn unreachable(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    let text = e.to_string();
    text.contains("connect") || text.contains("timed out") || text.contains("closed")
}

/// The URL for a message about it, without its password.
fn redacted(url: &str) -> String {
    match url.split_once("://").and_then(|(scheme, rest)| {
        let (userinfo, host) = rest.split_once('@')?;
        let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
        Some(format!("{scheme}://{user}@{host}"))
    }) {
        Some(u) => u,
        None => url.to_owned(),
    }
}

/// Why a store call failed, before it is told as a [`StoreError`].
enum Failure {
    Db(postgres::Error),
    Message(String),
    Store(StoreError),
}

impl From<postgres::Error> for Failure {
    fn from(e: postgres::Error) -> Self {
        Failure::Db(e)
    }
}

fn key(id: &ResourceId) -> (&str, &str, &str, &str) {
    (
        id.mesh.as_str(),
        id.kind.arn_segment(),
        id.parent.as_deref().unwrap_or(""),
        id.name.as_str(),
    )
}

fn conflict(message: String) -> Failure {
    Failure::Store(StoreError::Conflict(message))
}

fn apply(tx: &mut impl GenericClient, change: &Change, revision: u64) -> Result<(), Failure> {
    let revision = revision as i64;
    match change {
        Change::Create(r) => {
            let (mesh, kind, parent, name) = key(&r.id);
            let spec = r.spec.to_string();
            let tags =
                serde_json::to_string(&r.tags).map_err(|e| Failure::Message(e.to_string()))?;
            // A tombstone of the same identity is replaced; a live row wins.
            let n = tx.execute(
                "INSERT INTO meshplane_resources (mesh, kind, parent, name, owner, uid, version, created_at, last_updated_at, spec, tags, revision, deleted)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, FALSE)
                 ON CONFLICT (mesh, kind, parent, name) DO UPDATE SET
                   owner = EXCLUDED.owner, uid = EXCLUDED.uid, version = EXCLUDED.version,
                   created_at = EXCLUDED.created_at, last_updated_at = EXCLUDED.last_updated_at,
                   spec = EXCLUDED.spec, tags = EXCLUDED.tags, revision = EXCLUDED.revision, deleted = FALSE
                 WHERE meshplane_resources.deleted",
                &[&mesh, &kind, &parent, &name, &r.id.owner, &r.uid, &r.version, &r.created_at, &r.last_updated_at, &spec, &tags, &revision],
            )?;
            if n == 0 {
                return Err(conflict(format!("{} already exists", r.id)));
            }
        }
        Change::Update(r) => {
            let (mesh, kind, parent, name) = key(&r.id);
            let spec = r.spec.to_string();
            let tags =
                serde_json::to_string(&r.tags).map_err(|e| Failure::Message(e.to_string()))?;
            let n = tx.execute(
                "UPDATE meshplane_resources SET version = $5::BIGINT, last_updated_at = $6, spec = $7, tags = $8, revision = $9
                 WHERE mesh = $1 AND kind = $2 AND parent = $3 AND name = $4 AND version = $5::BIGINT - 1 AND NOT deleted",
                &[&mesh, &kind, &parent, &name, &r.version, &r.last_updated_at, &spec, &tags, &revision],
            )?;
            if n == 0 {
                return Err(conflict(format!(
                    "{} is missing or changed since it was read",
                    r.id
                )));
            }
        }
        Change::Delete(id) => {
            let (mesh, kind, parent, name) = key(id);
            let n = tx.execute(
                "UPDATE meshplane_resources SET deleted = TRUE, revision = $5
                 WHERE mesh = $1 AND kind = $2 AND parent = $3 AND name = $4 AND NOT deleted",
                &[&mesh, &kind, &parent, &name, &revision],
            )?;
            if n == 0 {
                return Err(conflict(format!("{id} does not exist")));
            }
        }
        Change::SetTags(id, new_tags) => {
            let (mesh, kind, parent, name) = key(id);
            let tags =
                serde_json::to_string(new_tags).map_err(|e| Failure::Message(e.to_string()))?;
            let n = tx.execute(
                "UPDATE meshplane_resources SET tags = $5, revision = $6
                 WHERE mesh = $1 AND kind = $2 AND parent = $3 AND name = $4 AND NOT deleted",
                &[&mesh, &kind, &parent, &name, &tags, &revision],
            )?;
            if n == 0 {
                return Err(conflict(format!("{id} does not exist")));
            }
        }
    }
    Ok(())
}

/// One row: the record, and whether it is a tombstone.
fn record(row: &Row) -> Result<(Record, bool), Failure> {
    let kind: String = row.get(1);
    let kind = ResourceKind::ALL
        .into_iter()
        .find(|k| k.arn_segment() == kind)
        .ok_or_else(|| {
            Failure::Message(format!("unknown resource kind '{kind}' in the database"))
        })?;
    let parent: String = row.get(2);
    let id = ResourceId {
        mesh: row.get(0),
        owner: row.get(4),
        kind,
        parent: (!parent.is_empty()).then_some(parent),
        name: row.get(3),
    };
    let spec: String = row.get(9);
    let tags: String = row.get(10);
    let spec = serde_json::from_str(&spec)
        .map_err(|e| Failure::Message(format!("{id}: stored spec is not JSON: {e}")))?;
    let tags: Vec<Tag> = serde_json::from_str(&tags)
        .map_err(|e| Failure::Message(format!("{id}: stored tags are not JSON: {e}")))?;
    Ok((
        Record {
            id,
            spec,
            uid: row.get(5),
            version: row.get(6),
            created_at: row.get(7),
            last_updated_at: row.get(8),
            tags,
        },
        row.get(11),
    ))
}

/// The revision and the rows newer than `after`, read in one
/// repeatable-read transaction (so they agree).
fn read_since(client: &mut Client, after: Option<u64>) -> Result<(u64, Vec<Row>), Failure> {
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let revision: i64 = tx
        .query_one("SELECT value FROM meshplane_revision WHERE id = 1", &[])?
        .get(0);
    let rows = match after {
        None => tx.query(
            &format!("SELECT {COLUMNS} FROM meshplane_resources WHERE NOT deleted ORDER BY mesh, kind, parent, name"),
            &[],
        )?,
        Some(r) => tx.query(
            &format!("SELECT {COLUMNS} FROM meshplane_resources WHERE revision > $1 ORDER BY revision"),
            &[&(r as i64)],
        )?,
    };
    tx.commit()?;
    Ok((revision as u64, rows))
}

impl Store for PostgresStore {
    fn location(&self) -> String {
        self.config.location().to_owned()
    }

    fn snapshot(&self) -> Result<Snapshot, StoreError> {
        self.with_client(|client| {
            let (revision, rows) = read_since(client, None)?;
            let records = rows
                .iter()
                .map(|r| record(r).map(|(rec, _)| rec))
                .collect::<Result<_, _>>()?;
            Ok(Snapshot { revision, records })
        })
    }

    fn changes_since(&self, revision: u64) -> Result<Changes, StoreError> {
        self.with_client(|client| {
            let (now, rows) = read_since(client, Some(revision))?;
            let mut written = Vec::new();
            let mut deleted = Vec::new();
            for row in &rows {
                let (rec, gone) = record(row)?;
                if gone {
                    deleted.push(rec.id);
                } else {
                    written.push(rec);
                }
            }
            Ok(Changes::Since {
                revision: now,
                written,
                deleted,
            })
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
        self.with_client(|client| {
            let row = client.query_opt(
                "SELECT request_hash, response FROM meshplane_client_tokens WHERE operation = $1 AND token = $2",
                &[&operation, &token],
            )?;
            Ok(row.map(|r| IdempotentAnswer {
                operation: operation.to_owned(),
                token: token.to_owned(),
                request_hash: r.get(0),
                response: r.get(1),
            }))
        })
    }

    fn listen(&self) -> Option<Result<Box<dyn Listener>, StoreError>> {
        Some(
            listen::PgListener::connect(&self.config)
                .map(|l| Box::new(l) as Box<dyn Listener>)
                .map_err(|e| self.classify(e)),
        )
    }
}
