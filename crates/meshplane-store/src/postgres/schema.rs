//! The PostgreSQL schema and its migrations.
//!
//! Every replica migrates at start while holding a session advisory lock,
//! so replicas starting together run each migration once. A resource row
//! outlives its deletion as a tombstone (`deleted`), and every row carries
//! the revision that last wrote it: "everything newer than revision R" is
//! one indexed query, deletions included.

use postgres::Client;

use super::config::describe;

/// The advisory lock key held while migrating ("meshplan" in ASCII).
const MIGRATION_LOCK: i64 = 0x6d65_7368_706c_616e;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE meshplane_revision (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value BIGINT NOT NULL
    );
    INSERT INTO meshplane_revision (id, value) VALUES (1, 0);
    CREATE TABLE meshplane_resources (
        mesh TEXT NOT NULL,
        kind TEXT NOT NULL,
        parent TEXT NOT NULL,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        uid TEXT NOT NULL,
        version BIGINT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        last_updated_at DOUBLE PRECISION NOT NULL,
        spec TEXT NOT NULL,
        tags TEXT NOT NULL,
        revision BIGINT NOT NULL,
        deleted BOOLEAN NOT NULL DEFAULT FALSE,
        PRIMARY KEY (mesh, kind, parent, name)
    );
    CREATE INDEX meshplane_resources_revision ON meshplane_resources (revision);
    CREATE TABLE meshplane_client_tokens (
        operation TEXT NOT NULL,
        token TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        response TEXT NOT NULL,
        revision BIGINT NOT NULL,
        PRIMARY KEY (operation, token)
    );
"];

/// Brings the database's schema up to date; refuses a newer one.
pub fn migrate(client: &mut Client) -> Result<(), String> {
    let fail = |e: postgres::Error| describe(&e);
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .map_err(fail)?;
    let result = migrate_locked(client);
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .map_err(fail);
    result.and(unlocked.map(|_| ()))
}

fn migrate_locked(client: &mut Client) -> Result<(), String> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS meshplane_schema (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 version INTEGER NOT NULL
             );
             INSERT INTO meshplane_schema (id, version) VALUES (1, 0) ON CONFLICT DO NOTHING;",
        )
        .map_err(|e| describe(&e))?;
    let version: i32 = client
        .query_one("SELECT version FROM meshplane_schema WHERE id = 1", &[])
        .map_err(|e| describe(&e))?
        .get(0);
    let known = MIGRATIONS.len() as i32;
    if version > known {
        return Err(format!(
            "schema version {version} is newer than this meshplane knows ({known}); run a newer meshplane"
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        let mut tx = client.transaction().map_err(|e| describe(&e))?;
        tx.batch_execute(sql)
            .map_err(|e| format!("migration {}: {}", i + 1, describe(&e)))?;
        tx.execute(
            "UPDATE meshplane_schema SET version = $1 WHERE id = 1",
            &[&((i + 1) as i32)],
        )
        .map_err(|e| describe(&e))?;
        tx.commit().map_err(|e| describe(&e))?;
        tracing::info!(version = i + 1, "store schema migrated");
    }
    Ok(())
}
