//! `GET /subs/{item}/{version}/{stream}.vtt`: a text subtitle stream as WebVTT
//! ([`crate::subtitles`]). Its URL is signed by the page that lists the track (the `access`
//! guard checks it), like `/media`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

pub async fn vtt(
    State(state): State<AppState>,
    Path((rating_key, media_index, file)): Path<(String, u32, String)>,
) -> Result<Response, ApiError> {
    let stream: i64 = file
        .strip_suffix(".vtt")
        .filter(|n| !n.is_empty() && n.len() <= 12 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| ApiError::BadRequest("not a subtitle file: use {stream id}.vtt".into()))?;
    app::ssr::library::validate_key(&rating_key)?;
    let meta = state.services.library.metadata(&rating_key).await?;
    let text = state.subtitles.webvtt(&meta, media_index, stream).await?;
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/vtt; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            ),
        ],
        text,
    )
        .into_response())
}
