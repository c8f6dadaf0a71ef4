//! `APPMESH_XDS_ENDPOINT` as a list: one or more meshplane replicas
//! (`host:port`, `[ipv6]:port`, comma-separated) or a single `unix:/path`.
//! Every entry becomes an endpoint of the `meshplane_xds` cluster, so when
//! the replica an Envoy streams from goes away, its next ADS stream goes to
//! another one.

use crate::address::Target;
use crate::error::BootstrapError;

pub const XDS_ENDPOINT: &str = "APPMESH_XDS_ENDPOINT";

/// The parsed, non-empty list of xDS endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XdsEndpoints {
    targets: Vec<Target>,
}

impl XdsEndpoints {
    /// Parses `value` read from `variable`: entries separated by commas
    /// (spaces around them ignored).
    pub(crate) fn parse(variable: &str, value: &str) -> Result<XdsEndpoints, BootstrapError> {
        let bad = |why: String| BootstrapError::invalid(variable, value, why);
        let mut targets: Vec<Target> = Vec::new();
        for (index, entry) in value.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                return Err(bad(format!(
                    "entry {} of the comma-separated list is empty",
                    index + 1
                )));
            }
            let target = Target::parse(variable, entry)?;
            if targets.contains(&target) {
                return Err(bad(format!("{entry} is listed twice")));
            }
            targets.push(target);
        }
        if targets.len() > 1 && targets.iter().any(|t| matches!(t, Target::Unix { .. })) {
            return Err(bad(
                "a unix: socket cannot be combined with other endpoints; list host:port entries \
                 or give one unix:/path"
                    .to_owned(),
            ));
        }
        Ok(XdsEndpoints { targets })
    }

    pub(crate) fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// The only target, when the list has one entry.
    pub(crate) fn single(&self) -> Option<&Target> {
        match self.targets.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The DNS name every entry shares (one name, or the same name on
    /// several ports), which is then the gRPC `:authority` and the TLS
    /// server name; `None` when entries differ or are IPs.
    pub(crate) fn common_dns_name(&self) -> Option<&str> {
        let first = self.targets.first()?.dns_name()?;
        self.targets
            .iter()
            .all(|t| t.dns_name() == Some(first))
            .then_some(first)
    }

    /// True when every entry is on this host (loopback, `localhost`, unix).
    pub(crate) fn is_local(&self) -> bool {
        self.targets.iter().all(Target::is_local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<XdsEndpoints, String> {
        XdsEndpoints::parse("APPMESH_XDS_ENDPOINT", value).map_err(|e| e.to_string())
    }

    #[test]
    fn one_entry_is_the_single_target() {
        let e = parse("10.0.0.1:15010").unwrap();
        assert_eq!(e.targets().len(), 1);
        assert!(e.single().is_some());
        assert_eq!(e.common_dns_name(), None);
    }

    #[test]
    fn lists_keep_their_order_and_ignore_spaces() {
        let e = parse("10.0.0.1:15010, 10.0.0.2:15010 ,[fd00::3]:15010").unwrap();
        let addresses: Vec<String> = e
            .targets()
            .iter()
            .map(|t| t.address()["socket_address"]["address"].to_string())
            .collect();
        assert_eq!(
            addresses,
            ["\"10.0.0.1\"", "\"10.0.0.2\"", "\"fd00::3\""].map(String::from)
        );
        assert!(e.single().is_none());
        assert!(!e.is_local());
    }

    #[test]
    fn a_shared_dns_name_is_common_and_mixed_names_are_not() {
        let e = parse("meshplane.internal:15010,meshplane.internal:15011").unwrap();
        assert_eq!(e.common_dns_name(), Some("meshplane.internal"));
        let e = parse("a.internal:15010,b.internal:15010").unwrap();
        assert_eq!(e.common_dns_name(), None);
        let e = parse("a.internal:15010,10.0.0.2:15010").unwrap();
        assert_eq!(e.common_dns_name(), None);
    }

    #[test]
    fn rejects_empty_entries_duplicates_and_mixed_unix_naming_the_variable() {
        for (bad, why) in [
            ("10.0.0.1:15010,", "entry 2"),
            (",10.0.0.1:15010", "entry 1"),
            ("10.0.0.1:15010,10.0.0.1:15010", "listed twice"),
            ("unix:/run/mp.sock,10.0.0.1:15010", "unix"),
            ("10.0.0.1:15010,meshplane", "expected host:port"),
        ] {
            let msg = parse(bad).unwrap_err();
            assert!(msg.starts_with("APPMESH_XDS_ENDPOINT="), "{bad}: {msg}");
            assert!(msg.contains(why), "{bad}: {msg}");
        }
    }
}
