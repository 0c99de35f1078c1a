//! Role rules: who may drive ([`Control`]) and who is host or co-host. Only the host may use
//! them, whatever the policy ([`Session::apply_authorized`] checks that first).

use crate::session::command::{Change, SessionError};
use crate::session::model::{Control, Role, Session};

impl Session {
    /// The host decides who may drive.
    pub(super) fn set_control(&mut self, control: Control) -> Vec<Change> {
        self.control = control;
        vec![Change::Control { control }]
    }

    /// The host (`actor`) gives `member` a role; giving the host role hands it over, and the
    /// old host becomes a co-host.
    pub(super) fn set_role(
        &mut self,
        actor: &str,
        member: &str,
        role: Role,
    ) -> Result<Vec<Change>, SessionError> {
        if self.member(member).is_none() {
            return Err(SessionError::UnknownMember);
        }
        if member == actor {
            return Err(SessionError::NotAllowed(
                "Hand the host role to someone else instead of changing your own.".into(),
            ));
        }
        if role == Role::Host {
            for m in &mut self.members {
                if m.role == Role::Host {
                    m.role = Role::CoHost;
                }
            }
        }
        if let Some(m) = self.member_mut(member) {
            m.role = role;
        }
        Ok(self
            .members
            .iter()
            .filter(|m| m.id == member || (role == Role::Host && m.id == actor))
            .map(|m| Change::MemberUpdated { member: m.clone() })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::session::fixtures::session;
    use crate::session::{Command, Control, Role, Session, SessionError};

    #[test]
    fn the_host_decides_who_may_drive() {
        let mut s = session();
        s.join(None, "cy", "Cy", 3_000.0).expect("join");
        // Only the host may set the policy or roles.
        assert!(matches!(
            s.apply(
                "ben",
                &Command::SetControl {
                    control: Control::HostOnly
                },
                4_000.0
            ),
            Err(SessionError::NotAllowed(_))
        ));
        s.apply(
            "ana",
            &Command::SetControl {
                control: Control::HostAndCoHosts,
            },
            4_000.0,
        )
        .expect("host sets the policy");
        let refused = s
            .apply("ben", &Command::Play, 5_000.0)
            .expect_err("viewer refused");
        assert!(refused.to_string().contains("co-host"), "{refused}");
        s.apply(
            "ana",
            &Command::SetRole {
                member: "ben".into(),
                role: Role::CoHost,
            },
            5_000.0,
        )
        .expect("promote");
        s.apply("ben", &Command::Play, 6_000.0)
            .expect("a co-host drives");
        assert!(s.apply("cy", &Command::Pause, 6_000.0).is_err());
        // Host only: the co-host is refused until the host hands the role over.
        s.apply(
            "ana",
            &Command::SetControl {
                control: Control::HostOnly,
            },
            7_000.0,
        )
        .expect("stricter");
        assert!(s.apply("ben", &Command::Pause, 7_000.0).is_err());
        let changes = s
            .apply(
                "ana",
                &Command::SetRole {
                    member: "ben".into(),
                    role: Role::Host,
                },
                8_000.0,
            )
            .expect("hand over");
        assert_eq!(changes.len(), 2);
        assert_eq!(s.host().map(|m| m.id.as_str()), Some("ben"));
        assert_eq!(s.member("ana").map(|m| m.role), Some(Role::CoHost));
        s.apply("ben", &Command::Pause, 9_000.0)
            .expect("the new host drives");
        // Mirrors applying the changes agree with the server's copy.
        let mut mirror = session();
        mirror.join(None, "cy", "Cy", 3_000.0).expect("join");
        for c in &changes {
            mirror.apply_change(c);
        }
        assert_eq!(mirror.host().map(|m| m.id.as_str()), Some("ben"));
        // Sessions stored before roles existed read as "everyone drives".
        let mut old = serde_json::to_value(session()).expect("json");
        old.as_object_mut().expect("object").remove("control");
        let old: Session = serde_json::from_value(old).expect("old sessions load");
        assert_eq!(old.control, Control::Everyone);
    }
}
