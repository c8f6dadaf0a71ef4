//! Publishing order for a reload that turns TLS on or off between proxies.
//!
//! When a virtual node's listener gains a certificate (PERMISSIVE or
//! STRICT), its clients start originating TLS to it in the same reload.
//! Published in translation order, a client could switch to TLS before the
//! server's Envoy accepts it, and requests in that gap fail. Turning TLS
//! off is the mirror image: the server must keep its TLS filter chain until
//! its clients have stopped originating TLS.
//!
//! So a proxy whose new resources *originate TLS on a cluster that did not*
//! or *stop accepting TLS on a listener port that did* is published last:
//! after every other proxy updated by the same reload has acknowledged its
//! listeners and clusters (or rejected them, or the wait timed out).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use envoy_types::pb::envoy::config::core::v3::TransportSocket;
use meshplane_translate::ProxyResources;
use meshplane_xds::{ProxyKey, ProxyRegistry, ResourceType, Snapshot, StreamInfo};

use crate::served_translation::ServedTranslation;

/// The name of Envoy's TLS transport socket.
const TLS: &str = "envoy.transport_sockets.tls";

/// How long the last proxies wait for the others' acknowledgements.
pub const ACK_WAIT: Duration = Duration::from_secs(5);

/// How often the wait looks at the streams.
const POLL: Duration = Duration::from_millis(5);

/// [`publish_last`] for served translations: their listeners and clusters
/// are decoded only when they differ.
pub fn publish_last_served(old: &ServedTranslation, new: &ServedTranslation) -> bool {
    const TYPES: [ResourceType; 2] = [ResourceType::Listener, ResourceType::Cluster];
    if !old.differ_in(new, &TYPES) {
        return false;
    }
    match (old.resources_of(&TYPES), new.resources_of(&TYPES)) {
        (Ok(old), Ok(new)) => publish_last(&old, &new),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "TLS switch order not checked");
            false
        }
    }
}

/// Whether `new` must be published after the other proxies of its reload.
pub fn publish_last(old: &ProxyResources, new: &ProxyResources) -> bool {
    let originating = |r: &ProxyResources| -> BTreeSet<String> {
        r.clusters
            .iter()
            .filter(|c| is_tls(c.transport_socket.as_ref()))
            .map(|c| c.name.clone())
            .collect()
    };
    let accepting = |r: &ProxyResources| -> BTreeSet<(String, Option<u32>)> {
        r.listeners
            .iter()
            .flat_map(|l| {
                l.filter_chains
                    .iter()
                    .filter(|c| is_tls(c.transport_socket.as_ref()))
                    .map(|c| {
                        let port = c
                            .filter_chain_match
                            .as_ref()
                            .and_then(|m| m.destination_port)
                            .map(|p| p.value);
                        (l.name.clone(), port)
                    })
            })
            .collect()
    };
    !originating(new).is_subset(&originating(old)) || !accepting(old).is_subset(&accepting(new))
}

fn is_tls(socket: Option<&TransportSocket>) -> bool {
    socket.is_some_and(|s| s.name == TLS)
}

/// Waits until every open stream of `published` has acknowledged (or
/// rejected) the listener and cluster versions of its snapshot, or until
/// `timeout`. Returns the keys still waited for when it gave up.
pub fn wait_for_acks(
    registry: &ProxyRegistry,
    published: &BTreeMap<ProxyKey, Snapshot>,
    timeout: Duration,
) -> Vec<ProxyKey> {
    let deadline = Instant::now() + timeout;
    loop {
        let pending: BTreeSet<ProxyKey> = registry
            .streams()
            .into_iter()
            .filter(|s| {
                published
                    .get(&s.key)
                    .is_some_and(|snapshot| !caught_up(s, snapshot))
            })
            .map(|s| s.key)
            .collect();
        if pending.is_empty() || Instant::now() >= deadline {
            return pending.into_iter().collect();
        }
        std::thread::sleep(POLL);
    }
}

/// Whether a stream holds (or has refused) `snapshot`'s listeners and
/// clusters. A type the stream never asked for does not count.
fn caught_up(stream: &StreamInfo, snapshot: &Snapshot) -> bool {
    [ResourceType::Listener, ResourceType::Cluster]
        .into_iter()
        .all(|t| match stream.types.get(&t) {
            None => true,
            Some(status) => {
                let want = snapshot.of_type(t).version().as_ref();
                status.last_acked_version.as_deref() == Some(want)
                    || (status.last_nack.is_some()
                        && status.last_sent_version.as_deref() == Some(want))
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::config::cluster::v3::Cluster;
    use envoy_types::pb::envoy::config::listener::v3::{FilterChain, FilterChainMatch, Listener};

    fn tls() -> Option<TransportSocket> {
        Some(TransportSocket {
            name: TLS.to_owned(),
            config_type: None,
        })
    }

    fn client(tls_on: bool) -> ProxyResources {
        ProxyResources {
            clusters: vec![Cluster {
                name: "cds_egress_m_b_http_80".to_owned(),
                transport_socket: if tls_on { tls() } else { None },
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn server(tls_on: bool) -> ProxyResources {
        let port = Some(FilterChainMatch {
            destination_port: Some(envoy_types::pb::google::protobuf::UInt32Value { value: 80 }),
            ..Default::default()
        });
        let mut chains = vec![FilterChain {
            filter_chain_match: port.clone(),
            ..Default::default()
        }];
        if tls_on {
            chains.push(FilterChain {
                filter_chain_match: port,
                transport_socket: tls(),
                ..Default::default()
            });
        }
        ProxyResources {
            listeners: vec![Listener {
                name: "lds_ingress_0.0.0.0_15000".to_owned(),
                filter_chains: chains,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_client_that_starts_tls_goes_after_the_server_that_accepts_it() {
        assert!(publish_last(&client(false), &client(true)));
        assert!(!publish_last(&server(false), &server(true)));
    }

    #[test]
    fn a_server_that_stops_tls_goes_after_its_clients() {
        assert!(publish_last(&server(true), &server(false)));
        assert!(!publish_last(&client(true), &client(false)));
    }

    #[test]
    fn unchanged_tls_needs_no_order() {
        assert!(!publish_last(&client(true), &client(true)));
        assert!(!publish_last(&server(true), &server(true)));
        assert!(!publish_last(&client(false), &client(false)));
    }

    #[test]
    fn nothing_open_means_nothing_to_wait_for() {
        let registry = ProxyRegistry::default();
        let published = BTreeMap::new();
        assert!(wait_for_acks(&registry, &published, Duration::ZERO).is_empty());
    }
}
