//! `/search`, `/np` and `/watch`.

use poise::serenity_prelude as serenity;

use super::{Context, invoker, post_card};
use crate::error::BotError;
use crate::now_playing::session_url;

/// Results listed by `/search`.
const RESULTS: usize = 10;

/// Search the Plex library
#[poise::command(slash_command)]
pub async fn search(
    ctx: Context<'_>,
    #[description = "Part of a title"]
    #[max_length = 100]
    query: String,
) -> Result<(), BotError> {
    let hits = ctx.data().search(&query).await?;
    if hits.is_empty() {
        return Err(BotError::UnknownTitle(
            query.trim().chars().take(80).collect(),
        ));
    }
    let lines: Vec<String> = hits
        .iter()
        .take(RESULTS)
        .enumerate()
        .map(|(i, t)| format!("**{}.** {}", i + 1, t.label()))
        .collect();
    let embed = serenity::CreateEmbed::new()
        .title(format!(
            "{} result{} for “{}”",
            hits.len(),
            if hits.len() == 1 { "" } else { "s" },
            query.trim()
        ))
        .description(lines.join("\n"))
        .footer(serenity::CreateEmbedFooter::new("Play one with /play"))
        .colour(0xE5A00D);
    ctx.send(poise::CreateReply::default().embed(embed).ephemeral(true))
        .await?;
    Ok(())
}

/// Show what is playing in your voice channel (and keep this message up to date)
#[poise::command(slash_command, guild_only)]
pub async fn np(ctx: Context<'_>) -> Result<(), BotError> {
    let invoker = invoker(ctx).await?;
    let linked = ctx.data().linked(&invoker).await?;
    post_card(ctx, &linked, None).await
}

/// Open your voice channel's session: in the browser, or as the Activity
#[poise::command(slash_command, guild_only)]
pub async fn watch(ctx: Context<'_>) -> Result<(), BotError> {
    let invoker = invoker(ctx).await?;
    let linked = ctx.data().linked(&invoker).await?;
    if ctx.data().activity
        && let poise::Context::Application(app) = ctx
    {
        app.interaction
            .create_response(
                ctx.http(),
                serenity::CreateInteractionResponse::LaunchActivity,
            )
            .await?;
        app.has_sent_initial_response
            .store(true, std::sync::atomic::Ordering::SeqCst);
        return Ok(());
    }
    let url = session_url(&ctx.data().public_url, &linked.session.id);
    let title = linked
        .session
        .current_entry()
        .map(|e| e.title.clone())
        .unwrap_or_else(|| "the session".into());
    let button = serenity::CreateButton::new_link(&url).label("Open in browser");
    ctx.send(
        poise::CreateReply::default()
            .content(format!("Watch “{title}” together: {url}"))
            .components(vec![serenity::CreateActionRow::Buttons(vec![button])]),
    )
    .await?;
    Ok(())
}
