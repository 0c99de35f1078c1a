//! Who is here: members joining (or being enrolled from Discord), leaving, and the host role
//! moving on so a session is never stuck without someone in charge.

use super::command::{Change, SessionError};
use super::model::{Member, Playback, Role, Session};
use crate::ids::DisplayName;
use crate::member::MemberId;

impl Session {
    /// Adds a member (or brings one back): never touches playback, so a late joiner cannot
    /// disturb the others. Returns the member id and the changes.
    pub fn join(
        &mut self,
        existing: Option<&str>,
        new_id: impl Into<String>,
        name: &str,
        now: f64,
    ) -> Result<(MemberId, Vec<Change>), SessionError> {
        let name = DisplayName::parse(name)?.into();
        if let Some(id) = existing
            && let Some(m) = self.member_mut(id)
        {
            m.connections += 1;
            m.name = name;
            m.buffering = false;
            let member = m.clone();
            let mut changes = vec![Change::MemberUpdated { member }];
            changes.extend(self.claim_vacant_host(id));
            self.version += 1;
            return Ok((id.to_owned(), changes));
        }
        let pruned = self.prune_offline(now);
        if self.members.len() >= super::MAX_MEMBERS {
            return Err(SessionError::SessionFull(self.members.len()));
        }
        let role = if self.host().is_none() {
            Role::Host
        } else {
            Role::Viewer
        };
        let member = Member {
            id: new_id.into(),
            name,
            role,
            connections: 1,
            buffering: false,
            joined_at: now,
            last_command: 0,
            rtt_ms: 0.0,
            left_at: 0.0,
        };
        self.members.push(member.clone());
        let mut changes = pruned;
        changes.push(Change::MemberJoined {
            member: member.clone(),
        });
        changes.extend(self.claim_vacant_host(&member.id));
        self.version += 1;
        Ok((member.id, changes))
    }

    /// Drops anonymous members (guests, who can only come back with their browser's rejoin
    /// key) who have been offline for [`super::OFFLINE_KEEP_MS`]; when the list is still at
    /// [`super::MAX_MEMBERS`], the offline anonymous member gone longest goes too. The host
    /// and Discord members stay: Discord accounts are few, and the host holds the session.
    fn prune_offline(&mut self, now: f64) -> Vec<Change> {
        let prunable =
            |m: &Member| !m.online() && m.role != Role::Host && !crate::member::is_discord(&m.id);
        let mut gone: Vec<MemberId> = self
            .members
            .iter()
            .filter(|m| prunable(m) && now - m.left_at >= super::OFFLINE_KEEP_MS)
            .map(|m| m.id.clone())
            .collect();
        if self.members.len() - gone.len() >= super::MAX_MEMBERS {
            let longest = self
                .members
                .iter()
                .filter(|m| prunable(m) && !gone.contains(&m.id))
                .min_by(|a, b| a.left_at.total_cmp(&b.left_at))
                .map(|m| m.id.clone());
            gone.extend(longest);
        }
        if gone.is_empty() {
            return Vec::new();
        }
        self.members.retain(|m| !gone.contains(&m.id));
        vec![Change::MembersLeft { members: gone }]
    }

    /// Makes a viewer a co-host on an outside authority's word: the Discord server's control
    /// role, which the session cannot see (the server checks it with Discord as they join). Hosts
    /// and co-hosts stay as they are.
    pub fn grant_co_host(&mut self, id: &str) -> Result<Vec<Change>, SessionError> {
        let m = self.member_mut(id).ok_or(SessionError::UnknownMember)?;
        if m.role != Role::Viewer {
            return Ok(Vec::new());
        }
        m.role = Role::CoHost;
        let member = m.clone();
        self.version += 1;
        Ok(vec![Change::MemberUpdated { member }])
    }

    /// Makes sure `id` is a member, without connecting them: someone who drives the session from
    /// elsewhere (a Discord command) needs a name for "Ana paused" but is not watching here.
    /// Returns the changes (none if they were already a member under that name).
    pub fn enrol(&mut self, id: &str, name: &str, now: f64) -> Result<Vec<Change>, SessionError> {
        let name: String = DisplayName::parse(name)?.into();
        if let Some(m) = self.member_mut(id) {
            if m.name == name {
                return Ok(Vec::new());
            }
            m.name = name;
            let member = m.clone();
            self.version += 1;
            return Ok(vec![Change::MemberUpdated { member }]);
        }
        let member = Member {
            id: id.to_owned(),
            name,
            role: Role::Viewer,
            connections: 0,
            buffering: false,
            joined_at: now,
            last_command: 0,
            rtt_ms: 0.0,
            left_at: 0.0,
        };
        self.members.push(member.clone());
        self.version += 1;
        Ok(vec![Change::MemberJoined { member }])
    }

    /// A host who is not connected (left while alone, or never came) hands the role to whoever
    /// arrives, so a session is never stuck without someone in charge.
    fn claim_vacant_host(&mut self, id: &str) -> Option<Change> {
        let vacant = !self.host_elsewhere && self.host().is_some_and(|h| !h.online() && h.id != id);
        if !vacant {
            return None;
        }
        self.make_host(id);
        Some(Change::HostChanged {
            host: id.to_owned(),
        })
    }

    /// A connection of `id` closed. When the host's last connection goes, the host role passes
    /// to the longest-present online member, so the session never dies with its host (unless
    /// the host drives from Discord: [`Session::host_elsewhere`]).
    pub fn disconnect(&mut self, id: &str, now: f64) -> Result<Vec<Change>, SessionError> {
        let m = self.member_mut(id).ok_or(SessionError::UnknownMember)?;
        m.connections = m.connections.saturating_sub(1);
        if m.connections == 0 {
            m.buffering = false;
            m.left_at = now;
        }
        let member = m.clone();
        let mut changes = vec![Change::MemberUpdated {
            member: member.clone(),
        }];
        if !member.online() && member.role == Role::Host && !self.host_elsewhere {
            changes.extend(self.pass_host_on(&member.id));
        }
        changes.extend(self.settle_wait(now));
        self.version += 1;
        Ok(changes)
    }

    /// Gives the host role of `from` (not connected) to the longest-present online member, if
    /// anyone is here.
    fn pass_host_on(&mut self, from: &str) -> Option<Change> {
        let heir = self
            .members
            .iter()
            .filter(|m| m.online() && m.id != from)
            .min_by(|a, b| a.joined_at.total_cmp(&b.joined_at))
            .map(|m| m.id.clone())?;
        self.make_host(&heir);
        Some(Change::HostChanged { host: heir })
    }

    /// The host who drove from Discord left the voice channel: from now on the role follows the
    /// page's rules. If the host is not on the page either, it passes at once to the
    /// longest-present online member, or else to whoever arrives next. Nothing changes for a
    /// session whose host was not driving from Discord.
    pub fn host_left_elsewhere(&mut self) -> Vec<Change> {
        if !self.host_elsewhere {
            return Vec::new();
        }
        self.host_elsewhere = false;
        self.version += 1;
        let mut changes = vec![Change::HostElsewhere { elsewhere: false }];
        if let Some(h) = self.host().filter(|h| !h.online()) {
            let from = h.id.clone();
            changes.extend(self.pass_host_on(&from));
        }
        changes
    }

    /// Marks every member offline at `now`: after a single-process restart no connection
    /// survives.
    pub fn reset_presence(&mut self, now: f64) {
        for m in &mut self.members {
            if m.online() {
                m.left_at = now;
            }
            m.connections = 0;
            m.buffering = false;
        }
        self.wait = None;
        if self.playback.playing {
            // Nobody was watching while the server was down; hold where it stopped.
            self.playback = Playback::paused(self.playback.position, self.playback.at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::fixtures::{hosted_from_discord, session};
    use crate::session::{Command, Control};

    #[test]
    fn a_host_who_drives_from_discord_keeps_the_role_while_away_from_the_page() {
        let mut s = hosted_from_discord();
        s.control = Control::HostOnly;
        s.join(None, "ben", "Ben", 2_000.0).expect("join");
        assert_eq!(s.host().map(|h| h.id.as_str()), Some("discord-1"));
        assert!(s.apply("ben", &Command::Pause, 2_100.0).is_err());
        // Ana opens the page and leaves again: still the host, Ben still a viewer.
        s.join(Some("discord-1"), "discord-1", "Ana", 3_000.0)
            .expect("join");
        s.disconnect("discord-1", 4_000.0).expect("leave");
        assert_eq!(s.host().map(|h| h.id.as_str()), Some("discord-1"));
        // A web session's vacant host role still goes to whoever comes.
        s.host_elsewhere = false;
        s.join(None, "cy", "Cy", 5_000.0).expect("join");
        assert_ne!(s.host().map(|h| h.id.as_str()), Some("discord-1"));
    }

    #[test]
    fn a_discord_host_who_leaves_the_voice_channel_hands_the_role_on() {
        let mut s = hosted_from_discord();
        s.join(None, "ben", "Ben", 2_000.0).expect("join");
        s.join(None, "cy", "Cy", 3_000.0).expect("join");
        let v = s.version;
        let changes = s.host_left_elsewhere();
        assert_eq!(
            changes,
            vec![
                Change::HostElsewhere { elsewhere: false },
                Change::HostChanged { host: "ben".into() }
            ],
            "the longest-present online member"
        );
        assert_eq!(s.host().map(|h| h.id.as_str()), Some("ben"));
        assert!(!s.host_elsewhere && s.version > v);
        // Only once: a second departure changes nothing.
        let v = s.version;
        assert!(s.host_left_elsewhere().is_empty());
        assert_eq!(s.version, v);

        // A host who is on the page keeps the role; it then follows the page's rules.
        let mut s = session();
        s.host_elsewhere = true;
        let changes = s.host_left_elsewhere();
        assert_eq!(changes, vec![Change::HostElsewhere { elsewhere: false }]);
        assert_eq!(s.host().map(|h| h.id.as_str()), Some("ana"));
        assert!(!s.host_elsewhere);
    }

    #[test]
    fn an_outside_grant_makes_a_viewer_co_host_and_leaves_the_host_alone() {
        let mut s = session();
        s.control = Control::HostAndCoHosts;
        assert!(s.apply("ben", &Command::Pause, 3_000.0).is_err());
        let v = s.version;
        let changes = s.grant_co_host("ben").expect("grant");
        assert_eq!(changes.len(), 1);
        assert_eq!(s.version, v + 1);
        assert_eq!(s.member("ben").map(|m| m.role), Some(Role::CoHost));
        assert!(s.apply("ben", &Command::Pause, 3_100.0).is_ok());
        assert!(s.grant_co_host("ana").expect("no-op").is_empty());
        assert_eq!(s.member("ana").map(|m| m.role), Some(Role::Host));
        assert!(matches!(
            s.grant_co_host("nobody"),
            Err(SessionError::UnknownMember)
        ));
    }

    #[test]
    fn enrolling_names_a_remote_driver_without_bringing_them_online() {
        let mut s = session();
        let v = s.version;
        let changes = s.enrol("discord-7", "Cleo", 3_000.0).expect("enrol");
        assert!(matches!(&changes[..], [Change::MemberJoined { member }] if !member.online()));
        assert_eq!(s.version, v + 1);
        assert_eq!(s.member("discord-7").map(|m| m.role), Some(Role::Viewer));
        // Again under the same name: nothing changes; a new name is an update.
        assert!(
            s.enrol("discord-7", "Cleo", 4_000.0)
                .expect("again")
                .is_empty()
        );
        assert_eq!(s.version, v + 1);
        assert_eq!(
            s.enrol("discord-7", "Cleo B", 5_000.0)
                .expect("rename")
                .len(),
            1
        );
        // The remote driver can now command, and is named as the actor.
        s.apply("discord-7", &Command::Play, 6_000.0).expect("play");
        assert_eq!(s.actor("discord-7").map(|a| a.name), Some("Cleo B".into()));
        assert!(s.enrol("x", "   ", 0.0).is_err());
    }

    #[test]
    fn late_join_does_not_touch_playback() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        let before = s.playback;
        let (id, changes) = s.join(None, "cy", "Cy", 60_000.0).expect("join");
        assert_eq!(id, "cy");
        assert_eq!(s.playback, before);
        assert!(matches!(changes.as_slice(), [Change::MemberJoined { .. }]));
        assert_eq!(s.member("cy").map(|m| m.role), Some(Role::Viewer));
    }

    #[test]
    fn rejoin_reuses_the_member() {
        let mut s = session();
        s.disconnect("ben", 3_000.0).expect("leave");
        assert!(!s.member("ben").expect("ben").online());
        let (id, _) = s
            .join(Some("ben"), "other", "Ben", 4_000.0)
            .expect("rejoin");
        assert_eq!(id, "ben");
        assert_eq!(s.members.len(), 2);
        assert!(s.member("ben").expect("ben").online());
    }

    #[test]
    fn host_role_passes_to_the_longest_present_member() {
        let mut s = session();
        s.join(None, "cy", "Cy", 5_000.0).expect("join");
        let changes = s.disconnect("ana", 6_000.0).expect("leave");
        assert!(changes.contains(&Change::HostChanged { host: "ben".into() }));
        assert_eq!(s.host().map(|m| m.id.as_str()), Some("ben"));
        assert_eq!(s.member("ana").map(|m| m.role), Some(Role::Viewer));
    }

    #[test]
    fn an_absent_host_hands_over_to_whoever_arrives() {
        let mut s = session();
        s.disconnect("ana", 3_000.0).expect("ana leaves");
        s.disconnect("ben", 3_100.0).expect("ben leaves");
        // Ana left last-but-one, so Ben inherited; now Ben is gone too and Cy arrives.
        let (_, changes) = s.join(None, "cy", "Cy", 4_000.0).expect("join");
        assert!(changes.contains(&Change::HostChanged { host: "cy".into() }));
        // Ana coming back while Cy is here stays a viewer.
        let (_, changes) = s.join(Some("ana"), "x", "Ana", 5_000.0).expect("rejoin");
        assert!(
            !changes
                .iter()
                .any(|c| matches!(c, Change::HostChanged { .. }))
        );
        assert_eq!(s.host().map(|m| m.id.as_str()), Some("cy"));
    }

    #[test]
    fn a_host_with_two_tabs_keeps_the_role_until_the_last_closes() {
        let mut s = session();
        s.join(Some("ana"), "x", "Ana", 3_000.0)
            .expect("second tab");
        s.disconnect("ana", 4_000.0).expect("close one");
        assert_eq!(s.host().map(|m| m.id.as_str()), Some("ana"));
    }
}

#[cfg(test)]
mod pruning {
    #![allow(clippy::unwrap_used)]

    use super::super::{MAX_MEMBERS, OFFLINE_KEEP_MS};
    use super::*;
    use crate::session::fixtures::session;

    /// Review item 6: every anonymous hello used to add a member for good.
    #[test]
    fn long_offline_guests_leave_the_list_when_someone_joins() {
        let mut s = session();
        s.join(None, "g1", "Guest one", 1_000.0).unwrap();
        s.join(None, "discord-9", "Dee", 1_000.0).unwrap();
        for id in ["g1", "discord-9", "ana", "ben"] {
            s.disconnect(id, 2_000.0).unwrap();
        }
        let (_, changes) = s.join(None, "g2", "Guest two", 3_000.0).unwrap();
        assert!(
            !changes
                .iter()
                .any(|c| matches!(c, Change::MembersLeft { .. })),
            "an hour later nobody goes"
        );
        let later = 2_000.0 + OFFLINE_KEEP_MS;
        let (_, changes) = s.join(None, "g3", "Guest three", later).unwrap();
        assert!(changes.contains(&Change::MembersLeft {
            members: vec!["ana".into(), "ben".into(), "g1".into()]
        }));
        assert!(s.member("g1").is_none());
        assert!(s.member("discord-9").is_some(), "Discord members stay");
        assert_eq!(
            s.host().map(|h| h.id.as_str()),
            Some("g2"),
            "the host stays"
        );
        // A mirror applying the change drops the members too.
        let mut mirror = session();
        mirror.apply_change(&Change::MembersLeft {
            members: vec!["ben".into()],
        });
        assert!(mirror.member("ben").is_none());
    }

    #[test]
    fn a_full_list_makes_room_by_dropping_the_guest_gone_longest() {
        let mut s = session();
        let mut n = s.members.len();
        while n < MAX_MEMBERS {
            let id = format!("g{n}");
            s.join(None, id.clone(), "Guest", 1_000.0).unwrap();
            n += 1;
        }
        assert_eq!(
            s.join(None, "late", "Late", 2_000.0).unwrap_err(),
            SessionError::SessionFull(MAX_MEMBERS)
        );
        s.disconnect("g7", 3_000.0).unwrap();
        s.disconnect("g5", 2_500.0).unwrap();
        let (_, changes) = s.join(None, "late", "Late", 4_000.0).unwrap();
        assert!(changes.contains(&Change::MembersLeft {
            members: vec!["g5".into()]
        }));
        assert_eq!(s.members.len(), MAX_MEMBERS);
    }
}
