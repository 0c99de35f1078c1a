//! Real Marquee servers on free ports, in the embedded mode (SQLite + in-process cache) or the
//! scale-out mode (a fresh PostgreSQL database + a fresh Redis namespace), each with its own
//! data directory.

use std::path::PathBuf;

use marquee_fakes::plex::{FakePlex, default_media_dir};
use marquee_store::secret::TranscodeOwner;
use marquee_store::testing::{fresh_postgres_database, fresh_redis_namespace, redis_url};
use server::config::Config;
use server::startup::{Running, spawn};

use super::Mode;
use super::plex::media;

/// A running server and a client for it.
pub struct TestApp {
    pub running: Running,
    pub client: reqwest::Client,
    /// The data directory, deleted when the test drops the app.
    pub _data: tempfile::TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    /// The storage the server runs on, read from its configuration so that it is right also
    /// for servers whose tests set up the storage themselves: scale-out when it shares a Redis.
    pub fn mode(&self) -> Mode {
        if self.running.config.redis_url.is_some() {
            Mode::ScaleOut
        } else {
            Mode::Embedded
        }
    }

    pub fn plex(&self) -> &FakePlex {
        &self.running.demo.as_ref().expect("a demo-mode server").plex
    }

    /// The demo's fake plex.tv.
    pub fn plex_tv(&self) -> &marquee_fakes::plextv::FakePlexTv {
        &self
            .running
            .demo
            .as_ref()
            .expect("a demo-mode server")
            .plex_tv
    }

    /// `path` (a `/media` or `/img` path with its query) as this server's pages would hand
    /// it out: signed.
    pub fn signed(&self, path: &str) -> String {
        let expires = app::ssr::urls::unix_now() + 600;
        self.running.services.urls.signer().sign(path, expires)
    }

    /// A transcode of `rating_key` version `index`, as a watch page gets it for someone not
    /// signed in: (token, master playlist path).
    pub fn transcode(&self, rating_key: &str, index: u32) -> (String, String) {
        self.transcode_for(rating_key, index, &TranscodeOwner::Anonymous)
    }

    /// The same, as a watch page gets it for `owner`.
    pub fn transcode_for(
        &self,
        rating_key: &str,
        index: u32,
        owner: &TranscodeOwner,
    ) -> (String, String) {
        self.running
            .services
            .urls
            .transcode(rating_key, index, owner, "base")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// The settings every test server starts from: a free port, `data` for its files, the built
/// site if there is one, and the demo media shared by all tests.
pub fn base_config(data: &tempfile::TempDir) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.path().to_path_buf(),
        site_root: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/site")),
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
        config.database_url = Some(fresh_postgres_database().await.url.into());
        config.redis_url = Some(redis_url().into());
        config.redis_namespace = fresh_redis_namespace().await;
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

/// A server that uses an existing (shared) Plex server rather than starting a demo one: with a
/// database URL and a Redis (URL, namespace), several of them form one scale-out deployment.
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
