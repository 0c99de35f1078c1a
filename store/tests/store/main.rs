//! The store's integration tests, one binary: [`db`] runs the durable store against SQLite and
//! PostgreSQL, [`cache`] the cache against the in-process backend and Redis. PostgreSQL and
//! Redis must be reachable (see `marquee_store::testing`): the tests fail rather than skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Generates `<name>::<first>` and `<name>::<second>` tests running the same body, each on the
/// fixture its `with_*` function builds, under the given test attribute:
///
/// ```ignore
/// on_both_backends! {
///     #[tokio::test]
///     sqlite => with_sqlite, postgres => with_postgres;
///     users_upsert_and_settings, preferences_per_scope,
/// }
/// ```
macro_rules! on_both_backends {
    (
        #[$test:meta]
        $first:ident => $with_first:ident, $second:ident => $with_second:ident;
        $($name:ident),* $(,)?
    ) => {$(
        mod $name {
            #[$test]
            async fn $first() {
                super::$with_first(super::$name).await;
            }
            #[$test]
            async fn $second() {
                super::$with_second(super::$name).await;
            }
        }
    )*};
}

mod cache;
mod db;
