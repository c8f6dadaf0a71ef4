//! One Cloud Map service's poll loop: one `DiscoverInstancesRevision` call
//! per interval, and `DiscoverInstances` only for the queries whose answer
//! may have changed. Errors keep the last instances and back off.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

use crate::api::{self, CallError, CallErrorKind, Discovery};
use crate::query::QueryKey;
use crate::shared::Shared;

/// The attribute filters asked of one service (one query each).
pub(crate) type AttributeSets = BTreeSet<Vec<(String, String)>>;

/// Where one query stands.
#[derive(Debug, Default)]
struct Progress {
    /// The service revision the instances were read at; `None`: read them
    /// at the next poll (never read, or a call failed since).
    read_at: Option<i64>,
    /// When `DiscoverInstances` last answered for this query.
    last_read: Option<Instant>,
}

pub(crate) struct ServicePoller {
    shared: Arc<Shared>,
    namespace: String,
    service: String,
    attributes: watch::Receiver<AttributeSets>,
    progress: BTreeMap<Vec<(String, String)>, Progress>,
    /// The last revision `DiscoverInstancesRevision` returned.
    revision: Option<i64>,
    revision_supported: bool,
    consecutive_errors: u32,
}

impl ServicePoller {
    pub fn new(
        shared: Arc<Shared>,
        namespace: String,
        service: String,
        attributes: watch::Receiver<AttributeSets>,
    ) -> Self {
        Self {
            shared,
            namespace,
            service,
            attributes,
            progress: BTreeMap::new(),
            revision: None,
            revision_supported: true,
            consecutive_errors: 0,
        }
    }

    fn key(&self, attributes: &[(String, String)]) -> QueryKey {
        QueryKey {
            namespace: self.namespace.clone(),
            service: self.service.clone(),
            attributes: attributes.to_vec(),
        }
    }

    /// Take the current attribute sets; returns whether one is new.
    fn sync_attributes(&mut self) -> bool {
        let wanted = self.attributes.borrow_and_update().clone();
        self.progress.retain(|a, _| wanted.contains(a));
        let mut added = false;
        for a in wanted {
            self.progress.entry(a).or_insert_with(|| {
                added = true;
                Progress::default()
            });
        }
        added
    }

    pub async fn run(mut self) {
        self.sync_attributes();
        let mut next = Instant::now();
        loop {
            tokio::select! {
                () = sleep_until(next) => {
                    self.poll().await;
                    next = Instant::now() + self.shared.config.next_delay(self.consecutive_errors);
                }
                changed = self.attributes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    // A new query is read at once, unless the service is
                    // failing (then the backoff decides).
                    if self.sync_attributes() && self.consecutive_errors == 0 {
                        self.read_unread().await;
                    }
                }
            }
        }
    }

    /// One poll: revision check, then the reads it calls for.
    async fn poll(&mut self) {
        self.shared
            .metrics()
            .service(&self.namespace, &self.service, |s| s.polls += 1);
        // When every query is read anyway (full refresh), the revision check
        // would not change what is done: skip it, one call per query.
        if self.revision_supported && !self.all_refresh_due(Instant::now()) {
            match self.check_revision().await {
                Ok(revision) => self.revision = Some(revision),
                Err(e) if e.kind == CallErrorKind::Unsupported => {
                    tracing::warn!(
                        namespace = %self.namespace, service = %self.service, error = %e,
                        "the Cloud Map server lacks DiscoverInstancesRevision; calling DiscoverInstances every poll"
                    );
                    self.revision_supported = false;
                    self.shared
                        .metrics()
                        .service(&self.namespace, &self.service, |s| {
                            s.revision_api_supported = false;
                        });
                }
                Err(e) => {
                    let keys: Vec<Vec<(String, String)>> = self.progress.keys().cloned().collect();
                    for a in keys {
                        self.failed(&a, &e);
                    }
                    self.consecutive_errors = self.consecutive_errors.saturating_add(1);
                    return;
                }
            }
        }
        let now = Instant::now();
        let due: Vec<Vec<(String, String)>> = self
            .progress
            .iter()
            .filter(|(_, p)| {
                !self.revision_supported
                    || p.read_at.is_none()
                    || p.read_at != self.revision
                    || self.refresh_due(p, now)
            })
            .map(|(a, _)| a.clone())
            .collect();
        let mut ok = true;
        for a in &due {
            ok &= self.read(a).await;
        }
        // Queries the revision says are current: Cloud Map answered for them.
        let answered = SystemTime::now();
        let revision = self.revision;
        for (a, _) in self.progress.iter().filter(|(a, _)| !due.contains(a)) {
            let key = self.key(a);
            self.shared.update_state(&key, |s| {
                s.last_success = Some(answered);
                s.revision = revision.or(s.revision);
                false
            });
            self.shared
                .metrics()
                .query(&key, |q| q.last_success = Some(answered));
        }
        self.consecutive_errors = if ok {
            0
        } else {
            self.consecutive_errors.saturating_add(1)
        };
    }

    /// Whether the full refresh of this query is due.
    fn refresh_due(&self, p: &Progress, now: Instant) -> bool {
        self.shared
            .config
            .full_refresh
            .zip(p.last_read)
            .is_some_and(|(every, last)| now.duration_since(last) >= every)
    }

    /// Whether every query has been read and is due for its full refresh
    /// (read before the revision check moved on, so `read_at` is current).
    fn all_refresh_due(&self, now: Instant) -> bool {
        !self.progress.is_empty()
            && self.progress.values().all(|p| {
                p.read_at.is_some() && p.read_at == self.revision && self.refresh_due(p, now)
            })
    }

    /// Read the queries never read (or failed) since the last poll.
    async fn read_unread(&mut self) {
        let unread: Vec<Vec<(String, String)>> = self
            .progress
            .iter()
            .filter(|(_, p)| p.read_at.is_none() && p.last_read.is_none())
            .map(|(a, _)| a.clone())
            .collect();
        for a in unread {
            self.read(&a).await;
        }
    }

    async fn check_revision(&mut self) -> Result<i64, CallError> {
        self.shared
            .metrics()
            .service(&self.namespace, &self.service, |s| s.revision_calls += 1);
        let result = api::revision(&self.shared.client, &self.namespace, &self.service).await;
        self.shared
            .metrics()
            .service(&self.namespace, &self.service, |svc| match &result {
                Ok(r) => svc.revision = Some(*r),
                Err(e) => {
                    if e.kind != CallErrorKind::Unsupported {
                        svc.revision_errors += 1;
                    }
                    if e.kind == CallErrorKind::Throttled {
                        svc.throttled += 1;
                    }
                }
            });
        result
    }

    /// `DiscoverInstances` for one query; whether it answered.
    async fn read(&mut self, attributes: &[(String, String)]) -> bool {
        let key = self.key(attributes);
        self.shared.metrics().query(&key, |q| q.discover_calls += 1);
        let max_results = self.shared.config.max_results();
        match api::discover(&self.shared.client, &key, max_results).await {
            Ok(d) => {
                self.answered(attributes, &key, d, max_results);
                true
            }
            Err(e) => {
                {
                    let mut m = self.shared.metrics();
                    m.query(&key, |q| q.discover_errors += 1);
                    if e.kind == CallErrorKind::Throttled {
                        m.service(&self.namespace, &self.service, |s| s.throttled += 1);
                    }
                }
                self.failed(attributes, &e);
                false
            }
        }
    }

    fn answered(
        &mut self,
        attributes: &[(String, String)],
        key: &QueryKey,
        d: Discovery,
        max_results: i32,
    ) {
        // The revision compared at the next poll is the one read *before*
        // this call: the instances are at least that recent.
        let revision = if self.revision_supported {
            self.revision
        } else {
            d.revision
        };
        if let Some(p) = self.progress.get_mut(attributes) {
            p.read_at = revision;
            p.last_read = Some(Instant::now());
        }
        let count = d.instances.len();
        if i32::try_from(count).is_ok_and(|c| c >= max_results) {
            tracing::warn!(query = %key.display(), count, "Cloud Map returned its maximum number of instances; some may be missing");
        }
        let now = SystemTime::now();
        let instances = Arc::new(d.instances);
        let mut change: Option<(Option<usize>, bool, bool)> = None;
        self.shared.update_state(key, |s| {
            let before = s.instances.as_ref().map(|i| i.len());
            let changed = s.instances.as_deref() != Some(&*instances);
            let recovered = s.last_error.is_some();
            if changed {
                s.instances = Some(instances.clone());
            }
            s.revision = revision.or(s.revision);
            s.last_success = Some(now);
            s.last_error = None;
            s.consecutive_errors = 0;
            change = Some((before, recovered, changed));
            changed || recovered
        });
        let Some((before, recovered, changed)) = change else {
            return; // the query was dropped meanwhile
        };
        self.shared.metrics().query(key, |q| {
            if changed {
                q.changes += 1;
            }
            q.instance_count = Some(count);
            q.revision = revision;
            q.last_success = Some(now);
            q.last_error = None;
            q.consecutive_errors = 0;
        });
        if recovered {
            tracing::info!(query = %key.display(), count, "Cloud Map answers again");
        }
        if !changed {
            return;
        }
        match before {
            _ if count == 0 => tracing::warn!(
                query = %key.display(), revision,
                "Cloud Map answered with no healthy instance: the cluster gets no endpoint"
            ),
            None => {
                tracing::info!(query = %key.display(), count, revision, "Cloud Map instances discovered")
            }
            Some(b) => tracing::info!(
                query = %key.display(), before = b, count, revision, "Cloud Map instances changed"
            ),
        }
    }

    fn failed(&mut self, attributes: &[(String, String)], e: &CallError) {
        let key = self.key(attributes);
        if let Some(p) = self.progress.get_mut(attributes) {
            // Read again after the failure (a restarted server may reuse
            // revision numbers for other data).
            p.read_at = None;
        }
        let message = e.to_string();
        let now = SystemTime::now();
        let mut streak = 0;
        self.shared.update_state(&key, |s| {
            let first = s.last_error.is_none();
            s.last_error = Some(message.clone());
            s.consecutive_errors = s.consecutive_errors.saturating_add(1);
            streak = s.consecutive_errors;
            first
        });
        self.shared.metrics().query(&key, |q| {
            q.last_error = Some(message.clone());
            q.last_error_at = Some(now);
            q.consecutive_errors = q.consecutive_errors.saturating_add(1);
        });
        let kept = if self
            .shared
            .states
            .borrow()
            .get(&key)
            .is_some_and(|s| s.instances.is_some())
        {
            "keeping the last instances"
        } else {
            "no instances known yet"
        };
        if streak <= 1 {
            tracing::warn!(query = %key.display(), error = %message, "Cloud Map call failed; {kept}");
        } else {
            tracing::debug!(query = %key.display(), error = %message, streak, "Cloud Map call failed again; {kept}");
        }
    }
}
