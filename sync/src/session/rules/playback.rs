//! Playback rules: play, pause, seek and speed. Each takes effect at `at`, a little after the
//! command arrived (the session's lead), so every viewer gets the new line before it starts.

use crate::session::RATE_RANGE;
use crate::session::command::{Cause, Change, SessionError};
use crate::session::model::{Playback, Session};

impl Session {
    /// Play (`playing`) or pause from wherever the group is at `at`. An explicit play or pause
    /// also ends any wait for buffering members.
    pub(super) fn play_or_pause(&mut self, playing: bool, at: f64) -> Vec<Change> {
        let current = self.playback;
        self.wait = None;
        self.set_playback(
            Playback {
                playing,
                position: current.position_at(at),
                at,
                rate: current.rate,
            },
            if playing { Cause::Play } else { Cause::Pause },
        )
    }

    /// Jump to `position` seconds; the group keeps playing if it was (or was about to resume).
    pub(super) fn seek(&mut self, position: f64, at: f64) -> Result<Vec<Change>, SessionError> {
        if !position.is_finite() || position < 0.0 {
            return Err(SessionError::InvalidPosition(position));
        }
        let current = self.playback;
        let from = current.position_at(at);
        let playing = current.playing || self.wait.as_ref().is_some_and(|w| w.resume);
        Ok(self.set_playback(
            Playback {
                playing: playing && self.wait.is_none(),
                position,
                at,
                rate: current.rate,
            },
            Cause::Seek { from, to: position },
        ))
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
