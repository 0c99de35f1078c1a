//! Creating and reading watch sessions for server functions and the HTTP API.

use marquee_store::SessionStoreError;
use marquee_store::sessions::now_ms;
use marquee_sync::{DisplayName, Member, RatingKey, Role, Session, SessionId};

use super::Services;
use crate::error::AppError;
use crate::model::CreatedSession;

/// Starts a session watching `rating_key`, hosted by a new member called `name`. The caller
/// keeps the returned member id and rejoin key to join as that host.
pub async fn create(
    services: &Services,
    rating_key: &str,
    name: &str,
) -> Result<CreatedSession, AppError> {
    let rating_key = RatingKey::parse(rating_key)
        .map_err(|_| AppError::BadRequest("that is not a valid library key".into()))?;
    let name = DisplayName::parse(name).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let rating_key = rating_key.as_str();
    let item = services.library.item(rating_key).await?;
    if !item.kind.is_playable() {
        return Err(AppError::BadRequest(format!(
            "{} cannot be played; pick a movie or an episode",
            item.title
        )));
    }
    let host = Member {
        id: marquee_sync::member::anonymous(uuid::Uuid::new_v4().simple().to_string()),
        name: name.into(),
        role: Role::Host,
        connections: 0,
        buffering: false,
        joined_at: 0.0,
        last_command: 0,
        rtt_ms: 0.0,
        left_at: 0.0,
    };
    let member = host.id.to_string();
    let id = marquee_store::db::new_session_id();
    let session = Session::new(id, host, (rating_key.to_owned(), item.title), now_ms())
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let member_key = marquee_store::secret::new_secret();
    let session = services
        .sessions
        .create(&session, Some(&member_key))
        .await
        .map_err(map_err)?;
    tracing::info!(session = %session.id, item = rating_key, "watch session created");
    Ok(CreatedSession {
        url: format!("/session/{}", session.id),
        id: session.id,
        member,
        member_key,
    })
}

/// A session's snapshot.
pub async fn get(services: &Services, id: &str) -> Result<Session, AppError> {
    if SessionId::parse(id).is_err() {
        return Err(AppError::NotFound(format!("watch session {id:?}")));
    }
    services
        .sessions
        .get(id)
        .await
        .map_err(map_err)?
        .ok_or_else(|| AppError::NotFound(format!("watch session {id}")))
}

fn map_err(e: SessionStoreError) -> AppError {
    match e {
        SessionStoreError::NotFound(id) => AppError::NotFound(format!("watch session {id}")),
        SessionStoreError::Rejected(r) => AppError::BadRequest(r.to_string()),
        other => super::errors::internal("session store", &other),
    }
}
