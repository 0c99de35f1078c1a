//! Watch sessions over plain HTTP: create one, read a snapshot. Scripts use these; the browser
//! uses the equivalent server functions and the WebSocket. Who may call them is the
//! [`Sessions`](crate::access::Door::Sessions) door's rule.

use app::model::CreatedSession;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
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

/// `POST /api/sessions` → 201 with the session id, the host's member id and the share link.
pub async fn create(
    State(state): State<AppState>,
    body: Result<Json<CreateRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<CreatedSession>), ApiError> {
    let Json(req) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let created = app::ssr::sessions::create(&state.services, &req.rating_key, &req.name).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/sessions/{id}` → the session snapshot.
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Session>, ApiError> {
    Ok(Json(app::ssr::sessions::get(&state.services, &id).await?))
}
