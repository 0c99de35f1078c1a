//! Admin endpoints, guarded by the admin bearer token (`MARQUEE_ADMIN_TOKEN`, or the one Marquee
//! writes to `<data dir>/admin-token` at first start). The `marquee cache clear` and
//! `marquee library refresh` commands call these.

use axum::Json;
use axum::extract::{Path, Query, State};
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
    audit_admin(&state, "cache_clear", json!({}));
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
    audit_admin(&state, "library_refresh", json!({ "section": section }));
    Ok(Json(json!({ "section": section, "invalidated": dropped })))
}

/// Records an admin action in the audit log.
fn audit_admin(state: &AppState, action: &str, detail: Value) {
    state
        .services
        .store
        .record_audit_later(marquee_store::NewAuditEvent {
            actor: "admin".into(),
            actor_id: None,
            action: action.into(),
            session_id: None,
            detail: detail.to_string(),
        });
}

/// The audit log's filters, as query parameters.
#[derive(Debug, serde::Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    session: Option<String>,
    actor: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/admin/audit?action=&session=&actor=&before=&limit=`: the audit log, newest
/// first (at most 500 a page; `before` is the last id of the previous page).
pub async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let filter = marquee_store::AuditFilter {
        action: q.action.filter(|s| !s.is_empty()),
        session_id: q.session.filter(|s| !s.is_empty()),
        actor_id: q.actor.filter(|s| !s.is_empty()),
        before: q.before,
        limit: q.limit.unwrap_or(100),
    };
    let events = state
        .services
        .store
        .audit_events(&filter)
        .await
        .map_err(|e| app::ssr::errors::internal("reading the audit log", &e))?;
    let next = events.last().map(|e| e.id);
    Ok(Json(json!({ "events": events, "next_before": next })))
}
