//! `GET /img/{item}/{thumb|art}/{stamp}?w=&h=`: posters and backdrops, resized by Plex's photo
//! transcoder and proxied. The stamp changes when the artwork changes, so responses are cacheable
//! for a long time.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;
use app::error::AppError;

#[derive(Deserialize)]
pub struct Size {
    w: Option<u32>,
    h: Option<u32>,
}

/// Largest edge Marquee asks Plex to render, so a URL cannot request huge images.
const MAX_EDGE: u32 = 1920;

pub async fn image(
    State(state): State<AppState>,
    Path((rating_key, kind, stamp)): Path<(String, String, String)>,
    Query(size): Query<Size>,
) -> Result<Response, ApiError> {
    let numeric = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    if !numeric(&rating_key) || !numeric(&stamp) || !matches!(kind.as_str(), "thumb" | "art") {
        return Err(ApiError::BadRequest("not a Plex artwork path".into()));
    }
    let (w, h) = (
        size.w.unwrap_or(240).clamp(16, MAX_EDGE),
        size.h.unwrap_or(360).clamp(16, MAX_EDGE),
    );
    let path = format!("/library/metadata/{rating_key}/{kind}/{stamp}");
    let upstream = state
        .services
        .plex
        .photo_transcode_request(&path, w, h)?
        .send()
        .await
        .map_err(|e| app::ssr::errors::plex_unavailable(&format!("poster {path}: {e}")))?;
    match upstream.status().as_u16() {
        200 => {}
        404 => return Err(AppError::NotFound("that image".into()).into()),
        401 => return Err(AppError::PlexUnauthorized.into()),
        s => {
            return Err(
                app::ssr::errors::plex_unavailable(&format!("poster {path} answered {s}")).into(),
            );
        }
    }
    let mut headers = super::pass_headers(upstream.headers());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=604800, immutable"),
    );
    Ok((
        StatusCode::OK,
        headers,
        Body::from_stream(upstream.bytes_stream()),
    )
        .into_response())
}
