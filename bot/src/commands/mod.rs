//! The slash commands. Each one finds the invoker's voice channel session, checks the guild's
//! control policy, then acts through [`BotService`]; every refusal is an ephemeral reply (see
//! `on_error` in the runner).

mod info;
mod playback;
mod queue;
mod settings;

use poise::serenity_prelude as serenity;

use crate::catalog::Title;
use crate::error::BotError;
use crate::now_playing;
use crate::service::{BotService, CHOICE_PREFIX, Invoker, Linked};

pub(crate) type Context<'a> = poise::Context<'a, BotService, BotError>;

/// Autocomplete offers at most this many titles (Discord's limit).
const MAX_CHOICES: usize = 25;

/// Every command the bot registers, in the order Discord lists them.
pub fn all() -> Vec<poise::Command<BotService, BotError>> {
    vec![
        playback::play(),
        info::search(),
        queue::queue(),
        playback::pause(),
        playback::resume(),
        playback::seek(),
        playback::skip(),
        info::np(),
        playback::stop(),
        info::watch(),
        settings::settings(),
    ]
}

/// The invoker: their Discord id, name, roles and current voice channel (from the gateway cache).
pub(crate) async fn invoker(ctx: Context<'_>) -> Result<Invoker, BotError> {
    let guild = ctx.guild_id().ok_or(BotError::NotInGuild)?;
    let member = ctx.author_member().await;
    Ok(invoker_of(
        ctx.serenity_context(),
        guild,
        ctx.author(),
        member.as_deref(),
    ))
}

/// The [`Invoker`] behind any interaction (a command or a button press).
pub(crate) fn invoker_of(
    ctx: &serenity::Context,
    guild: serenity::GuildId,
    user: &serenity::User,
    member: Option<&serenity::Member>,
) -> Invoker {
    Invoker {
        user_id: user.id.get(),
        name: member
            .map(|m| m.display_name().to_owned())
            .unwrap_or_else(|| user.display_name().to_owned()),
        roles: member
            .map(|m| m.roles.iter().map(|r| r.get()).collect())
            .unwrap_or_default(),
        guild_id: guild.get(),
        voice_channel: voice_channel(ctx, guild, user.id),
    }
}

/// The voice channel `user` is in, as the gateway last told us.
pub(crate) fn voice_channel(
    ctx: &serenity::Context,
    guild: serenity::GuildId,
    user: serenity::UserId,
) -> Option<u64> {
    let guild = ctx.cache.guild(guild)?;
    guild
        .voice_states
        .get(&user)
        .and_then(|v| v.channel_id)
        .map(|c| c.get())
}

/// The invoker's session, if they may drive it.
pub(crate) async fn controllable(ctx: Context<'_>) -> Result<(Invoker, Linked), BotError> {
    let invoker = invoker(ctx).await?;
    let linked = ctx.data().linked(&invoker).await?;
    ctx.data().authorize(&invoker, &linked).await?;
    Ok((invoker, linked))
}

/// A short ephemeral confirmation.
pub(crate) async fn confirm(ctx: Context<'_>, text: impl Into<String>) -> Result<(), BotError> {
    ctx.send(poise::CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}

/// Posts the session's now-playing card as the reply and remembers it, so it is edited as the
/// session changes from anywhere.
pub(crate) async fn post_card(
    ctx: Context<'_>,
    linked: &Linked,
    last_action: Option<&str>,
) -> Result<(), BotError> {
    let service = ctx.data();
    let current = service.current_playable(&linked.session).await;
    let card = now_playing::card(
        &linked.session,
        current.as_ref(),
        last_action,
        &service.public_url,
        marquee_store::sessions::now_ms(),
    );
    let reply = poise::CreateReply::default()
        .embed(card.embed())
        .components(card.components(&linked.session.id));
    let handle = ctx.send(reply).await?;
    let message = handle.message().await?;
    service
        .remember_card(linked, message.channel_id.get(), message.id.get())
        .await
}

/// Autocomplete for titles, from the cached title index.
pub(crate) async fn complete_title(
    ctx: Context<'_>,
    typed: &str,
) -> serenity::CreateAutocompleteResponse {
    let choices = match ctx.data().suggest(typed, MAX_CHOICES).await {
        Ok(titles) => titles.iter().map(choice).collect(),
        Err(e) => {
            tracing::debug!(error = %e, "autocomplete has no suggestions");
            Vec::new()
        }
    };
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

fn choice(title: &Title) -> serenity::AutocompleteChoice {
    let mut label: String = title.label().chars().take(100).collect();
    if label.is_empty() {
        label = title.rating_key.clone();
    }
    serenity::AutocompleteChoice::new(label, format!("{CHOICE_PREFIX}{}", title.rating_key))
}
