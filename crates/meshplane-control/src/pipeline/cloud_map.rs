//! Cloud Map answers into the served snapshots: the resources of a proxy
//! with Cloud Map clusters are its translation's with those clusters'
//! endpoints filled in (see [`crate::cloud_map`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use meshplane_cloudmap::{QueryKey, QueryStates};
use meshplane_translate::{ProxyResources, Translation};
use meshplane_xds::{ProxyKey, SetOutcome};

use super::{snapshot, Pipeline};

impl Pipeline {
    /// What a proxy is served, on every path (reload and Cloud Map
    /// refresh): its translation's resources, with Cloud Map endpoints from
    /// `states` (the last published states when `None`; never waits for
    /// Cloud Map) and the held secrets its translation requests, and only
    /// those.
    pub(crate) fn served_resources<'a>(
        &self,
        key: &ProxyKey,
        translation: &'a Translation,
        states: Option<&QueryStates>,
    ) -> std::borrow::Cow<'a, ProxyResources> {
        let filled = self.state.cloud_map().and_then(|feed| match states {
            Some(states) => feed.fill(key, translation, states),
            None => feed.fill(key, translation, &feed.states()),
        });
        let mut resources = match filled {
            Some(r) => std::borrow::Cow::Owned(r),
            None => std::borrow::Cow::Borrowed(&translation.resources),
        };
        if !translation.secrets_needed.is_empty() {
            let secrets = self
                .held_certificates()
                .secrets(&translation.secrets_needed);
            let r = resources.to_mut();
            r.secrets.extend(secrets);
            r.secrets.sort_by(|a, b| a.name.cmp(&b.name));
            r.secrets.dedup_by(|a, b| a.name == b.name);
        }
        resources
    }

    /// After an applied reload: ask Cloud Map for the queries now served.
    pub(crate) fn cloud_map_queries_changed(&self) {
        if let (Some(feed), Some(served)) = (self.state.cloud_map(), self.state.served()) {
            feed.set_served(&served);
        }
    }

    /// Rebuild the snapshots of the proxies with an EDS cluster fed by a
    /// query whose instances changed since the last rebuild; returns how
    /// many proxies' resources changed. Serialized with reloads, and reads
    /// the newest states once it holds the lock (a reload that ran first may
    /// have served newer ones than those that woke the caller).
    pub fn refresh_cloud_map(&self) -> usize {
        let _one = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let (Some(feed), Some(served)) = (self.state.cloud_map(), self.state.served()) else {
            return 0;
        };
        let states: Arc<QueryStates> = feed.states();
        let states = &states;
        let changed: BTreeSet<QueryKey> = feed.changed_since_applied(states);
        if changed.is_empty() {
            return 0;
        }
        let mut updated = 0;
        for (key, proxy) in &served.proxies {
            let t = &proxy.translation;
            if !t
                .cloud_map
                .values()
                .any(|q| changed.contains(&QueryKey::of(q)))
            {
                continue;
            }
            let resources = self.served_resources(key, t, Some(states));
            let published = snapshot::build(self.cache.interner(), &resources)
                .map_err(|e| e.to_string())
                .and_then(|s| self.cache.set(key.clone(), s).map_err(|e| e.to_string()));
            match published {
                Ok(SetOutcome::Updated | SetOutcome::Created) => {
                    updated += 1;
                    tracing::debug!(proxy = %key, "Cloud Map endpoints updated");
                }
                Ok(SetOutcome::Unchanged) => {}
                Err(message) => {
                    tracing::error!(proxy = %key, error = %message, "Cloud Map endpoints not published; the proxy keeps its last ones");
                }
            }
        }
        if updated > 0 {
            tracing::info!(
                proxies = updated,
                queries = changed.len(),
                "Cloud Map endpoints pushed"
            );
        }
        updated
    }
}
