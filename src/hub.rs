//! The subscription hub: one reader tails the event log for the whole process and fans
//! each event out to every live subscriber, so writes never pay for subscribers and a
//! thousand dashboards cost one log reader.
//!
//! A subscriber resumes from a global position without gap or duplicate: it subscribes
//! to the live feed first, then reads what it missed from the database up to where the
//! hub stood at that moment, then continues with the live feed, skipping what it has
//! already seen. One that falls too far behind the feed catches up from the database
//! the same way.
//!
//! Each event is prepared once for all subscribers: decoded into the domain's types
//! (what workers and subscription filters match on) and, for showing, with sealed
//! secrets reduced to their key id (nothing that shows the feed needs a ciphertext).

use std::sync::Arc;
use std::time::Duration;

use anytrade_projections::{EventLog, LogPosition, LoggedEvent, Projections, TypedEvent};
use futures::Stream;
use tokio::sync::{Semaphore, broadcast, watch};

/// Events buffered per subscriber before it is considered lagging.
const FEED_CAPACITY: usize = 4096;
const BATCH: i64 = 500;
/// Subscribers reading what they missed from the database at one time; the rest wait
/// their turn. When a thousand fell behind together and each read on its own, the
/// commands, which share the pool, fell from 1,000 to about 50 a second
/// (docs/benchmarks.md).
const CATCH_UP_READERS: usize = 4;

/// One event as the hub hands it out.
#[derive(Debug)]
pub struct FeedEvent {
    /// The stored event with sealed values reduced to their key id: safe to show.
    pub shown: LoggedEvent,
    /// The event as its aggregate's event enum; `None` when it does not decode (the
    /// hub logs it with its position and type).
    pub typed: Option<TypedEvent>,
}

impl FeedEvent {
    pub fn new(event: LoggedEvent) -> Self {
        let typed = match event.decode() {
            Ok(typed) => Some(typed),
            Err(e) => {
                tracing::warn!(
                    position = event.position,
                    event_type = %event.event_type,
                    error = %e,
                    "an event in the log does not decode; workers pass over it"
                );
                None
            }
        };
        Self {
            shown: redacted(event),
            typed,
        }
    }

    pub fn log_position(&self) -> LogPosition {
        self.shown.log_position()
    }
}

#[derive(Clone)]
pub struct Hub {
    log: EventLog,
    feed: broadcast::Sender<Arc<FeedEvent>>,
    /// The last position published on `feed` (updated before the event is sent).
    published: watch::Receiver<LogPosition>,
    /// Permits to read the log for a subscriber's catch-up.
    catch_up: Arc<Semaphore>,
}

impl Hub {
    /// Starts the hub's reader at the current end of the log; it stops with `stop`.
    pub async fn start(
        log: EventLog,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), sqlx::Error> {
        let head = log.head().await?;
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        let (position, published) = watch::channel(head);
        let hub = Self {
            log: log.clone(),
            feed: feed.clone(),
            published,
            catch_up: Arc::new(Semaphore::new(CATCH_UP_READERS)),
        };
        let task = tokio::spawn(async move {
            let mut at = head;
            loop {
                let batch = tokio::select! {
                    batch = log.next_batch(at, BATCH) => batch,
                    _ = stop.wait_for(|stop| *stop) => return,
                };
                match batch {
                    Ok(batch) => {
                        for event in batch {
                            at = event.log_position();
                            position.send_replace(at);
                            // No receivers is fine: nobody is listening.
                            let _ = feed.send(Arc::new(FeedEvent::new(event)));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "subscription hub cannot read the log; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok((hub, task))
    }

    /// How many subscribers follow the live feed now.
    pub fn subscribers(&self) -> usize {
        self.feed.receiver_count()
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// The events from now on, for a worker that then reads the read models: it
    /// subscribes first, then waits (a minute at most) until the read models reach the
    /// log's head, so nothing falls between what it reads and what it is told.
    pub async fn events_after_read_models(
        &self,
        projections: &Projections,
    ) -> impl Stream<Item = Arc<FeedEvent>> + use<> {
        let events = self.events(None);
        match self.log.head().await {
            Ok(head) => {
                projections.wait_for(head, Duration::from_secs(60)).await;
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the log head"),
        }
        events
    }

    /// Every event after `after` (`None`: from now on), in log order, forever.
    pub fn events(&self, after: Option<LogPosition>) -> impl Stream<Item = Arc<FeedEvent>> + use<> {
        let hub = self.clone();
        async_stream::stream! {
            let mut at = after;
            loop {
                let mut live = hub.feed.subscribe();
                let reached = *hub.published.borrow();
                let mut delivered = match at {
                    None => reached,
                    Some(from) => {
                        // Catch up from the database to where the hub stood.
                        let mut from = from;
                        loop {
                            if from >= reached {
                                break;
                            }
                            let permit = hub.catch_up.acquire().await;
                            let read = hub.log.read_after(from, BATCH).await;
                            drop(permit);
                            let batch = match read {
                                Ok(batch) => batch,
                                Err(e) => {
                                    tracing::warn!(error = %e, "subscriber catch-up failed; retrying");
                                    tokio::time::sleep(Duration::from_secs(1)).await;
                                    continue;
                                }
                            };
                            if batch.is_empty() {
                                // The hub has published up to `reached`, so this only
                                // happens while the log is briefly held back: wait.
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                continue;
                            }
                            for event in batch {
                                from = event.log_position();
                                yield Arc::new(FeedEvent::new(event));
                            }
                        }
                        from
                    }
                };
                loop {
                    match live.recv().await {
                        Ok(event) if event.log_position() <= delivered => {}
                        Ok(event) => {
                            delivered = event.log_position();
                            yield event;
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => break,
                        Err(broadcast::error::RecvError::Closed) => return,
                    }
                }
                // Fell behind the live feed: catch up from the database and rejoin.
                at = Some(delivered);
            }
        }
    }
}

/// `event` with the nonce and ciphertext of every sealed secret dropped, key ids kept.
pub fn redacted(mut event: LoggedEvent) -> LoggedEvent {
    crate::redact::sealed_values(&mut event.payload);
    event
}
