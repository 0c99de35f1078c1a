//! What a viewer follows: the playback line in force now, and the one a scheduled change puts
//! in force later.

use super::model::Playback;

/// What a viewer follows: the line in force now and, if a command was scheduled for a later
/// instant, the one that replaces it then.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeline {
    pub active: Playback,
    pub pending: Option<Playback>,
}

impl Timeline {
    /// Starts from a snapshot's playback.
    pub fn new(playback: Playback) -> Self {
        Self {
            active: playback,
            pending: None,
        }
    }

    /// A newer line arrived; it takes over at its `at`.
    pub fn push(&mut self, playback: Playback, now: f64) {
        self.promote(now);
        if playback.at > now {
            if let Some(p) = self.pending.take() {
                self.active = p;
            }
            self.pending = Some(playback);
        } else {
            self.active = playback;
            self.pending = None;
        }
    }

    /// The line in force at `now` (promoting a due pending one).
    pub fn at(&mut self, now: f64) -> Playback {
        self.promote(now);
        self.active
    }

    fn promote(&mut self, now: f64) {
        if let Some(p) = self.pending
            && p.at <= now
        {
            self.active = p;
            self.pending = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_switches_at_the_scheduled_instant() {
        let old = Playback {
            playing: true,
            position: 0.0,
            at: 0.0,
            rate: 1.0,
        };
        let mut tl = Timeline::new(old);
        let paused = Playback::paused(10.15, 10_150.0);
        tl.push(paused, 10_000.0);
        assert_eq!(tl.at(10_100.0), old);
        assert_eq!(tl.at(10_150.0), paused);
    }
}
