//! Failures that must not leak and must not vanish.
//!
//! A database, Redis, Plex or Discord error says things a visitor must not see (addresses,
//! queries, internal names) and things the operator needs. So it is logged here, at warn, with
//! the request's id as its reference, and the visitor gets a fixed sentence carrying the same
//! reference ([`AppError::Internal`], [`AppError::PlexUnavailable`], …).
//!
//! The request id is set by the server's request-id middleware: for the handler's own task in
//! a task-local ([`scope`]), and in the request's extensions, which Leptos code reaches through
//! the request `Parts` in context (resources run on other tasks).

use std::fmt::Display;
use std::future::Future;

use leptos::prelude::use_context;
use marquee_plex::PlexError;

use crate::error::AppError;

/// The id of one HTTP request (or WebSocket connection), in its logs and in its error replies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// A fresh id: 12 hex digits, short enough to read out, unique enough to grep for.
    pub fn new() -> Self {
        let mut id = uuid::Uuid::new_v4().simple().to_string();
        id.truncate(12);
        RequestId(id)
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

tokio::task_local! {
    static CURRENT: RequestId;
}

/// Runs `work` as part of request `id` (so failures in it carry that reference).
pub async fn scope<F: Future>(id: RequestId, work: F) -> F::Output {
    CURRENT.scope(id, work).await
}

/// The current request's id: from the handler's task, else from the request in Leptos's
/// context, else a fresh one (work outside any request, such as a timer).
pub fn current() -> RequestId {
    if let Ok(id) = CURRENT.try_with(Clone::clone) {
        return id;
    }
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestId>().cloned())
        .unwrap_or_default()
}

/// An error with its causes, for the log (the Plex client logs its own failures the same way).
pub use marquee_plex::error_chain as chain;

/// Logs an internal failure with the current request's id; returns that id as the reference.
pub fn log_internal(what: &str, detail: &dyn Display) -> String {
    let reference = current();
    tracing::warn!(reference = %reference, what, error = %detail, "request failed");
    reference.0
}

/// An internal failure (database, cache, Redis…): logged, answered with the fixed sentence.
pub fn internal(what: &str, detail: &dyn Display) -> AppError {
    AppError::Internal {
        reference: log_internal(what, detail),
    }
}

/// Plex failed in a way the visitor cannot fix (unreachable, timed out, an odd status): logged
/// with `detail`, answered with the fixed sentence.
pub fn plex_unavailable(detail: &dyn Display) -> AppError {
    AppError::PlexUnavailable {
        reference: log_internal("Plex", detail),
    }
}

impl From<PlexError> for AppError {
    fn from(err: PlexError) -> Self {
        match err {
            PlexError::Unauthorized => {
                log_internal("Plex", &chain(&err));
                AppError::PlexUnauthorized
            }
            PlexError::NotFound { .. } => AppError::NotFound("that item".into()),
            PlexError::Malformed { .. } => AppError::PlexMalformed {
                reference: log_internal("Plex", &chain(&err)),
            },
            other => plex_unavailable(&chain(&other)),
        }
    }
}
