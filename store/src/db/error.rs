//! Errors from the [`Store`](super::Store).

use diesel_async::pooled_connection::deadpool::{BuildError, PoolError};

/// Why a store operation failed. Messages never contain credentials: URLs are redacted
/// before they are put into an error.
#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    /// The database could not be reached or opened (URL shown without password).
    #[error("cannot connect to database {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: diesel::ConnectionError,
    },
    /// Schema migrations failed; the application should not start on a half-migrated schema.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// No pooled connection could be obtained (database down or pool exhausted).
    #[error("database pool error: {0}")]
    Pool(#[from] PoolError),
    /// The pool could not be built from its configuration.
    #[error("database pool configuration error: {0}")]
    PoolBuild(#[from] BuildError),
    /// Someone else updated the session first; reload and retry.
    #[error("session {id} was modified concurrently (expected version {expected}, found {actual})")]
    VersionConflict {
        id: String,
        expected: i64,
        actual: i64,
    },
    /// The addressed row does not exist.
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// A row with the same unique key already exists.
    #[error("{entity} {id} already exists")]
    Duplicate { entity: &'static str, id: String },
    /// The database URL is not one Marquee understands (shown without password).
    #[error("unsupported database URL: {0}")]
    InvalidUrl(String),
    /// Stored data that no longer reads as what it must be (a manual edit, or a bug).
    #[error("{what} in the database is unreadable")]
    Corrupt { what: String },
    /// Local filesystem problem (e.g. creating the data directory).
    #[error("filesystem error at {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Replaces the password in `scheme://user:password@host/...` with `***`, so URLs can be
/// logged and shown in errors.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest_start = scheme_end + 3;
    let rest = url.get(rest_start..).unwrap_or_default();
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or_default();
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = authority.get(..at).unwrap_or_default();
    let Some(colon) = userinfo.find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:***{}",
        url.get(..rest_start).unwrap_or_default(),
        userinfo.get(..colon).unwrap_or_default(),
        rest.get(at..).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_password_only() {
        assert_eq!(
            redact_url("postgres://bob:s3cr%40t@db:5432/marquee"),
            "postgres://bob:***@db:5432/marquee"
        );
        assert_eq!(
            redact_url("postgres://bob@db/marquee"),
            "postgres://bob@db/marquee"
        );
        assert_eq!(redact_url("redis://:pw@host"), "redis://:***@host");
        assert_eq!(redact_url("/tmp/x.db"), "/tmp/x.db");
    }
}
