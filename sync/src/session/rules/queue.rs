//! Queue rules: moving through the queue (next, previous, pick an entry) and editing it (add,
//! remove, move). Starting another entry makes everyone load it first: see
//! [`Session::start_entry`].

use crate::ids::RatingKey;
use crate::member::MemberId;
use crate::session::MAX_QUEUE;
use crate::session::command::{Cause, Change, SessionError};
use crate::session::model::{Playback, QueueEntry, Session, Wait, WaitReason};

/// Longest queue entry title kept, in characters.
const MAX_TITLE_CHARS: usize = 200;

impl Session {
    /// Start the entry after the current one (or the next episode, when nothing is queued).
    pub(super) fn next(&mut self, now: f64) -> Result<Vec<Change>, SessionError> {
        self.current_index().ok_or(SessionError::EmptyQueue)?;
        self.advance(now)
    }

    /// Start the entry before the current one.
    pub(super) fn previous(&mut self, now: f64) -> Result<Vec<Change>, SessionError> {
        let idx = self.current_index().ok_or(SessionError::EmptyQueue)?;
        let prev = idx
            .checked_sub(1)
            .and_then(|i| self.queue.get(i))
            .ok_or(SessionError::NoPrevious)?
            .id;
        Ok(self.start_entry(Some(prev), now))
    }

    /// Start a queued entry now.
    pub(super) fn play_entry(&mut self, entry: u64, now: f64) -> Result<Vec<Change>, SessionError> {
        if !self.queue.iter().any(|e| e.id == entry) {
            return Err(SessionError::UnknownEntry(entry));
        }
        Ok(self.start_entry(Some(entry), now))
    }

    /// Queue a Plex item at the end; it starts at once if nothing was playing.
    pub(super) fn queue_add(
        &mut self,
        rating_key: &str,
        title: &str,
        now: f64,
    ) -> Result<Vec<Change>, SessionError> {
        if self.queue.len() >= MAX_QUEUE {
            return Err(SessionError::QueueFull);
        }
        let rating_key = RatingKey::parse(rating_key).map_err(|_| {
            SessionError::InvalidInput("a queue item needs a Plex rating key".into())
        })?;
        let title: String = title.chars().take(MAX_TITLE_CHARS).collect();
        let id = self.next_entry;
        self.next_entry += 1;
        self.queue.push(QueueEntry {
            id,
            rating_key: rating_key.into(),
            title,
            info: None,
        });
        Ok(if self.current.is_none() {
            self.start_entry(Some(id), now)
        } else {
            vec![self.queue_change()]
        })
    }

    /// Take an entry out; removing the current one starts the next (or nothing).
    pub(super) fn queue_remove(
        &mut self,
        entry: u64,
        now: f64,
    ) -> Result<Vec<Change>, SessionError> {
        let idx = self
            .queue
            .iter()
            .position(|e| e.id == entry)
            .ok_or(SessionError::UnknownEntry(entry))?;
        self.queue.remove(idx);
        Ok(if self.current == Some(entry) {
            let next = self.queue.get(idx).map(|e| e.id);
            self.start_entry(next, now)
        } else {
            vec![self.queue_change()]
        })
    }

    /// Move an entry to index `to` (clamped to the queue).
    pub(super) fn queue_move(
        &mut self,
        entry: u64,
        to: usize,
    ) -> Result<Vec<Change>, SessionError> {
        let idx = self
            .queue
            .iter()
            .position(|e| e.id == entry)
            .ok_or(SessionError::UnknownEntry(entry))?;
        let item = self.queue.remove(idx);
        let to = to.min(self.queue.len());
        self.queue.insert(to, item);
        Ok(vec![self.queue_change()])
    }

    /// Switches to `entry` from 0:00. Everyone must load the new item first, so the group waits
    /// for all online members (they report ready) and then starts together.
    pub(in crate::session) fn start_entry(&mut self, entry: Option<u64>, now: f64) -> Vec<Change> {
        self.current = entry;
        if let Some(e) = self.current_entry() {
            self.title = e.title.clone();
        }
        for m in &mut self.members {
            if m.online() {
                m.buffering = true;
            }
        }
        let waiting: Vec<MemberId> = self
            .members
            .iter()
            .filter(|m| m.online())
            .map(|m| m.id.clone())
            .collect();
        let resume = self.playback.playing || self.wait.as_ref().is_some_and(|w| w.resume);
        self.wait = (entry.is_some() && !waiting.is_empty()).then_some(Wait {
            members: waiting,
            deadline: now + self.wait_bound_ms,
            reason: WaitReason::Loading,
            resume,
        });
        let mut changes = vec![self.queue_change()];
        changes.extend(self.reset_ending());
        changes.extend(self.set_playback(Playback::paused(0.0, now), Cause::Item { entry }));
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Command;
    use crate::session::fixtures::session;

    #[test]
    fn next_waits_for_everyone_to_load() {
        let mut s = session();
        s.apply(
            "ana",
            &Command::QueueAdd {
                rating_key: "102".into(),
                title: "Copper Sky".into(),
            },
            5_000.0,
        )
        .expect("add");
        s.apply("ana", &Command::Play, 6_000.0).expect("play");
        s.apply("ben", &Command::Next, 7_000.0).expect("next");
        assert_eq!(
            s.current_entry().map(|e| e.rating_key.as_str()),
            Some("102")
        );
        assert_eq!(s.title, "Copper Sky");
        assert_eq!(s.playback.position, 0.0);
        assert!(!s.playback.playing);
        s.report("ana", false, None, 7_500.0).expect("ana ready");
        assert!(!s.playback.playing, "still waiting for Ben");
        s.report("ben", false, None, 7_600.0).expect("ben ready");
        assert!(s.playback.playing);
        assert_eq!(
            s.apply("ben", &Command::Next, 8_000.0),
            Err(SessionError::NoNext)
        );
        s.apply("ben", &Command::Previous, 8_000.0)
            .expect("previous");
        assert_eq!(
            s.current_entry().map(|e| e.rating_key.as_str()),
            Some("101")
        );
    }

    #[test]
    fn queue_edits() {
        let mut s = session();
        for (k, t) in [("102", "B"), ("103", "C")] {
            s.apply(
                "ana",
                &Command::QueueAdd {
                    rating_key: k.into(),
                    title: t.into(),
                },
                1.0,
            )
            .expect("add");
        }
        s.apply("ana", &Command::QueueMove { entry: 3, to: 0 }, 2.0)
            .expect("move");
        let order: Vec<u64> = s.queue.iter().map(|e| e.id).collect();
        assert_eq!(order, vec![3, 1, 2]);
        s.apply("ana", &Command::QueueRemove { entry: 2 }, 3.0)
            .expect("remove");
        assert_eq!(s.queue.len(), 2);
        assert_eq!(
            s.apply("ana", &Command::QueueRemove { entry: 99 }, 4.0),
            Err(SessionError::UnknownEntry(99))
        );
        let bad = Command::QueueAdd {
            rating_key: "../x".into(),
            title: "x".into(),
        };
        assert!(matches!(
            s.apply("ana", &bad, 5.0),
            Err(SessionError::InvalidInput(_))
        ));
    }
}
