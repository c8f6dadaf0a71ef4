//! The response schedule both protocol variants share: pushes in
//! [`PUSH_ORDER`] while any type is dirty, then removals in
//! [`REMOVAL_ORDER`] once every type is in sync with the snapshot (no
//! response awaits an answer and no NACKed name is still in use).
//!
//! State of the world and delta differ in what a push or a removal contains,
//! not in when they happen; [`Scheduled`] holds the "when".

use std::collections::BTreeMap;

use super::stream_state::{Subscription, Tracking};
use crate::cache::Snapshot;
use crate::push_order::{PUSH_ORDER, REMOVAL_ORDER};
use crate::ResourceType;

/// What the schedule reads of one type's per-stream state.
pub(crate) trait TypeState {
    fn dirty(&self) -> bool;
    fn set_dirty(&mut self);
    /// The proxy still holds resources that left the snapshot.
    fn removals_pending(&self) -> bool;
    fn subscription(&self) -> &Subscription;
    fn tracking(&self) -> &Tracking;
    fn subscription_and_tracking_mut(&mut self) -> (&Subscription, &mut Tracking);
}

/// No response of type `t` awaits an answer and no NACKed version of a name
/// still subscribed and in the snapshot is outstanding.
fn in_sync<S: TypeState>(st: &S, snapshot: &Snapshot, t: ResourceType) -> bool {
    let current = snapshot.of_type(t);
    st.tracking()
        .in_sync(|n| st.subscription().covers(n) && current.get(n).is_some())
}

/// A protocol variant's stream, seen by the schedule.
pub(crate) trait Scheduled {
    type State: TypeState;
    type Response;

    fn types(&self) -> &BTreeMap<ResourceType, Self::State>;
    fn snapshot(&self) -> &Snapshot;
    /// The per-type states, mutable, beside the current snapshot.
    fn parts_mut(&mut self) -> (&mut BTreeMap<ResourceType, Self::State>, &mut Snapshot);
    /// The push of type `t`, if it has anything to send.
    fn push(&mut self, t: ResourceType) -> Option<Self::Response>;
    /// The removal response of type `t`, if it has anything to remove.
    fn remove(&mut self, t: ResourceType) -> Option<Self::Response>;

    /// Marks every type whose version changed as dirty, then keeps `snapshot`.
    fn take_snapshot(&mut self, snapshot: Snapshot) {
        let (types, current) = self.parts_mut();
        for (t, st) in types.iter_mut() {
            if snapshot.of_type(*t).version() != current.of_type(*t).version() {
                st.set_dirty();
            }
        }
        *current = snapshot;
    }

    fn scheduled_work(&self) -> bool {
        let types = self.types();
        types.values().any(TypeState::dirty)
            || (types.values().any(TypeState::removals_pending)
                && types.iter().all(|(t, s)| in_sync(s, self.snapshot(), *t)))
    }

    fn next_scheduled(&mut self) -> Option<Self::Response> {
        for t in PUSH_ORDER {
            if self.types().get(&t).is_some_and(TypeState::dirty) {
                if let Some(r) = self.push(t) {
                    return Some(r);
                }
            }
        }
        if self.types().values().any(TypeState::dirty) {
            return None;
        }
        // A rejected name that left the snapshot or the subscription no
        // longer holds removals back.
        let (types, snapshot) = self.parts_mut();
        for (t, st) in types.iter_mut() {
            let current = snapshot.of_type(*t);
            let (sub, track) = st.subscription_and_tracking_mut();
            track.prune_rejected(|n| sub.covers(n) && current.get(n).is_some());
        }
        if !self
            .types()
            .iter()
            .all(|(t, s)| in_sync(s, self.snapshot(), *t))
        {
            return None;
        }
        REMOVAL_ORDER.into_iter().find_map(|t| self.remove(t))
    }
}
