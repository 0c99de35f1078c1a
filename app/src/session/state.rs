//! What the session UI shows, as signals: filled by the browser client, rendered by the page.

use leptos::prelude::*;
use marquee_sync::{Role, Session};

/// The connection as the viewer should understand it.
#[derive(Clone, Debug, PartialEq)]
pub enum Conn {
    /// Not joined yet (waiting for a name).
    Idle,
    Connecting,
    Live,
    /// Lost; retrying with backoff.
    Reconnecting {
        attempt: u32,
    },
    /// Gone for good, with the reason.
    Closed(String),
}

/// The session UI's state. `Copy`: every field is a signal handle.
#[derive(Clone, Copy)]
pub struct SyncView {
    pub session: RwSignal<Option<Session>>,
    pub member: RwSignal<Option<String>>,
    pub conn: RwSignal<Conn>,
    /// The latest "Ana paused" line, with a serial so it can fade on its own.
    pub notice: RwSignal<Option<(u64, String)>>,
    /// A problem with something this viewer did (refused command, lost action).
    pub problem: RwSignal<Option<String>>,
    /// This viewer's distance from the group position, in ms (positive = ahead).
    pub drift_ms: RwSignal<Option<f64>>,
    pub rtt_ms: RwSignal<Option<f64>>,
    /// The browser blocked autoplay: show one "click to join" action.
    pub needs_click: RwSignal<bool>,
    /// Where the group is in the item (seconds), refreshed a few times a second: what the
    /// "Skip intro" and "Up next" overlays follow.
    pub position: RwSignal<f64>,
}

impl SyncView {
    pub fn new(session: Option<Session>) -> Self {
        let position = session.as_ref().map_or(0.0, |s| s.playback.position);
        Self {
            position: RwSignal::new(position),
            session: RwSignal::new(session),
            member: RwSignal::new(None),
            conn: RwSignal::new(Conn::Idle),
            notice: RwSignal::new(None),
            problem: RwSignal::new(None),
            drift_ms: RwSignal::new(None),
            rtt_ms: RwSignal::new(None),
            needs_click: RwSignal::new(false),
        }
    }

    /// This viewer's role in the session (viewer until joined).
    pub fn my_role(&self) -> Role {
        let me = self.member.get();
        self.session.with(|s| {
            s.as_ref()
                .and_then(|s| me.and_then(|id| s.member(&id).map(|m| m.role)))
                .unwrap_or(Role::Viewer)
        })
    }

    /// Whether the session's policy lets this viewer drive playback and the queue.
    pub fn may_drive(&self) -> bool {
        let role = self.my_role();
        self.session
            .with(|s| s.as_ref().is_none_or(|s| s.control.allows(role)))
    }

    /// Shows a line about what someone did.
    pub fn notify(&self, text: String) {
        let serial = self.notice.get_untracked().map(|(n, _)| n + 1).unwrap_or(1);
        self.notice.set(Some((serial, text)));
    }
}
