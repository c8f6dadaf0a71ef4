//! Incremental protocol (`DeltaAggregatedResources`, `Delta*`).
//!
//! Per type the stream remembers each resource version the proxy holds
//! (`known`, seeded from `initial_resource_versions` on reconnect). On a
//! change it sends only resources whose version differs, in
//! [`PUSH_ORDER`](crate::push_order::PUSH_ORDER); `removed_resources` go out last, in
//! [`REMOVAL_ORDER`](crate::push_order::REMOVAL_ORDER), once every response was answered and no NACK is
//! outstanding: until then the proxy keeps what it holds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, Resource as WireResource,
};
use tonic::Status;

use super::request_type::request_type;
use super::schedule::{Scheduled, TypeState};
use super::stream_loop::Protocol;
use super::stream_state::{StreamCtx, Subscription, Tracking};
use crate::cache::{Resource, Snapshot, TypeResources};
use crate::ResourceType;

pub(crate) struct DeltaStream {
    ctx: StreamCtx,
    snapshot: Snapshot,
    only: Option<ResourceType>,
    types: BTreeMap<ResourceType, DeltaType>,
}

#[derive(Default)]
pub(crate) struct DeltaType {
    sub: Subscription,
    requested: bool,
    dirty: bool,
    /// The proxy holds resources that are no longer in the snapshot.
    removals_pending: bool,
    /// Name -> version the proxy holds.
    known: BTreeMap<Arc<str>, Arc<str>>,
    /// Names to send even if the proxy holds the current version.
    force: BTreeSet<String>,
    /// Names to report in `removed_resources` with the next response
    /// (requested but absent, or dropped from an explicit subscription
    /// while a wildcard is active).
    tell_removed: BTreeSet<String>,
    track: Tracking,
}

impl DeltaStream {
    pub(crate) fn new(ctx: StreamCtx, snapshot: Snapshot, only: Option<ResourceType>) -> Self {
        DeltaStream {
            ctx,
            snapshot,
            only,
            types: BTreeMap::new(),
        }
    }

    fn respond(
        &mut self,
        t: ResourceType,
        upserts: Vec<Resource>,
        removed: Vec<String>,
    ) -> DeltaDiscoveryResponse {
        let version = self.snapshot.of_type(t).version().clone();
        let st = self.types.entry(t).or_default();
        let names = upserts
            .iter()
            .map(|r| r.name().clone())
            .chain(removed.iter().map(|n| Arc::from(n.as_str())))
            .collect();
        let nonce = self.ctx.sent(t, &mut st.track, &version, names);
        DeltaDiscoveryResponse {
            system_version_info: version.to_string(),
            resources: upserts
                .iter()
                .map(|r| WireResource {
                    name: r.name().to_string(),
                    version: r.version().to_string(),
                    resource: Some(r.any().clone()),
                    ..Default::default()
                })
                .collect(),
            type_url: t.type_url().to_owned(),
            removed_resources: removed,
            nonce: nonce.to_string(),
            ..Default::default()
        }
    }

    /// Changed and newly requested resources of one type.
    fn make(&mut self, t: ResourceType) -> Option<DeltaDiscoveryResponse> {
        let current = self.snapshot.of_type(t);
        let st = self.types.get_mut(&t)?;
        st.dirty = false;
        if !st.requested {
            return None;
        }
        let DeltaType {
            sub,
            known,
            force,
            tell_removed,
            removals_pending,
            ..
        } = st;
        let candidates: Vec<&Resource> = if sub.wildcard {
            current.resources().values().collect()
        } else {
            sub.names.iter().filter_map(|n| current.get(n)).collect()
        };
        let upserts: Vec<Resource> = candidates
            .into_iter()
            .filter(|r| {
                force.contains(&**r.name())
                    || !known
                        .get(r.name())
                        .is_some_and(|v| Arc::ptr_eq(v, r.version()) || v == r.version())
            })
            .cloned()
            .collect();
        let removed: Vec<String> = std::mem::take(tell_removed)
            .into_iter()
            .filter(|n| !(sub.covers(n) && current.get(n).is_some()))
            .collect();
        force.clear();
        *removals_pending = known
            .keys()
            .any(|n| !(sub.covers(n) && current.get(n).is_some()));
        if upserts.is_empty() && removed.is_empty() {
            return None;
        }
        for r in &upserts {
            known.insert(r.name().clone(), r.version().clone());
        }
        for n in &removed {
            known.remove(n.as_str());
        }
        if t == ResourceType::Cluster {
            // Envoy keeps an updated cluster warming until it gets endpoints.
            let warm: Vec<String> = upserts
                .iter()
                .flat_map(|r| r.references().iter().map(|n| n.to_string()))
                .collect();
            if let Some(eds) = self.types.get_mut(&ResourceType::Endpoint) {
                if !warm.is_empty() {
                    eds.force.extend(warm);
                    eds.dirty = true;
                }
            }
        }
        Some(self.respond(t, upserts, removed))
    }

    /// Resources the proxy holds that left the snapshot.
    fn remove(&mut self, t: ResourceType) -> Option<DeltaDiscoveryResponse> {
        let current = self.snapshot.of_type(t);
        let st = self.types.get_mut(&t)?;
        if !std::mem::take(&mut st.removals_pending) {
            return None;
        }
        let gone: Vec<String> = st
            .known
            .keys()
            .filter(|n| !(st.sub.covers(n) && current.get(n).is_some()))
            .map(|n| n.to_string())
            .collect();
        if gone.is_empty() {
            return None;
        }
        for n in &gone {
            st.known.remove(n.as_str());
        }
        Some(self.respond(t, Vec::new(), gone))
    }
}

impl Protocol for DeltaStream {
    type Request = DeltaDiscoveryRequest;
    type Response = DeltaDiscoveryResponse;

    fn on_request(&mut self, req: DeltaDiscoveryRequest) -> Result<(), Status> {
        let Some(t) = request_type(&req.type_url, self.only)? else {
            tracing::warn!(key = %self.ctx.key, type_url = req.type_url, "request for a type this server does not serve; ignored");
            return Ok(());
        };
        let current: &TypeResources = self.snapshot.of_type(t);
        let st = self.types.entry(t).or_default();
        let first = !st.requested;
        if first {
            for (name, version) in &req.initial_resource_versions {
                st.known
                    .insert(Arc::from(name.as_str()), Arc::from(version.as_str()));
            }
        }
        // Subscription changes apply even when the nonce is stale.
        let (added, removed) = st.sub.apply_delta(
            &req.resource_names_subscribe,
            &req.resource_names_unsubscribe,
            first,
        );
        for n in added {
            if first && req.initial_resource_versions.contains_key(&n) {
                continue; // the proxy has it: sent only if its version differs
            }
            if current.get(&n).is_some() {
                st.force.insert(n);
            } else {
                st.tell_removed.insert(n);
            }
        }
        for n in removed {
            st.known.remove(n.as_str());
            if st.sub.wildcard {
                // Still covered by "*"? The proxy cannot tell: say so.
                if current.get(&n).is_some() {
                    st.force.insert(n);
                } else {
                    st.tell_removed.insert(n);
                }
            }
        }
        if !req.response_nonce.is_empty()
            && st.track.is_current(&req.response_nonce)
            && st.track.awaiting
        {
            self.ctx
                .answered(t, &mut st.track, None, req.error_detail.as_ref());
        }
        st.requested = true;
        st.dirty = true;
        Ok(())
    }

    fn on_snapshot(&mut self, snapshot: Snapshot) {
        self.take_snapshot(snapshot);
    }

    fn has_work(&self) -> bool {
        self.scheduled_work()
    }

    fn next_response(&mut self) -> Option<DeltaDiscoveryResponse> {
        self.next_scheduled()
    }
}

impl TypeState for DeltaType {
    fn dirty(&self) -> bool {
        self.dirty
    }

    fn set_dirty(&mut self) {
        self.dirty = true;
    }

    fn removals_pending(&self) -> bool {
        self.removals_pending
    }

    fn subscription(&self) -> &Subscription {
        &self.sub
    }

    fn tracking(&self) -> &Tracking {
        &self.track
    }

    fn subscription_and_tracking_mut(&mut self) -> (&Subscription, &mut Tracking) {
        (&self.sub, &mut self.track)
    }
}

impl Scheduled for DeltaStream {
    type State = DeltaType;
    type Response = DeltaDiscoveryResponse;

    fn types(&self) -> &BTreeMap<ResourceType, DeltaType> {
        &self.types
    }

    fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    fn parts_mut(&mut self) -> (&mut BTreeMap<ResourceType, DeltaType>, &mut Snapshot) {
        (&mut self.types, &mut self.snapshot)
    }

    fn push(&mut self, t: ResourceType) -> Option<DeltaDiscoveryResponse> {
        self.make(t)
    }

    fn remove(&mut self, t: ResourceType) -> Option<DeltaDiscoveryResponse> {
        self.remove(t)
    }
}
