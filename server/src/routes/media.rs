//! `GET /media/{item}/{version}/{part}`: the original media file, with Range support, through
//! the chunk relay ([`crate::chunks`]): each chunk leaves Plex once however many viewers read
//! it. A Range the relay does not serve (several ranges) is passed to Plex as it is.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::chunks::Want;
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
    match Want::parse(range) {
        Some(want) => relayed(&state, &key, want).await,
        None => passed_through(&state, &key, range).await,
    }
}

async fn relayed(state: &AppState, key: &str, want: Want) -> Result<Response, ApiError> {
    let served = match state.chunks.serve(key, want).await? {
        Ok(served) => served,
        Err(total) => {
            let mut out = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}")) {
                out.insert(header::CONTENT_RANGE, v);
            }
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, out).into_response());
        }
    };
    let mut out = HeaderMap::new();
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(t) = served.content_type.clone() {
        out.insert(header::CONTENT_TYPE, t);
    }
    let length = served.end - served.start + 1;
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let status = if want == Want::Whole {
        StatusCode::OK
    } else {
        let range = format!("bytes {}-{}/{}", served.start, served.end, served.total);
        if let Ok(v) = HeaderValue::from_str(&range) {
            out.insert(header::CONTENT_RANGE, v);
        }
        StatusCode::PARTIAL_CONTENT
    };
    Ok((status, out, Body::from_stream(served.body)).into_response())
}

async fn passed_through(
    state: &AppState,
    key: &str,
    range: Option<&str>,
) -> Result<Response, ApiError> {
    let upstream = state.services.plex.fetch(key, range).await?;
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    if !(status.is_success() || status == StatusCode::RANGE_NOT_SATISFIABLE) {
        return Err(ApiError::plex_unavailable(&format!(
            "media request answered {status}"
        )));
    }
    let mut out = super::pass_headers(upstream.headers());
    out.entry(header::ACCEPT_RANGES)
        .or_insert(header::HeaderValue::from_static("bytes"));
    Ok((status, out, Body::from_stream(upstream.bytes_stream())).into_response())
}
