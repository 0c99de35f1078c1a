//! What the server's integration tests share: real Marquee servers on free ports ([`app`]) in
//! either storage [`Mode`], the fake Plex they talk to ([`plex`]), and WebSocket viewers that
//! speak the sync protocol ([`viewer`]).

pub mod app;
pub mod logs;
pub mod plex;
pub mod viewer;

pub use app::{
    TestApp, base_config, spawn_app, spawn_app_with, spawn_with_plex, spawn_with_plex_and,
};
pub use marquee_store::testing::{fresh_postgres_database, fresh_redis_namespace, redis_url};
pub use plex::{media, start_empty_fake_plex, start_fake_plex, start_fake_plex_with};

/// The `marquee` binary (the `marquee` crate) beside this test's own: `target/<profile>/marquee`.
/// `cargo build` (or `scripts/test.sh`) makes it; a missing one fails the test, saying so.
pub fn marquee_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/api-<hash> → target/<profile>/marquee
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("marquee"))
        .expect("target/<profile>");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (cargo build, or scripts/test.sh)",
        bin.display()
    );
    bin
}

/// Which storage a test server uses. Marquee promises the same behaviour in both, so most tests
/// run in both (see [`both_modes!`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One process: SQLite in a temporary directory and the in-process cache and event bus.
    Embedded,
    /// The shared deployment: a fresh PostgreSQL database and a fresh Redis namespace.
    ScaleOut,
}

/// Runs each test body once in each [`Mode`]: as `<area>::embedded::<name>` and as
/// `<area>::scale_out::<name>`, so a failure names the mode it failed in.
///
/// Each group names a setup function of the area, `async fn(Mode) -> Fixture`, and the bodies,
/// `async fn(Fixture)`, that run on what it builds:
///
/// ```ignore
/// both_modes! {
///     spawn_app => [search_finds_titles, plex_outage_gives_a_clear_error_page],
///     empty_library_world => [an_empty_library_is_explained],
/// }
/// ```
///
/// Every test gets a two-thread runtime, which the server under test, its fakes and the test's
/// own clients all share.
macro_rules! both_modes {
    ($($setup:ident => [$($name:ident),* $(,)?]),+ $(,)?) => {
        mod embedded {
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::$setup($crate::helpers::Mode::Embedded).await).await;
                }
            )*)+
        }
        mod scale_out {
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::$setup($crate::helpers::Mode::ScaleOut).await).await;
                }
            )*)+
        }
    };
}
pub(crate) use both_modes;
