//! `/settings control`: who may drive sessions in this server.

use poise::serenity_prelude as serenity;

use super::{Context, confirm};
use crate::error::BotError;
use crate::permissions::ControlPolicy;

/// Marquee's settings for this server
#[poise::command(
    slash_command,
    guild_only,
    subcommands("control"),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn settings(_ctx: Context<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Who may control playback and the queue
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum Who {
    #[name = "Everyone in the voice channel"]
    Everyone,
    #[name = "The host only"]
    Host,
    #[name = "The host and one role"]
    Role,
}

/// Choose who may control watch sessions in this server
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn control(
    ctx: Context<'_>,
    #[description = "Who may pause, seek, skip and change the queue"] who: Who,
    #[description = "The role, for “The host and one role”"] role: Option<serenity::Role>,
) -> Result<(), BotError> {
    let guild = ctx.guild_id().ok_or(BotError::NotInGuild)?;
    let policy = match (who, role) {
        (Who::Everyone, _) => ControlPolicy::Everyone,
        (Who::Host, _) => ControlPolicy::Host,
        (Who::Role, Some(role)) => ControlPolicy::Role {
            role_id: role.id.get(),
        },
        (Who::Role, None) => {
            return Err(BotError::BadInput(
                "Pick the role too: `/settings control who:The host and one role role:@Role`."
                    .into(),
            ));
        }
    };
    ctx.data().set_policy(guild.get(), &policy).await?;
    ctx.data()
        .store
        .record_audit_later(marquee_store::NewAuditEvent {
            actor: ctx.author().name.clone(),
            actor_id: Some(marquee_sync::member::discord(ctx.author().id.get())),
            action: "settings".into(),
            session_id: None,
            detail: serde_json::json!({
                "setting": "control",
                "guild": guild.get().to_string(),
                "who": policy.describe(),
            })
            .to_string(),
        });
    confirm(
        ctx,
        format!(
            "Done: {} can control watch sessions in this server.",
            policy.describe()
        ),
    )
    .await
}
