//! Plex webhooks (a Plex Pass feature, set up in Plex's settings under Webhooks): the second
//! way Plex tells Marquee its library changed, for servers whose notification socket Marquee
//! cannot keep open (see `plex_events`). The address is a signed URL that never expires
//! ([`webhook_url`]); the access guard checks its signature like any other signed link.

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// The path Plex posts to.
pub const WEBHOOK_PATH: &str = "/api/plex/webhook";

/// The largest webhook body read: Plex sends the event as JSON and, for some events, the
/// item's poster as a JPEG part.
pub const MAX_WEBHOOK_BYTES: usize = 2 * 1024 * 1024;

/// The address to paste into Plex: this server's public URL and the signed path.
pub fn webhook_url(state: &AppState) -> String {
    let signed = state.services.urls.signer().sign(WEBHOOK_PATH, u64::MAX);
    format!("{}{signed}", state.public_origin)
}

/// `POST /api/plex/webhook?exp=…&sig=…`: Plex's multipart event. A library change drops the
/// cache entries it makes stale; every other event is acknowledged and ignored.
pub async fn receive(
    State(state): State<AppState>,
    mut form: Multipart,
) -> Result<StatusCode, ApiError> {
    let mut payload = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(format!("not a Plex webhook: {e}")))?
    {
        if field.name() == Some("payload") {
            payload = Some(
                field
                    .text()
                    .await
                    .map_err(|e| ApiError::BadRequest(format!("unreadable payload: {e}")))?,
            );
        }
    }
    let Some(payload) = payload else {
        return Err(ApiError::BadRequest(
            "a Plex webhook carries a `payload` part".into(),
        ));
    };
    if let Some(change) = marquee_plex::parse_webhook(&payload) {
        crate::plex_events::forget(&state.services.library, &change).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/admin/plex-webhook` (admin token): the webhook address, to paste into Plex.
pub async fn address(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    crate::routes::admin::authorize(&state, &headers)?;
    Ok(Json(json!({
        "url": webhook_url(&state),
        "how": "Plex → Settings → Webhooks → Add Webhook, then paste this URL (needs Plex Pass).",
    })))
}
