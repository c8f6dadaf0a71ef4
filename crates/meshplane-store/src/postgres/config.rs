//! `--store postgres://USER@HOST:PORT/DB?...`: the connection settings, the
//! password (URL, `PGPASSWORD`, or a password file) and TLS.
//!
//! The password never leaves this module in a message: [`PgConfig::location`]
//! and `Debug` show the URL without it.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::{Client, NoTls};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// Query parameters meshplane reads itself (the rest go to the client).
const OWN_PARAMS: &[&str] = &["sslrootcert", "passfile"];

/// How long a connection attempt may take when the URL does not say.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct PgConfig {
    config: postgres::Config,
    tls: Option<Arc<rustls::ClientConfig>>,
    location: String,
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConfig")
            .field("location", &self.location)
            .finish()
    }
}

/// Why a URL is refused; the message never holds the password.
pub type UrlError = String;

impl PgConfig {
    /// Parses `url`; `env` reads environment variables (`PGPASSWORD`,
    /// `PGPASSFILE`, `HOME`).
    pub fn parse(url: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<PgConfig, UrlError> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut own = std::collections::BTreeMap::new();
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if OWN_PARAMS.contains(&k) {
                own.insert(k.to_owned(), v.to_owned());
            } else {
                rest.push(pair);
            }
        }
        let client_url = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let mut config = postgres::Config::from_str(&client_url).map_err(|e| {
            // The client's message may quote the URL: say only what is wrong.
            format!(
                "not a PostgreSQL URL (postgres://USER@HOST:PORT/DB?sslmode=require): {}",
                redact(&e.to_string(), url)
            )
        })?;
        if config.get_user().is_none() {
            return Err("the URL names no user (postgres://USER@HOST:PORT/DB)".to_owned());
        }
        if config.get_hosts().is_empty() {
            return Err("the URL names no host (postgres://USER@HOST:PORT/DB)".to_owned());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("meshplane");
        }
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        let location = location(&config);
        if config.get_password().is_none() {
            if let Some(p) = env("PGPASSWORD").filter(|p| !p.is_empty()) {
                config.password(p);
            } else {
                let file = own
                    .get("passfile")
                    .map(PathBuf::from)
                    .or_else(|| env("PGPASSFILE").map(PathBuf::from))
                    .or_else(|| {
                        env("HOME")
                            .map(|h| Path::new(&h).join(".pgpass"))
                            .filter(|p| p.exists())
                    });
                if let Some(file) = file {
                    if let Some(p) = password_from_file(&file, &config)? {
                        config.password(p);
                    }
                }
            }
        }
        let tls = match config.get_ssl_mode() {
            SslMode::Disable => None,
            _ => Some(Arc::new(tls_config(own.get("sslrootcert").map(Path::new))?)),
        };
        Ok(PgConfig {
            config,
            tls,
            location,
        })
    }

    /// The URL without its password: what messages and `/debug/store` show.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// One new connection.
    pub fn connect(&self) -> Result<Client, postgres::Error> {
        connect(&self.config, self.tls.as_deref())
    }

    /// One new connection that shows as `application_name` in
    /// `pg_stat_activity` (the LISTEN connection is `meshplane-listen`).
    pub fn connect_named(&self, application_name: &str) -> Result<Client, postgres::Error> {
        let mut config = self.config.clone();
        config.application_name(application_name);
        connect(&config, self.tls.as_deref())
    }
}

/// A client error with its causes (`db error: FATAL: password
/// authentication failed for user "meshplane"`): the client's own message
/// names only the kind.
pub fn describe(e: &postgres::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn connect(
    config: &postgres::Config,
    tls: Option<&rustls::ClientConfig>,
) -> Result<Client, postgres::Error> {
    match tls {
        None => config.connect(NoTls),
        Some(tls) => config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls.clone())),
    }
}

fn location(config: &postgres::Config) -> String {
    let user = config.get_user().unwrap_or("");
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            };
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            format!("{host}:{port}")
        })
        .collect();
    let db = config.get_dbname().unwrap_or(user);
    let mode = match config.get_ssl_mode() {
        SslMode::Disable => "disable",
        SslMode::Require => "require",
        _ => "prefer",
    };
    format!("postgres://{user}@{}/{db}?sslmode={mode}", hosts.join(","))
}

/// `message` with anything that looks like the URL's password removed.
fn redact(message: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty());
    match password {
        Some(p) => message.replace(p, "***"),
        None => message.to_owned(),
    }
}

/// A password file: lines `host:port:database:user:password` (`*` matches
/// anything, `\:` and `\\` escape) as libpq's `.pgpass`; or a file of one
/// line without `:`, the password itself (a mounted Kubernetes Secret).
fn password_from_file(path: &Path, config: &postgres::Config) -> Result<Option<String>, UrlError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    if let [only] = lines.as_slice() {
        if !only.contains(':') {
            return Ok(Some(only.to_owned().to_owned()));
        }
    }
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_owned(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or("");
    let db = config.get_dbname().unwrap_or(user);
    for line in lines {
        let fields = split_fields(line);
        if fields.len() != 5 {
            continue;
        }
        let matches = |field: &str, value: &str| field == "*" || field == value;
        if matches(&fields[0], &host)
            && matches(&fields[1], &port)
            && matches(&fields[2], db)
            && matches(&fields[3], user)
        {
            return Ok(Some(fields[4].clone()));
        }
    }
    Ok(None)
}

fn split_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

/// TLS that verifies the server: against `sslrootcert` (e.g. Amazon RDS's
/// CA bundle) when given, else the system's roots.
fn tls_config(root_file: Option<&Path>) -> Result<rustls::ClientConfig, UrlError> {
    let mut roots = rustls::RootCertStore::empty();
    match root_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "sslrootcert {}: no PEM certificate in it",
                    path.display()
                ));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
        }
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_location_never_holds_the_password() {
        let c = PgConfig::parse(
            "postgres://mp:s3cret@db.example:6543/mesh?sslmode=disable",
            &no_env,
        )
        .unwrap();
        assert_eq!(
            c.location(),
            "postgres://mp@db.example:6543/mesh?sslmode=disable"
        );
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn the_password_comes_from_pgpassword_or_a_file() {
        let env = |k: &str| (k == "PGPASSWORD").then(|| "fromenv".to_owned());
        let c = PgConfig::parse("postgres://mp@h:5432/d?sslmode=disable", &env).unwrap();
        assert_eq!(c.config.get_password(), Some(&b"fromenv"[..]));

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "other:*:*:*:no\nh:5432:d:mp:fromfile\n").unwrap();
        let url = format!(
            "postgres://mp@h:5432/d?sslmode=disable&passfile={}",
            file.display()
        );
        let c = PgConfig::parse(&url, &no_env).unwrap();
        assert_eq!(c.config.get_password(), Some(&b"fromfile"[..]));

        std::fs::write(&file, "bare-secret\n").unwrap();
        let c = PgConfig::parse(&url, &no_env).unwrap();
        assert_eq!(c.config.get_password(), Some(&b"bare-secret"[..]));
    }

    #[test]
    fn a_bad_url_is_refused_without_its_password() {
        let e = PgConfig::parse("postgres://mp:s3cret@h:notaport/d", &no_env).unwrap_err();
        assert!(!e.contains("s3cret"), "{e}");
        let e = PgConfig::parse("postgres://h:5432/d?sslmode=disable", &no_env).unwrap_err();
        assert!(e.contains("no user"), "{e}");
    }
}
