//! Traffic from inside an application's namespace: `e2e-client` started
//! with `ip netns exec` as root (not the Envoy's UID), so its connections
//! are redirected to the Envoy like an application's.

use std::path::Path;

use anyhow::Context;

use super::control::parse_get;
use super::topology::Topology;
use crate::traffic::Summary;

/// Options of an HTTP burst.
#[derive(Debug, Clone, Default)]
pub struct HttpLoad {
    pub method: Option<String>,
    pub headers: Vec<String>,
    pub fail_first: bool,
    pub fail_times: Option<u32>,
    pub concurrency: Option<usize>,
    /// Keep every outcome in the summary.
    pub outcomes: bool,
}

impl HttpLoad {
    pub fn header(mut self, h: &str) -> HttpLoad {
        self.headers.push(h.to_owned());
        self
    }

    pub fn method(mut self, m: &str) -> HttpLoad {
        self.method = Some(m.to_owned());
        self
    }

    pub fn fail_first(mut self) -> HttpLoad {
        self.fail_first = true;
        self
    }

    /// The backend fails the first `n` attempts of each request.
    pub fn fail_times(mut self, n: u32) -> HttpLoad {
        self.fail_first = true;
        self.fail_times = Some(n);
        self
    }

    pub fn concurrency(mut self, c: usize) -> HttpLoad {
        self.concurrency = Some(c);
        self
    }

    pub fn outcomes(mut self) -> HttpLoad {
        self.outcomes = true;
        self
    }

    /// The `e2e-client http|watch` arguments after the URL.
    pub fn args(&self) -> Vec<String> {
        let mut a = Vec::new();
        if let Some(m) = &self.method {
            a.extend(["--method".to_string(), m.clone()]);
        }
        for h in &self.headers {
            a.extend(["--header".to_string(), h.clone()]);
        }
        if self.fail_first {
            a.push("--fail-first".into());
        }
        if let Some(n) = self.fail_times {
            a.extend(["--fail-times".to_string(), n.to_string()]);
        }
        if let Some(c) = self.concurrency {
            a.extend(["--concurrency".to_string(), c.to_string()]);
        }
        a
    }
}

impl Topology {
    /// `count` HTTP requests from `app` to `url`.
    pub fn http(
        &self,
        app: &str,
        url: &str,
        count: u64,
        load: &HttpLoad,
    ) -> anyhow::Result<Summary> {
        let mut args = vec![
            "http".to_string(),
            url.to_string(),
            "-n".into(),
            count.to_string(),
        ];
        args.extend(load.args());
        if load.outcomes {
            args.push("--outcomes".into());
        }
        self.client_summary(app, &args)
    }

    /// `count` TCP connections from `app` to `addr` (`host:port`).
    pub fn tcp(&self, app: &str, addr: &str, count: u64) -> anyhow::Result<Summary> {
        self.client_summary(
            app,
            &["tcp".into(), addr.into(), "-n".into(), count.to_string()],
        )
    }

    /// `count` TCP connections from `app` to `addr` whose client sends a
    /// line before it reads the server's greeting.
    pub fn tcp_client_first(&self, app: &str, addr: &str, count: u64) -> anyhow::Result<Summary> {
        self.client_summary(
            app,
            &[
                "tcp".into(),
                addr.into(),
                "-n".into(),
                count.to_string(),
                "--client-first".into(),
            ],
        )
    }

    /// `count` TLS connections from `app` to `addr`, sending `sni`,
    /// trusting `ca`.
    pub fn tls(
        &self,
        app: &str,
        addr: &str,
        sni: &str,
        ca: &Path,
        count: u64,
    ) -> anyhow::Result<Summary> {
        let ca = ca.to_string_lossy().into_owned();
        self.client_summary(
            app,
            &[
                "tls".into(),
                addr.into(),
                "--sni".into(),
                sni.into(),
                "--ca".into(),
                ca,
                "-n".into(),
                count.to_string(),
            ],
        )
    }

    /// `count` gRPC calls from `app` to `base` (`http://host:port`) +
    /// `path` (`/pkg.Service/Method`), with `metadata` (`name: value`).
    pub fn grpc(
        &self,
        app: &str,
        base: &str,
        path: &str,
        metadata: &[&str],
        count: u64,
    ) -> anyhow::Result<Summary> {
        let mut args = vec![
            "grpc".to_string(),
            base.to_string(),
            path.to_string(),
            "-n".into(),
            count.to_string(),
        ];
        for m in metadata {
            args.extend(["--header".to_string(), (*m).to_string()]);
        }
        self.client_summary(app, &args)
    }

    /// One GET from inside `app`'s namespace: (status, body).
    pub fn get(&self, app: &str, url: &str) -> anyhow::Result<(u16, String)> {
        let out = self.app(app)?.ns.exec(&self.bins.client, &["get", url])?;
        parse_get(&out)
    }

    fn client_summary(&self, app: &str, args: &[String]) -> anyhow::Result<Summary> {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.app(app)?.ns.exec(&self.bins.client, &a)?;
        serde_json::from_str(out.trim()).with_context(|| format!("e2e-client printed {out:?}"))
    }
}
