//! The one error type server functions return. It crosses the wire as JSON, so the browser can
//! show a precise message; it never carries internal details such as URLs or tokens.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a page or action failed, in words fit for the person using Marquee.
///
/// Failures inside Marquee or its services (the database, Redis, Plex, Discord) never carry
/// their own text here: the server logs the detail with a reference (the request's id) and the
/// person sees a fixed sentence with that reference, which the operator can find in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0} was not found")]
    NotFound(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Something Plex has but Marquee cannot play (a music or photo library).
    #[error("{0}")]
    Unsupported(String),
    #[error("the Plex server rejected Marquee's token; check PLEX_TOKEN")]
    PlexUnauthorized,
    #[error(
        "the Plex server cannot be reached right now; try again in a moment (reference {reference})"
    )]
    PlexUnavailable { reference: String },
    #[error("the Plex server sent a response Marquee could not read (reference {reference})")]
    PlexMalformed { reference: String },
    #[error(
        "something went wrong on the server (reference {reference}); try again, and if it keeps happening tell whoever runs this Marquee"
    )]
    Internal { reference: String },
    #[error("could not reach Marquee's server: {0}")]
    Transport(String),
    #[error("this Marquee admits only people signed in with Discord; sign in to watch")]
    SignInRequired,
    /// A service Marquee needs for this is not set up or not answering; the words say which.
    #[error("{0}")]
    Unavailable(String),
}

impl AppError {
    /// HTTP status for this error when it ends a server-rendered page or an HTTP route.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NotFound(_) | AppError::Unsupported(_) => 404,
            AppError::SignInRequired => 401,
            AppError::BadRequest(_) => 400,
            AppError::PlexUnauthorized
            | AppError::PlexUnavailable { .. }
            | AppError::PlexMalformed { .. } => 502,
            AppError::Internal { .. } | AppError::Transport(_) => 500,
            AppError::Unavailable(_) => 503,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(e) | ServerFnErrorErr::Response(e) => AppError::Transport(e),
            ServerFnErrorErr::Args(e) | ServerFnErrorErr::MissingArg(e) => AppError::BadRequest(e),
            // Whatever else the server-function layer reports is Marquee's own failure: the
            // server logs it (see `ssr::errors`); the person gets the sentence.
            other => AppError::Internal {
                reference: other_reference(&other),
            },
        }
    }
}

/// The reference for a failure the server-function layer reports itself.
fn other_reference(err: &ServerFnErrorErr) -> String {
    #[cfg(feature = "ssr")]
    {
        crate::ssr::errors::log_internal("server function", err)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = err;
        "client".to_owned()
    }
}
