//! Turning a member's command into changes. [`Session::admit_command`] is the door a
//! WebSocket command comes through (replay and version checks), [`Session::apply`] checks who
//! may drive, and [`Session::apply_authorized`] hands each command to its group of rules:
//! [`playback`], [`queue`] and [`roles`].

pub mod playback;
pub mod queue;
pub mod roles;

use super::command::{Change, Command, SessionError};
use super::model::{Role, Session};

/// What became of a command that passed [`Session::admit_command`].
#[derive(Debug, Clone, PartialEq)]
pub enum Admitted {
    /// Applied now: these are the changes to broadcast.
    Applied(Vec<Change>),
    /// Applied before (the client replayed it after a reconnect): acknowledge it, change nothing.
    Duplicate,
}

impl Session {
    /// A member's command `id`, sent when they had seen `base_version`, as it arrives over the
    /// WebSocket. A command already applied for this member is a [`Admitted::Duplicate`] (ids
    /// grow per member, so replays after a reconnect are not applied twice); a base version the
    /// session never had is refused; a command whose meaning depends on the state the sender
    /// saw ([`Command::needs_current_version`]) is refused as stale unless that state is
    /// current. Otherwise the command is [applied](Session::apply) and its id recorded. On error
    /// nothing changed.
    pub fn admit_command(
        &mut self,
        member: &str,
        id: u64,
        base_version: u64,
        command: &Command,
        now: f64,
    ) -> Result<Admitted, SessionError> {
        if self.member(member).is_some_and(|m| id <= m.last_command) {
            return Ok(Admitted::Duplicate);
        }
        if base_version > self.version {
            return Err(SessionError::InvalidInput(format!(
                "base_version {base_version} is newer than the session ({})",
                self.version
            )));
        }
        if command.needs_current_version() && base_version != self.version {
            return Err(SessionError::StaleVersion {
                current: self.version,
            });
        }
        let changes = self.apply(member, command, now)?;
        self.record_command(member, id);
        Ok(Admitted::Applied(changes))
    }

    /// Applies a member's command at server time `now`. On error nothing changed.
    pub fn apply(
        &mut self,
        actor: &str,
        command: &Command,
        now: f64,
    ) -> Result<Vec<Change>, SessionError> {
        let role = self.member(actor).ok_or(SessionError::UnknownMember)?.role;
        if !self.control.allows(role) && !command.manages_members() {
            return Err(SessionError::NotAllowed(self.control.refusal().into()));
        }
        self.apply_authorized(actor, command, now)
    }

    /// [`Session::apply`] for a driver someone else already authorised (the Discord bot checks
    /// its guild's policy, including Discord roles the session cannot see).
    pub fn apply_authorized(
        &mut self,
        actor: &str,
        command: &Command,
        now: f64,
    ) -> Result<Vec<Change>, SessionError> {
        let role = self.member(actor).ok_or(SessionError::UnknownMember)?.role;
        if command.manages_members() && role != Role::Host {
            return Err(SessionError::NotAllowed(
                "Only the host can change roles and who may drive.".into(),
            ));
        }
        let at = now + self.lead_ms();
        let changes = match command {
            Command::Play => self.play_or_pause(true, at),
            Command::Pause => self.play_or_pause(false, at),
            Command::Seek { position } => self.seek(*position, at)?,
            Command::SetRate { rate } => self.set_rate(*rate, at)?,
            Command::Next => self.next(now)?,
            Command::Previous => self.previous(now)?,
            Command::PlayEntry { entry } => self.play_entry(*entry, now)?,
            Command::QueueAdd { rating_key, title } => self.queue_add(rating_key, title, now)?,
            Command::QueueRemove { entry } => self.queue_remove(*entry, now)?,
            Command::QueueMove { entry, to } => self.queue_move(*entry, *to)?,
            Command::SetControl { control } => self.set_control(*control),
            Command::SetRole { member, role } => self.set_role(actor, member, *role)?,
            Command::Skip => self.skip(now)?,
            Command::Start { resume } => self.start(*resume, at)?,
            Command::CancelUpNext => self.cancel_up_next()?,
            Command::SetOptions { options } => self.set_options(*options),
        };
        self.version += 1;
        Ok(changes)
    }

    /// Records that a member's command `id` was applied (for replay de-duplication).
    pub fn record_command(&mut self, actor: &str, id: u64) {
        if let Some(m) = self.member_mut(actor) {
            m.last_command = m.last_command.max(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::MIN_LEAD_MS;
    use crate::session::fixtures::session;

    #[test]
    fn commands_take_effect_at_a_scheduled_instant() {
        let mut s = session();
        let v = s.version;
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        assert!(s.playback.playing);
        assert!(s.playback.at >= 10_000.0 + MIN_LEAD_MS);
        assert_eq!(s.version, v + 1);
        s.apply("ben", &Command::Pause, 20_000.0).expect("pause");
        let expected = (20_000.0 + MIN_LEAD_MS - (10_000.0 + MIN_LEAD_MS)) / 1000.0;
        assert!((s.playback.position - expected).abs() < 1e-9);
    }

    #[test]
    fn invalid_commands_change_nothing() {
        let mut s = session();
        let before = s.clone();
        for cmd in [
            Command::Seek { position: -1.0 },
            Command::Seek { position: f64::NAN },
            Command::SetRate { rate: 9.0 },
            Command::Previous,
        ] {
            assert!(s.apply("ana", &cmd, 5.0).is_err(), "{cmd:?}");
        }
        assert!(s.apply("nobody", &Command::Play, 5.0).is_err());
        assert_eq!(s, before);
    }

    #[test]
    fn a_replayed_command_is_a_duplicate_and_changes_nothing() {
        let mut s = session();
        let v = s.version;
        let first = s.admit_command("ana", 5, v, &Command::Play, 10_000.0);
        assert!(matches!(first, Ok(Admitted::Applied(ref c)) if !c.is_empty()));
        let after = s.clone();
        for id in [5, 4] {
            assert_eq!(
                s.admit_command("ana", id, s.version, &Command::Pause, 11_000.0),
                Ok(Admitted::Duplicate)
            );
        }
        assert_eq!(s, after);
    }

    #[test]
    fn applying_records_the_command_id() {
        let mut s = session();
        assert_eq!(s.member("ana").map(|m| m.last_command), Some(0));
        s.admit_command("ana", 7, s.version, &Command::Play, 10_000.0)
            .expect("applied");
        assert_eq!(s.member("ana").map(|m| m.last_command), Some(7));
        // Ids are per member: Ben's first command is not Ana's replay.
        let ben = s.admit_command("ben", 3, s.version, &Command::Pause, 11_000.0);
        assert!(matches!(ben, Ok(Admitted::Applied(_))));
        assert_eq!(s.member("ben").map(|m| m.last_command), Some(3));
    }

    #[test]
    fn a_base_version_from_the_future_is_refused() {
        let mut s = session();
        let before = s.clone();
        let refused = s.admit_command("ana", 1, s.version + 1, &Command::Play, 10_000.0);
        assert!(
            matches!(refused, Err(SessionError::InvalidInput(_))),
            "{refused:?}"
        );
        assert_eq!(s, before);
    }

    #[test]
    fn a_version_sensitive_command_on_an_old_base_is_stale() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        let before = s.clone();
        let old = s.version - 1;
        let moved = Command::QueueMove { entry: 1, to: 0 };
        assert!(moved.needs_current_version());
        assert_eq!(
            s.admit_command("ben", 1, old, &moved, 11_000.0),
            Err(SessionError::StaleVersion { current: s.version })
        );
        assert_eq!(s, before);
    }

    #[test]
    fn a_version_insensitive_command_on_an_old_base_applies() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        let old = s.version - 1;
        assert!(!Command::Pause.needs_current_version());
        let paused = s.admit_command("ben", 1, old, &Command::Pause, 11_000.0);
        assert!(matches!(paused, Ok(Admitted::Applied(_))));
        assert!(!s.playback.playing);
    }

    #[test]
    fn a_refused_command_is_not_recorded() {
        let mut s = session();
        let refused = s.admit_command("ana", 9, s.version, &Command::Previous, 10_000.0);
        assert_eq!(refused, Err(SessionError::NoPrevious));
        assert_eq!(s.member("ana").map(|m| m.last_command), Some(0));
    }
}
