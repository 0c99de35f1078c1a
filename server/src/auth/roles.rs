//! The server's Discord control role on the web page.
//!
//! When `/settings control` names a role, its holders may drive the channel's session. Slash
//! commands carry the user's roles; a signed-in viewer of the web page or the Activity brings
//! none. So when such a viewer joins a session watched from that server, Marquee asks Discord
//! for their roles with the bot's token (`GET /guilds/{guild}/members/{user}`, which needs no
//! privileged intent and no extra OAuth2 scope from the user; cached by [`BotApi`]) and enrols
//! them as a co-host if they hold the role.

use std::sync::Arc;

use bot::BotService;
use marquee_sync::Role;

use super::bot_api::BotApi;

/// Gives a signed-in viewer the co-host role their Discord role earns them.
pub struct RoleAdmission {
    pub bot: BotService,
    /// Reads roles with the bot's token (cached; see [`BotApi`]).
    pub api: Arc<BotApi>,
}

impl RoleAdmission {
    /// Run before a signed-in viewer (web page or Activity) joins `session`. Enrols them as a co-host if the session is
    /// watched from a server whose control role they hold. Never stops the join: if Discord or
    /// the store cannot answer, they join as they would have (a viewer), and it is logged.
    pub async fn before_join(&self, session: &str, discord_id: &str, name: &str) {
        let Ok(user_id) = discord_id.parse::<u64>() else {
            return;
        };
        let control = match self.bot.control_role(session).await {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(session, error = %e, "could not read the session's control policy");
                return;
            }
        };
        let member = marquee_sync::member::discord(user_id);
        let drives_already = control
            .linked
            .session
            .member(&member)
            .is_some_and(|m| matches!(m.role, Role::Host | Role::CoHost));
        if drives_already {
            return;
        }
        let roles = match self.api.roles(control.guild_id, user_id).await {
            Ok(Some(roles)) => roles,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(session, guild = control.guild_id, error = %e, "could not read a viewer's Discord roles; they join as a viewer");
                return;
            }
        };
        if !roles.contains(&control.role_id) {
            return;
        }
        match self.bot.admit(&control.linked, (user_id, name), true).await {
            Ok(_) => {
                tracing::info!(
                    session,
                    discord_id,
                    "a holder of the control role joined from the web page as a co-host"
                );
            }
            Err(e) => tracing::warn!(session, error = %e, "could not enrol a role holder"),
        }
    }
}
