//! Builds the application from a [`Config`]: store, cache, Plex client (or the demo library),
//! routes. `main` calls [`run`]; tests call [`spawn`] with port 0.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use app::ssr::Services;
use app::{App, shell};
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use marquee_plex::{PlexClient, PlexConfig};
use marquee_store::{Bus, Cache, Store, redact_url};
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

use crate::config::settings::{PlexSource, Settings};
use crate::config::{Config, ConfigError};
use crate::routes::{admin, hls, images, media, ops, sessions};
use crate::state::AppState;
use crate::telemetry;

/// Why Marquee could not start; each names the setting to look at.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("could not open the database: {0}")]
    Store(#[from] marquee_store::StoreError),
    #[error("could not connect to Redis at REDIS_URL: {0}")]
    Cache(#[from] marquee_store::CacheError),
    #[error("the Plex settings are not usable: {0}")]
    Plex(#[from] marquee_plex::PlexError),
    #[error("could not subscribe to session events on Redis: {0}")]
    Bus(#[from] marquee_store::BusError),
    #[error("could not restore watch sessions: {0}")]
    Sessions(#[from] marquee_store::SessionStoreError),
    #[error("the demo library could not start: {0}")]
    Demo(#[from] marquee_fakes::FakeError),
    #[error("PLEX_URL {url:?} is not a URL: {reason}")]
    PlexUrl {
        url: String,
        reason: url::ParseError,
    },
    #[error("could not use the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not listen on {addr}: {source} (set MARQUEE_BIND to another address)")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
    #[error("the Discord bot could not start: {0}")]
    Bot(#[from] bot::StartError),
    #[error("{0}")]
    BotMode(&'static str),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// A running server (for tests and the CLI).
pub struct Running {
    pub addr: SocketAddr,
    pub services: Services,
    /// The demo Plex server and plex.tv, when no `PLEX_URL` was configured.
    pub demo: Option<crate::demo::Demo>,
    pub admin_token: SecretString,
    /// The configuration it runs with (to start another process on the same data).
    pub config: Config,
    /// The Discord bot, when a token is configured and it runs in this process.
    pub bot: Option<bot::BotHandle>,
    stop: tokio_util::sync::CancellationToken,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<Result<(), std::io::Error>>>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving as `marquee serve` does on SIGTERM (see [`crate::shutdown`]): no new
    /// connections, viewers told to reconnect, requests given the grace period. Returns once
    /// the server has stopped.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "the server ended with an error"),
                Err(e) => tracing::warn!(error = %e, "the server task failed"),
            }
        }
    }
}

struct Built {
    router: Router,
    services: Services,
    /// The bot's service: the web routes use it, and so does the bot when it runs here.
    discord: bot::BotService,
    demo: Option<crate::demo::Demo>,
    admin_token: SecretString,
    /// The WebSocket hub, told first when the server stops.
    hub: crate::sync::Hub,
}

/// Connect everything and build the router; nothing is listening yet.
async fn build(settings: &Settings, bind: SocketAddr) -> Result<Built, StartError> {
    let data_dir = &settings.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.clone(),
        source,
    })?;

    let store = Store::open(&settings.database).await?;
    tracing::info!(
        backend = settings.database.describe(),
        "store ready, migrations applied"
    );

    let cache = match &settings.redis {
        Some(redis) => {
            let url = redis.url.expose_secret();
            let cache = Cache::redis(url, &redis.namespace, settings.cache.clone()).await?;
            tracing::info!(redis = redact_url(url), "cache: Redis");
            cache
        }
        None => {
            tracing::info!("cache: in-process");
            Cache::in_process_bounded(settings.cache.clone(), settings.limits.cache_memory_bytes)
        }
    };

    let (base_url, plex_token, demo) = match &settings.plex.source {
        PlexSource::Demo {
            media_dir,
            transcode_stop,
        } => {
            let demo = crate::demo::start(media_dir, *transcode_stop).await?;
            tracing::info!(
                plex = demo.plex.base_url(),
                plex_tv = demo.plex_tv.base_url(),
                "no PLEX_URL set: serving the built-in demo library (and a fake plex.tv)"
            );
            let token: SecretString = demo.plex.token().to_string().into();
            let url =
                url::Url::parse(&demo.plex.base_url()).map_err(|reason| StartError::PlexUrl {
                    url: demo.plex.base_url(),
                    reason,
                })?;
            (url, token, Some(demo))
        }
        PlexSource::Server { url, token } => {
            tracing::info!(plex = %url, "using the Plex server at PLEX_URL");
            (url.clone(), token.clone(), None)
        }
    };
    let client_id = match &settings.plex.client_id {
        Some(id) => id.clone(),
        None => {
            if settings.redis.is_some() {
                tracing::warn!(
                    "several web servers each play as their own Plex player; set MARQUEE_PLEX_CLIENT_ID to one value for all of them"
                );
            }
            client_identifier(data_dir)?
        }
    };
    let plex_tv = plex_tv(settings, demo.as_ref(), &client_id)?;
    let plex = PlexClient::new(PlexConfig {
        base_url: base_url.clone(),
        token: plex_token,
        client_identifier: client_id,
        product: "Marquee".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        device_name: "Marquee server".into(),
        timeout: settings.plex.timeout,
    })?;

    let admin_token = match &settings.admin_token {
        Some(t) => t.clone(),
        None => stored_secret(&data_dir.join("admin-token"))?,
    };

    let bus = match &settings.redis {
        Some(redis) => {
            let bus = Bus::redis(redis.url.expose_secret(), &redis.namespace).await?;
            tracing::info!("session events: Redis pub/sub");
            bus
        }
        None => Bus::in_process(),
    };
    // One URL-signing key for every server sharing this database.
    let urls = app::ssr::urls::MediaUrls::new(
        marquee_store::secret::UrlSigner::new(store.shared_key("url-signing").await?),
        settings.auth.media_url_ttl,
    );
    let mut services = Services::new(plex, cache, store, bus.clone(), urls);
    if let Some(key) = token_key(settings)? {
        use secrecy::ExposeSecret as _;
        services.plex_accounts = Some(Arc::new(app::ssr::plex_accounts::PlexAccounts::new(
            plex_tv,
            marquee_store::secret::TokenSealer::new(key.expose_secret().as_bytes()),
            services.store.clone(),
            services.cache.clone(),
            services.plex.clone(),
        )));
    }
    if bus.kind() == "in-process" {
        // One process owns every session: nobody can still be connected from before.
        let n = services.sessions.reset_presence().await?;
        if n > 0 {
            tracing::info!(
                sessions = n,
                "restored watch sessions; everyone starts offline"
            );
        }
    }
    let hub = crate::sync::Hub::new(
        services.sessions.clone(),
        services.library.clone(),
        crate::sync::progress::ProgressConfig {
            plex: services.plex.clone(),
            accounts: services.plex_accounts.clone(),
            library: services.library.clone(),
            every: settings.limits.transcodes.timeline_every,
        },
    );
    purge_media_cache_periodically(services.store.clone(), hub.clone());
    {
        let hub = hub.clone();
        crate::plex_events::spawn(
            services.plex.clone(),
            services.library.clone(),
            async move { hub.closing().await },
        );
    }
    // A configured site directory wins; else the site inside the binary; else target/site.
    let site_dir = settings
        .site_root
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SITE_ROOT));
    let embedded = match &settings.site_root {
        Some(_) => None,
        None => crate::site::built_in(),
    };
    let leptos = leptos_options(&site_dir, bind);
    if let Some(site) = embedded {
        let (files, bytes) = site.size();
        tracing::info!(files, bytes, "serving the site built into this binary");
        app::assets::install(site.names());
    } else if !site_dir.join("pkg").join("marquee_bg.wasm").exists() {
        tracing::warn!(
            site_root = %site_dir.display(),
            "no WASM bundle found: pages render, but the player will not start. Run scripts/build.sh"
        );
    }
    let public_url = settings.public_url(bind);
    let public_origin: Arc<str> = url::Url::parse(&public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
        .into();
    let bot_api = settings.discord.bot_token.as_ref().map(|token| {
        Arc::new(crate::auth::bot_api::BotApi::new(
            &settings.discord.api_base(),
            token.clone(),
            settings.discord.oauth.as_ref().map(|o| o.client_id.clone()),
        ))
    });
    let auth = build_auth(settings, &services, public_url.clone(), bot_api.clone())?;
    let discord = crate::discord::bot_service(&services, &settings.discord, public_url);
    let roles = bot_api.as_ref().map(|api| {
        Arc::new(crate::auth::roles::RoleAdmission {
            bot: discord.clone(),
            api: Arc::clone(api),
        })
    });
    let idle = settings.limits.transcodes.idle;
    if idle.as_secs() <= 2 * app::player::hls::REPORT_EVERY_SECS {
        tracing::warn!(
            idle_secs = idle.as_secs(),
            "MARQUEE_TRANSCODE_IDLE_SECS is within two of the players' reports: paused players may lose their transcoded stream"
        );
    }
    let stream_choice = crate::transcodes::account::StreamChoiceLock::default();
    let relay = crate::transcodes::relay::Relay::new(
        crate::transcodes::Transcodes::new(settings.limits.transcodes),
        services.plex.clone(),
        services.cache.clone(),
        stream_choice.clone(),
    );
    relay.spawn();
    let state = AppState {
        trusted_proxies: settings.limits.trusted_proxies.clone(),
        relay,
        subtitles: crate::subtitles::Subtitles::new(
            services.plex.clone(),
            services.cache.clone(),
            stream_choice,
        ),
        chunks: crate::chunks::Chunks::new(
            services.plex.clone(),
            settings.limits.media_cache_bytes,
        ),
        previews: crate::previews::Previews::new(services.plex.clone(), PREVIEW_CACHE_BYTES),
        sockets: crate::sync::SocketGate::new(settings.limits.sockets),
        page_limits: Arc::new(crate::auth::limits::Limiter::new(
            settings.limits.page_rate_per_minute,
            settings.limits.page_rate_burst,
        )),
        services: services.clone(),
        leptos: leptos.clone(),
        admin_token: Arc::new(admin_token.clone()),
        plex_base: Arc::new(base_url),
        metrics: telemetry::metrics_handle(),
        hub: hub.clone(),
        auth: Arc::new(auth),
        discord: discord.clone(),
        roles,
        bot_api,
        guests: settings.auth.guests,
        hsts: settings.auth.hsts,
        public_origin,
        site: embedded,
    };
    Ok(Built {
        router: router(state),
        services,
        discord,
        demo,
        admin_token,
        hub,
    })
}

/// How long the audit log keeps an event.
const AUDIT_KEPT: chrono::Duration = chrono::Duration::days(90);

/// Seek-preview indexes kept in memory: a dozen long films' worth.
const PREVIEW_CACHE_BYTES: u64 = 128 << 20;

/// How often expired rows leave the `media_cache` table (reads skip them already; this keeps
/// the table from growing without end).
const MEDIA_CACHE_PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Purges expired `media_cache` rows every [`MEDIA_CACHE_PURGE_EVERY`] until the server stops.
fn purge_media_cache_periodically(store: Store, hub: crate::sync::Hub) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(MEDIA_CACHE_PURGE_EVERY);
        loop {
            tokio::select! {
                () = hub.closing() => return,
                _ = every.tick() => {}
            }
            let kept_since = (chrono::Utc::now() - AUDIT_KEPT).naive_utc();
            match store.purge_audit(kept_since).await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "old audit events purged"),
                Err(e) => tracing::warn!(error = %e, "could not purge old audit events"),
            }
            match store.purge_expired_media_cache().await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "expired media cache rows purged"),
                Err(e) => tracing::warn!(error = %e, "could not purge the expired media cache"),
            }
        }
    });
}

/// Where a checkout's build puts the site (`Leptos.toml`'s `site-root`).
pub const DEFAULT_SITE_ROOT: &str = "target/site";

/// The site's names: `Leptos.toml` writes them down for the build scripts, and a test checks
/// that the two agree.
pub fn leptos_options(site_root: &Path, bind: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("marquee")
        .site_root(site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(bind)
        .build()
}

/// Sign-in: the token key (configured, or generated into the data dir), and Discord OAuth2 when
/// configured.
fn build_auth(
    settings: &Settings,
    services: &Services,
    public_url: String,
    bot_api: Option<Arc<crate::auth::bot_api::BotApi>>,
) -> Result<crate::auth::Auth, StartError> {
    let key = match &settings.auth.jwt_secret {
        Some(k) => k.clone(),
        None if settings.discord.oauth.is_some() && settings.redis.is_some() => {
            return Err(StartError::BotMode(
                "Discord sign-in on several servers needs one shared MARQUEE_JWT_SECRET (a long random string)",
            ));
        }
        None => stored_secret(&settings.data_dir.join("jwt-key"))?,
    };
    let discord = settings.discord.oauth.as_ref().map(|app| {
        crate::auth::discord::DiscordOAuth::new(
            &settings.discord.api_base(),
            app.client_id.clone(),
            app.client_secret.clone(),
        )
    });
    let limits = &settings.limits;
    Ok(crate::auth::Auth {
        keys: crate::auth::tokens::AccessKeys::new(
            key.expose_secret().as_bytes(),
            settings.auth.access_token_ttl,
        ),
        refresh_ttl: settings.auth.refresh_token_ttl,
        discord,
        public_url,
        store: services.store.clone(),
        limits: crate::auth::limits::Limiter::new(
            limits.auth_rate_per_minute,
            limits.auth_rate_burst,
        ),
        api_limits: crate::auth::limits::Limiter::new(
            limits.api_rate_per_minute,
            limits.api_rate_burst,
        ),
        admission: crate::auth::allowed::Admission {
            who: settings.auth.allowed.clone(),
            api: bot_api,
        },
        revoked: crate::auth::Revocations {
            cache: services.cache.clone(),
        },
        successor_key: marquee_store::secret::derive_secret(
            key.expose_secret().as_bytes(),
            "marquee refresh-token successors",
        )
        .into_bytes(),
    })
}

/// The app's page routes, generated once per process. While Leptos generates them it marks
/// resource loading as suppressed for the whole process (leptos issue #4773), so a page that
/// another server in the same process (tests, the benchmarks) renders at that moment would wait
/// forever. Generating once, before anything serves, closes that window.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The site's files when they are inside the binary (see [`crate::site`]); otherwise the static
/// file fallback serves them from the site directory.
fn built_in_site(site: Option<&'static crate::site::EmbeddedSite>) -> Router<AppState> {
    let Some(site) = site else {
        return Router::new();
    };
    let mut router = Router::new().route("/pkg/{*file}", get(crate::site::serve));
    for path in site.top_level_paths() {
        router = router.route(path, get(crate::site::serve));
    }
    router
}

/// All routes: Marquee's own, then Leptos pages and server functions, then static files.
fn router(state: AppState) -> Router {
    let routes = route_list();
    let context = {
        let services = state.services.clone();
        let sign_in = app::ssr::account::SignInAvailable(state.auth.discord.is_some());
        move || {
            provide_context(services.clone());
            provide_context(sign_in);
        }
    };
    let page_shell = {
        let options = state.leptos.clone();
        move || shell(options.clone())
    };
    Router::new()
        .route(
            "/media/{rating_key}/{media_index}/{part_index}",
            get(media::part),
        )
        .route(
            "/hls/{rating_key}/{media_index}/start.m3u8",
            get(hls::start),
        )
        .route(
            "/hls/{rating_key}/{media_index}/session/{session}/{*rest}",
            get(hls::session_file),
        )
        .route(
            "/hls/{rating_key}/{media_index}/stop/{session}/{quality}",
            post(hls::stop),
        )
        .route(
            "/hls/{rating_key}/{media_index}/timeline/{session}/{quality}",
            post(hls::timeline),
        )
        .route("/img/{rating_key}/{kind}/{stamp}", get(images::image))
        .route(
            "/previews/{rating_key}/{media_index}/{part_index}/{ms}",
            get(crate::routes::previews::thumbnail),
        )
        .route(
            "/subs/{rating_key}/{media_index}/{stream}",
            get(crate::routes::subtitles::vtt),
        )
        .route(
            "/ws/session/{session}",
            get(crate::sync::connection::upgrade),
        )
        .route("/activity", crate::routes::activity::page(&state))
        .merge(auth_routes(state.clone()))
        .route("/api/sessions", post(sessions::create))
        .route("/api/sessions/{session}", get(sessions::get))
        .route("/healthz", get(ops::health))
        .route("/readyz", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/api/admin/cache/clear", post(admin::clear_cache))
        .route("/api/admin/audit", get(admin::audit))
        .route(
            "/api/admin/plex-webhook",
            get(crate::routes::plex_webhook::address),
        )
        .route(
            crate::routes::plex_webhook::WEBHOOK_PATH,
            post(crate::routes::plex_webhook::receive),
        )
        .route(
            "/api/admin/library/{section}/refresh",
            post(admin::refresh_section),
        )
        .merge(built_in_site(state.site))
        .leptos_routes_with_context(&state, routes, context.clone(), page_shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::access::guard,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::routes::account,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::routes::api_rate_limit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::client_addr::layer,
        ))
        .layer(middleware::from_fn(
            crate::routes::activity::launch_redirect,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::security::headers,
        ))
        .layer(middleware::from_fn(crate::limits::bounded_body))
        .layer(middleware::from_fn(count_requests))
        .layer(middleware::from_fn(telemetry::request_id))
        .layer(
            CompressionLayer::new().gzip(true).compress_when(
                tower_http::compression::predicate::SizeAbove::new(1024)
                    .and(tower_http::compression::predicate::NotForContentType::new(
                        "video/",
                    ))
                    .and(tower_http::compression::predicate::NotForContentType::new(
                        "image/",
                    ))
                    .and(tower_http::compression::predicate::NotForContentType::new(
                        "application/octet-stream",
                    )),
            ),
        )
        .with_state(state)
}

use tower_http::compression::Predicate as _;

/// The sign-in routes, rate limited per client and guarded against cross-site POSTs.
fn auth_routes(state: AppState) -> Router<AppState> {
    use crate::auth::routes as auth;
    Router::new()
        .route("/auth/login", get(auth::login))
        .route("/auth/callback", get(auth::callback))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/api/me", get(auth::me))
        .merge(activity_routes())
        .route_layer(middleware::from_fn_with_state(state, auth::rate_limit))
}

/// The Activity's sign-in and binding: tokens in JSON bodies, no cookies, so no CSRF guard
/// (see `auth::activity`); rate limited with the other sign-in routes.
fn activity_routes() -> Router<AppState> {
    use crate::auth::activity;
    Router::new()
        .route("/api/activity/sign-in", post(activity::sign_in))
        .route("/api/activity/start", post(activity::start))
        .route("/api/activity/refresh", post(activity::refresh))
}

/// Count requests by route and status class for `/metrics`.
async fn count_requests(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_string(), |p| p.as_str().to_string());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    let class = format!("{}xx", response.status().as_u16() / 100);
    metrics::histogram!("marquee_http_request_duration_seconds", "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("marquee_http_requests_total", "route" => route, "status" => class)
        .increment(1);
    response
}

/// plex.tv, where viewers link their own Plex accounts: as configured, else the demo's fake,
/// else plex.tv itself.
fn plex_tv(
    settings: &Settings,
    demo: Option<&crate::demo::Demo>,
    client_id: &str,
) -> Result<marquee_plex::plextv::PlexTv, StartError> {
    let accounts = &settings.plex.accounts;
    let parse = |raw: String| {
        url::Url::parse(&raw).map_err(|reason| StartError::PlexUrl { url: raw, reason })
    };
    let (base_url, default_auth) = match (&accounts.plex_tv, demo) {
        (Some(url), _) => (url.clone(), parse("https://app.plex.tv/auth".into())?),
        (None, Some(demo)) => (
            parse(demo.plex_tv.base_url())?,
            parse(demo.plex_tv.auth_url())?,
        ),
        (None, None) => (
            parse("https://plex.tv/".into())?,
            parse("https://app.plex.tv/auth".into())?,
        ),
    };
    Ok(marquee_plex::plextv::PlexTv::new(
        marquee_plex::plextv::PlexTvConfig {
            base_url,
            auth_url: accounts.auth_app.clone().unwrap_or(default_auth),
            client_identifier: client_id.to_owned(),
            product: "Marquee".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            timeout: settings.plex.timeout,
        },
    )?)
}

/// The key that seals viewers' Plex tokens: configured, or kept in the data dir. Several web
/// servers (Redis) must share one, so without it linking is off there.
fn token_key(settings: &Settings) -> Result<Option<SecretString>, StartError> {
    match &settings.plex.accounts.token_key {
        Some(key) => Ok(Some(key.clone())),
        None if settings.redis.is_some() => {
            tracing::warn!(
                "viewers cannot link their Plex accounts: several web servers need one shared MARQUEE_TOKEN_KEY (a long random string)"
            );
            Ok(None)
        }
        None => Ok(Some(stored_secret(&settings.data_dir.join("token-key"))?)),
    }
}

/// A stable `X-Plex-Client-Identifier` for this installation, kept in the data dir.
fn client_identifier(data_dir: &Path) -> Result<String, StartError> {
    use secrecy::ExposeSecret as _;
    Ok(stored_secret(&data_dir.join("client-id"))?
        .expose_secret()
        .to_string())
}

/// Read a random token from `path`, creating it (mode 0600) on first use.
fn stored_secret(path: &Path) -> Result<SecretString, StartError> {
    let io_err = |source| StartError::DataDir {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(s) if !s.trim().is_empty() => return Ok(s.trim().to_string().into()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(e)),
    }
    let token = marquee_store::secret::new_secret();
    write_private(path, &token).map_err(io_err)?;
    Ok(token.into())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// Bind first (so port 0 resolves and a taken port fails fast), then build the app.
async fn listen_and_build(
    settings: &Settings,
) -> Result<(TcpListener, SocketAddr, Built), StartError> {
    let listener = TcpListener::bind(settings.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: settings.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let built = build(settings, addr).await?;
    Ok((listener, addr, built))
}

/// The bot for `marquee serve`: started here unless the configuration puts it in its own
/// process (see `Config::bot_in_server`).
async fn in_server_bot(
    settings: &Settings,
    service: &bot::BotService,
) -> Result<Option<bot::BotHandle>, StartError> {
    if settings.discord.bot_token.is_some() && !settings.discord.bot_in_server {
        tracing::info!(
            "DISCORD_TOKEN is set but the bot runs on its own in scale-out mode: start one `marquee bot` next to the web servers"
        );
        return Ok(None);
    }
    Ok(crate::discord::maybe_start(&settings.discord, service.clone()).await?)
}

/// Start serving in the background on `config.bind` (port 0 picks a free port).
pub async fn spawn(config: &Config) -> Result<Running, StartError> {
    let settings = config.settings()?;
    let (listener, addr, built) = listen_and_build(&settings).await?;
    let bot = in_server_bot(&settings, &built.discord).await?;
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(crate::shutdown::serve(
        listener,
        built.router,
        built.hub,
        settings.limits.shutdown_grace,
        connection_limits(&settings),
        stop.clone().cancelled_owned(),
    ));
    Ok(Running {
        addr,
        services: built.services,
        demo: built.demo,
        admin_token: built.admin_token,
        config: config.clone(),
        bot,
        stop,
        task: std::sync::Mutex::new(Some(task)),
    })
}

/// Run until Ctrl-C or SIGTERM.
pub async fn run(settings: Settings) -> Result<(), StartError> {
    let (listener, addr, built) = listen_and_build(&settings).await?;
    let bot = in_server_bot(&settings, &built.discord).await?;
    tracing::info!("Marquee is ready: open http://{addr}/");
    let _demo = built.demo;
    crate::shutdown::serve(
        listener,
        built.router,
        built.hub,
        settings.limits.shutdown_grace,
        connection_limits(&settings),
        crate::shutdown::signal(),
    )
    .await
    .map_err(StartError::Serve)?;
    if let Some(bot) = bot
        && tokio::time::timeout(BOT_STOP_TIMEOUT, bot.shutdown())
            .await
            .is_err()
    {
        tracing::warn!("the Discord bot did not stop in time; leaving it");
    }
    tracing::info!("Marquee stopped");
    Ok(())
}

fn connection_limits(settings: &Settings) -> crate::shutdown::ConnectionLimits {
    crate::shutdown::ConnectionLimits {
        header_read_timeout: settings.limits.header_read_timeout,
        max_connections: settings.limits.max_connections,
    }
}

/// How long a stopping server waits for the bot's gateway to close.
const BOT_STOP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// `marquee bot`: only the Discord bot, next to web servers that share PostgreSQL and Redis
/// with it. Runs until Ctrl-C or SIGTERM.
pub async fn run_bot(settings: Settings) -> Result<(), StartError> {
    if settings.discord.bot_token.is_none() {
        return Err(StartError::BotMode(
            "`marquee bot` needs DISCORD_TOKEN (the bot token from the Discord developer portal)",
        ));
    }
    if settings.redis.is_none()
        || !matches!(
            settings.database,
            marquee_store::DatabaseTarget::Postgres(_)
        )
    {
        return Err(StartError::BotMode(
            "`marquee bot` shares sessions with the web servers through DATABASE_URL (PostgreSQL) and REDIS_URL; set both, or run the bot inside `marquee serve` by setting DISCORD_TOKEN there",
        ));
    }
    let built = build(&settings, settings.bind).await?;
    let Some(mut bot) =
        crate::discord::maybe_start(&settings.discord, built.discord.clone()).await?
    else {
        return Ok(());
    };
    let _demo = built.demo;
    tokio::select! {
        _ = crate::shutdown::signal() => {}
        _ = bot.finished() => tracing::warn!("the Discord connection ended"),
    }
    bot.shutdown().await;
    tracing::info!("Discord bot stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::PathBuf;

    use figment::Figment;
    use figment::providers::{Format, Toml};

    use super::*;

    /// The names the build scripts read from `Leptos.toml`.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    struct SiteNames {
        output_name: String,
        site_root: PathBuf,
        site_pkg_dir: String,
        site_addr: SocketAddr,
        bin_package: String,
    }

    #[test]
    fn leptos_toml_names_what_the_server_serves() {
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../Leptos.toml");
        let names: SiteNames = Figment::from(Toml::file(&file)).extract().unwrap();
        let defaults = Config::default();
        let options = leptos_options(Path::new(DEFAULT_SITE_ROOT), defaults.bind);
        assert_eq!(names.output_name, options.output_name.as_ref());
        assert_eq!(names.site_pkg_dir, options.site_pkg_dir.as_ref());
        assert_eq!(names.site_root, PathBuf::from(DEFAULT_SITE_ROOT));
        assert_eq!(names.site_addr, defaults.bind);
        assert_eq!(
            names.bin_package, "marquee",
            "the crate of the `marquee` binary"
        );
    }
}
