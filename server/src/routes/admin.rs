//! Admin endpoints, guarded by the admin bearer token (`MARQUEE_ADMIN_TOKEN`, or the one Marquee
//! writes to `<data dir>/admin-token` at first start). The `marquee cache clear` and
//! `marquee library refresh` commands call these.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// Whether the request carries the admin bearer token.
pub(crate) fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let expected = state.admin_token.expose_secret();
    // Constant-time comparison: the token must not leak through response timing.
    let same = marquee_store::secret::constant_time_eq(given.as_bytes(), expected.as_bytes());
    if same && !expected.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// `POST /api/admin/cache/clear`: drop every cached entry (memory or Redis) and the stored
/// metadata copies.
pub async fn clear_cache(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let services = &state.services;
    let dropped = services
        .cache
        .clear()
        .await
        .map_err(|e| app::ssr::errors::internal("admin", &e))?;
    let stored = services
        .store
        .clear_media_cache()
        .await
        .map_err(|e| app::ssr::errors::internal("admin", &e))?;
    tracing::info!(dropped, stored, "cache cleared by an admin");
    Ok(Json(
        json!({ "cleared": dropped, "stored_metadata_cleared": stored }),
    ))
}

/// `POST /api/admin/library/{section}/refresh`: ask Plex to rescan a section and drop what
/// Marquee cached about it, so the next page load shows the new state.
pub async fn refresh_section(
    State(state): State<AppState>,
    Path(section): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    app::ssr::library::validate_key(&section)?;
    state.services.plex.refresh_section(&section).await?;
    let dropped = state.services.library.invalidate_section(&section).await?;
    tracing::info!(section, dropped, "library section refreshed");
    Ok(Json(json!({ "section": section, "invalidated": dropped })))
}
