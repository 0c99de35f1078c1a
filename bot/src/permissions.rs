//! Who may control a voice channel's session: a per-guild setting, stored in `preferences`
//! (scope `guild:<id>`, key [`PREFERENCE_KEY`]).

use serde::{Deserialize, Serialize};

/// The preference key holding a guild's [`ControlPolicy`].
pub const PREFERENCE_KEY: &str = "control";

/// Who may drive playback and the queue from Discord.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ControlPolicy {
    /// Anyone in the voice channel (the default: a couch where anyone can grab the remote).
    #[default]
    Everyone,
    /// Only whoever started the session (or holds the session's host role).
    Host,
    /// The host, and members with this Discord role.
    Role { role_id: u64 },
}

impl ControlPolicy {
    /// How the setting reads in replies.
    pub fn describe(&self) -> String {
        match self {
            ControlPolicy::Everyone => "everyone in the voice channel".into(),
            ControlPolicy::Host => "the host only".into(),
            ControlPolicy::Role { role_id } => format!("the host and members with <@&{role_id}>"),
        }
    }
}

/// The person asking, as far as permissions care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asker<'a> {
    pub user_id: u64,
    pub roles: &'a [u64],
}

/// Who runs the session: its starter, and whoever holds the host role now (Discord ids when
/// they are Discord users).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    pub owner: Option<u64>,
    pub host: Option<u64>,
    /// Their display names, for the refusal.
    pub names: Vec<String>,
}

/// How a refusal ends: where the setting lives.
const HOW_TO_CHANGE: &str = "A server admin can change that with `/settings control`.";

/// `Ok` if `asker` may control, else the reason to show them.
pub fn check(policy: &ControlPolicy, asker: &Asker<'_>, hosts: &Hosts) -> Result<(), String> {
    let is_host = hosts.owner == Some(asker.user_id) || hosts.host == Some(asker.user_id);
    match policy {
        ControlPolicy::Everyone => Ok(()),
        _ if is_host => Ok(()),
        ControlPolicy::Host => Err(format!(
            "Only the host can control this session here ({}). {HOW_TO_CHANGE}",
            hosts.names.join(", ")
        )),
        ControlPolicy::Role { role_id } if asker.roles.contains(role_id) => Ok(()),
        ControlPolicy::Role { role_id } => Err(format!(
            "Only the host and members with <@&{role_id}> can control this session here. {HOW_TO_CHANGE}"
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HOSTS: Hosts = Hosts {
        owner: Some(1),
        host: Some(2),
        names: Vec::new(),
    };

    #[test]
    fn each_policy_decides() {
        let viewer = Asker {
            user_id: 9,
            roles: &[77],
        };
        let owner = Asker {
            user_id: 1,
            roles: &[],
        };
        let host = Asker {
            user_id: 2,
            roles: &[],
        };
        assert!(check(&ControlPolicy::Everyone, &viewer, &HOSTS).is_ok());
        assert!(check(&ControlPolicy::Host, &viewer, &HOSTS).is_err());
        assert!(check(&ControlPolicy::Host, &owner, &HOSTS).is_ok());
        assert!(check(&ControlPolicy::Host, &host, &HOSTS).is_ok());
        assert!(check(&ControlPolicy::Role { role_id: 77 }, &viewer, &HOSTS).is_ok());
        let refused = check(&ControlPolicy::Role { role_id: 78 }, &viewer, &HOSTS).unwrap_err();
        assert!(refused.contains("<@&78>"), "{refused}");
        assert!(check(&ControlPolicy::Role { role_id: 78 }, &owner, &HOSTS).is_ok());
    }

    #[test]
    fn the_stored_form_is_stable() {
        assert_eq!(
            serde_json::to_value(ControlPolicy::Role { role_id: 5 }).unwrap(),
            serde_json::json!({"mode": "role", "role_id": 5})
        );
        assert_eq!(
            serde_json::from_value::<ControlPolicy>(serde_json::json!({"mode": "host"})).unwrap(),
            ControlPolicy::Host
        );
    }
}
