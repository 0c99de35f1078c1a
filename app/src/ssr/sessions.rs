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

/// How many sessions under way the home page lists.
const WATCHING_NOW: usize = 12;

/// The sessions under way for the home page: what plays, where the group is, who is there.
/// Whoever sees the home page may join them all (see `docs/security.md`).
pub async fn watching_now(services: &Services) -> Vec<crate::model::WatchingNow> {
    let sessions = match services.sessions.watching_now(WATCHING_NOW).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "the home page goes without the sessions under way");
            return Vec::new();
        }
    };
    let now = now_ms();
    let mut out = Vec::with_capacity(sessions.len());
    for session in sessions {
        let Some(entry) = session.current_entry() else {
            continue;
        };
        let poster = match services.library.metadata(&entry.rating_key).await {
            Ok(meta) => super::mapping::image_url(
                meta.thumb.as_deref().or(meta.grandparent_thumb.as_deref()),
                super::mapping::POSTER_W,
                super::mapping::POSTER_H,
            ),
            Err(_) => None,
        };
        out.push(crate::model::WatchingNow {
            url: format!("/session/{}", session.id),
            title: entry.title.clone(),
            label: entry.info.as_ref().and_then(|i| i.label.clone()),
            poster,
            position: session.position_at(now),
            duration: session.duration(),
            playing: session.playback.playing && !session.ending.finished,
            viewers: session
                .members
                .iter()
                .filter(|m| m.connections > 0)
                .map(|m| m.name.clone())
                .collect(),
        });
    }
    out
}
