//! Who may use this Marquee once Discord sign-in is set up ([`AllowedPeople`]): decided when
//! Marquee issues an access token (at sign-in and at every refresh, so within one token
//! lifetime of someone leaving the Discord server) and carried in the token's `allowed` claim.

use std::sync::Arc;

use super::bot_api::BotApi;
use crate::config::settings::AllowedPeople;

/// Answers "may this Discord user use Marquee?".
pub struct Admission {
    pub who: AllowedPeople,
    /// The bot's view of Discord (membership lookups); required unless `who` is `Anyone`.
    pub api: Option<Arc<BotApi>>,
}

impl Admission {
    /// Whether `discord_id` may use this Marquee. A Discord that cannot answer means no: the
    /// person sees a clear refusal and the next token refresh asks again.
    pub async fn allows(&self, discord_id: &str) -> bool {
        let servers = match &self.who {
            AllowedPeople::Anyone => return true,
            AllowedPeople::MembersOf(ids) => ids.clone(),
            AllowedPeople::BotServers => {
                let Some(api) = &self.api else { return false };
                match api.bot_guilds().await {
                    Ok(ids) => ids,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not list the bot's Discord servers; refusing until Discord answers");
                        return false;
                    }
                }
            }
        };
        let (Some(api), Ok(user)) = (&self.api, discord_id.parse::<u64>()) else {
            return false;
        };
        for guild in servers {
            match api.roles(guild, user).await {
                Ok(Some(_)) => return true,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(guild, error = %e, "could not check a Discord server membership");
                }
            }
        }
        false
    }
}
