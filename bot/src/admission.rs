//! Admitting a Discord user to a voice channel's session ahead of their WebSocket, as a co-host
//! when they hold the role the server's `/settings control` names. Slash commands carry the
//! user's roles; for the web page and the Activity, the server reads them with the bot's token
//! when a signed-in viewer joins (`server::auth::roles`).

use marquee_store::sessions::now_ms;
use marquee_sync::Session;

use crate::error::BotError;
use crate::permissions::ControlPolicy;
use crate::service::{BotService, Linked};

/// A session watched from a Discord server whose policy lets a role drive.
#[derive(Debug, Clone)]
pub struct ControlRole {
    pub linked: Linked,
    pub guild_id: u64,
    pub role_id: u64,
}

impl BotService {
    /// The control role that applies to `session_id`, if it is linked to a voice channel whose
    /// server's policy names one. `None` for web-only sessions and every other policy.
    pub async fn control_role(&self, session_id: &str) -> Result<Option<ControlRole>, BotError> {
        for link in self.store.channel_links_of_session(session_id).await? {
            let Some(guild_id) = link.guild_id.parse::<u64>().ok().filter(|g| *g != 0) else {
                continue;
            };
            if let ControlPolicy::Role { role_id } = self.policy(guild_id).await? {
                let Some(session) = self.sessions.get(session_id).await? else {
                    return Ok(None);
                };
                return Ok(Some(ControlRole {
                    linked: Linked { link, session },
                    guild_id,
                    role_id,
                }));
            }
        }
        Ok(None)
    }

    /// Admits a Discord user to the channel's session ahead of their WebSocket: enrolled under
    /// their name and, with `co_host` (they hold the [`ControlRole`]), made a co-host, so they
    /// may drive from the Activity and the web page as they may with slash commands. One write;
    /// nothing changes for anyone else.
    pub async fn admit(
        &self,
        linked: &Linked,
        user: (u64, &str),
        co_host: bool,
    ) -> Result<Session, BotError> {
        let member = marquee_sync::member::discord(user.0);
        let name = crate::service::display_name(user.1);
        let updated = self
            .sessions
            .update(&linked.session.id, None, |s| {
                let mut changes = s.enrol(&member, &name, now_ms())?;
                if co_host {
                    changes.extend(s.grant_co_host(&member)?);
                }
                Ok((changes, ()))
            })
            .await?;
        Ok(updated.session)
    }
}
