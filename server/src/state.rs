//! What every request handler can reach.

use std::sync::Arc;

use app::ssr::Services;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::SecretString;

/// Axum state: the app's services plus what the HTTP layer alone needs.
#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub leptos: LeptosOptions,
    /// Bearer token for `/api/admin/…`.
    pub admin_token: Arc<SecretString>,
    /// The Plex server's base URL, to scrub it from proxied playlists.
    pub plex_base: Arc<url::Url>,
    pub metrics: PrometheusHandle,
    /// The WebSocket sync hub.
    pub hub: crate::sync::Hub,
    /// Sign-in: tokens, Discord OAuth2, limits.
    pub auth: Arc<crate::auth::Auth>,
    /// Voice channel ↔ session ↔ Activity instance links (the bot's service; the Activity's
    /// routes bind through it too).
    pub discord: bot::BotService,
    /// Makes signed-in holders of a server's control role co-hosts when they join from the web
    /// page (set when the bot's token is).
    pub roles: Option<Arc<crate::auth::roles::RoleAdmission>>,
    /// Discord's API with the bot's token: where an Activity really runs, and members' roles
    /// (set when the bot's token is).
    pub bot_api: Option<Arc<crate::auth::bot_api::BotApi>>,
    /// Viewers who are not signed in may join sessions (`MARQUEE_GUESTS`).
    pub guests: bool,
    /// Send `Strict-Transport-Security` (Marquee is served over HTTPS by a proxy).
    pub hsts: bool,
    /// The origin people reach Marquee at (`https://marquee.example.com`), for the cross-site
    /// check.
    pub public_origin: Arc<str>,
    /// The site inside the binary, when it is the one served (see [`crate::site`]).
    pub site: Option<&'static crate::site::EmbeddedSite>,
    /// Whose `Forwarded` headers name the client (`MARQUEE_TRUSTED_PROXIES`).
    pub trusted_proxies: crate::client_addr::TrustedProxies,
    /// The Plex transcodes this server relays: one per rendition, shared, kept alive with
    /// timeline reports, capped, stopped when idle.
    pub relay: crate::transcodes::relay::Relay,
    /// Text subtitles as WebVTT, converted once per stream.
    pub subtitles: crate::subtitles::Subtitles,
    /// Original files from Plex in chunks, each fetched once for every viewer.
    pub chunks: crate::chunks::Chunks,
    /// Seek-preview thumbnails, each Part's index fetched once.
    pub previews: crate::previews::Previews,
    /// Open WebSockets, per address and in all.
    pub sockets: crate::sync::SocketGate,
    /// Server-rendered pages per client address.
    pub page_limits: Arc<crate::auth::limits::Limiter>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
