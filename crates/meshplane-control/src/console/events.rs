//! `/ui/events`: server-sent events carrying the proxies' state
//! ([`super::proxies_state::snapshot`]) once on connect and then whenever
//! it changes (checked every 250 ms; an unchanged state sends nothing but
//! a keep-alive comment).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::Stream;

use super::proxies_state;
use super::state::ConsoleState;

const POLL: Duration = Duration::from_millis(250);

pub async fn proxies(
    State(s): State<ConsoleState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(4);
    tokio::spawn(async move {
        let mut last = String::new();
        loop {
            let now = proxies_state::snapshot(&s.admin).to_string();
            if now != last {
                if tx
                    .send(Ok(Event::default().event("proxies").data(now.clone())))
                    .await
                    .is_err()
                {
                    return;
                }
                last = now;
            }
            tokio::select! {
                _ = tx.closed() => return,
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    });
    Sse::new(tokio_stream::wrappers::ReceiverStream::new(rx)).keep_alive(KeepAlive::default())
}
