//! The PostgreSQL server `scripts/test.sh` starts (scripts/postgres.sh):
//! a fresh database per test, so that tests run in parallel, and the
//! server's `pg_ctl` for the outage tests.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context};

const URL_VAR: &str = "MESHPLANE_TEST_POSTGRES_URL";
const CTL_VAR: &str = "MESHPLANE_TEST_POSTGRES_CTL";

/// `$MESHPLANE_TEST_POSTGRES_URL`, or an error saying how to get it.
pub fn server_url() -> anyhow::Result<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Ok(url),
        _ => bail!(
            "{URL_VAR} is not set: run the tests through scripts/test.sh (it starts a throwaway PostgreSQL), \
             or start one and set {URL_VAR}=postgres://USER:PASSWORD@127.0.0.1:PORT/postgres?sslmode=disable \
             (a user allowed to CREATE DATABASE)"
        ),
    }
}

/// A new, empty database on the test server; its URL.
pub fn fresh_database(label: &str) -> anyhow::Result<String> {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let url = server_url()?;
    let name = format!(
        "mp_{label}_{}_{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = postgres::Client::connect(&url, postgres::NoTls)
        .with_context(|| format!("connecting to {URL_VAR}"))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    Ok(with_database(&url, &name))
}

/// `url` naming database `name` instead.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let host_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[host_end..]
        .find('/')
        .map(|i| host_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..path_start]);
    if !query.is_empty() {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Runs SQL on database `url` (e.g. `pg_terminate_backend`).
pub fn execute(url: &str, sql: &str) -> anyhow::Result<()> {
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    client.batch_execute(sql)?;
    Ok(())
}

/// `pg_ctl ... <args>` on the test server (`-m fast stop`, `-w start`).
pub fn pg_ctl(args: &[&str]) -> anyhow::Result<()> {
    let ctl = std::env::var(CTL_VAR).ok().filter(|c| !c.is_empty()).with_context(|| {
        format!("{CTL_VAR} is not set: run the tests through scripts/test.sh (it starts a throwaway PostgreSQL)")
    })?;
    let mut words = ctl.split_whitespace();
    let program = words.next().context("empty pg_ctl command")?;
    let out = Command::new(program).args(words).args(args).output()?;
    if !out.status.success() {
        bail!(
            "pg_ctl {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
