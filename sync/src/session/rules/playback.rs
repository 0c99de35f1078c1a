//! Playback rules: play, pause, seek and speed. Each takes effect at `at`, a little after the
//! command arrived (the session's lead), so every viewer gets the new line before it starts.

use crate::session::RATE_RANGE;
use crate::session::command::{Cause, Change, SessionError};
use crate::session::model::{Playback, Session};

impl Session {
    /// Play (`playing`) or pause from wherever the group is at `at`. An explicit play or pause
    /// also ends any wait for buffering members.
    /// Play on a finished item starts it over ("Play again").
    pub(super) fn play_or_pause(&mut self, playing: bool, at: f64) -> Vec<Change> {
        let current = self.playback;
        self.wait = None;
        let position = if playing && self.ending.finished {
            0.0
        } else {
            self.position_at(at)
        };
        let mut changes = if playing {
            let mut c = self.reset_finished();
            c.extend(self.mark_started());
            c
        } else {
            Vec::new()
        };
        changes.extend(self.set_playback(
            Playback {
                playing,
                position,
                at,
                rate: current.rate,
            },
            if playing { Cause::Play } else { Cause::Pause },
        ));
        changes
    }

    /// Jump to `position` seconds (at most the item's end); the group keeps playing if it was
    /// (or was about to resume). A seek on a finished item takes it back from the end, paused.
    pub(super) fn seek(&mut self, position: f64, at: f64) -> Result<Vec<Change>, SessionError> {
        if !position.is_finite() || position < 0.0 {
            return Err(SessionError::InvalidPosition(position));
        }
        let position = self.duration().map_or(position, |d| position.min(d));
        let current = self.playback;
        let from = self.position_at(at);
        let playing = current.playing || self.wait.as_ref().is_some_and(|w| w.resume);
        let mut changes = self.reset_finished();
        changes.extend(self.mark_started());
        changes.extend(self.set_playback(
            Playback {
                playing: playing && self.wait.is_none(),
                position,
                at,
                rate: current.rate,
            },
            Cause::Seek { from, to: position },
        ));
        Ok(changes)
    }

    /// Leaves the "Finished" state (a play or seek after the end).
    pub(in crate::session) fn reset_finished(&mut self) -> Vec<Change> {
        if !self.ending.finished {
            return Vec::new();
        }
        self.ending.finished = false;
        vec![Change::Ending {
            ending: self.ending,
        }]
    }

    /// A new item starts with no "Finished" and a fresh "Up next".
    pub(in crate::session) fn reset_ending(&mut self) -> Vec<Change> {
        if self.ending == Default::default() {
            return Vec::new();
        }
        self.ending = Default::default();
        vec![Change::Ending {
            ending: self.ending,
        }]
    }

    /// Change the speed, within [`RATE_RANGE`].
    pub(super) fn set_rate(&mut self, rate: f64, at: f64) -> Result<Vec<Change>, SessionError> {
        if !rate.is_finite() || rate < RATE_RANGE.0 || rate > RATE_RANGE.1 {
            return Err(SessionError::InvalidRate(rate));
        }
        let current = self.playback;
        let position = current.position_at(at);
        Ok(self.set_playback(
            Playback {
                rate,
                position,
                at,
                ..current
            },
            Cause::Rate { rate },
        ))
    }
}
