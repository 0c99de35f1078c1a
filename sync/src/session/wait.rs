//! The group holding for its members: a stalled player holds everyone (up to the session's wait
//! bound), and the last member to be ready again (or the deadline) releases them.

use super::command::{Cause, Change, SessionError};
use super::model::{Playback, Session, Wait, WaitReason};
use crate::member::MemberId;

/// The smallest change of a member's round trip that is recorded: 25 ms, or a quarter of the
/// recorded one if that is more.
pub const RTT_STEP_MS: f64 = 25.0;
pub const RTT_STEP_FRACTION: f64 = 0.25;

impl Session {
    /// A member's player stalled (`buffering = true`) or is ready again. A stall while playing
    /// holds the group (up to [`Session::wait_bound_ms`]); the last ready member releases it.
    pub fn report(
        &mut self,
        actor: &str,
        buffering: bool,
        rtt_ms: Option<f64>,
        now: f64,
    ) -> Result<Vec<Change>, SessionError> {
        let m = self.member_mut(actor).ok_or(SessionError::UnknownMember)?;
        let rtt = rtt_ms
            .filter(|r| r.is_finite() && *r >= 0.0)
            .map(|r| r.min(10_000.0));
        // Round trips jitter by milliseconds on every clock sample. Only a change that can move
        // the command lead (see `Session::lead_ms`) is worth a write and a broadcast to everyone.
        let rtt_moved = rtt
            .is_some_and(|r| (r - m.rtt_ms).abs() >= RTT_STEP_MS.max(m.rtt_ms * RTT_STEP_FRACTION));
        let changed = m.buffering != buffering || rtt_moved;
        if !changed {
            return Ok(Vec::new());
        }
        m.buffering = buffering;
        if let Some(r) = rtt.filter(|_| rtt_moved) {
            m.rtt_ms = r;
        }
        let member = m.clone();
        let mut changes = vec![Change::MemberUpdated {
            member: member.clone(),
        }];
        if buffering && member.online() {
            if let Some(wait) = &mut self.wait {
                if !wait.members.iter().any(|id| id == actor) {
                    wait.members.push(actor.to_owned());
                }
                let (playback, wait) = (self.playback, self.wait.clone());
                changes.push(Change::Playback {
                    playback,
                    wait,
                    cause: Cause::Waiting,
                });
            } else if self.playback.playing {
                let position = self.playback.position_at(now);
                self.wait = Some(Wait {
                    members: vec![actor.to_owned()],
                    deadline: now + self.wait_bound_ms,
                    reason: WaitReason::Buffering,
                    resume: true,
                });
                changes.extend(self.set_playback(
                    Playback {
                        playing: false,
                        position,
                        at: now,
                        rate: self.playback.rate,
                    },
                    Cause::Waiting,
                ));
            }
        } else {
            changes.extend(self.settle_wait(now));
        }
        self.version += 1;
        Ok(changes)
    }

    /// Releases the group when nobody it waits for is still buffering, or when the wait bound
    /// passed (then the stragglers catch up on their own), and does what the item's end asks
    /// for (see [`Session::next_milestone`]). Call on a timer at the deadline or milestone.
    pub fn tick(&mut self, now: f64) -> Vec<Change> {
        let mut changes = self.settle_wait(now);
        changes.extend(self.reach_milestones(now));
        if !changes.is_empty() {
            self.version += 1;
        }
        changes
    }

    /// Ends or narrows the wait when its members are ready, gone, or out of time.
    pub(super) fn settle_wait(&mut self, now: f64) -> Vec<Change> {
        let Some(wait) = self.wait.clone() else {
            return Vec::new();
        };
        let still: Vec<MemberId> = wait
            .members
            .iter()
            .filter(|id| self.member(id).is_some_and(|m| m.online() && m.buffering))
            .cloned()
            .collect();
        let timed_out = now >= wait.deadline;
        if !still.is_empty() && !timed_out {
            if still.len() != wait.members.len() {
                self.wait = Some(Wait {
                    members: still,
                    ..wait
                });
                return vec![Change::Playback {
                    playback: self.playback,
                    wait: self.wait.clone(),
                    cause: Cause::Waiting,
                }];
            }
            return Vec::new();
        }
        self.wait = None;
        let cause = if still.is_empty() {
            Cause::Resumed
        } else {
            // They stay marked buffering, but no longer hold the group until they recover.
            Cause::CarriedOn { without: still }
        };
        let at = now + self.lead_ms();
        let playback = Playback {
            playing: wait.resume,
            position: self.playback.position,
            at,
            rate: self.playback.rate,
        };
        self.set_playback(playback, cause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::fixtures::session;
    use crate::session::{Command, DEFAULT_WAIT_BOUND_MS, describe};

    #[test]
    fn buffering_member_holds_the_group_until_ready() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        let changes = s.report("ben", true, None, 12_000.0).expect("stall");
        assert!(!s.playback.playing);
        let wait = s.wait.clone().expect("waiting");
        assert_eq!(wait.members, vec!["ben".to_string()]);
        assert!(changes.iter().any(|c| matches!(
            c,
            Change::Playback {
                cause: Cause::Waiting,
                ..
            }
        )));
        let text = describe(None, changes.last().expect("change"), &s).expect("text");
        assert_eq!(text, "Waiting for Ben…");
        let held_at = s.playback.position;
        s.report("ben", false, None, 13_000.0).expect("ready");
        assert!(s.wait.is_none());
        assert!(s.playback.playing);
        assert_eq!(s.playback.position, held_at);
        assert!(s.playback.at > 13_000.0);
    }

    /// Review item 6: a round trip that jitters costs no write; one that moves the lead does.
    #[test]
    fn round_trip_jitter_is_not_a_change() {
        let mut s = session();
        assert!(
            !s.report("ben", false, Some(120.0), 1_000.0)
                .expect("first")
                .is_empty()
        );
        for (i, rtt) in [121.0, 118.5, 135.0, 104.0, 140.0].into_iter().enumerate() {
            let changes = s
                .report("ben", false, Some(rtt), 2_000.0 + i as f64)
                .expect("status");
            assert!(changes.is_empty(), "{rtt} ms is jitter around 120 ms");
        }
        assert_eq!(s.member("ben").map(|m| m.rtt_ms), Some(120.0));
        assert!(
            !s.report("ben", false, Some(300.0), 3_000.0)
                .expect("slower")
                .is_empty()
        );
        assert_eq!(s.member("ben").map(|m| m.rtt_ms), Some(300.0));
        // A buffering change is always news, whatever the round trip.
        assert!(
            !s.report("ben", true, Some(301.0), 4_000.0)
                .expect("stall")
                .is_empty()
        );
        assert_eq!(s.member("ben").map(|m| m.rtt_ms), Some(300.0));
    }

    #[test]
    fn the_group_carries_on_after_the_wait_bound() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        s.report("ben", true, None, 12_000.0).expect("stall");
        assert!(s.tick(12_000.0 + DEFAULT_WAIT_BOUND_MS - 1.0).is_empty());
        let changes = s.tick(12_000.0 + DEFAULT_WAIT_BOUND_MS);
        assert!(s.playback.playing);
        assert!(matches!(
            changes.as_slice(),
            [Change::Playback { cause: Cause::CarriedOn { without }, .. }] if without == &vec!["ben".to_string()]
        ));
    }

    #[test]
    fn a_member_leaving_releases_the_wait() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        s.report("ben", true, None, 12_000.0).expect("stall");
        s.disconnect("ben", 12_500.0).expect("leave");
        assert!(s.wait.is_none());
        assert!(s.playback.playing);
    }

    #[test]
    fn pause_during_a_wait_cancels_the_resume() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        s.report("ben", true, None, 12_000.0).expect("stall");
        s.apply("ana", &Command::Pause, 12_100.0).expect("pause");
        s.report("ben", false, None, 13_000.0).expect("ready");
        assert!(!s.playback.playing);
    }
}
