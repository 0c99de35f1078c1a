//! The PostgreSQL and Redis that integration tests run against, shared by the store's tests and
//! the server's so that both find the services the same way and fail the same way.
//!
//! Compiled only with the `test-support` feature, which the dev-dependencies of `marquee-store`
//! and `server` switch on: nothing here is part of Marquee itself.
//!
//! A missing service is a failure, never a skip: a skipped scale-out test looks like a passing
//! one, so a machine without PostgreSQL or Redis would otherwise report green without testing
//! the scale-out mode at all. Every helper panics instead, saying what it could not reach and
//! how to point the tests elsewhere.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::{random_slug, redact_url};
use crate::{Cache, TierTtls};

/// Names an admin connection URL for PostgreSQL (one allowed to create databases).
pub const DATABASE_URL_ENV: &str = "MARQUEE_TEST_DATABASE_URL";
/// Names the Redis URL.
pub const REDIS_URL_ENV: &str = "MARQUEE_TEST_REDIS_URL";

/// Where `scripts/test.sh` and CI start PostgreSQL (trust authentication).
const DEFAULT_ADMIN_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Where `scripts/test.sh` and CI start Redis.
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The PostgreSQL admin URL: [`DATABASE_URL_ENV`], or the local server the scripts start.
pub fn admin_database_url() -> String {
    std::env::var(DATABASE_URL_ENV).unwrap_or_else(|_| DEFAULT_ADMIN_DATABASE_URL.into())
}

/// The Redis URL: [`REDIS_URL_ENV`], or the local server the scripts start.
pub fn redis_url() -> String {
    std::env::var(REDIS_URL_ENV).unwrap_or_else(|_| DEFAULT_REDIS_URL.into())
}

/// A PostgreSQL database of its own for one test, so tests can run in parallel and never see
/// each other's rows.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// The database's name (random, so runs and tests never collide).
    pub name: String,
    /// A URL for it: the admin URL with the database name swapped in.
    pub url: String,
}

/// Creates an empty PostgreSQL database; panics, naming the URL (password hidden), when
/// PostgreSQL is not reachable.
///
/// Nothing drops it unless the test calls [`TestDatabase::drop_database`]: a database left
/// behind costs little and its random name keeps it out of every later run's way.
pub async fn fresh_postgres_database() -> TestDatabase {
    let admin_url = admin_database_url();
    let mut admin = connect_admin(&admin_url).await;
    let name = format!("marquee_test_{}", random_slug(12));
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
    let url = database_url(&admin_url, &name);
    TestDatabase { name, url }
}

impl TestDatabase {
    /// Drops the database, disconnecting whoever still uses it (a test's pool, say).
    pub async fn drop_database(self) {
        let mut admin = connect_admin(&admin_database_url()).await;
        let name = self.name;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot drop the test database {name}: {e}"));
    }
}

/// A Redis key namespace no other test uses; panics when Redis is not reachable, so a missing
/// Redis shows up here, by name, rather than as some later error of the code under test.
pub async fn fresh_redis_namespace() -> String {
    let namespace = format!("marquee_test_{}", random_slug(12));
    let url = redis_url();
    // `Cache::redis` checks the connection before it answers: the same check the server makes
    // at start-up.
    if let Err(e) = Cache::redis(&url, &namespace, TierTtls::default()).await {
        panic!(
            "Redis is required for this test but is not reachable at {} \
             (start it, or set {REDIS_URL_ENV} to its URL): {e}",
            redact_url(&url)
        );
    }
    namespace
}

async fn connect_admin(admin_url: &str) -> AsyncPgConnection {
    AsyncPgConnection::establish(admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required for this test but is not reachable at {} \
                 (start it, or set {DATABASE_URL_ENV} to an admin URL): {e}",
                redact_url(admin_url)
            )
        })
}

/// `admin_url` with its database (the path) replaced by `name`, its query string kept.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base.get(authority_start..).and_then(|rest| rest.find('/')) {
        Some(slash) => base.get(..authority_start + slash).unwrap_or(base),
        None => base,
    };
    format!("{server}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn the_database_name_replaces_the_path_and_keeps_the_query() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/postgres",
                "postgres://postgres@127.0.0.1:5432/t1",
            ),
            ("postgres://u:p@db:5432", "postgres://u:p@db:5432/t1"),
            (
                "postgres://u@db/admin?sslmode=disable",
                "postgres://u@db/t1?sslmode=disable",
            ),
        ];
        for (admin, expected) in cases {
            assert_eq!(database_url(admin, "t1"), expected, "{admin}");
        }
    }
}
