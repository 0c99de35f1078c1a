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
use marquee_fakes::plex::FakePlex;
use marquee_plex::{PlexClient, PlexConfig};
use marquee_store::{Bus, Cache, Store};
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

use crate::config::{Config, redact_url};
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
    Demo(String),
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
}

/// A running server (for tests and the CLI).
pub struct Running {
    pub addr: SocketAddr,
    pub services: Services,
    /// The demo Plex server, when no `PLEX_URL` was configured.
    pub demo: Option<FakePlex>,
    pub admin_token: SecretString,
    /// The configuration it runs with (to start another process on the same data).
    pub config: Config,
    /// The Discord bot, when a token is configured and it runs in this process.
    pub bot: Option<bot::BotHandle>,
    task: tokio::task::JoinHandle<Result<(), std::io::Error>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop serving (in-flight requests are dropped).
    pub fn abort(&self) {
        self.task.abort();
    }
}

struct Built {
    router: Router,
    services: Services,
    /// The bot's service: the web routes use it, and so does the bot when it runs here.
    discord: bot::BotService,
    demo: Option<FakePlex>,
    admin_token: SecretString,
}

/// Connect everything and build the router; nothing is listening yet.
async fn build(config: &Config, bind: SocketAddr) -> Result<Built, StartError> {
    let data_dir = &config.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.clone(),
        source,
    })?;

    let store = Store::connect(config.database_url(), data_dir).await?;
    tracing::info!(
        backend = match config.database_url() {
            Some(url) => redact_url(url),
            None => format!("SQLite at {}", data_dir.join("marquee.db").display()),
        },
        "store ready, migrations applied"
    );

    let cache = match config.redis_url() {
        Some(url) => {
            let cache = Cache::redis(url, &config.redis_namespace, config.cache_ttls()).await?;
            tracing::info!(redis = redact_url(url), "cache: Redis");
            cache
        }
        None => {
            tracing::info!("cache: in-process");
            Cache::in_process(config.cache_ttls())
        }
    };

    let (plex_url, plex_token, demo) = if config.demo_mode() {
        let demo = crate::demo::start(config).await?;
        tracing::info!(
            plex = demo.base_url(),
            "no PLEX_URL set: serving the built-in demo library"
        );
        let token: SecretString = demo.token().to_string().into();
        (demo.base_url(), token, Some(demo))
    } else {
        let url = config.plex_url.clone().unwrap_or_default();
        let token = config
            .plex_token
            .clone()
            .unwrap_or_else(|| String::new().into());
        tracing::info!(plex = %url, "using the Plex server at PLEX_URL");
        (url, token, None)
    };
    let base_url = url::Url::parse(&plex_url)
        .map_err(|e| StartError::Demo(format!("bad Plex URL {plex_url:?}: {e}")))?;
    let plex = PlexClient::new(PlexConfig {
        base_url: base_url.clone(),
        token: plex_token,
        client_identifier: client_identifier(data_dir)?,
        product: "Marquee".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        device_name: "Marquee server".into(),
        timeout: config.plex_timeout(),
    })?;

    let admin_token = match &config.admin_token {
        Some(t) if !t.expose_secret().is_empty() => t.clone(),
        _ => stored_secret(&data_dir.join("admin-token"))?,
    };

    let bus = match config.redis_url() {
        Some(url) => {
            let bus = Bus::redis(url, &config.redis_namespace).await?;
            tracing::info!("session events: Redis pub/sub");
            bus
        }
        None => Bus::in_process(),
    };
    let services = Services::new(plex, cache, store, bus.clone());
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
    let hub = crate::sync::Hub::new(services.sessions.clone());
    let leptos = LeptosOptions::builder()
        .output_name("marquee")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(bind)
        .build();
    if !config
        .site_root
        .join("pkg")
        .join("marquee_bg.wasm")
        .exists()
    {
        tracing::warn!(
            site_root = %config.site_root.display(),
            "no WASM bundle found: pages render, but the player will not start. Run scripts/build.sh"
        );
    }
    let auth = build_auth(config, &services, bind)?;
    let discord = crate::discord::bot_service(&services, config, config.public_url(bind));
    let roles = config.discord_token().map(|token| {
        Arc::new(crate::auth::roles::RoleAdmission {
            bot: discord.clone(),
            members: crate::auth::roles::BotMembers::new(&config.discord_api_base(), token.clone()),
        })
    });
    let state = AppState {
        services: services.clone(),
        leptos: leptos.clone(),
        admin_token: Arc::new(admin_token.clone()),
        plex_base: Arc::new(base_url),
        metrics: telemetry::metrics_handle(),
        hub,
        auth: Arc::new(auth),
        discord: discord.clone(),
        roles,
        guests: config.admits_guests(),
        hsts: config.hsts,
    };
    Ok(Built {
        router: router(state),
        services,
        discord,
        demo,
        admin_token,
    })
}

/// Sign-in: the token key (configured, or generated into the data dir), and Discord OAuth2 when
/// configured.
fn build_auth(
    config: &Config,
    services: &Services,
    bind: SocketAddr,
) -> Result<crate::auth::Auth, StartError> {
    let key = match &config.jwt_secret {
        Some(k) if !k.expose_secret().is_empty() => k.clone(),
        _ if config.discord_oauth().is_some() && config.redis_url().is_some() => {
            return Err(StartError::BotMode(
                "Discord sign-in on several servers needs one shared MARQUEE_JWT_SECRET (a long random string)",
            ));
        }
        _ => stored_secret(&config.data_dir.join("jwt-key"))?,
    };
    let public_url = config.public_url(bind);
    let discord = config.discord_oauth().map(|(id, secret)| {
        crate::auth::discord::DiscordOAuth::new(
            &config.discord_api_base(),
            id.to_owned(),
            secret.clone(),
        )
    });
    Ok(crate::auth::Auth {
        keys: crate::auth::tokens::AccessKeys::new(
            key.expose_secret().as_bytes(),
            std::time::Duration::from_secs(config.access_token_ttl_secs),
        ),
        refresh_ttl: std::time::Duration::from_secs(config.refresh_token_ttl_days * 24 * 3600),
        discord,
        public_url,
        store: services.store.clone(),
        limits: crate::auth::limits::Limiter::new(
            config.auth_rate_per_minute,
            config.auth_rate_burst,
        ),
        api_limits: crate::auth::limits::Limiter::new(
            config.api_rate_per_minute,
            config.api_rate_burst,
        ),
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

/// All routes: Marquee's own, then Leptos pages and server functions, then static files.
fn router(state: AppState) -> Router {
    let routes = route_list();
    let context = {
        let services = state.services.clone();
        let sign_in = app::ssr::account::SignInAvailable(state.auth.discord.is_some());
        let guests = app::ssr::account::GuestsAdmitted(state.guests);
        move || {
            provide_context(services.clone());
            provide_context(sign_in);
            provide_context(guests);
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
        .route("/hls/stop/{session}", post(hls::stop))
        .route("/img/{rating_key}/{kind}/{stamp}", get(images::image))
        .route(
            "/ws/session/{session}",
            get(crate::sync::connection::upgrade),
        )
        .route("/activity", crate::routes::activity::page(&state))
        .merge(auth_routes(state.clone()))
        .route("/api/sessions", post(sessions::create))
        .route("/api/sessions/{session}", get(sessions::get))
        .route("/healthz", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/api/admin/cache/clear", post(admin::clear_cache))
        .route(
            "/api/admin/library/{section}/refresh",
            post(admin::refresh_section),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), page_shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::routes::account,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::routes::api_rate_limit,
        ))
        .layer(middleware::from_fn(
            crate::routes::activity::launch_redirect,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::security::headers,
        ))
        .layer(middleware::from_fn(count_requests))
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
        .route_layer(middleware::from_fn(auth::same_origin))
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
    let response = next.run(req).await;
    let class = format!("{}xx", response.status().as_u16() / 100);
    metrics::counter!("marquee_http_requests_total", "route" => route, "status" => class)
        .increment(1);
    response
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
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
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
async fn listen_and_build(config: &Config) -> Result<(TcpListener, SocketAddr, Built), StartError> {
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(StartError::Serve)?;
    let built = build(config, addr).await?;
    Ok((listener, addr, built))
}

/// The bot for `marquee serve`: started here unless the configuration puts it in its own
/// process (see `Config::bot_in_server`).
async fn in_server_bot(
    config: &Config,
    service: &bot::BotService,
) -> Result<Option<bot::BotHandle>, StartError> {
    if config.discord_token().is_some() && !config.bot_in_server() {
        tracing::info!(
            "DISCORD_TOKEN is set but the bot runs on its own in scale-out mode: start one `marquee bot` next to the web servers"
        );
        return Ok(None);
    }
    Ok(crate::discord::maybe_start(config, service.clone()).await?)
}

/// Start serving in the background on `config.bind` (port 0 picks a free port).
pub async fn spawn(config: &Config) -> Result<Running, StartError> {
    let (listener, addr, built) = listen_and_build(config).await?;
    let bot = in_server_bot(config, &built.discord).await?;
    let app = built
        .router
        .into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Running {
        addr,
        services: built.services,
        demo: built.demo,
        admin_token: built.admin_token,
        config: config.clone(),
        bot,
        task,
    })
}

/// Run until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> Result<(), StartError> {
    let (listener, addr, built) = listen_and_build(&config).await?;
    let bot = in_server_bot(&config, &built.discord).await?;
    tracing::info!("Marquee is ready: open http://{addr}/");
    let _demo = built.demo;
    axum::serve(
        listener,
        built
            .router
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(StartError::Serve)?;
    if let Some(bot) = bot {
        bot.shutdown().await;
    }
    tracing::info!("Marquee stopped");
    Ok(())
}

/// `marquee bot`: only the Discord bot, next to web servers that share PostgreSQL and Redis
/// with it. Runs until Ctrl-C or SIGTERM.
pub async fn run_bot(config: Config) -> Result<(), StartError> {
    if config.discord_token().is_none() {
        return Err(StartError::BotMode(
            "`marquee bot` needs DISCORD_TOKEN (the bot token from the Discord developer portal)",
        ));
    }
    if config.redis_url().is_none() || config.database_url().is_none() {
        return Err(StartError::BotMode(
            "`marquee bot` shares sessions with the web servers through DATABASE_URL (PostgreSQL) and REDIS_URL; set both, or run the bot inside `marquee serve` by setting DISCORD_TOKEN there",
        ));
    }
    let built = build(&config, config.bind).await?;
    let Some(mut bot) = crate::discord::maybe_start(&config, built.discord.clone()).await? else {
        return Ok(());
    };
    let _demo = built.demo;
    tokio::select! {
        _ = shutdown_signal() => {}
        _ = bot.finished() => tracing::warn!("the Discord connection ended"),
    }
    bot.shutdown().await;
    tracing::info!("Discord bot stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
