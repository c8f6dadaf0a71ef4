//! The LISTEN connection: one per replica, apart from the one that reads
//! and writes, so that a long wait never holds up a request.

use std::time::Duration;

use fallible_iterator::FallibleIterator;
use postgres::Client;

use super::config::{describe, PgConfig};
use crate::{Listener, StoreError};

/// The NOTIFY channel of commits.
pub const CHANNEL: &str = "meshplane_revision";

pub struct PgListener {
    client: Client,
    location: String,
}

impl PgListener {
    pub fn connect(config: &PgConfig) -> Result<PgListener, postgres::Error> {
        let mut client = config.connect_named("meshplane-listen")?;
        client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
        Ok(PgListener {
            client,
            location: config.location().to_owned(),
        })
    }
}

impl Listener for PgListener {
    fn wait(&mut self, timeout: Duration) -> Result<bool, StoreError> {
        let location = self.location.clone();
        let lost = |message: String| StoreError::Unavailable {
            location: location.clone(),
            message: format!("the LISTEN connection: {message}"),
        };
        let mut notifications = self.client.notifications();
        let mut woken = match notifications.timeout_iter(timeout).next() {
            Ok(Some(_)) => true,
            Ok(None) => false,
            Err(e) => return Err(lost(describe(&e))),
        };
        // Fold whatever else already arrived into this wake-up.
        let mut more = notifications.iter();
        loop {
            match more.next() {
                Ok(Some(_)) => woken = true,
                Ok(None) => break,
                Err(e) => return Err(lost(describe(&e))),
            }
        }
        drop(more);
        drop(notifications);
        if self.client.is_closed() {
            return Err(lost("closed by the server".to_owned()));
        }
        Ok(woken)
    }
}
