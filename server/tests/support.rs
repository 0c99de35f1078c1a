//! Test support: start real Marquee servers on free ports, in the embedded mode (SQLite +
//! in-process cache) or the scale-out mode (a fresh PostgreSQL database + Redis).
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use marquee_fakes::plex::{FakePlex, FakePlexOptions, MediaFiles, default_media_dir, ensure_media};
use server::config::Config;
use server::startup::{Running, spawn};

pub const ADMIN_URL_ENV: &str = "MARQUEE_TEST_DATABASE_URL";
pub const REDIS_URL_ENV: &str = "MARQUEE_TEST_REDIS_URL";

pub fn admin_database_url() -> String {
    std::env::var(ADMIN_URL_ENV)
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var(REDIS_URL_ENV).unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub async fn media() -> MediaFiles {
    ensure_media(&default_media_dir())
        .await
        .expect("demo media (is ffmpeg installed?)")
}

/// Which storage a test server uses.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    Embedded,
    ScaleOut,
}

/// A fresh, empty PostgreSQL database, dropped when the test process ends... or left for the
/// next run's clean-up (names carry the process id, so runs never collide).
pub async fn fresh_postgres_database() -> String {
    let admin = admin_database_url();
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL is required for scale-out tests ({admin}): {e}"));
    tokio::spawn(conn);
    let name = format!("marquee_http_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

pub struct TestApp {
    pub running: Running,
    pub client: reqwest::Client,
    pub _data: tempfile::TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    pub fn plex(&self) -> &FakePlex {
        self.running.demo.as_ref().expect("a demo-mode server")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

pub fn base_config(data: &tempfile::TempDir) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.path().to_path_buf(),
        site_root: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/site"),
        demo_media_dir: Some(default_media_dir()),
        log: "warn".into(),
        ..Config::default()
    }
}

/// A server in `mode` with its own demo Plex.
pub async fn spawn_app(mode: Mode) -> TestApp {
    spawn_app_with(mode, |_| {}).await
}

/// A server in `mode` with its own demo Plex, with settings changed by `adjust`.
pub async fn spawn_app_with(mode: Mode, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let data = tempfile::tempdir().unwrap();
    let mut config = base_config(&data);
    if let Mode::ScaleOut = mode {
        config.database_url = Some(fresh_postgres_database().await.into());
        config.redis_url = Some(redis_url().into());
        config.redis_namespace = unique_namespace();
    }
    adjust(&mut config);
    media().await;
    let running = spawn(&config)
        .await
        .unwrap_or_else(|e| panic!("server start ({mode:?}): {e}"));
    TestApp {
        running,
        client: reqwest::Client::new(),
        _data: data,
    }
}

/// A server that uses an existing (shared) Plex server rather than starting a demo one.
pub async fn spawn_with_plex(
    plex: &FakePlex,
    database_url: Option<String>,
    redis: Option<(String, String)>,
) -> TestApp {
    spawn_with_plex_and(plex, database_url, redis, |_| {}).await
}

/// [`spawn_with_plex`], with settings changed by `adjust`.
pub async fn spawn_with_plex_and(
    plex: &FakePlex,
    database_url: Option<String>,
    redis: Option<(String, String)>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let data = tempfile::tempdir().unwrap();
    let mut config = base_config(&data);
    config.plex_url = Some(plex.base_url());
    config.plex_token = Some(plex.token().to_string().into());
    config.database_url = database_url.map(Into::into);
    if let Some((url, namespace)) = redis {
        config.redis_url = Some(url.into());
        config.redis_namespace = namespace;
    }
    adjust(&mut config);
    let running = spawn(&config)
        .await
        .unwrap_or_else(|e| panic!("server start: {e}"));
    TestApp {
        running,
        client: reqwest::Client::new(),
        _data: data,
    }
}

pub async fn start_fake_plex() -> FakePlex {
    FakePlex::start(media().await, FakePlexOptions::default())
        .await
        .unwrap()
}

/// A Redis key namespace no other test uses.
pub fn unique_namespace() -> String {
    format!("marquee-test-{}", uuid::Uuid::new_v4().simple())
}

/// A Plex server whose library has sections but nothing in them.
pub async fn start_empty_fake_plex() -> FakePlex {
    let options = FakePlexOptions {
        large_section_items: 0,
        demo_items: false,
        ..FakePlexOptions::default()
    };
    FakePlex::start(media().await, options).await.unwrap()
}
