//! Watch sessions over plain HTTP: create one, read a snapshot. Scripts use these; the browser
//! uses the equivalent server functions and the WebSocket. With guests off (`MARQUEE_GUESTS`),
//! they answer only a signed-in browser or the admin token, as the pages do.

use app::model::{Account, CreatedSession};
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use marquee_sync::Session;
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

/// Body of `POST /api/sessions`.
#[derive(Debug, Deserialize)]
pub struct CreateRequest {
    pub rating_key: String,
    pub name: String,
}

/// Refuses anonymous callers when guests are off.
fn admitted(
    state: &AppState,
    headers: &HeaderMap,
    account: Option<Extension<Account>>,
) -> Result<(), ApiError> {
    if state.guests || account.is_some() || super::admin::authorize(state, headers).is_ok() {
        Ok(())
    } else {
        Err(ApiError::SignInRequired)
    }
}

/// `POST /api/sessions` → 201 with the session id, the host's member id and the share link.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    account: Option<Extension<Account>>,
    body: Result<Json<CreateRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<CreatedSession>), ApiError> {
    admitted(&state, &headers, account)?;
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let created = app::ssr::sessions::create(&state.services, &req.rating_key, &req.name).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/sessions/{id}` → the session snapshot.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    account: Option<Extension<Account>>,
    Path(id): Path<String>,
) -> Result<Json<Session>, ApiError> {
    admitted(&state, &headers, account)?;
    Ok(Json(app::ssr::sessions::get(&state.services, &id).await?))
}
