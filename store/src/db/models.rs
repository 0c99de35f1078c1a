//! Row types returned by [`Store`](super::Store).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::schema::{channel_links, media_cache, sessions, users};

/// A Discord account that has used Marquee; `settings` is free-form so the UI can evolve
/// without migrations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub discord_id: String,
    pub username: String,
    pub avatar: Option<String>,
    pub settings: serde_json::Value,
    /// UTC.
    pub created_at: NaiveDateTime,
    /// UTC.
    pub updated_at: NaiveDateTime,
}

/// A persisted watch session. `state` is the playback state owned by the sync domain; the
/// store treats it as opaque JSON and guards it with `version` (optimistic concurrency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub host_name: String,
    pub title: String,
    /// Plex ratingKey of the item being watched.
    pub current_item: Option<String>,
    pub state: serde_json::Value,
    pub version: i64,
    /// UTC.
    pub created_at: NaiveDateTime,
    /// UTC.
    pub updated_at: NaiveDateTime,
}

/// A row of the persistent Plex metadata cache (exposed for diagnostics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable)]
#[diesel(table_name = media_cache)]
pub struct MediaCacheEntry {
    pub id: i64,
    pub plex_id: String,
    pub metadata: serde_json::Value,
    /// UTC.
    pub expires_at: NaiveDateTime,
    /// UTC.
    pub updated_at: NaiveDateTime,
}

/// What a caller supplies to start a watch session; the store adds version and timestamps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewSession {
    /// Short, URL-friendly id; [`NewSession::new`] generates one.
    pub id: String,
    pub host_name: String,
    pub title: String,
    pub current_item: Option<String>,
    pub state: serde_json::Value,
    /// The rejoin key of the member who created it, stored with the session in one transaction
    /// (a session whose host could not come back would be useless).
    pub host_key: Option<NewMemberKey>,
}

/// A member's rejoin key, as stored: its hash only (see [`crate::secret`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewMemberKey {
    pub member_id: String,
    pub key_hash: String,
}

impl NewSession {
    /// A session with a fresh random slug id, so callers don't have to invent ids.
    pub fn new(host_name: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: new_session_id(),
            host_name: host_name.into(),
            title: title.into(),
            current_item: None,
            state: serde_json::Value::Object(serde_json::Map::new()),
            host_key: None,
        }
    }
}

/// Symbols in a session id: 26 of the 31 in [`random_slug`]'s alphabet are 128.8 bits, so a
/// session's link cannot be guessed (it is what lets a guest in).
pub const SESSION_ID_LEN: usize = 26;

/// A new, unguessable watch-session id.
pub fn new_session_id() -> String {
    random_slug(SESSION_ID_LEN)
}

/// A random id that is easy to read aloud and type (no 0/o, 1/l/i).
pub fn random_slug(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| {
            let idx = rng.random_range(0..ALPHABET.len());
            char::from(ALPHABET.get(idx).copied().unwrap_or(b'x'))
        })
        .collect()
}

/// A Discord voice channel's watch session: the session belongs to the channel of the member
/// who started it, so the bot, the Activity and the watch page all find the same one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Queryable, Selectable)]
#[diesel(table_name = channel_links)]
pub struct ChannelLink {
    pub voice_channel_id: String,
    pub guild_id: String,
    pub session_id: String,
    /// The Discord user who started the session; always allowed to control it.
    pub owner_discord_id: String,
    /// Where the bot's now-playing message is, once it has posted one.
    pub np_channel_id: Option<String>,
    pub np_message_id: Option<String>,
    /// The Discord Activity instance bound to this channel, once one has been launched.
    pub activity_instance_id: Option<String>,
    /// UTC.
    pub created_at: NaiveDateTime,
    /// UTC.
    pub updated_at: NaiveDateTime,
}

/// What the bot supplies to link a voice channel to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChannelLink {
    pub voice_channel_id: String,
    pub guild_id: String,
    pub session_id: String,
    pub owner_discord_id: String,
}
