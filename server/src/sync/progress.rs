//! Progress to Plex: a session reports what the group watches to Plex as one player on the
//! server owner's account, so Plex's Continue Watching (and Tautulli) see it: a `/:/timeline`
//! on every change of state (playing, paused, buffering while the group waits, stopped at the
//! end or when the item changes) and every [`ProgressConfig::every`] in between, and one
//! `/:/scrobble` when the item counts as watched.
//!
//! Viewers who linked their own Plex account get the same on their account, as
//! `/:/progress` (which, unlike a timeline, shows no second player in Now Playing) and
//! `/:/scrobble` with their token: those in the session at that moment.
//!
//! [`Reporter`] decides what to say from the session alone (a plain state machine the room's
//! planner feeds); a per-room sender task says it, in order, so a slow Plex never holds up the
//! planner.

use std::time::{Duration, Instant};

use marquee_plex::{PlayState, PlexClient, Timeline};
use marquee_sync::{Playback, Session};
use tokio::sync::mpsc;

/// How the rooms report to Plex.
#[derive(Clone)]
pub struct ProgressConfig {
    pub plex: PlexClient,
    /// Linked viewers' Plex accounts, when this Marquee can link them.
    pub accounts: Option<std::sync::Arc<app::ssr::plex_accounts::PlexAccounts>>,
    /// Whose cached watch state goes stale when an item is scrobbled (the library's posters).
    pub library: std::sync::Arc<app::ssr::Library>,
    /// Between changes, a playing (or paused) group is reported this often (Plex forgets a
    /// player that says nothing for a while).
    pub every: Duration,
}

/// One thing to tell Plex.
#[derive(Debug, Clone)]
pub enum Report {
    Timeline(Timeline),
    /// The group watched this item.
    Scrobble(String),
}

/// A report and the viewers (Discord ids) in the session when it was made: those with a linked
/// Plex account get it on their account too.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub report: Report,
    pub viewers: Vec<String>,
}

/// The Discord users among the session's members who are in it now.
pub fn present_viewers(session: &Session) -> Vec<String> {
    session
        .members
        .iter()
        .filter(|m| m.connections > 0)
        .filter_map(|m| marquee_sync::member::discord_user_id(&m.id).map(str::to_owned))
        .collect()
}

/// What was last reported for the room.
#[derive(Debug, Clone)]
struct Sent {
    entry: u64,
    rating_key: String,
    state: PlayState,
    line: Playback,
    duration_ms: Option<i64>,
    at: Instant,
}

/// See the module docs.
#[derive(Debug)]
pub struct Reporter {
    /// The player's session identifier on Plex (`X-Plex-Session-Identifier`), per item; from a
    /// hash of the watch session id, so it is the same on every server and never the id itself.
    player: String,
    every: Duration,
    last: Option<Sent>,
}

impl Reporter {
    pub fn new(session_id: &str, every: Duration) -> Self {
        let hash = marquee_store::secret::hash_secret(session_id);
        Self {
            player: format!("marquee-{}", &hash[..24]),
            every,
            last: None,
        }
    }

    fn timeline(
        &self,
        entry: u64,
        rating_key: &str,
        state: PlayState,
        time_ms: i64,
        duration_ms: Option<i64>,
    ) -> Report {
        Report::Timeline(Timeline {
            rating_key: rating_key.to_owned(),
            session: format!("{}-{entry}", self.player),
            state,
            time_ms,
            duration_ms,
        })
    }

    /// What to report about `session` at server time `now` (on `clock`): nothing, the new
    /// state, or (when the item changed) the old item stopped and then the new one.
    pub fn observe(&mut self, session: &Session, now: f64, clock: Instant) -> Vec<Report> {
        let mut out = Vec::new();
        let current = session.current_entry();
        if let Some(last) = &self.last
            && current.is_none_or(|e| e.id != last.entry)
        {
            if last.state != PlayState::Stopped {
                let time = clamp_ms(last.line.position_at(now), last.duration_ms);
                out.push(self.timeline(
                    last.entry,
                    &last.rating_key,
                    PlayState::Stopped,
                    time,
                    last.duration_ms,
                ));
            }
            self.last = None;
        }
        let Some(entry) = current else {
            return out;
        };
        let state = if session.ending.finished {
            PlayState::Stopped
        } else if session.wait.is_some() {
            PlayState::Buffering
        } else if session.playback.playing {
            PlayState::Playing
        } else {
            PlayState::Paused
        };
        let duration_ms = session.duration().map(|d| (d * 1000.0).round() as i64);
        let changed = self.last.as_ref().is_none_or(|l| {
            l.state != state || l.line != session.playback || l.duration_ms != duration_ms
        });
        let periodic = self.last.as_ref().is_some_and(|l| {
            l.state != PlayState::Stopped && clock.duration_since(l.at) >= self.every
        });
        if !changed && !periodic {
            return out;
        }
        let time = clamp_ms(session.position_at(now), duration_ms);
        out.push(self.timeline(entry.id, &entry.rating_key, state, time, duration_ms));
        self.last = Some(Sent {
            entry: entry.id,
            rating_key: entry.rating_key.clone(),
            state,
            line: session.playback,
            duration_ms,
            at: clock,
        });
        out
    }

    /// When the next periodic report is due, if one is.
    pub fn next_due(&self) -> Option<Instant> {
        self.last
            .as_ref()
            .filter(|l| l.state != PlayState::Stopped)
            .map(|l| l.at + self.every)
    }
}

fn clamp_ms(position: f64, duration_ms: Option<i64>) -> i64 {
    let ms = (position.max(0.0) * 1000.0).round() as i64;
    duration_ms.map_or(ms, |d| ms.min(d))
}

/// Starts the task that sends a room's reports to Plex, in order; it ends when the returned
/// sender is dropped (the room's planner ended).
pub fn sender(config: ProgressConfig, session: String) -> mpsc::UnboundedSender<Outgoing> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    tokio::spawn(async move {
        while let Some(Outgoing { report, viewers }) = rx.recv().await {
            let result = match &report {
                Report::Timeline(t) => config.plex.timeline(t).await.map(|_| ()),
                Report::Scrobble(key) => config.plex.scrobble(key).await,
            };
            match result {
                Ok(()) => metrics::counter!("marquee_plex_progress_reports_total").increment(1),
                // Plex may be down or the item gone: progress is best effort, playback goes on.
                Err(e) => tracing::info!(session, error = %e, "could not report progress to Plex"),
            }
            if let Some(accounts) = &config.accounts
                && !viewers.is_empty()
            {
                report_to_viewers(accounts, &viewers, &report, &session).await;
            }
            if let Report::Scrobble(key) = &report
                && let Err(e) = config.library.forget_watch_state(key).await
            {
                tracing::info!(session, error = %e, "could not refresh an item's watch state");
            }
        }
    });
    tx
}

/// The report on each linked viewer's own account.
async fn report_to_viewers(
    accounts: &app::ssr::plex_accounts::PlexAccounts,
    viewers: &[String],
    report: &Report,
    session: &str,
) {
    let clients = match accounts.clients_for(viewers).await {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(session, error = %e, "could not read viewers' Plex accounts");
            return;
        }
    };
    for (viewer, client) in clients {
        let result = match report {
            Report::Timeline(t) => client.progress(&t.rating_key, t.time_ms, t.state).await,
            Report::Scrobble(key) => client.scrobble(key).await,
        };
        match result {
            Ok(()) => metrics::counter!("marquee_plex_viewer_reports_total").increment(1),
            Err(e) => tracing::info!(
                session,
                discord_id = viewer,
                error = %e,
                "could not report progress to a viewer's Plex account"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_sync::{Command, EntryInfo, Member, Role};

    fn session() -> Session {
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
        let mut s =
            Session::new("s", ana, ("2110".into(), "First Flame".into()), 0.0).expect("session");
        s.describe_entry(
            1,
            EntryInfo {
                duration: 120.0,
                ..EntryInfo::default()
            },
        );
        s
    }

    fn states(reports: &[Report]) -> Vec<(String, i64)> {
        reports
            .iter()
            .filter_map(|r| match r {
                Report::Timeline(t) => Some((t.state.as_str().to_owned(), t.time_ms)),
                Report::Scrobble(_) => None,
            })
            .collect()
    }

    #[test]
    fn changes_are_reported_at_once_and_the_rest_on_the_period() {
        let clock = Instant::now();
        let mut s = session();
        let mut r = Reporter::new("s", Duration::from_secs(10));
        assert_eq!(
            states(&r.observe(&s, 1_000.0, clock)),
            vec![("paused".into(), 0)]
        );
        assert!(
            r.observe(&s, 2_000.0, clock + Duration::from_secs(1))
                .is_empty()
        );
        s.apply("ana", &Command::Play, 10_000.0 - s.lead_ms())
            .expect("play");
        assert_eq!(
            states(&r.observe(&s, 10_000.0, clock + Duration::from_secs(2))),
            vec![("playing".into(), 0)]
        );
        assert!(
            r.observe(&s, 15_000.0, clock + Duration::from_secs(7))
                .is_empty()
        );
        assert_eq!(
            states(&r.observe(&s, 22_500.0, clock + Duration::from_secs(12))),
            vec![("playing".into(), 12_500)]
        );
        assert_eq!(r.next_due(), Some(clock + Duration::from_secs(22)));
        // Past the end the time never exceeds the duration.
        s.ending.finished = true;
        s.playback = Playback::paused(120.0, 140_000.0);
        assert_eq!(
            states(&r.observe(&s, 140_000.0, clock + Duration::from_secs(30))),
            vec![("stopped".into(), 120_000)]
        );
        assert_eq!(r.next_due(), None, "nothing periodic after stopped");
    }

    #[test]
    fn a_new_item_stops_the_old_one_first() {
        let clock = Instant::now();
        let mut s = session();
        let mut r = Reporter::new("s", Duration::from_secs(10));
        s.apply("ana", &Command::Play, 0.0).expect("play");
        r.observe(&s, 1_000.0, clock);
        s.apply(
            "ana",
            &Command::QueueAdd {
                rating_key: "2111".into(),
                title: "The Long Street".into(),
            },
            2_000.0,
        )
        .expect("add");
        s.apply("ana", &Command::Next, 3_000.0).expect("next");
        let reports = r.observe(&s, 3_000.0, clock + Duration::from_secs(3));
        let keys: Vec<(String, String)> = reports
            .iter()
            .filter_map(|r| match r {
                Report::Timeline(t) => Some((t.rating_key.clone(), t.state.as_str().to_owned())),
                Report::Scrobble(_) => None,
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                ("2110".into(), "stopped".into()),
                ("2111".into(), "buffering".into())
            ]
        );
    }
}
