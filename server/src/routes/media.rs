//! `GET /media/{item}/{version}/{part}`: the original media file, streamed from Plex with Range
//! support. Bytes flow through as they arrive; nothing is buffered whole.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;
use app::error::AppError;

pub async fn part(
    State(state): State<AppState>,
    Path((rating_key, media_index, part_index)): Path<(String, usize, usize)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let meta = state.services.library.metadata(&rating_key).await?;
    let key = meta
        .media
        .get(media_index)
        .and_then(|m| m.parts.get(part_index))
        .map(|p| p.key.clone())
        .ok_or_else(|| AppError::NotFound(format!("version {media_index} part {part_index}")))?;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let upstream = state.services.plex.fetch(&key, range).await?;
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    if !(status.is_success() || status == StatusCode::RANGE_NOT_SATISFIABLE) {
        return Err(app::ssr::errors::plex_unavailable(&format!(
            "media request answered {status}"
        ))
        .into());
    }
    let mut out = super::pass_headers(upstream.headers());
    out.entry(header::ACCEPT_RANGES)
        .or_insert(header::HeaderValue::from_static("bytes"));
    Ok((status, out, Body::from_stream(upstream.bytes_stream())).into_response())
}
