//! What can go wrong in a command, each with the sentence the user sees (always ephemeral).

use marquee_store::{SessionStoreError, StoreError};
use marquee_sync::SessionError;

use crate::catalog::CatalogError;
use crate::timecode::BadTime;

/// A command that could not be carried out. Nothing was changed when one of these is returned:
/// every command checks before it writes, and a session write is all or nothing.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("Use Marquee in a server's text channel: watch sessions belong to voice channels.")]
    NotInGuild,
    #[error("Join a voice channel first: a watch session belongs to the voice channel you are in.")]
    NotInVoice,
    #[error("Nothing is playing in <#{0}>. Start something with `/play`.")]
    NoSession(u64),
    #[error(
        "This channel's watch session no longer exists, so nothing changed. Start a new one with `/play`."
    )]
    SessionGone,
    #[error("Nothing in the library matches “{0}”. Try `/search` to find the exact title.")]
    UnknownTitle(String),
    #[error("The Plex library is empty: add some movies or shows in Plex, then try again.")]
    EmptyLibrary,
    #[error(transparent)]
    BadTime(#[from] BadTime),
    #[error("{0}")]
    BadInput(String),
    #[error("Plex can't be reached right now ({0}), so nothing changed. Try again in a minute.")]
    PlexUnavailable(String),
    #[error("{0}")]
    NotAllowed(String),
    /// The session refused the change (e.g. nothing queued after this).
    #[error("{0}")]
    Refused(String),
    /// A bug or an outage of Marquee's own storage; details go to the log, not to Discord.
    #[error("Something went wrong on Marquee's side, so nothing changed. Try again in a moment.")]
    Internal(String),
}

impl BotError {
    /// Whether this is Marquee's fault (logged as an error) rather than the user's input.
    pub fn is_internal(&self) -> bool {
        matches!(self, BotError::Internal(_))
    }
}

impl From<CatalogError> for BotError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::NotFound => BotError::UnknownTitle("that item".into()),
            CatalogError::Empty => BotError::EmptyLibrary,
            CatalogError::Unavailable(why) => BotError::PlexUnavailable(why),
            CatalogError::Invalid(why) => BotError::BadInput(why),
        }
    }
}

impl From<SessionStoreError> for BotError {
    fn from(e: SessionStoreError) -> Self {
        match e {
            SessionStoreError::NotFound(_) => BotError::SessionGone,
            SessionStoreError::Rejected(e) => e.into(),
            other => BotError::Internal(other.to_string()),
        }
    }
}

impl From<SessionError> for BotError {
    fn from(e: SessionError) -> Self {
        let text = match e {
            SessionError::NoNext => {
                "There is nothing queued after this. Add something with `/queue add`.".into()
            }
            SessionError::NoPrevious => "This is the first item in the queue.".into(),
            SessionError::QueueFull => "The queue is full.".into(),
            SessionError::EmptyQueue => {
                "The queue is empty. Add something with `/queue add`.".into()
            }
            SessionError::InvalidName => "Your Discord name can't be shown in the session.".into(),
            other => {
                let mut text = other.to_string();
                if let Some(first) = text.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                format!("{text}.")
            }
        };
        BotError::Refused(text)
    }
}

impl From<StoreError> for BotError {
    fn from(e: StoreError) -> Self {
        BotError::Internal(e.to_string())
    }
}

impl From<poise::serenity_prelude::Error> for BotError {
    fn from(e: poise::serenity_prelude::Error) -> Self {
        BotError::Internal(format!("Discord: {e}"))
    }
}
