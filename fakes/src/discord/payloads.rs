//! Discord API objects as JSON, shaped like the real API's (v10) so the real client libraries
//! parse them: users, members, guilds, channels, voice states, interactions and messages.

use serde_json::{Value, json};

/// A timestamp in Discord's format.
pub const TIMESTAMP: &str = "2026-01-01T00:00:00.000000+00:00";

/// A person in a fake guild.
#[derive(Debug, Clone)]
pub struct FakeUser {
    pub id: u64,
    pub username: String,
    /// Their server nickname, if any.
    pub nick: Option<String>,
    pub roles: Vec<u64>,
}

impl FakeUser {
    pub fn new(id: u64, username: &str) -> Self {
        Self {
            id,
            username: username.into(),
            nick: None,
            roles: Vec::new(),
        }
    }

    pub fn with_roles(mut self, roles: &[u64]) -> Self {
        self.roles = roles.to_vec();
        self
    }
}

/// A fake guild: one text channel, voice channels, roles and members.
#[derive(Debug, Clone)]
pub struct FakeGuild {
    pub id: u64,
    pub name: String,
    pub owner_id: u64,
    pub text_channel: u64,
    pub voice_channels: Vec<u64>,
    /// Role ids with names.
    pub roles: Vec<(u64, String)>,
    pub members: Vec<FakeUser>,
    /// Who is in which voice channel at the start.
    pub voice: Vec<(u64, u64)>,
}

pub fn user(id: u64, username: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": username,
        "discriminator": "0",
        "global_name": username,
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
    })
}

pub fn member(u: &FakeUser) -> Value {
    json!({
        "user": user(u.id, &u.username, false),
        "nick": u.nick,
        "avatar": null,
        "roles": u.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "joined_at": TIMESTAMP,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "permissions": "2248473465835073",
    })
}

pub fn role(guild: u64, id: u64, name: &str, position: u16) -> Value {
    json!({
        "id": id.to_string(),
        "guild_id": guild.to_string(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": "0",
        "managed": false,
        "mentionable": true,
        "flags": 0,
    })
}

pub fn channel(guild: u64, id: u64, name: &str, voice: bool, position: u16) -> Value {
    let mut c = json!({
        "id": id.to_string(),
        "guild_id": guild.to_string(),
        "type": if voice { 2 } else { 0 },
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "parent_id": null,
        "nsfw": false,
        "flags": 0,
    });
    if voice {
        c["bitrate"] = json!(64000);
        c["user_limit"] = json!(0);
        c["rtc_region"] = Value::Null;
    } else {
        c["topic"] = Value::Null;
        c["last_message_id"] = Value::Null;
        c["rate_limit_per_user"] = json!(0);
    }
    c
}

pub fn voice_state(guild: u64, user_id: u64, channel: Option<u64>, m: Option<&FakeUser>) -> Value {
    json!({
        "guild_id": guild.to_string(),
        "channel_id": channel.map(|c| c.to_string()),
        "user_id": user_id.to_string(),
        "member": m.map(member),
        "session_id": format!("voice-session-{user_id}"),
        "deaf": false,
        "mute": false,
        "self_deaf": false,
        "self_mute": false,
        "self_stream": false,
        "self_video": false,
        "suppress": false,
        "request_to_speak_timestamp": null,
    })
}

/// The GUILD_CREATE payload (a guild plus the extra fields of that event).
pub fn guild_create(g: &FakeGuild) -> Value {
    let mut channels = vec![channel(g.id, g.text_channel, "movie-night", false, 0)];
    for (i, v) in g.voice_channels.iter().enumerate() {
        channels.push(channel(
            g.id,
            *v,
            &format!("Cinema {}", i + 1),
            true,
            i as u16 + 1,
        ));
    }
    let mut roles = vec![role(g.id, g.id, "@everyone", 0)];
    roles.extend(
        g.roles
            .iter()
            .enumerate()
            .map(|(i, (id, name))| role(g.id, *id, name, i as u16 + 1)),
    );
    let voice_states: Vec<Value> = g
        .voice
        .iter()
        .map(|(u, c)| voice_state(g.id, *u, Some(*c), None))
        .collect();
    json!({
        "id": g.id.to_string(),
        "name": g.name,
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": g.owner_id.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": g.text_channel.to_string(),
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_members": 500000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "joined_at": TIMESTAMP,
        "large": false,
        "unavailable": false,
        "member_count": g.members.len(),
        "voice_states": voice_states,
        "members": g.members.iter().map(member).collect::<Vec<_>>(),
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    })
}

/// A message as the API returns it.
pub fn message(
    id: u64,
    channel_id: u64,
    author: &Value,
    body: &Value,
    app_id: Option<u64>,
) -> Value {
    let field = |name: &str, default: Value| body.get(name).cloned().unwrap_or(default);
    json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": author,
        "content": field("content", json!("")),
        "timestamp": TIMESTAMP,
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": field("embeds", json!([])),
        "components": field("components", json!([])),
        "pinned": false,
        "type": if app_id.is_some() { 20 } else { 0 },
        "flags": field("flags", json!(0)),
        "application_id": app_id.map(|a| a.to_string()),
        "webhook_id": app_id.map(|a| a.to_string()),
    })
}

/// Discord's `EmbeddedActivityInstance`: a guild channel's location (`kind: "gc"`) or a private
/// channel's (`"pc"`, no guild), and the ids of the users in it (snowflakes are strings).
pub fn activity_instance(application_id: u64, i: &super::ActivityInstance) -> Value {
    let location = match i.guild_id {
        Some(guild) => json!({
            "id": format!("gc-{guild}-{}", i.channel_id),
            "kind": "gc",
            "channel_id": i.channel_id.to_string(),
            "guild_id": guild.to_string(),
        }),
        None => json!({
            "id": format!("pc-{}", i.channel_id),
            "kind": "pc",
            "channel_id": i.channel_id.to_string(),
        }),
    };
    json!({
        "application_id": application_id.to_string(),
        "instance_id": i.instance_id,
        "launch_id": i.launch_id,
        "location": location,
        "users": i.users.iter().map(u64::to_string).collect::<Vec<_>>(),
    })
}
