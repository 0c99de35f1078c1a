//! The now-playing card's buttons: pause/resume and skip, under the same rules as the commands.

use marquee_sync::Command;
use marquee_sync::session::clock_time;
use poise::serenity_prelude as serenity;

use crate::commands::invoker_of;
use crate::error::BotError;
use crate::now_playing::Button;
use crate::service::{BotService, Linked};

/// Answers a button press with an ephemeral reply (the card itself is updated by `live`).
pub(crate) async fn handle(
    ctx: &serenity::Context,
    service: &BotService,
    press: &serenity::ComponentInteraction,
) {
    let Some((button, session)) = Button::parse(&press.data.custom_id) else {
        return;
    };
    let text = match act(ctx, service, press, button, session).await {
        Ok(text) => text,
        Err(e) => {
            if e.is_internal() {
                tracing::error!(error = ?e, "a card button failed");
            }
            e.to_string()
        }
    };
    let reply = serenity::CreateInteractionResponse::Message(
        serenity::CreateInteractionResponseMessage::new()
            .content(text)
            .ephemeral(true),
    );
    if let Err(e) = press.create_response(&ctx.http, reply).await {
        tracing::warn!(error = %e, "could not answer a button press");
    }
}

async fn act(
    ctx: &serenity::Context,
    service: &BotService,
    press: &serenity::ComponentInteraction,
    button: Button,
    session: &str,
) -> Result<String, BotError> {
    let guild = press.guild_id.ok_or(BotError::NotInGuild)?;
    let invoker = invoker_of(ctx, guild, &press.user, press.member.as_ref());
    let voice = invoker.voice_channel.ok_or(BotError::NotInVoice)?;
    let links = service.store.channel_links_of_session(session).await?;
    let Some(found) = service.sessions.get(session).await? else {
        for link in links {
            service
                .store
                .remove_channel_link(&link.voice_channel_id, &link.session_id)
                .await?;
        }
        return Err(BotError::SessionGone);
    };
    let Some(link) = links
        .into_iter()
        .find(|l| l.voice_channel_id == voice.to_string())
    else {
        return Err(BotError::NotAllowed(
            "This card belongs to another voice channel's session: join that channel to control it."
                .into(),
        ));
    };
    let linked = Linked {
        link,
        session: found,
    };
    service.authorize(&invoker, &linked).await?;
    Ok(match button {
        Button::Toggle if linked.session.playback.playing => {
            let s = service.drive(&invoker, &linked, Command::Pause).await?;
            format!("Paused at {}.", clock_time(s.playback.position))
        }
        Button::Toggle => {
            let s = service.drive(&invoker, &linked, Command::Play).await?;
            format!("Playing from {}.", clock_time(s.playback.position))
        }
        Button::SkipIntro => {
            let s = service.drive(&invoker, &linked, Command::Skip).await?;
            format!(
                "Skipped the intro: playing from {}.",
                clock_time(s.playback.position)
            )
        }
        Button::Skip => {
            let s = service.drive(&invoker, &linked, Command::Next).await?;
            let title = s
                .current_entry()
                .map(|e| e.title.clone())
                .unwrap_or_default();
            format!("Skipped to “{title}”.")
        }
    })
}
