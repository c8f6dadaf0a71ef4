//! Cloud Map answers into the served snapshots: the resources of a proxy
//! with Cloud Map clusters are its translation's with those clusters'
//! endpoints filled in (see [`crate::cloud_map`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use meshplane_cloudmap::{QueryKey, QueryStates};
use meshplane_xds::cache::ResourceError;
use meshplane_xds::{ProxyKey, ResourceType, SetOutcome, Snapshot};

use super::Pipeline;
use crate::served_translation::ServedTranslation;

impl Pipeline {
    /// What a proxy is served, on every path (reload and Cloud Map
    /// refresh): its translation's resources, with Cloud Map endpoints from
    /// `states` (the last published states when `None`; never waits for
    /// Cloud Map) and the held secrets its translation requests, and only
    /// those.
    pub(crate) fn served_snapshot(
        &self,
        key: &ProxyKey,
        translation: &ServedTranslation,
        states: Option<&QueryStates>,
    ) -> Result<Snapshot, ResourceError> {
        let interner = self.cache.interner();
        let filled = match self.state.cloud_map() {
            Some(feed) if !translation.cloud_map.is_empty() => match states {
                Some(states) => feed.fill(key, &translation.cloud_map, states),
                None => feed.fill(key, &translation.cloud_map, &feed.states()),
            },
            _ => Vec::new(),
        };
        let mut b = Snapshot::builder(interner);
        translation.add_to(&mut b, |name| {
            filled.iter().any(|cla| cla.cluster_name == name)
        })?;
        for cla in &filled {
            b.add_message(ResourceType::Endpoint, &cla.cluster_name, cla)?;
        }
        if !translation.secrets_needed.is_empty() {
            let mut secrets = self
                .held_certificates()
                .secrets(&translation.secrets_needed);
            secrets.sort_by(|a, b| a.name.cmp(&b.name));
            secrets.dedup_by(|a, b| a.name == b.name);
            let translated = |name: &str| {
                translation
                    .encoded()
                    .any(|(t, r)| t == ResourceType::Secret && &**r.name() == name)
            };
            for s in secrets.iter().filter(|s| !translated(&s.name)) {
                b.add_message(ResourceType::Secret, &s.name, s)?;
            }
        }
        Ok(b.build())
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
            let published = self
                .served_snapshot(key, t, Some(states))
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
