//! Durable storage on SQLite or PostgreSQL through diesel-async.
//!
//! Both backends share one diesel schema and the same query code: [`Store`] holds an enum of
//! two connection pools and the private `with_conn!` macro expands each query once per
//! backend, so the compiler type-checks every query for both databases.

mod error;
mod models;
pub mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDateTime, SubsecRound, TimeDelta, Utc};
use diesel::OptionalExtension;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use audit::{AuditEvent, AuditFilter, NewAuditEvent};
pub use error::{StoreError, redact_url};
pub use models::{
    ChannelLink, MediaCacheEntry, NewChannelLink, NewMemberKey, NewSession, SESSION_ID_LEN,
    SessionRow, User, new_session_id, random_slug,
};
pub use plex_accounts::PlexAccountRow;
use schema::{media_cache, member_keys, preferences, sessions, users};

/// Where [`Store::shared_key`] keeps the installation's keys.
const SHARED_KEY_SCOPE: &str = "marquee";

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
/// PostgreSQL advisory-lock key held while migrating ("MARQUEE" in ASCII, as a number).
const MIGRATION_LOCK_KEY: i64 = 0x004d_4152_5155_4545;

/// Pragmas applied to every SQLite connection: WAL lets readers proceed during a write and
/// busy_timeout makes concurrent writers wait instead of failing with SQLITE_BUSY.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                              PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// Largest TTL accepted for the media cache; keeps `now + ttl` inside every backend's range.
const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

type SqliteAsync = SyncConnectionWrapper<diesel::SqliteConnection>;

/// Which database a [`Store`] talks to (for diagnostics and health pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum DbPool {
    Sqlite(Pool<SqliteAsync>),
    Postgres(Pool<AsyncPgConnection>),
}

/// Handle to the database; cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Store {
    pool: DbPool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Runs `$body` with `$conn` bound to a pooled connection of whichever backend is active.
/// The body is expanded once per backend so each is type-checked against its own connection.
macro_rules! with_conn {
    ($store:expr, |$conn:ident| $body:expr) => {
        match &$store.pool {
            DbPool::Sqlite(pool) => {
                let mut pooled = pool.get().await?;
                let $conn: &mut SqliteAsync = &mut pooled;
                $body
            }
            DbPool::Postgres(pool) => {
                let mut pooled = pool.get().await?;
                let $conn: &mut AsyncPgConnection = &mut pooled;
                $body
            }
        }
    };
}

mod audit;
mod auth;
mod links;
mod plex_accounts;
mod rejoin_keys;

pub use auth::{NewRefreshToken, Rotation};

/// Where the database is: the one place a `DATABASE_URL` is read. Unset (or empty) means the
/// embedded SQLite file in the data dir.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (may hold a password: its `Debug` is redacted).
    Postgres(String),
}

impl std::fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseTarget::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            DatabaseTarget::Postgres(url) => {
                f.debug_tuple("Postgres").field(&redact_url(url)).finish()
            }
        }
    }
}

impl DatabaseTarget {
    /// Parses a database URL (`postgres://…`, `postgresql://…`, `sqlite://path`, `path.db`);
    /// `None` or an empty string is `<data_dir>/marquee.db`.
    pub fn parse(database_url: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        let Some(url) = database_url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Self::Sqlite(data_dir.join("marquee.db")));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .or_else(|| {
                url.contains("://")
                    .then_some("")
                    .or(url.ends_with(".db").then_some(url))
            })
            .unwrap_or_default();
        if path.is_empty() || path.contains(":memory:") {
            // An in-memory database would be a different database per pooled connection.
            return Err(StoreError::InvalidUrl(redact_url(url)));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// What to log: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            DatabaseTarget::Sqlite(path) => format!("SQLite at {}", path.display()),
            DatabaseTarget::Postgres(url) => redact_url(url),
        }
    }
}

#[cfg(test)]
type Target = DatabaseTarget;

#[cfg(test)]
fn parse_target(database_url: Option<&str>, data_dir: &Path) -> Result<Target, StoreError> {
    DatabaseTarget::parse(database_url, data_dir)
}

/// Current UTC time at microsecond precision, the finest both backends keep, so values read
/// back compare equal to what was written.
fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

fn expiry(ttl: Duration) -> NaiveDateTime {
    let delta = TimeDelta::from_std(ttl.min(MAX_TTL)).unwrap_or(TimeDelta::zero());
    now() + delta
}

impl Store {
    /// Opens the database and applies pending migrations, so the rest of the application can
    /// assume the current schema.
    ///
    /// `database_url`: `None` → SQLite file `<data_dir>/marquee.db` (directory created);
    /// `sqlite://path`, `sqlite:path` or a path ending in `.db` → SQLite (relative paths are
    /// relative to the working directory); `postgres://…` / `postgresql://…` → PostgreSQL.
    pub async fn connect(database_url: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        Self::open(&DatabaseTarget::parse(database_url, data_dir)?).await
    }

    /// Opens (and migrates) the database at `target`.
    pub async fn open(target: &DatabaseTarget) -> Result<Store, StoreError> {
        match target {
            DatabaseTarget::Sqlite(path) => Self::connect_sqlite(path).await,
            DatabaseTarget::Postgres(url) => Self::connect_postgres(url).await,
        }
    }

    async fn connect_sqlite(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let url = path
            .to_str()
            .ok_or_else(|| StoreError::InvalidUrl(path.display().to_string()))?
            .to_owned();

        // Migrations use diesel's synchronous harness on a blocking thread: it works from any
        // tokio runtime flavour, unlike `AsyncMigrationHarness` (block_in_place).
        let migrate_url = url.clone();
        tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            use diesel::connection::SimpleConnection;
            let mut conn = diesel::SqliteConnection::establish(&migrate_url).map_err(|source| {
                StoreError::Connect {
                    url: migrate_url.clone(),
                    source,
                }
            })?;
            conn.batch_execute(SQLITE_PRAGMAS)?;
            // One exclusive transaction around all pending migrations: a second process (or
            // connection) starting at the same moment waits (busy_timeout) and then finds them
            // applied, instead of racing to create the same tables.
            conn.exclusive_transaction(|conn| run_migrations(conn, SQLITE_MIGRATIONS))
        })
        .await
        .map_err(|e| StoreError::Migration(format!("migration task failed: {e}")))??;

        let mut config = ManagerConfig::<SqliteAsync>::default();
        config.custom_setup = Box::new(|url: &str| {
            let url = url.to_owned();
            Box::pin(async move {
                let mut conn = SqliteAsync::establish(&url).await?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .await
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(conn)
            })
        });
        let manager = AsyncDieselConnectionManager::<SqliteAsync>::new_with_config(url, config);
        let pool = Pool::builder(manager).max_size(4).build()?;
        tracing::info!(path = %path.display(), "opened SQLite store");
        Ok(Store {
            pool: DbPool::Sqlite(pool),
        })
    }

    async fn connect_postgres(url: &str) -> Result<Store, StoreError> {
        let redacted = redact_url(url);
        let conn =
            AsyncPgConnection::establish(url)
                .await
                .map_err(|source| StoreError::Connect {
                    url: redacted.clone(),
                    source,
                })?;
        // The wrapper drives the async connection from the blocking thread through the
        // current runtime handle (the runtime keeps polling the connection task meanwhile).
        tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
            let mut conn: AsyncConnectionWrapper<AsyncPgConnection> = conn.into();
            // Several Marquee processes may start together on one database: an advisory lock
            // makes them migrate one at a time (the others then find nothing pending).
            let lock = diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"));
            diesel::RunQueryDsl::execute(lock, &mut conn)
                .map_err(|e| StoreError::Migration(format!("taking the migration lock: {e}")))?;
            let result = run_migrations(&mut conn, POSTGRES_MIGRATIONS);
            let unlock =
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));
            let _ = diesel::RunQueryDsl::execute(unlock, &mut conn);
            result
        })
        .await
        .map_err(|e| StoreError::Migration(format!("migration task failed: {e}")))??;

        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
        let pool = Pool::builder(manager).max_size(8).build()?;
        tracing::info!(url = %redacted, "opened PostgreSQL store");
        Ok(Store {
            pool: DbPool::Postgres(pool),
        })
    }

    /// Which database this store uses.
    pub fn backend(&self) -> Backend {
        match self.pool {
            DbPool::Sqlite(_) => Backend::Sqlite,
            DbPool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Round-trips a trivial query, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            diesel::sql_query("SELECT 1").execute(conn).await?;
            Ok(())
        })
    }

    // ----- users -----

    /// Records a Discord login: creates the user or refreshes name and avatar, keeping the
    /// user's settings.
    pub async fn upsert_user(
        &self,
        discord_id: &str,
        username: &str,
        avatar: Option<&str>,
    ) -> Result<User, StoreError> {
        let ts = now();
        let empty = serde_json::Value::Object(serde_json::Map::new());
        with_conn!(self, |conn| {
            Ok(diesel::insert_into(users::table)
                .values((
                    users::discord_id.eq(discord_id),
                    users::username.eq(username),
                    users::avatar.eq(avatar),
                    users::settings.eq(&empty),
                    users::created_at.eq(ts),
                    users::updated_at.eq(ts),
                ))
                .on_conflict(users::discord_id)
                .do_update()
                .set((
                    users::username.eq(excluded(users::username)),
                    users::avatar.eq(excluded(users::avatar)),
                    users::updated_at.eq(excluded(users::updated_at)),
                ))
                .returning(User::as_returning())
                .get_result(conn)
                .await?)
        })
    }

    /// Looks a user up by Marquee's id.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        with_conn!(self, |conn| {
            Ok(users::table
                .find(id)
                .select(User::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// Looks a user up by the id Discord gave them.
    pub async fn user_by_discord_id(&self, discord_id: &str) -> Result<Option<User>, StoreError> {
        with_conn!(self, |conn| {
            Ok(users::table
                .filter(users::discord_id.eq(discord_id))
                .select(User::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// Replaces a user's settings document.
    pub async fn set_user_settings(
        &self,
        user_id: i64,
        settings: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let ts = now();
        let changed = with_conn!(self, |conn| {
            diesel::update(users::table.find(user_id))
                .set((users::settings.eq(settings), users::updated_at.eq(ts)))
                .execute(conn)
                .await?
        });
        if changed == 0 {
            return Err(StoreError::NotFound {
                entity: "user",
                id: user_id.to_string(),
            });
        }
        Ok(())
    }

    // ----- watch sessions -----

    /// Persists a new watch session at version 0, with its creator's rejoin key if it has one
    /// (both or neither: one transaction).
    pub async fn create_session(&self, new: &NewSession) -> Result<SessionRow, StoreError> {
        let ts = now();
        let inserted = with_conn!(self, |conn| {
            conn.transaction::<_, diesel::result::Error, _>(async |conn| {
                let row = diesel::insert_into(sessions::table)
                    .values((
                        sessions::id.eq(&new.id),
                        sessions::host_name.eq(&new.host_name),
                        sessions::title.eq(&new.title),
                        sessions::current_item.eq(&new.current_item),
                        sessions::state.eq(&new.state),
                        sessions::version.eq(0_i64),
                        sessions::created_at.eq(ts),
                        sessions::updated_at.eq(ts),
                    ))
                    .returning(SessionRow::as_returning())
                    .get_result(conn)
                    .await?;
                if let Some(key) = &new.host_key {
                    diesel::insert_into(member_keys::table)
                        .values((
                            member_keys::session_id.eq(&new.id),
                            member_keys::member_id.eq(&key.member_id),
                            member_keys::key_hash.eq(&key.key_hash),
                            member_keys::created_at.eq(ts),
                        ))
                        .execute(conn)
                        .await?;
                }
                Ok(row)
            })
            .await
        });
        inserted.map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => StoreError::Duplicate {
                entity: "session",
                id: new.id.clone(),
            },
            other => StoreError::Query(other),
        })
    }

    /// Loads one session.
    pub async fn get_session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        with_conn!(self, |conn| {
            Ok(sessions::table
                .find(id)
                .select(SessionRow::as_select())
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// All sessions, oldest first (e.g. to restore them after a restart).
    pub async fn list_sessions(&self) -> Result<Vec<SessionRow>, StoreError> {
        with_conn!(self, |conn| {
            Ok(sessions::table
                .order((sessions::created_at.asc(), sessions::id.asc()))
                .select(SessionRow::as_select())
                .load(conn)
                .await?)
        })
    }

    /// Sessions written to since `since`, newest first, at most `limit` (where "who is
    /// watching now" is looked for).
    pub async fn sessions_updated_since(
        &self,
        since: chrono::NaiveDateTime,
        limit: i64,
    ) -> Result<Vec<SessionRow>, StoreError> {
        with_conn!(self, |conn| {
            Ok(sessions::table
                .filter(sessions::updated_at.ge(since))
                .order((sessions::updated_at.desc(), sessions::id.asc()))
                .limit(limit)
                .select(SessionRow::as_select())
                .load(conn)
                .await?)
        })
    }

    /// Optimistic concurrency: updates only if the stored version equals `expected_version`
    /// and then sets it to `expected_version + 1`; otherwise returns
    /// [`StoreError::VersionConflict`] (or [`StoreError::NotFound`]) and changes nothing.
    /// The check and the write are one `UPDATE … WHERE version = ?` statement, so two writers
    /// can never both win.
    pub async fn update_session(
        &self,
        id: &str,
        expected_version: i64,
        current_item: Option<&str>,
        state: &serde_json::Value,
    ) -> Result<SessionRow, StoreError> {
        let ts = now();
        let (updated, actual) = with_conn!(self, |conn| {
            let updated = diesel::update(
                sessions::table
                    .filter(sessions::id.eq(id))
                    .filter(sessions::version.eq(expected_version)),
            )
            .set((
                sessions::current_item.eq(current_item),
                sessions::state.eq(state),
                sessions::version.eq(expected_version + 1),
                sessions::updated_at.eq(ts),
            ))
            .returning(SessionRow::as_returning())
            .get_result(conn)
            .await
            .optional()?;
            let actual: Option<i64> = match updated {
                Some(_) => None,
                None => sessions::table
                    .find(id)
                    .select(sessions::version)
                    .first(conn)
                    .await
                    .optional()?,
            };
            (updated, actual)
        });
        match (updated, actual) {
            (Some(row), _) => Ok(row),
            (None, Some(actual)) => Err(StoreError::VersionConflict {
                id: id.to_owned(),
                expected: expected_version,
                actual,
            }),
            (None, None) => Err(StoreError::NotFound {
                entity: "session",
                id: id.to_owned(),
            }),
        }
    }

    /// Removes a session; `false` if it did not exist.
    pub async fn delete_session(&self, id: &str) -> Result<bool, StoreError> {
        with_conn!(self, |conn| {
            let n = diesel::delete(sessions::table.find(id))
                .execute(conn)
                .await?;
            Ok(n > 0)
        })
    }

    // ----- media cache -----

    /// Stores (or replaces) Plex metadata for `plex_id`, valid for `ttl`. This outlives
    /// restarts, unlike the in-process [`Cache`](crate::Cache).
    pub async fn put_media_cache(
        &self,
        plex_id: &str,
        metadata: &serde_json::Value,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let ts = now();
        let expires = expiry(ttl);
        with_conn!(self, |conn| {
            diesel::insert_into(media_cache::table)
                .values((
                    media_cache::plex_id.eq(plex_id),
                    media_cache::metadata.eq(metadata),
                    media_cache::expires_at.eq(expires),
                    media_cache::updated_at.eq(ts),
                ))
                .on_conflict(media_cache::plex_id)
                .do_update()
                .set((
                    media_cache::metadata.eq(excluded(media_cache::metadata)),
                    media_cache::expires_at.eq(excluded(media_cache::expires_at)),
                    media_cache::updated_at.eq(excluded(media_cache::updated_at)),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// Cached metadata for `plex_id`, or `None` if absent or expired.
    pub async fn get_media_cache(
        &self,
        plex_id: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let ts = now();
        with_conn!(self, |conn| {
            Ok(media_cache::table
                .filter(media_cache::plex_id.eq(plex_id))
                .filter(media_cache::expires_at.gt(ts))
                .select(media_cache::metadata)
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// Forgets the stored metadata of one item (Plex said it changed).
    pub async fn forget_media_cache(&self, plex_id: &str) -> Result<(), StoreError> {
        with_conn!(self, |conn| {
            diesel::delete(media_cache::table.filter(media_cache::plex_id.eq(plex_id)))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// Deletes expired rows (run periodically); returns how many were removed.
    pub async fn purge_expired_media_cache(&self) -> Result<u64, StoreError> {
        let ts = now();
        let n = with_conn!(self, |conn| {
            diesel::delete(media_cache::table.filter(media_cache::expires_at.le(ts)))
                .execute(conn)
                .await?
        });
        Ok(n as u64)
    }

    /// Deletes every cached row (e.g. after a Plex server change); returns how many.
    pub async fn clear_media_cache(&self) -> Result<u64, StoreError> {
        let n = with_conn!(self, |conn| {
            diesel::delete(media_cache::table).execute(conn).await?
        });
        Ok(n as u64)
    }

    // ----- preferences -----

    /// Sets `key` in `scope` (e.g. `"global"`, `"guild:123"`, `"user:5"`), replacing any
    /// previous value.
    pub async fn set_preference(
        &self,
        scope: &str,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let ts = now();
        with_conn!(self, |conn| {
            diesel::insert_into(preferences::table)
                .values((
                    preferences::scope.eq(scope),
                    preferences::key.eq(key),
                    preferences::value.eq(value),
                    preferences::updated_at.eq(ts),
                ))
                .on_conflict((preferences::scope, preferences::key))
                .do_update()
                .set((
                    preferences::value.eq(excluded(preferences::value)),
                    preferences::updated_at.eq(excluded(preferences::updated_at)),
                ))
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    /// The installation's key called `name`: 256 random bits made by whichever server asks
    /// first and read by all the others (they share this database), so what one web server
    /// signs, every other accepts. Kept in the preferences under the `marquee` scope.
    pub async fn shared_key(&self, name: &str) -> Result<[u8; 32], StoreError> {
        let fresh: [u8; 32] = rand::random();
        let fresh_hex: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
        let ts = now();
        with_conn!(self, |conn| {
            diesel::insert_into(preferences::table)
                .values((
                    preferences::scope.eq(SHARED_KEY_SCOPE),
                    preferences::key.eq(name),
                    preferences::value.eq(serde_json::Value::String(fresh_hex)),
                    preferences::updated_at.eq(ts),
                ))
                .on_conflict((preferences::scope, preferences::key))
                .do_nothing()
                .execute(conn)
                .await?;
        });
        let stored = self.get_preference(SHARED_KEY_SCOPE, name).await?;
        let parsed = stored.as_ref().and_then(|v| v.as_str()).and_then(|hex| {
            let bytes: Option<Vec<u8>> = (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|b| u8::from_str_radix(b, 16).ok())
                })
                .collect();
            bytes.and_then(|b| <[u8; 32]>::try_from(b).ok())
        });
        parsed.ok_or_else(|| StoreError::Corrupt {
            what: format!("the shared key {name:?}"),
        })
    }

    /// One preference value, if set.
    pub async fn get_preference(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        with_conn!(self, |conn| {
            Ok(preferences::table
                .filter(preferences::scope.eq(scope))
                .filter(preferences::key.eq(key))
                .select(preferences::value)
                .first(conn)
                .await
                .optional()?)
        })
    }

    /// All preferences of one scope, sorted by key.
    pub async fn preferences(
        &self,
        scope: &str,
    ) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        with_conn!(self, |conn| {
            Ok(preferences::table
                .filter(preferences::scope.eq(scope))
                .order(preferences::key.asc())
                .select((preferences::key, preferences::value))
                .load(conn)
                .await?)
        })
    }
}

fn run_migrations<C>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<(), StoreError>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    let applied = conn
        .run_pending_migrations(migrations)
        .map_err(|e| StoreError::Migration(e.to_string()))?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied database migrations");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let dir = Path::new("/data");
        assert_eq!(
            parse_target(None, dir).ok(),
            Some(Target::Sqlite(PathBuf::from("/data/marquee.db")))
        );
        assert_eq!(
            parse_target(Some("sqlite:///tmp/a.sqlite"), dir).ok(),
            Some(Target::Sqlite(PathBuf::from("/tmp/a.sqlite")))
        );
        assert_eq!(
            parse_target(Some("rel/b.db"), dir).ok(),
            Some(Target::Sqlite(PathBuf::from("rel/b.db")))
        );
        assert!(matches!(
            parse_target(Some("postgresql://u@h/db"), dir),
            Ok(Target::Postgres(_))
        ));
        let err = parse_target(Some("mysql://u:hunter2@h/db"), dir);
        match err {
            Err(StoreError::InvalidUrl(msg)) => assert!(!msg.contains("hunter2")),
            other => panic!("expected InvalidUrl, got {other:?}"),
        }
        assert!(parse_target(Some("sqlite::memory:"), dir).is_err());
    }
}
