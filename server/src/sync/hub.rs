//! Rooms of local connections, fed by the session event bus.
//!
//! One dispatcher task per process reads the bus and, for each event about a session that has
//! viewers here, serialises the broadcast once and hands the same bytes to every connection in
//! that room. The hub also owns the timers that end a buffering wait, and each room's planner
//! (see [`super::planner`]) that asks Plex about queued items and acts at the end of an item:
//! every process with viewers in the session runs them, and the optimistic version check lets
//! exactly one of them win.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use axum::extract::ws::Utf8Bytes;
use marquee_store::{SessionEvent, SessionStore};
use marquee_sync::{Change, ServerMsg};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::now_ms;

/// Per-room queue: a connection this far behind gets a fresh snapshot instead.
const ROOM_CAPACITY: usize = 256;

/// What a room sends its connections.
#[derive(Clone, Debug)]
pub enum Outbound {
    /// A serialised [`ServerMsg::Event`].
    Event(Utf8Bytes),
    /// Events may have been lost: send the viewer a snapshot.
    Resync,
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    sessions: SessionStore,
    /// Where the planners learn what Plex says of a queued item.
    library: Arc<app::ssr::Library>,
    /// How the planners report the group's progress to Plex.
    progress: super::progress::ProgressConfig,
    rooms: Mutex<HashMap<String, Room>>,
    /// Connections in a room; a stopping server waits for this to reach zero.
    connections: AtomicUsize,
    /// Cancelled when the server stops: every connection closes with "service restart".
    closing: CancellationToken,
}

struct Room {
    tx: broadcast::Sender<Outbound>,
    viewers: usize,
    timer: Option<(f64, JoinHandle<()>)>,
    /// Wakes the room's planner: the playback line, the queue or the options changed.
    replan: Arc<Notify>,
    planner: JoinHandle<()>,
}

/// A connection's membership in a room; leaving the room when dropped.
pub struct RoomGuard {
    hub: Hub,
    session: String,
    pub rx: broadcast::Receiver<Outbound>,
}

impl Drop for RoomGuard {
    fn drop(&mut self) {
        self.hub.inner.connections.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!("marquee_ws_connections").decrement(1.0);
        let mut rooms = self.hub.lock_rooms();
        if let Some(room) = rooms.get_mut(&self.session) {
            room.viewers = room.viewers.saturating_sub(1);
            if room.viewers == 0 {
                if let Some((_, timer)) = room.timer.take() {
                    timer.abort();
                }
                room.planner.abort();
                rooms.remove(&self.session);
                metrics::gauge!("marquee_sessions_active").decrement(1.0);
            }
        }
    }
}

impl Hub {
    /// Starts the dispatcher; it runs as long as the bus does.
    pub fn new(
        sessions: SessionStore,
        library: Arc<app::ssr::Library>,
        progress: super::progress::ProgressConfig,
    ) -> Self {
        let hub = Hub {
            inner: Arc::new(Inner {
                sessions,
                library,
                progress,
                rooms: Mutex::default(),
                connections: AtomicUsize::new(0),
                closing: CancellationToken::new(),
            }),
        };
        let rx = hub.inner.sessions.bus().subscribe();
        tokio::spawn(dispatch(Arc::downgrade(&hub.inner), rx));
        hub
    }

    pub fn sessions(&self) -> &SessionStore {
        &self.inner.sessions
    }

    /// Open WebSocket connections on this process (in a room).
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Ordering::Relaxed)
    }

    /// Tells every connection to close (the server is stopping): each sends its viewer the
    /// "service restart" close code, records that the viewer left, and ends. Axum's graceful
    /// shutdown does not see upgraded connections, so the hub must.
    pub fn close_all(&self) {
        self.inner.closing.cancel();
    }

    /// Resolves once [`Hub::close_all`] has been called.
    pub fn closing(&self) -> WaitForCancellationFuture<'_> {
        self.inner.closing.cancelled()
    }

    /// Waits until every connection has left its room (call after [`Hub::close_all`]).
    pub async fn drained(&self) {
        while self.connections() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    fn lock_rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        self.inner.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Enters the room of `session` (creating it), subscribed from now on.
    pub fn enter(&self, session: &str) -> RoomGuard {
        self.inner.connections.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("marquee_ws_connections").increment(1.0);
        let mut rooms = self.lock_rooms();
        let room = rooms.entry(session.to_owned()).or_insert_with(|| {
            metrics::gauge!("marquee_sessions_active").increment(1.0);
            let replan = Arc::new(Notify::new());
            let planner = tokio::spawn(super::planner::run(
                self.inner.sessions.clone(),
                self.inner.library.clone(),
                self.inner.progress.clone(),
                session.to_owned(),
                replan.clone(),
            ));
            Room {
                tx: broadcast::channel(ROOM_CAPACITY).0,
                viewers: 0,
                timer: None,
                replan,
                planner,
            }
        });
        room.viewers += 1;
        RoomGuard {
            hub: self.clone(),
            session: session.to_owned(),
            rx: room.tx.subscribe(),
        }
    }

    /// Arms (or cancels, with `None`) the timer that ends the session's wait at `deadline`.
    pub fn watch_deadline(&self, session: &str, deadline: Option<f64>) {
        let mut rooms = self.lock_rooms();
        let Some(room) = rooms.get_mut(session) else {
            return;
        };
        match deadline {
            None => {
                if let Some((_, t)) = room.timer.take() {
                    t.abort();
                }
            }
            Some(d) => {
                if room.timer.as_ref().is_some_and(|(at, _)| *at == d) {
                    return;
                }
                if let Some((_, t)) = room.timer.take() {
                    t.abort();
                }
                let sessions = self.inner.sessions.clone();
                let id = session.to_owned();
                let wait_ms = (d - now_ms()).max(0.0) + 5.0;
                let task = tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_secs_f64(wait_ms / 1000.0)).await;
                    let result = sessions
                        .update(&id, None, |s| Ok((s.tick(now_ms()), ())))
                        .await;
                    if let Err(e) = result {
                        tracing::warn!(session = %id, error = %e, "could not end a buffering wait");
                    }
                });
                room.timer = Some((d, task));
            }
        }
    }

    fn deliver(&self, event: &SessionEvent) {
        let deadline = event.changes.iter().rev().find_map(|c| match c {
            Change::Playback { wait, .. } => Some(wait.as_ref().map(|w| w.deadline)),
            _ => None,
        });
        {
            let rooms = self.lock_rooms();
            let Some(room) = rooms.get(&event.session) else {
                return;
            };
            let msg = ServerMsg::Event {
                version: event.version,
                by: event.by.clone(),
                changes: event.changes.clone(),
            };
            match serde_json::to_string(&msg) {
                Ok(text) => {
                    let _ = room.tx.send(Outbound::Event(text.into()));
                }
                Err(e) => tracing::error!(error = %e, "could not encode a session event"),
            }
            if event.changes.iter().any(super::planner::moves_the_plan) {
                room.replan.notify_one();
            }
        }
        if let Some(deadline) = deadline {
            self.watch_deadline(&event.session, deadline);
        }
    }

    fn resync_all(&self) {
        for room in self.lock_rooms().values() {
            let _ = room.tx.send(Outbound::Resync);
        }
    }
}

async fn dispatch(inner: std::sync::Weak<Inner>, mut rx: broadcast::Receiver<Arc<SessionEvent>>) {
    loop {
        let received = rx.recv().await;
        let Some(inner) = inner.upgrade() else { return };
        let hub = Hub { inner };
        match received {
            Ok(event) => {
                metrics::counter!("marquee_sync_events_total").increment(1);
                hub.deliver(&event);
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "session events: dispatcher lagged; resyncing viewers"
                );
                hub.resync_all();
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
