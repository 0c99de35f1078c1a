//! The server's Discord control role on the web page.
//!
//! When `/settings control` names a role, its holders may drive the channel's session. Slash
//! commands carry the user's roles; a signed-in viewer of the web page or the Activity brings
//! none. So when such a viewer joins a session watched from that server, Marquee asks Discord
//! for their roles with the bot's token (`GET /guilds/{guild}/members/{user}`, which needs no
//! privileged intent and no extra OAuth2 scope from the user) and enrols them as a co-host if
//! they hold the role.

use std::time::Duration;

use bot::BotService;
use marquee_sync::Role;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// How long a join waits for Discord before going ahead with the viewer role.
const LOOKUP_BUDGET: Duration = Duration::from_secs(3);

/// Why a member's roles could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RolesError {
    #[error("Discord could not be reached ({0})")]
    Unavailable(String),
    #[error("Discord refused the lookup (HTTP {0}); check DISCORD_TOKEN")]
    Refused(u16),
}

#[derive(Deserialize)]
struct GuildMember {
    #[serde(default)]
    roles: Vec<String>,
}

/// Reads server members with the bot's token.
pub struct BotMembers {
    http: reqwest::Client,
    /// `https://discord.com`, or a fake's address in tests.
    base: String,
    token: SecretString,
}

impl BotMembers {
    pub fn new(base: &str, token: SecretString) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(LOOKUP_BUDGET)
                .build()
                .expect("an HTTP client with a timeout builds (rustls, no system state)"),
            base: base.trim_end_matches('/').to_owned(),
            token,
        }
    }

    /// The user's role ids in the server; `None` when they are not a member of it.
    pub async fn roles(&self, guild_id: u64, user_id: u64) -> Result<Option<Vec<u64>>, RolesError> {
        let unavailable = |e: reqwest::Error| RolesError::Unavailable(e.without_url().to_string());
        let response = self
            .http
            .get(format!(
                "{}/api/v10/guilds/{guild_id}/members/{user_id}",
                self.base
            ))
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Bot {}", self.token.expose_secret()),
            )
            .send()
            .await
            .map_err(unavailable)?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            other => return Err(RolesError::Refused(other)),
        }
        let member: GuildMember = response.json().await.map_err(unavailable)?;
        Ok(Some(
            member.roles.iter().filter_map(|r| r.parse().ok()).collect(),
        ))
    }
}

/// Gives a signed-in viewer the co-host role their Discord role earns them.
pub struct RoleAdmission {
    pub bot: BotService,
    pub members: BotMembers,
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
        let roles = match self.members.roles(control.guild_id, user_id).await {
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
