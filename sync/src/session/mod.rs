//! The watch-session model and its rules.
//!
//! A [`Session`] is the single source of truth the server keeps (and persists) for one group:
//! who is in it, what is queued, and where playback is. Playback is not "a position" but a
//! line through server time ([`Playback`]), so every viewer can compute where the group is at
//! any instant without trusting its own clock. Every accepted change bumps [`Session::version`]
//! and is described by [`Change`]s that the server broadcasts, so clients can follow with small
//! deltas and notice a gap (then ask for a snapshot).
//!
//! The code is split along its seams:
//!
//! - [`model`]: the data (session, members, queue, playback line) and how a mirror applies a
//!   broadcast change;
//! - [`command`]: what members ask for, what changed and why, and why a request was refused;
//! - [`presence`]: who is here: joining, leaving, and the host role moving on;
//! - [`wait`]: the group holding for buffering or loading members;
//! - [`rules`]: turning a member's command into changes (playback, queue, roles), and the replay
//!   and version checks in front of them;
//! - [`timeline`]: the line a viewer follows when a change is scheduled for later;
//! - [`ending`]: the end of an item: markers, "Up next", skipping, finishing;
//! - [`describe`]: the "Ana paused" sentence for a change.

pub mod command;
pub mod describe;
pub mod ending;
pub mod model;
pub mod presence;
pub mod rules;
pub mod timeline;
pub mod wait;

#[cfg(test)]
mod fixtures;

pub use crate::ids::MAX_NAME_CHARS;
pub use crate::member::MemberId;
pub use command::{Cause, Change, Command, SessionError};
pub use describe::{clock_time, describe};
pub use ending::{Countdown, Ending, EntryInfo, Marker, MarkerKind, Next, Options, Suggestion};
pub use model::{Actor, Control, Member, Playback, QueueEntry, Role, Session, Wait, WaitReason};
pub use rules::Admitted;
pub use timeline::Timeline;

/// Longest queue accepted; beyond this a shared queue is a mistake, not a plan.
pub const MAX_QUEUE: usize = 500;
/// Most members one session lists (online or not); a join beyond it first drops the offline
/// guest gone longest, and is refused when everyone listed is online.
pub const MAX_MEMBERS: usize = 500;
/// How long an offline guest keeps a place in the member list (24 h, in ms).
pub const OFFLINE_KEEP_MS: f64 = 24.0 * 3600.0 * 1000.0;
/// Playback rates a group may choose.
pub const RATE_RANGE: (f64, f64) = (0.5, 2.0);
/// How long the group waits for a buffering or loading member before carrying on.
pub const DEFAULT_WAIT_BOUND_MS: f64 = 8_000.0;
/// Shortest lead between a command and the instant it takes effect.
pub const MIN_LEAD_MS: f64 = 150.0;
/// Longest lead, whatever the members' round-trip times.
pub const MAX_LEAD_MS: f64 = 1_000.0;

/// Trims a display name and checks its length: [`DisplayName::parse`](crate::DisplayName::parse)
/// for callers that keep the name as a `String`.
pub fn clean_name(name: &str) -> Result<String, SessionError> {
    crate::DisplayName::parse(name).map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(clean_name("  Ana \n"), Ok("Ana".into()));
        assert_eq!(clean_name("   "), Err(SessionError::InvalidName));
        assert_eq!(clean_name(&"x".repeat(40)), Err(SessionError::InvalidName));
    }
}
