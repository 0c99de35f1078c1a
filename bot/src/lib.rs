//! Marquee's Discord bot: slash commands (poise on serenity) that start and drive the watch
//! session of a voice channel, and a now-playing card kept current whoever changes the session.
//!
//! The bot reaches the rest of Marquee through [`BotService`]: the session store and event bus
//! (shared with the web page), the database, and a [`Catalog`] of the Plex library that the server
//! implements over its cache. It runs inside the server process or alone (`marquee bot`).

pub mod activity;
pub mod admission;
mod buttons;
pub mod catalog;
mod commands;
mod error;
mod live;
pub mod now_playing;
pub mod permissions;
mod runner;
pub mod service;
pub mod timecode;

pub use catalog::{Catalog, CatalogError, Playable, Title, TitleIndex};
pub use error::BotError;
pub use runner::{BotConfig, BotHandle, StartError, start};
pub use service::BotService;

/// The commands' registration payload, exactly as sent to Discord's
/// `PUT /applications/{id}/commands` (a test pins it, so a change to it is deliberate).
pub fn registration_payload() -> serde_json::Value {
    let commands = commands::all();
    serde_json::to_value(poise::builtins::create_application_commands(&commands))
        .unwrap_or_default()
}
