//! Reloads asked for by a writer (the App Mesh API): each request runs the
//! pipeline at once, without debounce; requests that arrive while a reload
//! runs are folded into one more reload.

use std::sync::Arc;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::pipeline::Pipeline;

/// Asks for a reload; cheap, never blocks.
#[derive(Debug, Clone)]
pub struct ReloadTrigger {
    notify: Arc<Notify>,
}

impl ReloadTrigger {
    pub fn reload(&self) {
        self.notify.notify_one();
    }
}

/// The trigger and the task that serves it.
pub fn spawn(pipeline: Arc<Pipeline>) -> (ReloadTrigger, JoinHandle<()>) {
    let notify = Arc::new(Notify::new());
    let waiting = notify.clone();
    let task = tokio::spawn(async move {
        loop {
            waiting.notified().await;
            let p = pipeline.clone();
            let _ = tokio::task::spawn_blocking(move || p.reload()).await;
        }
    });
    (ReloadTrigger { notify }, task)
}
