//! `/play`, `/pause`, `/resume`, `/seek`, `/skip`, `/stop`.

use marquee_store::sessions::now_ms;
use marquee_sync::Command;
use marquee_sync::session::clock_time;

use super::{Context, complete_title, confirm, controllable, invoker, post_card};
use crate::error::BotError;
use crate::timecode;

/// Play a movie or show in your voice channel (or queue it if something is already playing)
#[poise::command(slash_command, guild_only)]
pub async fn play(
    ctx: Context<'_>,
    #[description = "A title from the Plex library"]
    #[autocomplete = "complete_title"]
    #[max_length = 100]
    title: String,
    #[description = "Start where Plex left off, if it has a resume point"] resume: Option<bool>,
) -> Result<(), BotError> {
    let resume = resume.unwrap_or(false);
    let invoker = invoker(ctx).await?;
    let service = ctx.data();
    let voice = invoker.voice_channel.ok_or(BotError::NotInVoice)?;
    match service.linked(&invoker).await {
        Ok(linked) => {
            service.authorize(&invoker, &linked).await?;
            let item = service.resolve(&title).await?;
            let command = Command::QueueAdd {
                rating_key: item.rating_key.clone(),
                title: item.title.clone(),
            };
            let session = service.drive(&invoker, &linked, command).await?;
            let position = session.queue.len();
            confirm(
                ctx,
                format!(
                    "Queued “{}” as #{position} in <#{voice}>'s session. Use `/skip` to jump to it.",
                    item.title
                ),
            )
            .await
        }
        Err(BotError::NoSession(_) | BotError::SessionGone) => {
            let item = service.resolve(&title).await?;
            let begin = if resume {
                crate::service::Begin::Resume
            } else {
                crate::service::Begin::FromStart
            };
            let linked = service.start(&invoker, &item, begin).await?;
            let action = match item.resume_ms.filter(|_| resume) {
                Some(ms) => format!(
                    "{} resumed {} from {}",
                    invoker.name,
                    item.title,
                    clock_time(ms as f64 / 1000.0)
                ),
                None => format!("{} started {}", invoker.name, item.title),
            };
            post_card(ctx, &linked, Some(&action)).await
        }
        Err(e) => Err(e),
    }
}

/// Pause the session in your voice channel
#[poise::command(slash_command, guild_only)]
pub async fn pause(ctx: Context<'_>) -> Result<(), BotError> {
    let (invoker, linked) = controllable(ctx).await?;
    if !linked.session.playback.playing {
        let at = linked.session.playback.position_at(now_ms());
        return confirm(ctx, format!("Already paused at {}.", clock_time(at))).await;
    }
    let session = ctx.data().drive(&invoker, &linked, Command::Pause).await?;
    confirm(
        ctx,
        format!("Paused at {}.", clock_time(session.playback.position)),
    )
    .await
}

/// Resume the session in your voice channel
#[poise::command(slash_command, guild_only)]
pub async fn resume(ctx: Context<'_>) -> Result<(), BotError> {
    let (invoker, linked) = controllable(ctx).await?;
    if linked.session.playback.playing {
        return confirm(ctx, "Already playing.").await;
    }
    let session = ctx.data().drive(&invoker, &linked, Command::Play).await?;
    confirm(
        ctx,
        format!("Playing from {}.", clock_time(session.playback.position)),
    )
    .await
}

/// Jump to a time (1:23:45, 23:45) or by an amount (+30s, -10s)
#[poise::command(slash_command, guild_only)]
pub async fn seek(
    ctx: Context<'_>,
    #[description = "1:23:45, 23:45, 90s, +30s or -10s"]
    #[max_length = 40]
    time: String,
) -> Result<(), BotError> {
    let target = timecode::parse(&time)?;
    let (invoker, linked) = controllable(ctx).await?;
    let service = ctx.data();
    // A change still scheduled (its instant a few ms ahead) counts as made: jump from there.
    let playback = linked.session.playback;
    let position = target.resolve(playback.position_at(now_ms().max(playback.at)));
    if let Some(total) = service
        .current_playable(&linked.session)
        .await
        .and_then(|p| p.duration_ms)
    {
        let total = total as f64 / 1000.0;
        if position >= total {
            return Err(BotError::BadInput(format!(
                "{} is past the end: “{}” is {} long.",
                clock_time(position),
                linked.session.title_of_current(),
                clock_time(total)
            )));
        }
    }
    service
        .drive(&invoker, &linked, Command::Seek { position })
        .await?;
    confirm(ctx, format!("Jumped to {}.", clock_time(position))).await
}

/// Skip to the next item in the queue
#[poise::command(slash_command, guild_only)]
pub async fn skip(ctx: Context<'_>) -> Result<(), BotError> {
    let (invoker, linked) = controllable(ctx).await?;
    let session = ctx.data().drive(&invoker, &linked, Command::Next).await?;
    confirm(ctx, format!("Skipped to “{}”.", session.title_of_current())).await
}

/// Stop watching: pause the session and unlink it from your voice channel
#[poise::command(slash_command, guild_only)]
pub async fn stop(ctx: Context<'_>) -> Result<(), BotError> {
    let (invoker, linked) = controllable(ctx).await?;
    let session = ctx.data().stop(&invoker, &linked).await?;
    let action = format!("{} stopped", invoker.name);
    let card = crate::live::build_card(ctx.data(), &session, Some(&action))
        .await
        .stopped(session.playback.position);
    if let Err(e) = crate::live::edit_card(ctx.http(), &linked.link, &card, &session.id).await {
        tracing::warn!(error = %e, "could not mark the now-playing card stopped");
    }
    let url = crate::now_playing::session_url(&ctx.data().public_url, &session.id);
    confirm(
        ctx,
        format!(
            "Stopped at {}. The session stays open at {url} for anyone who wants to carry on; `/play` starts a new one here.",
            clock_time(session.playback.position)
        ),
    )
    .await
}

/// Small helpers on the session for replies.
trait SessionText {
    fn title_of_current(&self) -> String;
}

impl SessionText for marquee_sync::Session {
    fn title_of_current(&self) -> String {
        self.current_entry()
            .map(|e| e.title.clone())
            .unwrap_or_else(|| "nothing".into())
    }
}
