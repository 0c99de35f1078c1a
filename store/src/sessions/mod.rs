//! Watch sessions as a service: the domain model from `marquee-sync`, persisted in the
//! [`Store`] and announced on the [`Bus`].
//!
//! Every change goes through [`SessionStore::update`]: load the session, run the domain rule,
//! write it back guarded by the version (optimistic concurrency, retried on conflict so several
//! processes can share one database), then publish what changed. Inside one process, updates to
//! one session are also serialised by a lock, so a burst of joins does not turn into a burst of
//! retries.

mod bus;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use marquee_sync::{Change, Session, SessionError};

use crate::db::{NewMemberKey, NewSession, Store, StoreError};
use crate::secret::{hash_secret, new_secret, secret_matches};
pub use bus::{Bus, BusError, SessionEvent};

/// Server time in milliseconds since the Unix epoch, with sub-millisecond precision: the clock
/// sessions are expressed in and every viewer syncs to.
pub fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// Attempts before a write that keeps losing the version race gives up.
const MAX_ATTEMPTS: u32 = 40;
/// Longest pause between attempts after a lost race (ms); pauses grow and are jittered so
/// processes racing for one session spread out instead of colliding again.
const MAX_BACKOFF_MS: u64 = 64;

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionStoreError {
    #[error("session {0} not found")]
    NotFound(String),
    /// The domain refused the change; nothing was written.
    #[error(transparent)]
    Rejected(#[from] SessionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored state that no longer parses (a bug or a manual edit).
    #[error("session {id} has unreadable state: {reason}")]
    Corrupt { id: String, reason: String },
    #[error("too many concurrent changes to session {0}; try again")]
    Contended(String),
}

/// The outcome of an accepted update.
#[derive(Debug, Clone)]
pub struct Updated<T> {
    pub session: Session,
    pub changes: Vec<Change>,
    pub value: T,
}

/// See the module docs.
#[derive(Clone)]
pub struct SessionStore {
    store: Store,
    bus: Bus,
    /// One slot per session: its lock serialises this process's updates to the session, and it
    /// holds the last version this process stored, which the next update starts from (falling
    /// back to the database when the version check says another process moved on).
    slots: Arc<Mutex<HashMap<String, Slot>>>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Session>>>;

impl SessionStore {
    pub fn new(store: Store, bus: Bus) -> Self {
        Self {
            store,
            bus,
            slots: Arc::default(),
        }
    }

    /// The event bus (the hub subscribes to it).
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Persists a new session. `host_key` is the plain rejoin key handed to an anonymous
    /// creator (see [`SessionStore::issue_member_key`]); only its hash is stored.
    pub async fn create(
        &self,
        session: &Session,
        host_key: Option<&str>,
    ) -> Result<Session, SessionStoreError> {
        let host = session.host();
        let new = NewSession {
            id: session.id.clone(),
            host_name: host.map(|m| m.name.clone()).unwrap_or_default(),
            title: session.title.clone(),
            current_item: session.current_entry().map(|e| e.rating_key.clone()),
            state: to_json(session)?,
            host_key: match (host, host_key) {
                (Some(host), Some(key)) => Some(NewMemberKey {
                    member_id: host.id.clone(),
                    key_hash: hash_secret(key),
                }),
                _ => None,
            },
        };
        let row = self.store.create_session(&new).await?;
        from_row(&row)
    }

    /// A new rejoin key for `member` of `session`: the caller gives it to that member's
    /// browser only (it is never part of a snapshot or an event), and stores its hash here.
    pub async fn issue_member_key(
        &self,
        session: &str,
        member: &str,
    ) -> Result<String, SessionStoreError> {
        let key = new_secret();
        self.store
            .put_member_key(session, member, &hash_secret(&key))
            .await?;
        Ok(key)
    }

    /// Whether `key` is `member`'s rejoin key in `session`.
    pub async fn member_key_matches(
        &self,
        session: &str,
        member: &str,
        key: &str,
    ) -> Result<bool, SessionStoreError> {
        Ok(self
            .store
            .member_key_hash(session, member)
            .await?
            .is_some_and(|stored| secret_matches(key, &stored)))
    }

    /// Loads a session. One whose playback passed a milestone (its item's end, the end of an
    /// "Up next" countdown) is brought up to date first: the timers that act on time run only
    /// where viewers are connected, and a session nobody has open must still read as ended.
    /// The database under the sessions (for what is recorded beside them, such as the audit
    /// log).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub async fn get(&self, id: &str) -> Result<Option<Session>, SessionStoreError> {
        let session = match self.store.get_session(id).await? {
            Some(row) => from_row(&row)?,
            None => return Ok(None),
        };
        if session
            .next_milestone(now_ms())
            .is_none_or(|due| due > now_ms())
        {
            return Ok(Some(session));
        }
        match self.update(id, None, |s| Ok((s.tick(now_ms()), ()))).await {
            Ok(updated) => Ok(Some(updated.session)),
            Err(SessionStoreError::NotFound(_)) => Ok(None),
            Err(e) => {
                tracing::warn!(session = id, error = %e, "could not bring a session up to date");
                Ok(Some(session))
            }
        }
    }

    /// Runs `rule` on the current session and, if it produced changes, stores and publishes
    /// them with `by` as the actor. `rule` may run more than once (on a version race), so it
    /// must only touch the session it is given.
    pub async fn update<T, F>(
        &self,
        id: &str,
        by: Option<&str>,
        mut rule: F,
    ) -> Result<Updated<T>, SessionStoreError>
    where
        F: FnMut(&mut Session) -> Result<(Vec<Change>, T), SessionError>,
    {
        let slot = self.slot(id);
        let mut last_stored = slot.lock().await;
        let mut cached = last_stored.clone();
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 1 {
                let cap = (1u64 << attempt.min(6)).min(MAX_BACKOFF_MS);
                let pause = rand::random_range(0..=cap);
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
            let from_cache = cached.is_some();
            let mut session = match cached.take() {
                Some(s) => s,
                None => {
                    let row = self
                        .store
                        .get_session(id)
                        .await?
                        .ok_or_else(|| SessionStoreError::NotFound(id.to_owned()))?;
                    from_row(&row)?
                }
            };
            let base = session.version;
            let outcome = rule(&mut session);
            let refused_or_unchanged = match &outcome {
                Err(_) => true,
                Ok((changes, _)) => changes.is_empty(),
            };
            if from_cache && refused_or_unchanged {
                // Never refuse (or skip) on the strength of a copy that may be stale.
                continue;
            }
            let (changes, value) = outcome?;
            if changes.is_empty() {
                session.version = base;
                return Ok(Updated {
                    session,
                    changes,
                    value,
                });
            }
            session.version = base + 1;
            let state = to_json(&session)?;
            let current = session.current_entry().map(|e| e.rating_key.clone());
            let base_i64 = i64::try_from(base).unwrap_or(i64::MAX);
            match self
                .store
                .update_session(id, base_i64, current.as_deref(), &state)
                .await
            {
                Ok(_) => {
                    *last_stored = Some(session.clone());
                    let event = SessionEvent {
                        session: id.to_owned(),
                        version: session.version,
                        by: by.and_then(|m| session.actor(m)),
                        changes: changes.clone(),
                    };
                    if let Err(e) = self.bus.publish(event).await {
                        // The change is stored; viewers resync on their next event or ping.
                        tracing::warn!(session = id, error = %e, "could not publish a session change");
                    }
                    return Ok(Updated {
                        session,
                        changes,
                        value,
                    });
                }
                // Another process changed it first (or our copy was stale): reload and retry.
                Err(StoreError::VersionConflict { .. }) => continue,
                Err(StoreError::NotFound { .. }) => {
                    *last_stored = None;
                    return Err(SessionStoreError::NotFound(id.to_owned()));
                }
                Err(e) => {
                    *last_stored = None;
                    return Err(e.into());
                }
            }
        }
        Err(SessionStoreError::Contended(id.to_owned()))
    }

    /// Sessions with someone in them now and something to watch, most recently changed first
    /// (at most `limit`): looked for among those written to in the last day (a session
    /// writes on every join, leave and command).
    pub async fn watching_now(&self, limit: usize) -> Result<Vec<Session>, SessionStoreError> {
        let since = (chrono::Utc::now() - chrono::Duration::hours(24)).naive_utc();
        let rows = self.store.sessions_updated_since(since, 200).await?;
        let mut out = Vec::new();
        for row in &rows {
            let session = match from_row(row) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(session = row.id, error = %e, "skipping an unreadable session");
                    continue;
                }
            };
            if session.current_entry().is_some()
                && session.members.iter().any(|m| m.connections > 0)
            {
                out.push(session);
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Marks everyone offline in every session: for a single process starting up, when no
    /// connection can have survived. Returns how many sessions were touched.
    pub async fn reset_presence(&self) -> Result<usize, SessionStoreError> {
        let mut n = 0;
        for row in self.store.list_sessions().await? {
            let mut session = from_row(&row)?;
            let before = session.clone();
            session.reset_presence(now_ms());
            if session != before {
                let state = to_json(&session)?;
                let current = session.current_entry().map(|e| e.rating_key.clone());
                self.store
                    .update_session(&row.id, row.version, current.as_deref(), &state)
                    .await?;
                n += 1;
            }
        }
        Ok(n)
    }

    fn slot(&self, id: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() > 1024 {
            // Bound the map: drop idle slots (their sessions are re-read from the store).
            slots.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        slots.entry(id.to_owned()).or_default().clone()
    }
}

fn to_json(session: &Session) -> Result<serde_json::Value, SessionStoreError> {
    serde_json::to_value(session).map_err(|e| SessionStoreError::Corrupt {
        id: session.id.clone(),
        reason: e.to_string(),
    })
}

fn from_row(row: &crate::db::SessionRow) -> Result<Session, SessionStoreError> {
    let mut session: Session =
        serde_json::from_value(row.state.clone()).map_err(|e| SessionStoreError::Corrupt {
            id: row.id.clone(),
            reason: e.to_string(),
        })?;
    // The row's version column is the truth (it is what the optimistic check compares).
    session.version = u64::try_from(row.version).unwrap_or(0);
    Ok(session)
}
