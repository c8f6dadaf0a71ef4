//! Starting the toy services inside application namespaces.

use std::time::Duration;

use anyhow::Context;

use super::certs::Pki;
use super::topology::{wait_for, Topology};

impl Topology {
    /// `e2e-backend http` named `name` on `0.0.0.0:port` in `app`; waits
    /// until it answers.
    pub fn start_http_backend(&mut self, app: &str, name: &str, port: u16) -> anyhow::Result<()> {
        let mut cmd = self.app(app)?.ns.command(&self.bins.backend);
        cmd.args([
            "http",
            "--name",
            name,
            "--listen",
            &format!("0.0.0.0:{port}"),
        ]);
        self.spawn(&format!("backend-{name}-{port}"), cmd)?;
        let url = format!("http://127.0.0.1:{port}/");
        wait_for(&format!("backend {name}"), Duration::from_secs(10), || {
            self.check_alive()?;
            Ok(self.get(app, &url).ok().map(|_| ()))
        })
    }

    /// `e2e-backend tcp` named `name` on `0.0.0.0:port` in `app`.
    pub fn start_tcp_backend(&mut self, app: &str, name: &str, port: u16) -> anyhow::Result<()> {
        let mut cmd = self.app(app)?.ns.command(&self.bins.backend);
        cmd.args([
            "tcp",
            "--name",
            name,
            "--listen",
            &format!("0.0.0.0:{port}"),
        ]);
        self.spawn(&format!("backend-{name}-{port}"), cmd)?;
        let addr = format!("127.0.0.1:{port}");
        wait_for(&format!("backend {name}"), Duration::from_secs(10), || {
            self.check_alive()?;
            Ok(self.tcp(app, &addr, 1)?.failed.eq(&0).then_some(()))
        })
    }

    /// `e2e-backend tls` named `name` on `0.0.0.0:port` in `app`, with the
    /// certificate of `server_name` from `pki`.
    pub fn start_tls_backend(
        &mut self,
        app: &str,
        name: &str,
        port: u16,
        server_name: &str,
        pki: &Pki,
    ) -> anyhow::Result<()> {
        self.spawn_with_certificate("tls", app, name, port, server_name, pki)?;
        let addr = format!("127.0.0.1:{port}");
        wait_for(&format!("backend {name}"), Duration::from_secs(10), || {
            self.check_alive()?;
            let s = self.tls(app, &addr, server_name, &pki.ca, 1)?;
            Ok((s.failed == 0).then_some(()))
        })
    }

    /// Start `e2e-backend MODE` (`tls` or `https`) named `name` on
    /// `0.0.0.0:port` in `app`, serving the certificate of `server_name`.
    fn spawn_with_certificate(
        &mut self,
        mode: &str,
        app: &str,
        name: &str,
        port: u16,
        server_name: &str,
        pki: &Pki,
    ) -> anyhow::Result<()> {
        let (cert, key) = pki
            .server(server_name)
            .with_context(|| format!("no certificate for {server_name}"))?;
        let mut cmd = self.app(app)?.ns.command(&self.bins.backend);
        cmd.args([mode, "--name", name, "--listen", &format!("0.0.0.0:{port}")])
            .arg("--cert")
            .arg(cert)
            .arg("--key")
            .arg(key);
        self.spawn(&format!("backend-{name}-{port}"), cmd)?;
        Ok(())
    }

    /// `e2e-backend https` named `name` on `0.0.0.0:port` in `app`, with
    /// the certificate of `server_name` from `pki`; waits until it listens.
    pub fn start_https_backend(
        &mut self,
        app: &str,
        name: &str,
        port: u16,
        server_name: &str,
        pki: &Pki,
    ) -> anyhow::Result<()> {
        self.spawn_with_certificate("https", app, name, port, server_name, pki)?;
        // Listening is enough (iproute2's `ss`): the TLS handshake is the
        // test's to check.
        let filter = format!("sport = :{port}");
        wait_for(&format!("backend {name}"), Duration::from_secs(10), || {
            self.check_alive()?;
            let listening = self.app(app)?.ns.exec("ss", &["-ltnH", &filter])?;
            Ok((!listening.trim().is_empty()).then_some(()))
        })
    }
}
