//! App Mesh's traffic redirection inside an application's namespace: the
//! rules of the user guide's `envoy-networking.sh` (ECS proxy
//! configuration / the Kubernetes init container), built here as argument
//! lists and applied with `iptables` in the namespace.
//!
//! - Egress: TCP from every UID but the Envoy's, to a destination that is
//!   not local, is redirected to the Envoy's egress port (15001), except
//!   the ignored ports (22 always) and ignored addresses.
//! - Ingress: TCP arriving from a non-local source on an application port
//!   is redirected to the Envoy's ingress port (15000).

use super::netns::Netns;

/// The variables of `envoy-networking.sh`.
#[derive(Debug, Clone)]
pub struct Redirect {
    /// `APPMESH_IGNORE_UID`: the Envoy's UID.
    pub ignore_uid: u32,
    /// `APPMESH_APP_PORTS`.
    pub app_ports: Vec<u16>,
    /// `APPMESH_ENVOY_INGRESS_PORT`.
    pub ingress_port: u16,
    /// `APPMESH_ENVOY_EGRESS_PORT`.
    pub egress_port: u16,
    /// `APPMESH_EGRESS_IGNORED_PORTS` (22 is always added).
    pub egress_ignored_ports: Vec<u16>,
    /// `APPMESH_EGRESS_IGNORED_IP`.
    pub egress_ignored_ips: Vec<String>,
}

impl Redirect {
    /// App Mesh's usual values: UID 1337, ingress 15000, egress 15001, the
    /// Envoy admin port ignored.
    pub fn app_mesh(app_ports: &[u16], admin_port: u16) -> Redirect {
        Redirect {
            ignore_uid: super::envoy::ENVOY_UID,
            app_ports: app_ports.to_vec(),
            ingress_port: 15000,
            egress_port: 15001,
            egress_ignored_ports: vec![admin_port],
            egress_ignored_ips: vec!["169.254.169.254".into(), "169.254.170.2".into()],
        }
    }

    /// The `iptables` invocations, in order (arguments after `iptables`).
    pub fn rules(&self) -> Vec<Vec<String>> {
        let mut r: Vec<Vec<String>> = Vec::new();
        let mut add = |args: &[&str]| r.push(args.iter().map(|a| a.to_string()).collect());
        let nat = ["-t", "nat"];
        if !self.app_ports.is_empty() {
            add(&[nat[0], nat[1], "-N", "APPMESH_INGRESS"]);
        }
        add(&[nat[0], nat[1], "-N", "APPMESH_EGRESS"]);
        // Egress: what to leave alone.
        let uid = self.ignore_uid.to_string();
        add(&[
            nat[0],
            nat[1],
            "-A",
            "APPMESH_EGRESS",
            "-m",
            "owner",
            "--uid-owner",
            &uid,
            "-j",
            "RETURN",
        ]);
        let mut ignored: Vec<u16> = self.egress_ignored_ports.clone();
        ignored.push(22);
        ignored.sort_unstable();
        ignored.dedup();
        for port in ignored {
            let port = port.to_string();
            add(&[
                nat[0],
                nat[1],
                "-A",
                "APPMESH_EGRESS",
                "-p",
                "tcp",
                "-m",
                "multiport",
                "--dports",
                &port,
                "-j",
                "RETURN",
            ]);
        }
        for ip in &self.egress_ignored_ips {
            add(&[
                nat[0],
                nat[1],
                "-A",
                "APPMESH_EGRESS",
                "-p",
                "tcp",
                "-d",
                ip,
                "-j",
                "RETURN",
            ]);
        }
        // Everything else to the Envoy, for non-local destinations.
        let egress = self.egress_port.to_string();
        add(&[
            nat[0],
            nat[1],
            "-A",
            "APPMESH_EGRESS",
            "-p",
            "tcp",
            "-j",
            "REDIRECT",
            "--to",
            &egress,
        ]);
        add(&[
            nat[0],
            nat[1],
            "-A",
            "OUTPUT",
            "-p",
            "tcp",
            "-m",
            "addrtype",
            "!",
            "--dst-type",
            "LOCAL",
            "-j",
            "APPMESH_EGRESS",
        ]);
        // Ingress.
        if !self.app_ports.is_empty() {
            let ports = self
                .app_ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let ingress = self.ingress_port.to_string();
            add(&[
                nat[0],
                nat[1],
                "-A",
                "APPMESH_INGRESS",
                "-p",
                "tcp",
                "-m",
                "multiport",
                "--dports",
                &ports,
                "-j",
                "REDIRECT",
                "--to-port",
                &ingress,
            ]);
            add(&[
                nat[0],
                nat[1],
                "-A",
                "PREROUTING",
                "-p",
                "tcp",
                "-m",
                "addrtype",
                "!",
                "--src-type",
                "LOCAL",
                "-j",
                "APPMESH_INGRESS",
            ]);
        }
        r
    }

    /// Apply the rules inside `ns`.
    pub fn apply(&self, ns: &Netns) -> anyhow::Result<()> {
        for rule in self.rules() {
            let args: Vec<&str> = rule.iter().map(String::as_str).collect();
            ns.exec("iptables", &args)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_follow_envoy_networking_sh() {
        let r = Redirect::app_mesh(&[80, 8080], 9901).rules();
        let lines: Vec<String> = r.iter().map(|a| a.join(" ")).collect();
        assert_eq!(lines[0], "-t nat -N APPMESH_INGRESS");
        assert!(lines
            .contains(&"-t nat -A APPMESH_EGRESS -m owner --uid-owner 1337 -j RETURN".to_string()));
        assert!(lines.contains(
            &"-t nat -A APPMESH_EGRESS -p tcp -m multiport --dports 22 -j RETURN".to_string()
        ));
        assert!(lines.contains(
            &"-t nat -A APPMESH_EGRESS -p tcp -m multiport --dports 9901 -j RETURN".to_string()
        ));
        assert!(lines.contains(&"-t nat -A APPMESH_INGRESS -p tcp -m multiport --dports 80,8080 -j REDIRECT --to-port 15000".to_string()));
        // The catch-all redirect comes after every RETURN.
        let redirect = lines.iter().position(|l| l.contains("--to 15001")).unwrap();
        assert!(lines[..redirect]
            .iter()
            .filter(|l| l.contains("APPMESH_EGRESS") && l.contains("-A"))
            .all(|l| l.ends_with("RETURN")));
    }

    #[test]
    fn no_app_ports_no_ingress_chain() {
        let r = Redirect::app_mesh(&[], 9901).rules();
        assert!(r.iter().all(|a| !a.join(" ").contains("APPMESH_INGRESS")));
    }
}
