//! State-of-the-world protocol (`StreamAggregatedResources`, `Stream*`).
//!
//! Per type the stream remembers what the proxy was given (`sent`, shared
//! resource handles, no copies). On a change it sends, in
//! [`PUSH_ORDER`](crate::push_order::PUSH_ORDER), every LDS/CDS resource (full state) or the
//! changed and newly requested RDS/EDS/SDS resources. An LDS/CDS resource
//! that left the snapshot is kept in those responses ("make before break")
//! and dropped by a final response once every response was answered and no
//! NACK is outstanding: while the proxy still runs an older version of a
//! resource (which may use them) they stay in every response.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use envoy_types::pb::envoy::service::discovery::v3::{DiscoveryRequest, DiscoveryResponse};
use tonic::Status;

use super::request_type::request_type;
use super::schedule::{Scheduled, TypeState};
use super::stream_loop::Protocol;
use super::stream_state::{StreamCtx, Subscription, Tracking};
use crate::cache::{Resource, Snapshot, TypeResources};
use crate::ResourceType;

pub(crate) struct SotwStream {
    ctx: StreamCtx,
    snapshot: Snapshot,
    /// Set for a per-type service: the only type it serves.
    only: Option<ResourceType>,
    types: BTreeMap<ResourceType, SotwType>,
}

#[derive(Default)]
pub(crate) struct SotwType {
    sub: Subscription,
    /// The proxy asked for this type on this stream.
    requested: bool,
    /// At least one response of this type was sent.
    responded: bool,
    /// Something changed that may need a response.
    dirty: bool,
    /// LDS/CDS: the proxy still holds resources that left the snapshot.
    break_pending: bool,
    sent: BTreeMap<Arc<str>, Resource>,
    /// Names to send even if the proxy has them (newly requested, or the
    /// endpoints of a cluster that changed and must warm).
    force: BTreeSet<String>,
    force_all: bool,
    track: Tracking,
}

impl SotwStream {
    pub(crate) fn new(ctx: StreamCtx, snapshot: Snapshot, only: Option<ResourceType>) -> Self {
        SotwStream {
            ctx,
            snapshot,
            only,
            types: BTreeMap::new(),
        }
    }

    fn respond(
        &mut self,
        t: ResourceType,
        version: Arc<str>,
        resources: Vec<Resource>,
    ) -> DiscoveryResponse {
        let st = self.types.entry(t).or_default();
        let names = resources.iter().map(|r| r.name().clone()).collect();
        st.track.full_state = t.is_full_state();
        let nonce = self.ctx.sent(t, &mut st.track, &version, names);
        DiscoveryResponse {
            version_info: version.to_string(),
            resources: resources.iter().map(|r| r.any().clone()).collect(),
            type_url: t.type_url().to_owned(),
            nonce: nonce.to_string(),
            ..Default::default()
        }
    }

    /// Additions and updates of one type (phase "make").
    fn make(&mut self, t: ResourceType) -> Option<DiscoveryResponse> {
        let current = self.snapshot.of_type(t);
        let st = self.types.get_mut(&t)?;
        st.dirty = false;
        if !st.requested {
            return None;
        }
        let (version, resources, warm) = if t.is_full_state() {
            make_full_state(st, current)?
        } else {
            (
                current.version().clone(),
                make_by_name(st, current)?,
                Vec::new(),
            )
        };
        if !warm.is_empty() {
            if let Some(eds) = self.types.get_mut(&ResourceType::Endpoint) {
                eds.force.extend(warm);
                eds.dirty = true;
            }
        }
        Some(self.respond(t, version, resources))
    }

    /// Removal of LDS/CDS resources kept during "make" (phase "break").
    fn break_(&mut self, t: ResourceType) -> Option<DiscoveryResponse> {
        let current = self.snapshot.of_type(t);
        let st = self.types.get_mut(&t)?;
        if !std::mem::take(&mut st.break_pending) {
            return None;
        }
        let desired: BTreeMap<Arc<str>, Resource> = covered(&st.sub, current).collect();
        if same_set(&desired, &st.sent) {
            return None;
        }
        let resources = desired.values().cloned().collect();
        st.sent = desired;
        Some(self.respond(t, current.version().clone(), resources))
    }
}

/// Every covered resource, plus those the proxy holds that left the
/// snapshot. Returns the version, the resources and the EDS names of
/// clusters that are new or changed (they warm until endpoints arrive).
fn make_full_state(
    st: &mut SotwType,
    current: &TypeResources,
) -> Option<(Arc<str>, Vec<Resource>, Vec<String>)> {
    let mut out: BTreeMap<Arc<str>, Resource> = covered(&st.sub, current).collect();
    let mut kept = false;
    for (name, r) in &st.sent {
        if current.get(name).is_none() && st.sub.covers(name) {
            out.insert(name.clone(), r.clone());
            kept = true;
        }
    }
    st.break_pending |= kept;
    let newly_requested = st.force.iter().any(|n| current.get(n).is_some());
    let must_send = !st.responded || st.force_all || newly_requested || !same_set(&out, &st.sent);
    st.force.clear();
    st.force_all = false;
    if !must_send {
        return None;
    }
    let warm = out
        .iter()
        .filter(|(n, r)| !st.sent.get(*n).is_some_and(|s| same(s, r)))
        .flat_map(|(_, r)| r.references().iter().map(|n| n.to_string()))
        .collect();
    let version = if kept {
        TypeResources::version_of(&out)
    } else {
        current.version().clone()
    };
    let resources = out.values().cloned().collect();
    st.sent = out;
    st.responded = true;
    Some((version, resources, warm))
}

/// The subscribed resources that changed, were newly requested or must be
/// re-sent; each name once.
fn make_by_name(st: &mut SotwType, current: &TypeResources) -> Option<Vec<Resource>> {
    let SotwType {
        sub,
        sent,
        force,
        force_all,
        ..
    } = st;
    sent.retain(|n, _| sub.covers(n) && current.get(n).is_some());
    let candidates: Vec<(&Arc<str>, &Resource)> = if sub.wildcard {
        current.resources().iter().collect()
    } else {
        sub.names
            .iter()
            .filter_map(|n| current.resources().get_key_value(n.as_str()))
            .collect()
    };
    let out: Vec<Resource> = candidates
        .into_iter()
        .filter(|(n, r)| {
            *force_all || force.contains(&***n) || !sent.get(*n).is_some_and(|s| same(s, r))
        })
        .map(|(_, r)| r.clone())
        .collect();
    force.clear();
    *force_all = false;
    if out.is_empty() {
        return None;
    }
    for r in &out {
        sent.insert(r.name().clone(), r.clone());
    }
    st.responded = true;
    Some(out)
}

fn covered<'a>(
    sub: &'a Subscription,
    current: &'a TypeResources,
) -> impl Iterator<Item = (Arc<str>, Resource)> + 'a {
    current
        .resources()
        .iter()
        .filter(move |(n, _)| sub.covers(n))
        .map(|(n, r)| (n.clone(), r.clone()))
}

fn same(a: &Resource, b: &Resource) -> bool {
    a.ptr_eq(b) || a.version() == b.version()
}

fn same_set(a: &BTreeMap<Arc<str>, Resource>, b: &BTreeMap<Arc<str>, Resource>) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((n1, r1), (n2, r2))| n1 == n2 && same(r1, r2))
}

impl Protocol for SotwStream {
    type Request = DiscoveryRequest;
    type Response = DiscoveryResponse;

    fn on_request(&mut self, req: DiscoveryRequest) -> Result<(), Status> {
        let Some(t) = request_type(&req.type_url, self.only)? else {
            tracing::warn!(key = %self.ctx.key, type_url = req.type_url, "request for a type this server does not serve; ignored");
            return Ok(());
        };
        let st = self.types.entry(t).or_default();
        // A nonce only counts once this stream sent the type something: a
        // client that carries a nonce over from an earlier stream is answered.
        if !req.response_nonce.is_empty() && st.track.last_nonce.is_some() {
            if !st.track.is_current(&req.response_nonce) {
                tracing::debug!(key = %self.ctx.key, %t, nonce = req.response_nonce, "stale nonce; request ignored");
                return Ok(());
            }
            if st.track.awaiting {
                self.ctx.answered(
                    t,
                    &mut st.track,
                    Some(&req.version_info),
                    req.error_detail.as_ref(),
                );
            }
        } else if st.requested {
            // A fresh request for a type already served: answer it in full.
            st.force_all = true;
        }
        st.requested = true;
        let (added, wildcard_on) = st.sub.replace(&req.resource_names);
        st.force.extend(added);
        st.force_all |= wildcard_on;
        st.dirty = true;
        Ok(())
    }

    fn on_snapshot(&mut self, snapshot: Snapshot) {
        self.take_snapshot(snapshot);
    }

    fn has_work(&self) -> bool {
        self.scheduled_work()
    }

    fn next_response(&mut self) -> Option<DiscoveryResponse> {
        self.next_scheduled()
    }
}

impl TypeState for SotwType {
    fn dirty(&self) -> bool {
        self.dirty
    }

    fn set_dirty(&mut self) {
        self.dirty = true;
    }

    fn removals_pending(&self) -> bool {
        self.break_pending
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

impl Scheduled for SotwStream {
    type State = SotwType;
    type Response = DiscoveryResponse;

    fn types(&self) -> &BTreeMap<ResourceType, SotwType> {
        &self.types
    }

    fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    fn parts_mut(&mut self) -> (&mut BTreeMap<ResourceType, SotwType>, &mut Snapshot) {
        (&mut self.types, &mut self.snapshot)
    }

    fn push(&mut self, t: ResourceType) -> Option<DiscoveryResponse> {
        self.make(t)
    }

    fn remove(&mut self, t: ResourceType) -> Option<DiscoveryResponse> {
        self.break_(t)
    }
}
