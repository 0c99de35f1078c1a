//! How a viewer follows the group: its copy of the session, kept up to date from the server's
//! [`ServerMsg::Welcome`](crate::ServerMsg::Welcome) snapshots and
//! [`ServerMsg::Event`](crate::ServerMsg::Event)s.
//!
//! Every event carries the version it produced. The next version applies; an older one was
//! already seen and is ignored; a skipped version means events were lost, and the viewer asks
//! for a fresh snapshot ([`ClientMsg::Resync`](crate::ClientMsg::Resync)) instead of guessing.
//! The browser client does this over its WebSocket; the unit tests below do it with a plain
//! [`Session`] standing in for the server.

use crate::session::{Actor, Cause, Change, Session, Timeline, describe};

/// A viewer's copy of the session and the playback line it follows.
#[derive(Debug, Clone, PartialEq)]
pub struct Mirror {
    pub session: Session,
    pub timeline: Timeline,
}

/// What became of one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Followed {
    /// The event was the next version and is now part of the copy.
    Applied {
        /// What to tell the viewer ("Ana paused"), if the event says anything.
        notice: Option<String>,
        /// The group moved to another queue entry: the player must load it (and the server
        /// counts this viewer as loading until it says it is ready).
        item_changed: bool,
    },
    /// Versions were skipped: ask for a snapshot. The copy is unchanged.
    Gap,
    /// An event this copy already has (or older): ignore it.
    Stale,
}

impl Mirror {
    /// A copy from a welcome snapshot; it replaces whatever the viewer had.
    pub fn welcome(session: Session) -> Self {
        Self {
            timeline: Timeline::new(session.playback),
            session,
        }
    }

    /// Follows one event (`version`, made `by` someone or by Marquee itself) received at server
    /// time `now`.
    pub fn on_event(
        &mut self,
        version: u64,
        by: Option<&Actor>,
        changes: &[Change],
        now: f64,
    ) -> Followed {
        if version <= self.session.version {
            return Followed::Stale;
        }
        if version != self.session.version + 1 {
            return Followed::Gap;
        }
        for change in changes {
            self.session.apply_change(change);
        }
        self.session.version = version;
        let notice = changes
            .iter()
            .filter_map(|change| describe(by, change, &self.session))
            .next_back();
        let item_changed = changes.iter().any(|c| {
            matches!(
                c,
                Change::Playback {
                    cause: Cause::Item { .. },
                    ..
                }
            )
        });
        self.timeline.push(self.session.playback, now);
        Followed::Applied {
            notice,
            item_changed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{Command, Member, Role};

    /// The server's copy: Ana hosts, Ben watches, two items queued.
    fn server() -> Session {
        let ana = Member {
            id: "ana".into(),
            name: "Ana".into(),
            role: Role::Host,
            connections: 1,
            buffering: false,
            joined_at: 0.0,
            last_command: 0,
            rtt_ms: 0.0,
            left_at: 0.0,
        };
        let mut s = Session::new("s1", ana, ("101".into(), "Harbor Lights".into()), 1_000.0)
            .expect("valid");
        s.join(None, "ben", "Ben", 2_000.0).expect("join");
        s.apply(
            "ana",
            &Command::QueueAdd {
                rating_key: "102".into(),
                title: "Copper Sky".into(),
            },
            3_000.0,
        )
        .expect("add");
        s
    }

    /// What the server broadcasts when `who` sends `command` at `now`: (version, by, changes).
    fn event(
        server: &mut Session,
        who: &str,
        command: Command,
        now: f64,
    ) -> (u64, Option<Actor>, Vec<Change>) {
        let changes = server.apply(who, &command, now).expect("applied");
        (server.version, server.actor(who), changes)
    }

    #[test]
    fn in_order_events_apply_and_say_who_did_what() {
        let mut server = server();
        let mut viewer = Mirror::welcome(server.clone());
        let (v, by, changes) = event(&mut server, "ana", Command::Play, 10_000.0);
        assert_eq!(
            viewer.on_event(v, by.as_ref(), &changes, 10_000.0),
            Followed::Applied {
                notice: Some("Ana pressed play".into()),
                item_changed: false
            }
        );
        assert_eq!(viewer.session, server);
        // Play takes effect a little later: until then the viewer keeps the paused line.
        assert!(!viewer.timeline.at(10_000.0).playing);
        assert!(viewer.timeline.at(server.playback.at).playing);

        let (v, by, changes) = event(&mut server, "ben", Command::Pause, 20_000.0);
        let followed = viewer.on_event(v, by.as_ref(), &changes, 20_000.0);
        assert!(
            matches!(followed, Followed::Applied { notice: Some(ref n), .. } if n == "Ben paused")
        );
        assert_eq!(viewer.session, server);
    }

    #[test]
    fn a_new_item_is_flagged_for_loading() {
        let mut server = server();
        let mut viewer = Mirror::welcome(server.clone());
        let (v, by, changes) = event(&mut server, "ben", Command::Next, 10_000.0);
        assert_eq!(
            viewer.on_event(v, by.as_ref(), &changes, 10_000.0),
            Followed::Applied {
                notice: Some("Ben started Copper Sky".into()),
                item_changed: true
            }
        );
        assert_eq!(viewer.session.title, "Copper Sky");
    }

    #[test]
    fn a_gap_asks_for_a_snapshot_and_changes_nothing() {
        let mut server = server();
        let mut viewer = Mirror::welcome(server.clone());
        let before = viewer.clone();
        let _lost = event(&mut server, "ana", Command::Play, 10_000.0);
        let (v, by, changes) = event(&mut server, "ana", Command::Pause, 11_000.0);
        assert_eq!(
            viewer.on_event(v, by.as_ref(), &changes, 11_000.0),
            Followed::Gap
        );
        assert_eq!(viewer, before);
    }

    #[test]
    fn an_event_already_seen_is_ignored() {
        let mut server = server();
        let mut viewer = Mirror::welcome(server.clone());
        let (v, by, changes) = event(&mut server, "ana", Command::Play, 10_000.0);
        viewer.on_event(v, by.as_ref(), &changes, 10_000.0);
        let after = viewer.clone();
        assert_eq!(
            viewer.on_event(v, by.as_ref(), &changes, 10_500.0),
            Followed::Stale
        );
        assert_eq!(viewer.on_event(v - 1, None, &[], 10_500.0), Followed::Stale);
        assert_eq!(viewer, after);
    }

    #[test]
    fn a_welcome_replaces_the_copy_and_following_resumes() {
        let mut server = server();
        let mut viewer = Mirror::welcome(server.clone());
        let _lost = event(&mut server, "ana", Command::Play, 10_000.0);
        let (v, by, changes) = event(
            &mut server,
            "ana",
            Command::Seek { position: 60.0 },
            11_000.0,
        );
        assert_eq!(
            viewer.on_event(v, by.as_ref(), &changes, 11_000.0),
            Followed::Gap
        );
        // The viewer asked for a snapshot; the server answers with a welcome.
        viewer = Mirror::welcome(server.clone());
        assert_eq!(viewer.session, server);
        assert_eq!(viewer.timeline, Timeline::new(server.playback));
        let (v, by, changes) = event(&mut server, "ben", Command::Pause, 12_000.0);
        assert!(matches!(
            viewer.on_event(v, by.as_ref(), &changes, 12_000.0),
            Followed::Applied { .. }
        ));
        assert_eq!(viewer.session, server);
    }
}
