//! Member ids: who a member is across reconnects, and whether that is a Discord user.
//!
//! The web server, the Discord bot and the browser all name members; they agree on the scheme
//! here instead of each building `"discord-…"` strings.

use std::fmt;

/// A member's id, as stored and sent over the wire: a plain string.
///
/// A Discord user is always the same member, `discord-{user id}` ([`discord`]), from every tab,
/// every device and the bot's slash commands. Anyone else gets a random id on join
/// ([`anonymous`]), which the browser keeps to rejoin as the same member after a reconnect or a
/// reload. [`MemberKind::of`] tells the two apart.
pub type MemberId = String;

/// What every Discord user's member id starts with (then comes the Discord user id).
pub const DISCORD_PREFIX: &str = "discord-";

/// The member of a Discord user.
pub fn discord(user_id: impl fmt::Display) -> MemberId {
    format!("{DISCORD_PREFIX}{user_id}")
}

/// The member of a viewer who is not signed in; `random` must be fresh and unguessable (a
/// UUID), since knowing a member id is what lets a browser rejoin as that member.
pub fn anonymous(random: impl Into<String>) -> MemberId {
    random.into()
}

/// Whether `id` is a Discord user's member (so only that user may join as it).
pub fn is_discord(id: &str) -> bool {
    MemberKind::of(id).is_discord()
}

/// The Discord user id behind member `id`, if it is a Discord user's.
pub fn discord_user_id(id: &str) -> Option<&str> {
    MemberKind::of(id).discord_user_id()
}

/// Which kind of member an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind<'a> {
    /// A signed-in Discord user, by their Discord user id.
    Discord { user_id: &'a str },
    /// A viewer who is not signed in.
    Anonymous,
}

impl<'a> MemberKind<'a> {
    /// Reads the kind from a member id.
    pub fn of(id: &'a str) -> Self {
        match id.strip_prefix(DISCORD_PREFIX) {
            Some(user_id) => MemberKind::Discord { user_id },
            None => MemberKind::Anonymous,
        }
    }

    pub fn is_discord(self) -> bool {
        matches!(self, MemberKind::Discord { .. })
    }

    /// The Discord user id, for a Discord user's member.
    pub fn discord_user_id(self) -> Option<&'a str> {
        match self {
            MemberKind::Discord { user_id } => Some(user_id),
            MemberKind::Anonymous => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_discord_member_names_its_user() {
        let id = discord(42);
        assert_eq!(id, "discord-42");
        assert!(is_discord(&id));
        assert_eq!(discord_user_id(&id), Some("42"));
        assert_eq!(MemberKind::of(&id), MemberKind::Discord { user_id: "42" });
    }

    #[test]
    fn an_anonymous_member_is_not_a_discord_user() {
        let id = anonymous("0f3a9c");
        assert_eq!(id, "0f3a9c");
        assert!(!is_discord(&id));
        assert_eq!(discord_user_id(&id), None);
        assert_eq!(MemberKind::of(&id), MemberKind::Anonymous);
    }
}
