//! Errors of Marquee's own HTTP routes, answered as a status code plus a JSON body
//! `{"error": "...", "message": "..."}` that never contains internal details.

use app::error::AppError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error from a Marquee HTTP route.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("missing or wrong admin token")]
    Unauthorized,
    #[error("{0}")]
    BadRequest(String),
    #[error(
        "this Marquee admits only people signed in with Discord (or scripts with the admin token)"
    )]
    SignInRequired,
    /// A transcode cap is reached (the sentence says which).
    #[error("{0}")]
    TooManyTranscodes(String),
    /// The thing asked for existed and was ended on purpose.
    #[error("{0}")]
    Gone(String),
}

impl ApiError {
    /// Plex answered something unusable (`detail` is logged under a reference, never sent).
    pub fn plex_unavailable(detail: &str) -> Self {
        ApiError::App(app::ssr::errors::plex_unavailable(&detail))
    }
}

impl From<marquee_plex::PlexError> for ApiError {
    fn from(err: marquee_plex::PlexError) -> Self {
        ApiError::App(err.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::App(e) => (
                StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                match e {
                    AppError::NotFound(_) => "not_found",
                    AppError::BadRequest(_) => "bad_request",
                    AppError::Unsupported(_) => "unsupported",
                    AppError::PlexUnauthorized => "plex_unauthorized",
                    AppError::PlexUnavailable { .. } => "plex_unavailable",
                    AppError::PlexMalformed { .. } => "plex_malformed",
                    AppError::Internal { .. } | AppError::Transport(_) => "internal",
                    AppError::SignInRequired => "sign_in_required",
                    AppError::Unavailable(_) => "unavailable",
                },
            ),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::SignInRequired => (StatusCode::UNAUTHORIZED, "sign_in_required"),
            ApiError::TooManyTranscodes(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_transcodes")
            }
            ApiError::Gone(_) => (StatusCode::GONE, "transcode_stopped"),
        };
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        }
        let body = Json(json!({ "error": code, "message": self.to_string() }));
        if status == StatusCode::TOO_MANY_REQUESTS {
            // A transcode ends at the earliest when its player leaves: worth a retry later.
            return (status, [(axum::http::header::RETRY_AFTER, "30")], body).into_response();
        }
        (status, body).into_response()
    }
}
