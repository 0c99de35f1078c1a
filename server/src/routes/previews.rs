//! `GET /previews/{item}/{version}/{part}/{ms}`: the seek-preview thumbnail of that moment (see
//! [`crate::previews`]). The link is signed for the Part; the time is the player's to choose.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;
use app::error::AppError;

pub async fn thumbnail(
    State(state): State<AppState>,
    Path((rating_key, media_index, part_index, ms)): Path<(String, usize, usize, u64)>,
) -> Result<Response, ApiError> {
    let meta = state.services.library.metadata(&rating_key).await?;
    let part = meta
        .media
        .get(media_index)
        .and_then(|m| m.parts.get(part_index))
        .filter(|p| p.indexes.as_deref() == Some("sd"))
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "seek previews of version {media_index} part {part_index}"
            ))
        })?;
    let frame = match state.previews.frame(part.id, ms).await {
        Ok(frame) => frame,
        Err(e) => match e.as_ref() {
            marquee_plex::PlexError::NotFound { .. } => None,
            other => {
                return Err(ApiError::plex_unavailable(&format!(
                    "seek previews: {}",
                    marquee_plex::error_chain(other)
                )));
            }
        },
    };
    let jpeg = frame.ok_or_else(|| AppError::NotFound("a thumbnail at that time".into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        jpeg,
    )
        .into_response())
}
