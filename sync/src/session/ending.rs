//! The end of an item: what Plex says about it (length, intro and credits markers, the episode
//! after it), what comes next, the "Up next" countdown, skipping a marker, and finishing.
//!
//! All of it is a function of the playback line, so every viewer and every server process
//! computes the same instants. The server arms one timer for [`Session::next_milestone`] and
//! calls [`Session::tick`] when it fires; the rule checks the position again, so a timer that
//! fires late, early, or for a line that changed meanwhile does no harm.

use serde::{Deserialize, Serialize};

use super::command::{Cause, Change, SessionError};
use super::model::{Playback, QueueEntry, Session};

/// How long the "Up next" countdown runs before the next item starts, in seconds.
pub const UP_NEXT_COUNTDOWN_S: f64 = 10.0;
/// Without a final credits marker, the countdown starts this long before the end.
pub const UP_NEXT_LEAD_S: f64 = 30.0;
/// An intro is skipped automatically only when playback reaches it within this many seconds of
/// its start: a viewer who seeks into the middle of an intro meant to watch it.
pub const AUTO_SKIP_WINDOW_S: f64 = 1.5;
/// The share of an item after which it counts as watched (Plex's rule).
pub const WATCHED_FRACTION: f64 = 0.9;
/// Positions closer than this to a milestone count as having reached it (timers fire a few
/// milliseconds either side).
const REACHED_S: f64 = 0.05;

/// What Plex knows of a queued item, filled in by the server after the entry is queued.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EntryInfo {
    /// Length in seconds (0 when Plex did not say: such an entry never ends by itself).
    pub duration: f64,
    /// Intro and credits markers, in playback order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marker>,
    /// "S01E04" for an episode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// For an episode, the one after it (next in the season, then the next season): what comes
    /// next when nothing is queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Suggestion>,
    /// Where Plex says the owner's account left off (seconds), offered as "Resume from".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<f64>,
}

/// A stretch of an item Plex marked: its intro, or its credits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    pub kind: MarkerKind,
    /// Seconds.
    pub start: f64,
    pub end: f64,
    /// Plex's `final`: the last credits, after which nothing of the story follows.
    #[serde(default)]
    pub last: bool,
}

/// Which kind of stretch a [`Marker`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    Intro,
    Credits,
}

impl MarkerKind {
    /// "intro" / "credits", for sentences.
    pub fn noun(self) -> &'static str {
        match self {
            MarkerKind::Intro => "the intro",
            MarkerKind::Credits => "the credits",
        }
    }
}

/// An item to play after the current one that is not queued (the next episode).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub rating_key: String,
    pub title: String,
    /// "S01E04".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// What the group decided about the end of items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// Start what comes next by itself after the "Up next" countdown.
    pub autoplay: bool,
    /// Skip intros as soon as they begin.
    pub skip_intros: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            autoplay: true,
            skip_intros: false,
        }
    }
}

/// Where the current item stands at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ending {
    /// The item played to its end with nothing after it: the group sits at the end.
    pub finished: bool,
    /// A driver cancelled this item's "Up next": it plays to its end and finishes.
    pub cancelled: bool,
    /// The group watched this item (past [`Session::watched_from`]): Plex was told once.
    #[serde(default)]
    pub watched: bool,
    /// Someone started this item (play or seek): its "Resume from" offer is gone.
    #[serde(default)]
    pub started: bool,
}

/// What comes after the current item.
#[derive(Debug, Clone, PartialEq)]
pub struct Next {
    pub rating_key: String,
    pub title: String,
    /// "S01E04", when known.
    pub label: Option<String>,
    /// The queue entry, or `None` for a suggestion that is not queued yet.
    pub entry: Option<u64>,
}

/// The countdown viewers see near the end, while it applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Countdown {
    pub next: Next,
    /// Position (seconds) where the countdown shows…
    pub from: f64,
    /// …and where the next item starts.
    pub until: f64,
}

impl Next {
    /// "S01E04 · The Long Street", or the title alone.
    pub fn display(&self) -> String {
        match &self.label {
            Some(l) => format!("{l} · {}", self.title),
            None => self.title.clone(),
        }
    }
}

impl Session {
    /// What comes after the current entry: the next queued entry, else the current episode's
    /// next episode.
    pub fn up_next(&self) -> Option<Next> {
        let idx = self.current_index()?;
        if let Some(e) = self.queue.get(idx + 1) {
            return Some(Next {
                rating_key: e.rating_key.clone(),
                title: e.title.clone(),
                label: e.info.as_ref().and_then(|i| i.label.clone()),
                entry: Some(e.id),
            });
        }
        let s = self.queue.get(idx)?.info.as_ref()?.next.as_ref()?;
        Some(Next {
            rating_key: s.rating_key.clone(),
            title: s.title.clone(),
            label: s.label.clone(),
            entry: None,
        })
    }

    /// The current entry's length in seconds, when Plex said.
    pub fn duration(&self) -> Option<f64> {
        self.current_entry()
            .and_then(|e| e.info.as_ref())
            .map(|i| i.duration)
            .filter(|d| d.is_finite() && *d > 0.0)
    }

    /// The group position at server time `t`, never past the item's end.
    pub fn position_at(&self, t: f64) -> f64 {
        let p = self.playback.position_at(t);
        self.duration().map_or(p, |d| p.min(d))
    }

    /// Where the current item's last credits start, if Plex marked them.
    fn final_credits(&self) -> Option<f64> {
        self.current_entry()?
            .info
            .as_ref()?
            .markers
            .iter()
            .find(|m| m.kind == MarkerKind::Credits && m.last)
            .map(|m| m.start)
    }

    /// The "Up next" countdown of the current item, if the next item will start by itself.
    pub fn countdown(&self) -> Option<Countdown> {
        if !self.options.autoplay || self.ending.cancelled || self.ending.finished {
            return None;
        }
        let duration = self.duration()?;
        let next = self.up_next()?;
        let credits = self.final_credits();
        let from = credits
            .filter(|s| *s < duration)
            .unwrap_or(duration - UP_NEXT_LEAD_S)
            .max(0.0);
        Some(Countdown {
            next,
            from,
            until: (from + UP_NEXT_COUNTDOWN_S).min(duration),
        })
    }

    /// Where the current item counts as watched: 90 % of it, or its final credits if they
    /// start sooner (as Plex counts it).
    pub fn watched_from(&self) -> Option<f64> {
        let duration = self.duration()?;
        let credits = self.final_credits();
        Some(credits.map_or(WATCHED_FRACTION * duration, |c| {
            c.min(WATCHED_FRACTION * duration)
        }))
    }

    /// Records that the group watched the current item, if it is past
    /// [`Session::watched_from`] at `now` and was not recorded yet. The server that records it
    /// (the store's version check picks one) tells Plex, so Plex hears it once.
    pub fn mark_watched(&mut self, now: f64) -> Vec<Change> {
        let Some(from) = self.watched_from() else {
            return Vec::new();
        };
        if self.ending.watched || self.position_at(now) < from - REACHED_S {
            return Vec::new();
        }
        self.ending.watched = true;
        self.version += 1;
        vec![Change::Ending {
            ending: self.ending,
        }]
    }

    /// Where the current item can resume from (Plex's resume point), while nobody has started
    /// it yet.
    pub fn resume_offer(&self) -> Option<f64> {
        if self.ending.started || self.ending.finished {
            return None;
        }
        self.current_entry()?.info.as_ref()?.resume
    }

    /// Starts the current item from Plex's resume point (`resume`) or from the beginning.
    pub(super) fn start(&mut self, resume: bool, at: f64) -> Result<Vec<Change>, SessionError> {
        self.current_entry().ok_or(SessionError::EmptyQueue)?;
        let position = if resume {
            self.current_entry()
                .and_then(|e| e.info.as_ref()?.resume)
                .ok_or_else(|| {
                    SessionError::InvalidInput("Plex has no resume point for this item".into())
                })?
        } else {
            0.0
        };
        self.wait = None;
        let from = self.position_at(at);
        let mut changes = self.reset_finished();
        changes.extend(self.mark_started());
        changes.extend(self.set_playback(
            Playback {
                playing: true,
                position,
                at,
                rate: self.playback.rate,
            },
            Cause::Seek { from, to: position },
        ));
        Ok(changes)
    }

    /// Records that someone started the current item (its resume offer goes away).
    pub(super) fn mark_started(&mut self) -> Vec<Change> {
        if self.ending.started {
            return Vec::new();
        }
        self.ending.started = true;
        vec![Change::Ending {
            ending: self.ending,
        }]
    }

    /// The intro or credits marker at `position`, if any (what a Skip button skips).
    pub fn marker_at(&self, position: f64) -> Option<&Marker> {
        self.current_entry()?
            .info
            .as_ref()?
            .markers
            .iter()
            .find(|m| m.start <= position && position < m.end - REACHED_S)
    }

    /// The next server instant at which something happens by itself (an intro skipped, the next
    /// item started, the item finished), if the group is playing toward one.
    pub fn next_milestone(&self, now: f64) -> Option<f64> {
        let line = self.playback;
        if !line.playing || self.wait.is_some() || self.ending.finished || line.rate <= 0.0 {
            return None;
        }
        let base = now.max(line.at);
        let pos = line.position_at(base);
        let at_position = |p: f64| line.reaches(p, now).unwrap_or(base);
        let mut candidates = Vec::new();
        if self.options.skip_intros
            && let Some(info) = self.current_entry().and_then(|e| e.info.as_ref())
        {
            for m in info.markers.iter().filter(|m| m.kind == MarkerKind::Intro) {
                if pos < m.start {
                    candidates.push(at_position(m.start));
                } else if pos < m.start + AUTO_SKIP_WINDOW_S && pos < m.end {
                    candidates.push(base);
                }
            }
        }
        if let Some(end) = self.end_position() {
            candidates.push(at_position(end));
        }
        candidates.into_iter().reduce(f64::min)
    }

    /// Where the item ends for the group: the countdown's end when the next item starts by
    /// itself, else the item's end.
    fn end_position(&self) -> Option<f64> {
        match self.countdown() {
            Some(c) => Some(c.until),
            None => self.duration(),
        }
    }

    /// Does what is due at `now`: skip an intro just reached (when the group skips intros),
    /// start the next item when the countdown ran out, or finish at the end.
    pub(super) fn reach_milestones(&mut self, now: f64) -> Vec<Change> {
        let line = self.playback;
        if !line.playing || self.wait.is_some() || self.ending.finished {
            return Vec::new();
        }
        let pos = line.position_at(now);
        if let Some(end) = self.end_position()
            && pos >= end - REACHED_S
        {
            return self.finish_or_advance(now);
        }
        if self.options.skip_intros
            && let Some(m) = self.marker_at(pos).cloned()
            && m.kind == MarkerKind::Intro
            && pos < m.start + AUTO_SKIP_WINDOW_S
        {
            return self.jump_past(&m, now);
        }
        Vec::new()
    }

    /// The countdown ran out (or the item ended): start what comes next, or finish.
    fn finish_or_advance(&mut self, now: f64) -> Vec<Change> {
        if self.countdown().is_some() {
            return self.advance(now).unwrap_or_default();
        }
        self.finish(now)
    }

    /// The group stops at the end: "Finished".
    fn finish(&mut self, now: f64) -> Vec<Change> {
        let end = self
            .duration()
            .unwrap_or_else(|| self.playback.position_at(now));
        self.ending.finished = true;
        let mut changes = vec![Change::Ending {
            ending: self.ending,
        }];
        changes.extend(self.set_playback(
            Playback {
                playing: false,
                position: end,
                at: now,
                rate: self.playback.rate,
            },
            Cause::Ended,
        ));
        changes
    }

    /// Starts what comes next: the next queued entry, or the suggested episode (queued first).
    pub(super) fn advance(&mut self, now: f64) -> Result<Vec<Change>, SessionError> {
        let next = self.up_next().ok_or(SessionError::NoNext)?;
        let entry = match next.entry {
            Some(id) => id,
            None => {
                if self.queue.len() >= super::MAX_QUEUE {
                    return Err(SessionError::QueueFull);
                }
                let id = self.next_entry;
                self.next_entry += 1;
                let at = self.current_index().map_or(self.queue.len(), |i| i + 1);
                self.queue.insert(
                    at,
                    QueueEntry {
                        id,
                        rating_key: next.rating_key,
                        title: next.title,
                        info: None,
                    },
                );
                id
            }
        };
        Ok(self.start_entry(Some(entry), now))
    }

    /// Seeks the group past `marker` (to its end, or for the last credits, on to what comes
    /// next or the finish).
    fn jump_past(&mut self, marker: &Marker, now: f64) -> Vec<Change> {
        let ends_item = marker.kind == MarkerKind::Credits
            && (marker.last || self.duration().is_some_and(|d| marker.end >= d - 1.0));
        if ends_item {
            if self.up_next().is_some() && self.options.autoplay {
                return self.advance(now).unwrap_or_default();
            }
            return self.finish(now);
        }
        let at = now + self.lead_ms();
        let current = self.playback;
        let from = current.position_at(at);
        self.set_playback(
            Playback {
                position: marker.end,
                at,
                ..current
            },
            Cause::Skipped {
                marker: marker.kind,
                from,
                to: marker.end,
            },
        )
    }

    /// A driver pressed "Skip intro" / "Skip credits": skip the marker under the group's
    /// position.
    pub(super) fn skip(&mut self, now: f64) -> Result<Vec<Change>, SessionError> {
        let pos = self.position_at(now + self.lead_ms());
        let marker = self
            .marker_at(pos)
            .cloned()
            .ok_or(SessionError::NothingToSkip)?;
        Ok(self.jump_past(&marker, now))
    }

    /// A driver cancelled this item's "Up next".
    pub(super) fn cancel_up_next(&mut self) -> Result<Vec<Change>, SessionError> {
        if self.ending.cancelled || self.ending.finished {
            return Err(SessionError::InvalidInput(
                "there is no \"Up next\" to cancel".into(),
            ));
        }
        self.ending.cancelled = true;
        Ok(vec![Change::UpNextCancelled])
    }

    /// The group's options changed (`autoplay`, `skip_intros`).
    pub(super) fn set_options(&mut self, options: Options) -> Vec<Change> {
        self.options = options;
        vec![Change::Options { options }]
    }

    /// Plex described a queued entry (its length, markers, next episode). Changes nothing if it
    /// already says so, or if the entry is gone; a server calls it after queueing and may call
    /// it twice (two processes racing): the second is a no-op.
    pub fn describe_entry(&mut self, entry: u64, info: EntryInfo) -> Vec<Change> {
        let Some(e) = self.queue.iter_mut().find(|e| e.id == entry) else {
            return Vec::new();
        };
        if e.info.as_ref() == Some(&info) {
            return Vec::new();
        }
        e.info = Some(info);
        self.version += 1;
        vec![self.queue_change()]
    }

    /// The entries still waiting for Plex's description: the current one, and what follows it
    /// (so the countdown knows its title and the next item starts without a gap).
    pub fn undescribed(&self) -> Vec<(u64, String)> {
        let Some(idx) = self.current_index() else {
            return Vec::new();
        };
        self.queue
            .iter()
            .skip(idx)
            .take(2)
            .filter(|e| e.info.is_none())
            .map(|e| (e.id, e.rating_key.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Command;
    use crate::session::fixtures::session;

    fn episode(duration: f64, next: Option<(&str, &str)>) -> EntryInfo {
        EntryInfo {
            duration,
            markers: vec![
                Marker {
                    kind: MarkerKind::Intro,
                    start: 3.0,
                    end: 15.0,
                    last: false,
                },
                Marker {
                    kind: MarkerKind::Credits,
                    start: 108.0,
                    end: 120.0,
                    last: true,
                },
            ],
            label: Some("S01E01".into()),
            next: next.map(|(k, t)| Suggestion {
                rating_key: k.into(),
                title: t.into(),
                label: None,
            }),
            resume: None,
        }
    }

    /// Ana and Ben playing entry 1 (120 s, markers) from 0 at t = 10 s.
    fn playing(next: Option<(&str, &str)>) -> Session {
        let mut s = session();
        s.describe_entry(1, episode(120.0, next));
        s.apply("ana", &Command::Play, 10_000.0 - s.lead_ms())
            .expect("play");
        assert_eq!(s.playback.at, 10_000.0);
        s
    }

    #[test]
    fn the_line_never_runs_past_the_end_and_the_group_finishes() {
        let mut s = playing(None);
        assert_eq!(s.next_milestone(10_000.0), Some(130_000.0));
        assert_eq!(s.position_at(200_000.0), 120.0);
        assert!(s.tick(129_000.0).is_empty(), "not yet");
        let changes = s.tick(130_010.0);
        assert!(changes.iter().any(|c| matches!(
            c,
            Change::Playback {
                cause: Cause::Ended,
                ..
            }
        )));
        assert!(s.ending.finished);
        assert!(!s.playback.playing);
        assert_eq!(s.playback.position, 120.0);
        assert_eq!(s.next_milestone(131_000.0), None);
        // Play again starts over.
        s.apply("ben", &Command::Play, 140_000.0).expect("again");
        assert!(!s.ending.finished);
        assert_eq!(s.playback.position, 0.0);
        assert!(s.playback.playing);
    }

    #[test]
    fn a_seek_past_the_end_lands_on_the_end() {
        let mut s = playing(None);
        s.apply("ana", &Command::Seek { position: 500.0 }, 20_000.0)
            .expect("seek");
        assert_eq!(s.playback.position, 120.0);
        let due = s.next_milestone(20_000.0).expect("due");
        assert!(due <= s.playback.at + 1.0);
        s.tick(due + 1.0);
        assert!(s.ending.finished);
    }

    #[test]
    fn the_next_episode_starts_after_the_countdown() {
        let mut s = playing(Some(("2111", "The Long Street")));
        let c = s.countdown().expect("countdown");
        assert_eq!((c.from, c.until), (108.0, 118.0));
        assert_eq!(c.next.entry, None);
        assert_eq!(s.next_milestone(10_000.0), Some(128_000.0));
        s.tick(128_001.0);
        let current = s.current_entry().expect("current");
        assert_eq!(current.rating_key, "2111");
        assert_eq!(s.queue.len(), 2);
        assert!(s.wait.is_some(), "everyone loads the next episode first");
        assert!(!s.ending.finished && !s.ending.cancelled);
        assert_eq!(s.undescribed(), vec![(current.id, "2111".to_owned())]);
    }

    #[test]
    fn a_queued_entry_comes_before_the_next_episode() {
        let mut s = playing(Some(("2111", "The Long Street")));
        s.apply(
            "ana",
            &Command::QueueAdd {
                rating_key: "102".into(),
                title: "Copper Sky".into(),
            },
            11_000.0,
        )
        .expect("add");
        assert_eq!(s.up_next().map(|n| n.rating_key), Some("102".into()));
    }

    #[test]
    fn without_markers_the_countdown_is_the_last_half_minute() {
        let mut s = session();
        s.describe_entry(
            1,
            EntryInfo {
                duration: 600.0,
                next: Some(Suggestion {
                    rating_key: "9".into(),
                    title: "Nine".into(),
                    label: None,
                }),
                ..EntryInfo::default()
            },
        );
        let c = s.countdown().expect("countdown");
        assert_eq!((c.from, c.until), (570.0, 580.0));
    }

    #[test]
    fn cancelling_up_next_plays_to_the_end_and_finishes() {
        let mut s = playing(Some(("2111", "The Long Street")));
        s.apply("ben", &Command::CancelUpNext, 120_000.0)
            .expect("cancel");
        assert!(s.countdown().is_none());
        assert_eq!(s.next_milestone(120_000.0), Some(130_000.0));
        s.tick(130_001.0);
        assert!(s.ending.finished);
        assert_eq!(s.current_entry().map(|e| e.id), Some(1));
        // Play now still starts it, and the new item has a fresh countdown.
        s.apply("ben", &Command::Next, 131_000.0).expect("next");
        assert_eq!(
            s.current_entry().map(|e| e.rating_key.as_str()),
            Some("2111")
        );
        assert!(!s.ending.cancelled && !s.ending.finished);
    }

    #[test]
    fn autoplay_off_finishes_at_the_end() {
        let mut s = playing(Some(("2111", "The Long Street")));
        s.apply(
            "ana",
            &Command::SetOptions {
                options: Options {
                    autoplay: false,
                    skip_intros: false,
                },
            },
            11_000.0,
        )
        .expect("options");
        assert!(s.countdown().is_none());
        s.tick(130_001.0);
        assert!(s.ending.finished);
    }

    #[test]
    fn skip_jumps_past_the_intro_and_the_last_credits_start_the_next() {
        let mut s = playing(Some(("2111", "The Long Street")));
        let lead = s.lead_ms();
        assert_eq!(
            s.apply("ana", &Command::Skip, 11_000.0 - lead),
            Err(SessionError::NothingToSkip),
            "1 s in: no marker"
        );
        s.apply("ana", &Command::Skip, 15_000.0 - lead)
            .expect("skip intro");
        assert_eq!(s.playback.position, 15.0);
        assert!(s.playback.playing);
        // 100 s later the group is at 115 s, in the credits.
        s.apply("ana", &Command::Skip, 115_000.0 - lead)
            .expect("skip credits");
        assert_eq!(
            s.current_entry().map(|e| e.rating_key.as_str()),
            Some("2111")
        );
    }

    #[test]
    fn intros_are_skipped_automatically_only_when_reached() {
        let mut s = playing(None);
        s.apply(
            "ana",
            &Command::SetOptions {
                options: Options {
                    autoplay: true,
                    skip_intros: true,
                },
            },
            10_500.0,
        )
        .expect("options");
        assert_eq!(s.next_milestone(10_500.0), Some(13_000.0));
        let changes = s.tick(13_010.0);
        assert!(changes.iter().any(|c| matches!(
            c,
            Change::Playback {
                cause: Cause::Skipped { .. },
                ..
            }
        )));
        assert_eq!(s.playback.position, 15.0);
        // A seek back into the middle of the intro is left alone.
        let lead = s.lead_ms();
        s.apply("ana", &Command::Seek { position: 8.0 }, 20_000.0 - lead)
            .expect("seek");
        assert!(s.tick(20_100.0).is_empty());
        assert_ne!(s.next_milestone(20_100.0), Some(20_100.0));
    }

    #[test]
    fn the_item_counts_as_watched_once_from_its_final_credits() {
        let mut s = playing(None);
        assert_eq!(s.watched_from(), Some(108.0));
        assert!(s.mark_watched(100_000.0).is_empty(), "at 90 s: not yet");
        assert_eq!(s.mark_watched(118_000.0).len(), 1);
        assert!(s.ending.watched);
        assert!(s.mark_watched(119_000.0).is_empty(), "once");
        // A new item starts unwatched.
        s.apply(
            "ana",
            &Command::QueueAdd {
                rating_key: "102".into(),
                title: "Copper Sky".into(),
            },
            119_500.0,
        )
        .expect("add");
        s.apply("ana", &Command::Next, 119_600.0).expect("next");
        assert!(!s.ending.watched);
    }

    #[test]
    fn an_item_with_a_resume_point_offers_it_until_someone_starts() {
        let mut s = session();
        s.describe_entry(
            1,
            EntryInfo {
                duration: 120.0,
                resume: Some(21.5),
                ..EntryInfo::default()
            },
        );
        assert_eq!(s.resume_offer(), Some(21.5));
        let lead = s.lead_ms();
        s.apply("ben", &Command::Start { resume: true }, 10_000.0 - lead)
            .expect("resume");
        assert_eq!(s.resume_offer(), None);
        assert!(s.playback.playing);
        assert_eq!(s.playback.position, 21.5);
        // Start over plays from 0:00; a plain play also ends the offer.
        let mut t = session();
        t.describe_entry(
            1,
            EntryInfo {
                duration: 120.0,
                resume: Some(21.5),
                ..EntryInfo::default()
            },
        );
        t.apply("ana", &Command::Play, 1_000.0).expect("play");
        assert_eq!(t.resume_offer(), None);
        assert_eq!(t.playback.position, 0.0);
        // Without a resume point, resuming is refused and changes nothing.
        let mut u = session();
        let before = u.clone();
        assert!(
            u.apply("ana", &Command::Start { resume: true }, 1_000.0)
                .is_err()
        );
        assert_eq!(u, before);
    }

    #[test]
    fn describing_twice_changes_nothing() {
        let mut s = session();
        let v = s.version;
        assert_eq!(s.describe_entry(1, episode(120.0, None)).len(), 1);
        assert_eq!(s.version, v + 1);
        assert!(s.describe_entry(1, episode(120.0, None)).is_empty());
        assert!(s.describe_entry(99, episode(120.0, None)).is_empty());
        assert_eq!(s.version, v + 1);
    }

    #[test]
    fn an_old_session_without_these_fields_still_parses() {
        let s = session();
        let mut json = serde_json::to_value(&s).expect("json");
        let obj = json.as_object_mut().expect("object");
        obj.remove("options");
        obj.remove("ending");
        let back: Session = serde_json::from_value(json).expect("parse");
        assert!(back.options.autoplay);
        assert!(!back.ending.finished);
    }
}
