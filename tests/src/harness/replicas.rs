//! Several `meshplane serve` replicas in the switch namespace, each on its
//! own address of the bridge, sharing a fresh database of the PostgreSQL
//! server `scripts/test.sh` starts (`MESHPLANE_TEST_POSTGRES_URL`, on the
//! host's loopback; the replicas reach it through a forwarder listening on
//! the switch namespace's loopback).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context};
use meshplane_api_tests::postgres;

use super::api::{AwsCall, API_PORT};
use super::control::{parse_get, CONTROL_ADMIN_PORT};
use super::envoy::XDS_PORT;
use super::forward::{forward_out_of, Forward};
use super::process::Proc;
use super::topology::{wait_for, Topology, SWITCH_IP};

/// The replicas' addresses on the bridge (the first is the bridge's own).
pub const REPLICA_IPS: [Ipv4Addr; 3] = [
    SWITCH_IP,
    Ipv4Addr::new(198, 18, 0, 2),
    Ipv4Addr::new(198, 18, 0, 3),
];
/// Where the replicas find PostgreSQL: the switch namespace's loopback.
const DATABASE_IN_SWITCH: &str = "127.0.0.1:5432";

/// The replicas of a topology: addresses and their database.
#[derive(Debug)]
pub struct Replicas {
    /// The database's URL on the host, for SQL from the test.
    pub host_url: String,
    /// The same database as the replicas reach it.
    switch_url: String,
    _forward: Forward,
    count: usize,
    /// More arguments for every replica's `meshplane serve`.
    pub args: Vec<String>,
}

impl Replicas {
    /// How many replicas there are.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Replica `i`'s process name (`meshplane-a`, `-b`, ...).
    pub fn name(i: usize) -> String {
        format!("meshplane-{}", char::from(b'a' + i as u8))
    }

    /// `APPMESH_XDS_ENDPOINT` listing every replica, starting with `first`.
    pub fn xds_endpoints(&self, first: usize) -> String {
        (0..self.count)
            .map(|k| format!("{}:{XDS_PORT}", REPLICA_IPS[(first + k) % self.count]))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The `aws` CLI pointed at replica `i`'s API.
    pub fn api(&self, i: usize) -> AwsCall {
        AwsCall {
            endpoint: Some(self.api_url(i)),
            env: Vec::new(),
        }
    }

    pub fn api_url(&self, i: usize) -> String {
        format!("http://{}:{API_PORT}", REPLICA_IPS[i])
    }

    pub fn admin_url(&self, i: usize) -> String {
        format!("http://{}:{CONTROL_ADMIN_PORT}", REPLICA_IPS[i])
    }
}

impl Topology {
    /// `n` (at most 3) replicas on a fresh database, started and ready.
    /// `args` go to every replica's `meshplane serve`.
    pub fn start_replicas(
        &mut self,
        label: &str,
        n: usize,
        args: &[&str],
    ) -> anyhow::Result<Replicas> {
        if n == 0 || n > REPLICA_IPS.len() {
            bail!("between 1 and {} replicas", REPLICA_IPS.len());
        }
        for ip in &REPLICA_IPS[1..n] {
            self.switch
                .ip(&["addr", "add", &format!("{ip}/24"), "dev", "br0"])?;
        }
        let host_url = postgres::fresh_database(label)?;
        let (target, switch_url) = in_switch(&host_url)?;
        let listen: SocketAddr = DATABASE_IN_SWITCH.parse()?;
        let forward = forward_out_of(self.switch.name(), listen, target)?;
        let r = Replicas {
            host_url,
            switch_url,
            _forward: forward,
            count: n,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        };
        for i in 0..n {
            self.start_replica(&r, i)?;
        }
        Ok(r)
    }

    /// Start replica `i` (again) and wait until it is ready.
    pub fn start_replica(&mut self, r: &Replicas, i: usize) -> anyhow::Result<()> {
        let ip = REPLICA_IPS[i];
        let mut cmd = self.switch.command(&self.bins.meshplane);
        cmd.args([
            "serve",
            "--store",
            &r.switch_url,
            "--api-listen",
            &format!("{ip}:{API_PORT}"),
            "--xds-listen",
            &format!("{ip}:{XDS_PORT}"),
            "--admin-listen",
            &format!("{ip}:{CONTROL_ADMIN_PORT}"),
            "--insecure-no-auth",
        ])
        .args(&r.args)
        .env("RUST_LOG", "info");
        let name = Replicas::name(i);
        self.procs.push(Proc::spawn(&name, cmd, &self.dir)?);
        let url = format!("{}/readyz", r.admin_url(i));
        wait_for(&format!("{name} /readyz"), Duration::from_secs(30), || {
            self.check_alive()?;
            let (status, _) = self.get_in_switch(&url)?;
            Ok((status == 200).then_some(()))
        })
    }

    /// SIGKILL replica `i`.
    pub fn kill_replica(&mut self, i: usize) -> anyhow::Result<()> {
        self.kill(&Replicas::name(i))
    }

    /// Send `signal` (`TERM`, `STOP`, `CONT`) to replica `i`.
    pub fn signal_replica(&self, i: usize, signal: &str) -> anyhow::Result<()> {
        let name = Replicas::name(i);
        let p = self
            .procs
            .iter()
            .find(|p| p.name == name)
            .with_context(|| format!("no process {name}"))?;
        let pid = p.id().to_string();
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()?;
        if !status.success() {
            bail!("kill -{signal} {pid} ({name}) failed");
        }
        Ok(())
    }

    /// SIGTERM replica `i` and wait until it has exited.
    pub fn stop_replica(&mut self, i: usize) -> anyhow::Result<()> {
        self.signal_replica(i, "TERM")?;
        let name = Replicas::name(i);
        let pos = self
            .procs
            .iter()
            .position(|p| p.name == name)
            .with_context(|| format!("no process {name}"))?;
        let mut p = self.procs.remove(pos);
        wait_for(
            &format!("{name} to exit after SIGTERM"),
            Duration::from_secs(15),
            || Ok((!p.running()).then_some(())),
        )
    }

    /// GET `url` from the switch namespace: (status, body).
    pub fn get_in_switch(&self, url: &str) -> anyhow::Result<(u16, String)> {
        let out = self
            .switch
            .exec(&self.bins.client, &["get", url])
            .with_context(|| format!("GET {url}"))?;
        parse_get(&out)
    }

    /// Replica `i`'s admin JSON at `path` (`/debug/store`).
    pub fn replica_json(
        &self,
        r: &Replicas,
        i: usize,
        path: &str,
    ) -> anyhow::Result<serde_json::Value> {
        let url = format!("{}{path}", r.admin_url(i));
        let (status, body) = self.get_in_switch(&url)?;
        if status != 200 {
            bail!("GET {url}: {status} {body}");
        }
        serde_json::from_str(&body).with_context(|| format!("GET {url} is not JSON: {body}"))
    }

    /// The replica `app`'s Envoy has its ADS stream on: the `meshplane_xds`
    /// host with an active connection.
    pub fn xds_replica_of(&self, r: &Replicas, app: &str) -> anyhow::Result<Option<usize>> {
        let (status, body) = self.envoy_admin(app, "/clusters")?;
        if status != 200 {
            bail!("{app}'s Envoy /clusters answered {status}");
        }
        for line in body.lines() {
            let Some(rest) = line.strip_prefix("meshplane_xds::") else {
                continue;
            };
            let Some(host) = rest.strip_suffix("::cx_active::1") else {
                continue;
            };
            return Ok((0..r.len()).find(|i| host == format!("{}:{XDS_PORT}", REPLICA_IPS[*i])));
        }
        Ok(None)
    }
}

/// The server address in `url` and the URL with it replaced by
/// [`DATABASE_IN_SWITCH`].
fn in_switch(url: &str) -> anyhow::Result<(SocketAddr, String)> {
    let at = url
        .find('@')
        .context("the test PostgreSQL URL has no user@")?;
    let rest = &url[at + 1..];
    let end = rest.find('/').unwrap_or(rest.len());
    let host: SocketAddr = rest[..end].parse().with_context(|| {
        format!(
            "the test PostgreSQL URL's host {:?} is not IP:PORT",
            &rest[..end]
        )
    })?;
    let switch = format!("{}{DATABASE_IN_SWITCH}{}", &url[..=at], &rest[end..]);
    Ok((host, switch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_switch_swaps_the_server_address() {
        let (host, url) = in_switch("postgres://u:p@127.0.0.1:4321/db?sslmode=disable").unwrap();
        assert_eq!(host, "127.0.0.1:4321".parse().unwrap());
        assert_eq!(url, "postgres://u:p@127.0.0.1:5432/db?sslmode=disable");
    }
}
