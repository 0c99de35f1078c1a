//! `/queue show | add | remove`.

use marquee_sync::Command;
use poise::serenity_prelude as serenity;

use super::{Context, complete_title, confirm, controllable, invoker};
use crate::error::BotError;

/// Longest queue listing shown in one reply (Discord caps an embed description at 4,096 chars).
const SHOWN: usize = 20;

/// See or change what plays next
#[poise::command(
    slash_command,
    guild_only,
    subcommands("show", "add", "remove"),
    subcommand_required
)]
pub async fn queue(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Show the queue of your voice channel's session
#[poise::command(slash_command, guild_only)]
pub async fn show(ctx: Context<'_>) -> Result<(), BotError> {
    let invoker = invoker(ctx).await?;
    let linked = ctx.data().linked(&invoker).await?;
    let session = &linked.session;
    let mut lines: Vec<String> = session
        .queue
        .iter()
        .take(SHOWN)
        .enumerate()
        .map(|(i, e)| {
            let marker = if Some(e.id) == session.current {
                "▶️"
            } else {
                "▫️"
            };
            format!("{marker} **{}.** {}", i + 1, e.title)
        })
        .collect();
    if session.queue.len() > SHOWN {
        lines.push(format!("…and {} more", session.queue.len() - SHOWN));
    }
    if lines.is_empty() {
        lines.push("The queue is empty. Add something with `/queue add`.".into());
    }
    let embed = serenity::CreateEmbed::new()
        .title(format!("Queue · {} items", session.queue.len()))
        .description(lines.join("\n"))
        .colour(0xE5A00D);
    ctx.send(poise::CreateReply::default().embed(embed).ephemeral(true))
        .await?;
    Ok(())
}

/// Add a title to the end of the queue
#[poise::command(slash_command, guild_only)]
pub async fn add(
    ctx: Context<'_>,
    #[description = "A title from the Plex library"]
    #[autocomplete = "complete_title"]
    #[max_length = 100]
    title: String,
) -> Result<(), BotError> {
    let (invoker, linked) = controllable(ctx).await?;
    let item = ctx.data().resolve(&title).await?;
    let command = Command::QueueAdd {
        rating_key: item.rating_key.clone(),
        title: item.title.clone(),
    };
    let session = ctx.data().drive(&invoker, &linked, command).await?;
    confirm(
        ctx,
        format!("Queued “{}” as #{}.", item.title, session.queue.len()),
    )
    .await
}

/// Remove an item from the queue by its number in `/queue show`
#[poise::command(slash_command, guild_only)]
pub async fn remove(
    ctx: Context<'_>,
    #[description = "Its number in /queue show"]
    #[min = 1]
    position: u32,
) -> Result<(), BotError> {
    let (invoker, linked) = controllable(ctx).await?;
    let len = linked.session.queue.len();
    let entry = (position as usize)
        .checked_sub(1)
        .and_then(|i| linked.session.queue.get(i))
        .ok_or_else(|| {
            BotError::BadInput(format!(
                "There is no #{position} in the queue: it has {len} item{}.",
                if len == 1 { "" } else { "s" }
            ))
        })?;
    let title = entry.title.clone();
    ctx.data()
        .drive(&invoker, &linked, Command::QueueRemove { entry: entry.id })
        .await?;
    confirm(ctx, format!("Removed “{title}” from the queue.")).await
}
