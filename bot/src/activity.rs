//! The Discord Activity's side of a voice channel: an Activity launched in a channel joins the
//! channel's watch session (the one `/play` started), and binds its instance to that link so the
//! bot, the Activity and the web page share one session. No Discord types: ids only.

use crate::catalog::Playable;
use crate::error::BotError;
use crate::service::{BotService, Invoker, Linked};

/// Where an Activity runs: Discord's `instance_id` (one per launched Activity, shared by everyone
/// in it) and the channel it was launched in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityPlace {
    pub instance_id: String,
    pub channel_id: u64,
    /// `None` in a DM or group DM.
    pub guild_id: Option<u64>,
}

impl BotService {
    /// The session an Activity launched at `place` joins: the channel's session, bound to the
    /// instance on the way. `None` when nothing is playing in the channel yet.
    pub async fn activity_session(
        &self,
        place: &ActivityPlace,
    ) -> Result<Option<Linked>, BotError> {
        let mut linked = match self.linked_channel(place.channel_id).await {
            Ok(linked) => linked,
            Err(BotError::NoSession(_) | BotError::SessionGone) => return Ok(None),
            Err(e) => return Err(e),
        };
        if linked.link.activity_instance_id.as_deref() != Some(place.instance_id.as_str()) {
            let bound = self
                .store
                .set_channel_activity(
                    &linked.link.voice_channel_id,
                    &linked.link.session_id,
                    &place.instance_id,
                )
                .await?;
            if bound {
                tracing::info!(session = %linked.session.id, channel = place.channel_id, "Discord Activity bound to the channel's session");
                linked.link.activity_instance_id = Some(place.instance_id.clone());
            }
        }
        Ok(Some(linked))
    }

    /// Starts the channel's session from the Activity (nothing was playing there): like `/play`,
    /// the user becomes its host. If someone started one meanwhile, that one is joined instead,
    /// so a channel never ends up with two.
    pub async fn start_from_activity(
        &self,
        place: &ActivityPlace,
        user: (u64, &str),
        rating_key: &str,
    ) -> Result<Linked, BotError> {
        if let Some(linked) = self.activity_session(place).await? {
            return Ok(linked);
        }
        let item: Playable = self
            .resolve(&format!("{}{rating_key}", crate::service::CHOICE_PREFIX))
            .await?;
        let invoker = Invoker {
            user_id: user.0,
            name: user.1.to_owned(),
            roles: Vec::new(),
            guild_id: place.guild_id.unwrap_or(0),
            voice_channel: Some(place.channel_id),
        };
        let mut linked = self
            .start(&invoker, &item, crate::service::Begin::Offer)
            .await?;
        if self
            .store
            .set_channel_activity(
                &linked.link.voice_channel_id,
                &linked.link.session_id,
                &place.instance_id,
            )
            .await?
        {
            linked.link.activity_instance_id = Some(place.instance_id.clone());
        }
        Ok(linked)
    }
}
