//! The configuration parsed once into typed sections.
//!
//! [`Config`] is what a person writes (flat keys from a file or the environment); [`Settings`]
//! is what the server runs on, checked and parsed in one pass: the Plex source is either the
//! demo library or a server with a URL and a token, the database is a parsed target, Discord's
//! parts are present together or not at all. Start-up reads nothing from [`Config`] directly,
//! so a setting is interpreted in exactly one place.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use marquee_store::{DatabaseTarget, TierTtls};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{Config, ConfigError};

/// Everything the server runs on. Built by [`Settings::parse`].
#[derive(Clone, Debug)]
pub struct Settings {
    /// Address the web server listens on.
    pub bind: SocketAddr,
    /// SQLite database, demo media, generated ids and keys.
    pub data_dir: PathBuf,
    /// A site directory to serve instead of the one inside the binary.
    pub site_root: Option<PathBuf>,
    /// `tracing` filter.
    pub log: String,
    pub log_format: LogFormat,
    pub plex: PlexSettings,
    pub database: DatabaseTarget,
    /// Redis, for the shared cache and the event bus (scale-out mode).
    pub redis: Option<RedisTarget>,
    pub discord: DiscordSettings,
    pub auth: AuthSettings,
    pub cache: TierTtls,
    pub limits: Limits,
    /// Bearer token for the admin routes; generated into the data dir when unset.
    pub admin_token: Option<SecretString>,
    /// Where people reach Marquee; `None` is `http://<bound address>`.
    pub public_url: Option<Url>,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// For people reading a terminal.
    Text,
    /// One JSON object a line, with the request's span (its id) in each: for a log collector.
    Json,
}

/// Where the library comes from.
#[derive(Clone, Debug)]
pub enum PlexSource {
    /// The built-in demo library (the fake Plex server with generated media). Its transcoder
    /// stops a transcode that hears no timeline for `transcode_stop` (as Plex does).
    Demo {
        media_dir: PathBuf,
        transcode_stop: Duration,
    },
    /// A real Plex Media Server.
    Server { url: Url, token: SecretString },
}

/// The Plex source and how long a call to it may take.
#[derive(Clone, Debug)]
pub struct PlexSettings {
    pub source: PlexSource,
    pub timeout: Duration,
    /// The client identifier to play as; `None`: the one kept in the data dir.
    pub client_id: Option<String>,
    /// Where viewers link their own Plex accounts.
    pub accounts: PlexAccountSettings,
}

/// plex.tv and the key that seals viewers' tokens ("Link Plex").
#[derive(Clone, Debug)]
pub struct PlexAccountSettings {
    /// plex.tv's API; `None` with the demo library: the built-in fake.
    pub plex_tv: Option<Url>,
    /// Plex's auth app.
    pub auth_app: Option<Url>,
    /// Seals the tokens; `None`: the one kept in the data dir (one server only).
    pub token_key: Option<SecretString>,
}

/// A Redis server and the prefix of Marquee's keys on it.
#[derive(Clone, Debug)]
pub struct RedisTarget {
    pub url: SecretString,
    pub namespace: String,
}

/// Discord: the bot, the OAuth2 application, and where Discord's API is.
#[derive(Clone, Debug)]
pub struct DiscordSettings {
    /// The bot's token; `None` means no bot.
    pub bot_token: Option<SecretString>,
    /// The OAuth2 application for "Sign in with Discord" and the Activity.
    pub oauth: Option<OAuthApp>,
    /// Discord's API base (`https://discord.com`, or a proxy or fake).
    pub api_base: Url,
    /// The application has an Activity, so `/watch` launches it.
    pub activity: bool,
    /// `marquee serve` runs the bot (else one `marquee bot` does).
    pub bot_in_server: bool,
}

/// A Discord application's OAuth2 credentials.
#[derive(Clone, Debug)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// Sign-in and who may join.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Key for access tokens; generated into the data dir when unset.
    pub jwt_secret: Option<SecretString>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Viewers who are not signed in may join sessions.
    pub guests: bool,
    /// Who may use this Marquee once signed in (with sign-in set up).
    pub allowed: AllowedPeople,
    /// How long a signed media or HLS URL works.
    pub media_url_ttl: Duration,
    /// Send `Strict-Transport-Security`.
    pub hsts: bool,
}

/// Who may use a Marquee that has Discord sign-in (`MARQUEE_ALLOWED_SERVERS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedPeople {
    /// Any Discord account (chosen explicitly with `any`).
    Anyone,
    /// Members of the Discord servers the bot is in.
    BotServers,
    /// Members of these Discord servers.
    MembersOf(Vec<u64>),
}

/// Shortest idle time accepted before a transcode is stopped. Below a few of the players'
/// reports (every 10 s) a paused player's stream would be stopped; start-up warns about that.
pub const MIN_TRANSCODE_IDLE_SECS: u64 = 5;

/// Shortest accepted key for signing tokens and for the admin token.
pub const MIN_KEY_CHARS: usize = 32;

/// Rates and deadlines.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Sign-in requests per minute per client address, and the burst.
    pub auth_rate_per_minute: u32,
    pub auth_rate_burst: u32,
    /// `/api/…` requests per minute per client address, and the burst.
    pub api_rate_per_minute: u32,
    pub api_rate_burst: u32,
    /// Server-rendered pages per minute per client address, and the burst.
    pub page_rate_per_minute: u32,
    pub page_rate_burst: u32,
    /// How long a stopping server lets requests finish.
    pub shutdown_grace: Duration,
    /// Whose forwarding headers name the client.
    pub trusted_proxies: crate::client_addr::TrustedProxies,
    pub transcodes: crate::transcodes::TranscodeLimits,
    pub sockets: crate::sync::SocketLimits,
    /// The in-process cache's bound, in bytes.
    pub cache_memory_bytes: u64,
    /// The direct-play chunk cache's bound, in bytes.
    pub media_cache_bytes: u64,
    /// Deadline for a request's headers, and open connections at once.
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

/// Discord's API when no other base is configured.
const DISCORD: &str = "https://discord.com";

impl Settings {
    /// Checks and parses `config`; the error names the setting and how to fix it.
    pub fn parse(config: &Config) -> Result<Settings, ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));

        let plex_url = non_empty(config.plex_url.as_deref());
        let source = match plex_url {
            None => PlexSource::Demo {
                transcode_stop: Duration::from_secs(config.demo_transcode_stop_secs.max(1)),
                media_dir: config
                    .demo_media_dir
                    .clone()
                    .unwrap_or_else(|| config.data_dir.join("demo-media")),
            },
            Some(raw) => {
                let url = parse_url("PLEX_URL", raw, &["http", "https"]).map_err(|_| {
                    ConfigError::Invalid(format!(
                        "PLEX_URL is not a URL: {raw:?} (example: http://192.168.1.10:32400)"
                    ))
                })?;
                let Some(token) = secret(config.plex_token.as_ref()) else {
                    return bad(
                        "PLEX_URL is set but PLEX_TOKEN is not; Marquee needs the server's token"
                            .into(),
                    );
                };
                PlexSource::Server { url, token }
            }
        };
        if let Some(id) = &config.plex_client_id {
            let plain = !id.is_empty()
                && id.len() <= 128
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !plain {
                return bad(
                    "MARQUEE_PLEX_CLIENT_ID must be 1 to 128 letters, digits, '-', '_' or '.'"
                        .into(),
                );
            }
        }
        if config.plex_timeout_secs == 0 {
            return bad("cache and timeout settings must be positive".into());
        }

        let database_url = secret(config.database_url.as_ref());
        let database = DatabaseTarget::parse(
            database_url.as_ref().map(|s| s.expose_secret()),
            &config.data_dir,
        )
        .map_err(|_| {
            ConfigError::Invalid(
                "DATABASE_URL must start with postgres://, postgresql:// or sqlite://".into(),
            )
        })?;

        let redis = match secret(config.redis_url.as_ref()) {
            None => None,
            Some(url) => {
                parse_url("REDIS_URL", url.expose_secret(), &["redis", "rediss"]).map_err(
                    |_| {
                        ConfigError::Invalid(
                            "REDIS_URL must start with redis:// or rediss://".into(),
                        )
                    },
                )?;
                Some(RedisTarget {
                    url,
                    namespace: config.redis_namespace.clone(),
                })
            }
        };

        let public_url = non_empty(config.public_url.as_deref())
            .map(|u| parse_url("MARQUEE_PUBLIC_URL", u, &["http", "https"]))
            .transpose()?;
        let api_base = parse_url(
            "MARQUEE_DISCORD_API_URL",
            non_empty(config.discord_api_url.as_deref()).unwrap_or(DISCORD),
            &["http", "https"],
        )?;
        let client_id = non_empty(config.discord_client_id.as_deref());
        let client_secret = secret(config.discord_client_secret.as_ref());
        let oauth = match (client_id, client_secret) {
            (Some(id), Some(secret)) => Some(OAuthApp {
                client_id: id.to_owned(),
                client_secret: secret,
            }),
            (None, None) => None,
            _ => {
                return bad(
                    "set both MARQUEE_DISCORD_CLIENT_ID and MARQUEE_DISCORD_CLIENT_SECRET for Discord sign-in, or neither"
                        .into(),
                );
            }
        };
        let bot_token = config
            .discord_token
            .as_ref()
            .filter(|t| !t.expose_secret().trim().is_empty())
            .cloned();

        let allowed = match (
            oauth.is_some(),
            non_empty(config.allowed_servers.as_deref()),
        ) {
            (false, _) => AllowedPeople::Anyone,
            (true, Some(raw)) if raw.trim().eq_ignore_ascii_case("any") => AllowedPeople::Anyone,
            (true, raw) => {
                let who = match raw.map(str::trim) {
                    None => AllowedPeople::BotServers,
                    Some(r) if r.eq_ignore_ascii_case("bot") => AllowedPeople::BotServers,
                    Some(list) => AllowedPeople::MembersOf(
                        list.split(',')
                            .map(|id| id.trim().parse::<u64>())
                            .collect::<Result<_, _>>()
                            .map_err(|_| {
                                ConfigError::Invalid(format!(
                                    "MARQUEE_ALLOWED_SERVERS must be `bot`, `any` or Discord server ids separated by commas, not {list:?}"
                                ))
                            })?,
                    ),
                };
                if bot_token.is_none() {
                    return bad(
                        "Discord sign-in is set up, so say who may use this Marquee: set DISCORD_TOKEN (members of the bot's servers may; or list server ids in MARQUEE_ALLOWED_SERVERS), or MARQUEE_ALLOWED_SERVERS=any for any Discord account"
                            .into(),
                    );
                }
                who
            }
        };
        for (name, key) in [
            ("MARQUEE_JWT_SECRET", config.jwt_secret.as_ref()),
            ("MARQUEE_ADMIN_TOKEN", config.admin_token.as_ref()),
            ("MARQUEE_TOKEN_KEY", config.token_key.as_ref()),
        ] {
            if let Some(key) = secret(key) {
                check_key(name, key.expose_secret())?;
            }
        }
        if config.media_url_ttl_secs < 60 {
            return bad("MARQUEE_MEDIA_URL_TTL_SECS must be at least 60".into());
        }

        let trusted_proxies = crate::client_addr::TrustedProxies::parse(
            config.trusted_proxies.as_deref().unwrap_or(""),
        )
        .map_err(|item| {
            ConfigError::Invalid(format!(
                "MARQUEE_TRUSTED_PROXIES must list addresses or CIDRs separated by commas (10.0.0.0/8, ::1); {item:?} is neither"
            ))
        })?;
        for (name, value) in [
            ("MARQUEE_MAX_TRANSCODES", config.max_transcodes),
            (
                "MARQUEE_MAX_TRANSCODES_PER_PERSON",
                config.max_transcodes_per_person,
            ),
            (
                "MARQUEE_MAX_SOCKETS_PER_ADDRESS",
                config.max_sockets_per_address,
            ),
            ("MARQUEE_MAX_SOCKETS", config.max_sockets),
            ("MARQUEE_MAX_CONNECTIONS", config.max_connections),
        ] {
            if value == 0 {
                return bad(format!("{name} must be at least 1"));
            }
        }
        if config.transcode_idle_secs < MIN_TRANSCODE_IDLE_SECS {
            return bad(format!(
                "MARQUEE_TRANSCODE_IDLE_SECS must be at least {MIN_TRANSCODE_IDLE_SECS}, and above {} (players report every {} s)",
                2 * app::player::hls::REPORT_EVERY_SECS,
                app::player::hls::REPORT_EVERY_SECS
            ));
        }
        if config.plex_timeline_ms < 100 || config.hls_cache_mb == 0 || config.media_cache_mb == 0 {
            return bad(
                "MARQUEE_PLEX_TIMELINE_MS must be at least 100, and MARQUEE_HLS_CACHE_MB and MARQUEE_MEDIA_CACHE_MB positive"
                    .into(),
            );
        }
        if config.cache_memory_mb == 0 || config.header_read_timeout_secs == 0 {
            return bad(
                "MARQUEE_CACHE_MEMORY_MB and MARQUEE_HEADER_READ_TIMEOUT_SECS must be positive"
                    .into(),
            );
        }

        if config.access_token_ttl_secs == 0 || config.refresh_token_ttl_days == 0 {
            return bad("token lifetimes must be positive".into());
        }
        let media = config.cache_media_ttl_secs;
        if !(15 * 60..=60 * 60).contains(&media) {
            return bad(format!(
                "MARQUEE_CACHE_MEDIA_TTL_SECS must be 900–3600 (15–60 min), not {media}"
            ));
        }
        let system = config.cache_system_ttl_secs;
        if !(5 * 60..=30 * 60).contains(&system) {
            return bad(format!(
                "MARQUEE_CACHE_SYSTEM_TTL_SECS must be 300–1800 (5–30 min), not {system}"
            ));
        }
        if config.cache_session_ttl_secs == 0 {
            return bad("cache and timeout settings must be positive".into());
        }

        Ok(Settings {
            bind: config.bind,
            data_dir: config.data_dir.clone(),
            site_root: config.site_root.clone(),
            log: config.log.clone(),
            log_format: match config.log_format.trim().to_ascii_lowercase().as_str() {
                "text" | "" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => {
                    return Err(ConfigError::Invalid(format!(
                        "MARQUEE_LOG_FORMAT must be `text` or `json`, not {other:?}"
                    )));
                }
            },
            plex: PlexSettings {
                source,
                timeout: Duration::from_secs(config.plex_timeout_secs),
                client_id: config.plex_client_id.clone(),
                accounts: PlexAccountSettings {
                    plex_tv: url_setting("MARQUEE_PLEX_TV_URL", config.plex_tv_url.as_deref())?,
                    auth_app: url_setting(
                        "MARQUEE_PLEX_AUTH_URL",
                        config.plex_auth_url.as_deref(),
                    )?,
                    token_key: secret(config.token_key.as_ref()),
                },
            },
            database,
            discord: DiscordSettings {
                bot_in_server: config.bot_in_server.unwrap_or(redis.is_none()),
                bot_token,
                api_base,
                activity: config.discord_activity,
                oauth: oauth.clone(),
            },
            redis,
            auth: AuthSettings {
                jwt_secret: secret(config.jwt_secret.as_ref()),
                access_token_ttl: Duration::from_secs(config.access_token_ttl_secs),
                refresh_token_ttl: Duration::from_secs(config.refresh_token_ttl_days * 24 * 3600),
                guests: config.guests.unwrap_or(oauth.is_none()),
                allowed,
                media_url_ttl: Duration::from_secs(config.media_url_ttl_secs),
                hsts: config.hsts,
            },
            cache: TierTtls {
                session: Duration::from_secs(config.cache_session_ttl_secs),
                media: Duration::from_secs(media),
                system: Duration::from_secs(system),
            },
            limits: Limits {
                auth_rate_per_minute: config.auth_rate_per_minute,
                auth_rate_burst: config.auth_rate_burst,
                api_rate_per_minute: config.api_rate_per_minute,
                api_rate_burst: config.api_rate_burst,
                page_rate_per_minute: config.page_rate_per_minute,
                page_rate_burst: config.page_rate_burst,
                shutdown_grace: Duration::from_secs(config.shutdown_grace_secs),
                trusted_proxies,
                transcodes: crate::transcodes::TranscodeLimits {
                    total: config.max_transcodes,
                    per_owner: config.max_transcodes_per_person,
                    idle: Duration::from_secs(config.transcode_idle_secs),
                    timeline_every: Duration::from_millis(config.plex_timeline_ms),
                    segment_cache_bytes: config.hls_cache_mb * 1024 * 1024,
                },
                sockets: crate::sync::SocketLimits {
                    per_address: config.max_sockets_per_address,
                    total: config.max_sockets,
                },
                cache_memory_bytes: config.cache_memory_mb * 1024 * 1024,
                media_cache_bytes: config.media_cache_mb * 1024 * 1024,
                header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
                max_connections: config.max_connections,
            },
            admin_token: secret(config.admin_token.as_ref()),
            public_url,
        })
    }

    /// True when the built-in demo library is the Plex source.
    pub fn demo_mode(&self) -> bool {
        matches!(self.plex.source, PlexSource::Demo { .. })
    }

    /// Base URL for links and posters, without a trailing slash.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }
}

impl DiscordSettings {
    /// Discord's API base without a trailing slash, as the REST clients want it.
    pub fn api_base(&self) -> String {
        self.api_base.as_str().trim_end_matches('/').to_owned()
    }

    /// The API base when it is not Discord's own (the bot's REST client needs to know).
    pub fn api_override(&self) -> Option<String> {
        (self.api_base.as_str().trim_end_matches('/') != DISCORD).then(|| self.api_base())
    }
}

/// The one URL parser for settings: `raw` must parse and use one of `schemes`.
pub fn parse_url(setting: &str, raw: &str, schemes: &[&str]) -> Result<Url, ConfigError> {
    match Url::parse(raw.trim()) {
        Ok(url) if schemes.contains(&url.scheme()) => Ok(url),
        _ => Err(ConfigError::Invalid(format!(
            "{setting} must be a{} URL such as {}, not {:?}",
            if schemes.contains(&"http") {
                "n http(s)".to_owned()
            } else {
                format!(" {}://", schemes.join(":// or "))
            },
            if schemes.contains(&"http") {
                "https://marquee.example.com"
            } else {
                "redis://127.0.0.1:6379"
            },
            marquee_store::redact_url(raw)
        ))),
    }
}

/// A key people choose (the token-signing key, the admin token) must be long and not a word
/// repeated: a short one can be guessed offline from one token.
fn check_key(setting: &str, key: &str) -> Result<(), ConfigError> {
    let distinct = key.chars().collect::<std::collections::HashSet<_>>().len();
    if key.chars().count() < MIN_KEY_CHARS || distinct < 8 {
        return Err(ConfigError::Invalid(format!(
            "{setting} must be at least {MIN_KEY_CHARS} random characters (for example the output of `openssl rand -hex 32`)"
        )));
    }
    Ok(())
}

/// An optional http(s) URL setting.
fn url_setting(setting: &str, raw: Option<&str>) -> Result<Option<Url>, ConfigError> {
    non_empty(raw)
        .map(|r| parse_url(setting, r, &["http", "https"]))
        .transpose()
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

fn secret(value: Option<&SecretString>) -> Option<SecretString> {
    value.filter(|s| !s.expose_secret().is_empty()).cloned()
}
