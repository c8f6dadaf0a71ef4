//! A DNS server for names that move (`e2e-backend dns`): the hosts file
//! serves names that stay put, but Envoy's resolver reads it only once.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::Context;

use super::topology::{wait_for, Topology};

/// The zone file, in the topology's scratch directory.
const ZONE: &str = "dns-zone";

impl Topology {
    /// Start the DNS server on `127.0.0.1:53` of `app`'s namespace, where
    /// every namespace's `resolv.conf` points, so the application and its
    /// Envoy ask it for names that are not in the hosts file.
    pub fn start_dns(&mut self, app: &str) -> anyhow::Result<()> {
        let zone = self.path(ZONE);
        if !zone.exists() {
            std::fs::write(&zone, "").with_context(|| format!("writing {}", zone.display()))?;
        }
        let mut cmd = self.app(app)?.ns.command(&self.bins.backend);
        cmd.args(["dns", "--listen", "127.0.0.1:53", "--zone"])
            .arg(&zone);
        self.spawn(&format!("dns-{app}"), cmd)?;
        wait_for("the DNS server", Duration::from_secs(10), || {
            self.check_alive()?;
            let bound = self.app(app)?.ns.exec("ss", &["-lunH", "sport = :53"])?;
            Ok((!bound.trim().is_empty()).then_some(()))
        })
    }

    /// `name` resolves to `ip` through the DNS server from now on.
    pub fn set_dns_record(&mut self, name: &str, ip: Ipv4Addr) -> anyhow::Result<()> {
        let zone = self.path(ZONE);
        let old = std::fs::read_to_string(&zone).unwrap_or_default();
        let mut text: String = old
            .lines()
            .filter(|l| l.split_whitespace().next() != Some(name))
            .map(|l| format!("{l}\n"))
            .collect();
        text.push_str(&format!("{name} {ip}\n"));
        // Replaced whole: the server reads the file per query and never
        // sees half of it.
        let scratch = zone.with_extension("new");
        std::fs::write(&scratch, text).with_context(|| format!("writing {}", scratch.display()))?;
        std::fs::rename(&scratch, &zone).with_context(|| format!("replacing {}", zone.display()))
    }
}
