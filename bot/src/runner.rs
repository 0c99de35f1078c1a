//! Connecting the bot to Discord: the HTTP client (optionally pointed at another API base, which
//! is how tests use a fake Discord), the gateway, command registration and error replies.

use std::sync::Arc;

use poise::serenity_prelude as serenity;
use secrecy::{ExposeSecret, SecretString};

use crate::error::BotError;
use crate::service::BotService;
use crate::{buttons, commands, live};

/// How to reach Discord.
#[derive(Clone)]
pub struct BotConfig {
    /// The bot token from the Discord developer portal.
    pub token: SecretString,
    /// Another API base instead of `https://discord.com` (a fake Discord in tests, or a REST
    /// proxy). Discord's rate limiter is off in that case: the proxy owns rate limits.
    pub api_base: Option<String>,
}

impl std::fmt::Debug for BotConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotConfig")
            .field("token", &"[REDACTED]")
            .field("api_base", &self.api_base)
            .finish()
    }
}

/// Why the bot could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("DISCORD_TOKEN is empty")]
    EmptyToken,
    #[error("could not set up the Discord client: {0}")]
    Client(Box<serenity::Error>),
}

/// A running bot.
pub struct BotHandle {
    shards: Arc<serenity::ShardManager>,
    gateway: tokio::task::JoinHandle<()>,
    cards: tokio::task::JoinHandle<()>,
}

impl BotHandle {
    /// Disconnects from Discord and stops updating cards.
    pub async fn shutdown(self) {
        self.shards.shutdown_all().await;
        self.cards.abort();
        self.gateway.abort();
    }

    /// Resolves when the gateway connection has ended for good (for `marquee bot`).
    pub async fn finished(&mut self) {
        let _ = (&mut self.gateway).await;
    }
}

/// Connects to Discord and serves the slash commands until shut down. Connection problems after
/// start-up are logged (serenity reconnects by itself).
pub async fn start(config: BotConfig, service: BotService) -> Result<BotHandle, StartError> {
    let token = config.token.expose_secret().trim();
    if token.is_empty() {
        return Err(StartError::EmptyToken);
    }
    let mut http = serenity::HttpBuilder::new(token);
    if let Some(base) = &config.api_base {
        http = http
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    let http = http.build();

    let setup_service = service.clone();
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            on_error: |error| Box::pin(on_error(error)),
            event_handler: |framework, event| Box::pin(on_event(framework, event)),
            initialize_owners: false,
            ..Default::default()
        })
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                poise::builtins::register_globally(ctx, &framework.options().commands).await?;
                tracing::info!(
                    user = %ready.user.name,
                    commands = framework.options().commands.len(),
                    "Discord bot connected; slash commands registered"
                );
                Ok(setup_service)
            })
        })
        .build();

    let intents = serenity::GatewayIntents::GUILDS | serenity::GatewayIntents::GUILD_VOICE_STATES;
    let mut client = serenity::ClientBuilder::new_with_http(http, intents)
        .framework(framework)
        .await
        .map_err(|e| StartError::Client(Box::new(e)))?;
    let cards = live::spawn(service, Arc::clone(&client.http));
    let shards = Arc::clone(&client.shard_manager);
    let gateway = tokio::spawn(async move {
        if let Err(e) = client.start().await {
            tracing::error!(error = %e, "the Discord bot stopped");
        }
    });
    Ok(BotHandle {
        shards,
        gateway,
        cards,
    })
}

async fn on_event(
    framework: poise::FrameworkContext<'_, BotService, BotError>,
    event: &serenity::FullEvent,
) -> Result<(), BotError> {
    match event {
        serenity::FullEvent::InteractionCreate {
            interaction: serenity::Interaction::Component(press),
        } => buttons::handle(framework.serenity_context, framework.user_data, press).await,
        serenity::FullEvent::VoiceStateUpdate { old, new } => {
            // The channel they were in, from the gateway cache, if they left or moved away.
            let left = old
                .as_ref()
                .and_then(|o| o.channel_id)
                .filter(|c| Some(*c) != new.channel_id);
            if let Some(channel) = left
                && let Err(e) = framework
                    .user_data
                    .left_voice(new.user_id.get(), channel.get())
                    .await
            {
                tracing::warn!(channel = %channel, error = %e, "could not follow a member leaving a voice channel");
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every failure becomes an ephemeral reply that says what to do; Marquee's own faults are also
/// logged.
async fn on_error(error: poise::FrameworkError<'_, BotService, BotError>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            if error.is_internal() {
                tracing::error!(command = %ctx.command().qualified_name, error = ?error, "a command failed");
            } else {
                tracing::debug!(command = %ctx.command().qualified_name, %error, "a command was refused");
            }
            let reply = poise::CreateReply::default()
                .content(error.to_string())
                .ephemeral(true);
            if let Err(e) = ctx.send(reply).await {
                tracing::warn!(error = %e, "could not send an error reply");
            }
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::warn!(error = %e, "could not report a command error");
            }
        }
    }
}
