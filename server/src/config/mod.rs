//! Configuration: built-in defaults, then an optional TOML file, then environment variables.
//!
//! Every setting has a default that gives the embedded mode (SQLite in `./data`, in-process
//! cache, the demo library), so `marquee` with no configuration works. Secrets are
//! [`SecretString`]s: they print as `[REDACTED]` in `Debug` output and logs.
//!
//! [`Config`] holds the settings as written; [`settings::Settings`] is the same parsed once
//! into typed sections, which is all the server reads.

pub mod settings;

pub use marquee_store::redact_url;
pub use settings::Settings;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Environment variables read without the `MARQUEE_` prefix, because other tools use these names.
const PLAIN_ENV: &[&str] = &[
    "PLEX_URL",
    "PLEX_TOKEN",
    "DATABASE_URL",
    "REDIS_URL",
    "DISCORD_TOKEN",
];

/// Marquee's settings. See the configuration table in README.md.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct Config {
    /// Address the web server listens on.
    pub bind: SocketAddr,
    /// Where the SQLite database, demo media and generated files live.
    pub data_dir: PathBuf,
    /// A built site directory (WASM bundle, CSS, scripts) to serve instead of the one inside the
    /// binary; unset, the binary's own, or `target/site` if it has none.
    pub site_root: Option<PathBuf>,
    /// Where the demo library keeps its generated media (default: `<data dir>/demo-media`).
    pub demo_media_dir: Option<PathBuf>,
    /// How long the demo library's Plex keeps a transcode whose player reports nothing
    /// (seconds; Plex: about 90). Lower it to see what viewers see when Plex ends a stream.
    pub demo_transcode_stop_secs: u64,
    /// Base URL of the Plex Media Server; unset means "run the built-in demo library".
    pub plex_url: Option<String>,
    #[serde(skip_serializing)]
    pub plex_token: Option<SecretString>,
    /// Seconds before a Plex request counts as failed.
    pub plex_timeout_secs: u64,
    /// The `X-Plex-Client-Identifier` Marquee plays as. Unset: one made on first start and
    /// kept in the data dir. With several web servers, give them all the same, so that Plex
    /// sees one player (and counts its streams once) rather than one per server.
    pub plex_client_id: Option<String>,
    /// plex.tv, where viewers sign in to link their own Plex account; unset: plex.tv itself
    /// (with the demo library: a built-in fake plex.tv).
    pub plex_tv_url: Option<String>,
    /// Plex's auth app, where a viewer approves Marquee; unset: `https://app.plex.tv/auth`.
    pub plex_auth_url: Option<String>,
    /// Key that seals viewers' Plex tokens in the database (any long random string); generated
    /// into the data dir when unset. With several web servers, give them all the same one
    /// (without it, linking Plex accounts is off).
    #[serde(skip_serializing)]
    pub token_key: Option<SecretString>,
    /// `postgres://…` for PostgreSQL; unset or `sqlite://…` for SQLite.
    #[serde(skip_serializing)]
    pub database_url: Option<SecretString>,
    /// `redis://…` to share the cache (and, later, session events) between servers.
    #[serde(skip_serializing)]
    pub redis_url: Option<SecretString>,
    /// Prefix of Marquee's Redis keys; servers that share a library share a namespace.
    pub redis_namespace: String,
    /// Bearer token for the admin endpoints; generated into the data dir when unset.
    #[serde(skip_serializing)]
    pub admin_token: Option<SecretString>,
    /// The Discord bot's token; unset means no bot.
    #[serde(skip_serializing)]
    pub discord_token: Option<SecretString>,
    /// Another Discord API base (a REST proxy, or a fake Discord in tests); unset is Discord.
    pub discord_api_url: Option<String>,
    /// Whether the Discord application has an Activity, so `/watch` launches it.
    pub discord_activity: bool,
    /// Run the bot inside `marquee serve` (default: yes without Redis; with Redis, run one
    /// `marquee bot` next to the web servers instead, so several servers don't all answer).
    pub bot_in_server: Option<bool>,
    /// The Discord application's id, for "Sign in with Discord" (OAuth2). All digits, so the
    /// environment reader sees a number: accepted as one.
    #[serde(deserialize_with = "string_or_number")]
    pub discord_client_id: Option<String>,
    /// The Discord application's OAuth2 client secret (server-side only).
    #[serde(skip_serializing)]
    pub discord_client_secret: Option<SecretString>,
    /// Key that signs access tokens; generated into the data dir when unset (every server of a
    /// scale-out deployment needs the same one).
    #[serde(skip_serializing)]
    pub jwt_secret: Option<SecretString>,
    /// Lifetime of an access token (seconds) and of a sign-in without activity (days).
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    /// Sign-in requests per minute per client address, and the burst allowed.
    pub auth_rate_per_minute: u32,
    pub auth_rate_burst: u32,
    /// Requests per minute per client address to `/api/…` (server functions and the JSON API),
    /// and the burst allowed.
    pub api_rate_per_minute: u32,
    pub api_rate_burst: u32,
    /// Marquee is reached over HTTPS (a TLS-terminating proxy): send HSTS.
    pub hsts: bool,
    /// Who may use this Marquee once Discord sign-in is set up: `bot` (members of the Discord
    /// servers the bot is in; the default when the bot's token is set), a comma-separated list
    /// of server ids, or `any` (any Discord account).
    pub allowed_servers: Option<String>,
    /// How long a media or HLS link handed to a player works (seconds): longer than a film.
    pub media_url_ttl_secs: u64,
    /// Whether a session's share link admits guests (viewers not signed in with Discord, who
    /// pick a display name). Unset: off when Discord sign-in is set up; on without it, where
    /// everyone is a guest (see [`Config::admits_guests`]).
    pub guests: Option<bool>,
    /// The address people (and Discord, for posters) reach Marquee at, e.g.
    /// `https://marquee.example.com`; default `http://<bind>`.
    pub public_url: Option<String>,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` headers name the client (CIDRs or
    /// addresses, comma-separated); empty: the socket peer is the client.
    pub trusted_proxies: Option<String>,
    /// Plex transcodes running at once on this web server, and for one person (or one
    /// address, for people not signed in).
    pub max_transcodes: usize,
    pub max_transcodes_per_person: usize,
    /// A transcode no player has fetched from (or reported on) for this long is stopped
    /// (seconds).
    pub transcode_idle_secs: u64,
    /// How often Plex hears a timeline report for each running transcode (milliseconds);
    /// Plex's own players report about every 10 s, and Plex stops a transcode without them.
    pub plex_timeline_ms: u64,
    /// The bound of the cache of transcoded segments (MiB): each segment leaves Plex once
    /// however many viewers watch it.
    pub hls_cache_mb: u64,
    /// The bound of the cache of original files' chunks (MiB): viewers of one file pull its
    /// bytes from Plex about once.
    pub media_cache_mb: u64,
    /// WebSocket connections at once from one client address, and in all on this server.
    pub max_sockets_per_address: usize,
    pub max_sockets: usize,
    /// The in-process cache's size (MiB); Redis bounds its own.
    pub cache_memory_mb: u64,
    /// Server-rendered pages per minute per client address, and the burst.
    pub page_rate_per_minute: u32,
    pub page_rate_burst: u32,
    /// How long a client may take to send a request's headers (seconds), and how many
    /// connections may be open at once.
    pub header_read_timeout_secs: u64,
    pub max_connections: usize,
    /// Cache lifetimes in seconds, per tier.
    pub cache_session_ttl_secs: u64,
    pub cache_media_ttl_secs: u64,
    pub cache_system_ttl_secs: u64,
    /// `tracing` filter, e.g. `info` or `server=debug,info`.
    pub log: String,
    /// `text` (for people) or `json` (one object a line, for a log collector).
    pub log_format: String,
    /// On SIGTERM, how long requests still running may take to finish before they are cut
    /// (seconds). Below a container runtime's kill timeout (Docker's is 10 s).
    pub shutdown_grace_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            site_root: None,
            demo_media_dir: None,
            demo_transcode_stop_secs: 90,
            plex_url: None,
            plex_token: None,
            plex_timeout_secs: 10,
            plex_client_id: None,
            plex_tv_url: None,
            plex_auth_url: None,
            token_key: None,
            database_url: None,
            redis_url: None,
            redis_namespace: "marquee".into(),
            admin_token: None,
            discord_token: None,
            discord_api_url: None,
            discord_activity: false,
            bot_in_server: None,
            public_url: None,
            discord_client_id: None,
            discord_client_secret: None,
            jwt_secret: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            auth_rate_per_minute: 30,
            auth_rate_burst: 10,
            api_rate_per_minute: 600,
            api_rate_burst: 120,
            hsts: false,
            guests: None,
            allowed_servers: None,
            media_url_ttl_secs: 6 * 3600,
            trusted_proxies: None,
            max_transcodes: 6,
            max_transcodes_per_person: 2,
            transcode_idle_secs: 90,
            plex_timeline_ms: 10_000,
            hls_cache_mb: 256,
            media_cache_mb: 256,
            max_sockets_per_address: 32,
            max_sockets: 10_000,
            cache_memory_mb: 64,
            page_rate_per_minute: 300,
            page_rate_burst: 60,
            header_read_timeout_secs: 30,
            max_connections: 4096,
            cache_session_ttl_secs: 24 * 3600,
            cache_media_ttl_secs: 30 * 60,
            cache_system_ttl_secs: 10 * 60,
            log: "info".into(),
            log_format: "text".into(),
            shutdown_grace_secs: 5,
        }
    }
}

/// An optional setting that may arrive as a number (a Discord id from the environment).
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    Ok(Option::<Raw>::deserialize(d)?.map(|raw| match raw {
        Raw::Text(s) => s,
        Raw::Number(n) => n.to_string(),
    }))
}

/// A setting that cannot work, with the fix in the message.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read the configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Defaults, then `file` (or `marquee.toml` if it exists), then the environment. Parse the
    /// result with [`Config::settings`].
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError::Invalid(format!(
                    "the config file {} does not exist",
                    path.display()
                )));
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None if Path::new("marquee.toml").exists() => {
                figment = figment.merge(Toml::file("marquee.toml"))
            }
            None => {}
        }
        figment = figment
            .merge(
                Env::raw()
                    .only(PLAIN_ENV)
                    .map(|k| k.as_str().to_ascii_lowercase().into()),
            )
            .merge(Env::prefixed("MARQUEE_"));
        figment
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))
    }

    /// Catch settings that would fail later in a confusing way.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.settings().map(|_| ())
    }

    /// The settings parsed into typed sections (see [`settings`]).
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        Settings::parse(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail decides the error type
    fn a_numeric_discord_client_id_from_the_environment_is_read() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("MARQUEE_DISCORD_CLIENT_ID", "1100000000000000001");
            jail.set_env("MARQUEE_DISCORD_CLIENT_SECRET", "s");
            let c = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(c.discord_client_id.as_deref(), Some("1100000000000000001"));
            Ok(())
        });
    }

    #[test]
    fn guests_are_off_by_default_once_sign_in_is_set_up() {
        let admits_guests = |c: &Config| c.settings().unwrap().auth.guests;
        let mut c = Config::default();
        assert!(admits_guests(&c), "without sign-in everyone is a guest");
        c.discord_client_id = Some("1".into());
        c.discord_client_secret = Some("s".to_string().into());
        c.allowed_servers = Some("any".into());
        assert!(!admits_guests(&c));
        c.guests = Some(true);
        assert!(admits_guests(&c));
    }

    #[test]
    fn defaults_are_the_embedded_mode() {
        let c = Config::default();
        let settings = c.settings().unwrap();
        assert!(settings.demo_mode());
        assert!(c.validate().is_ok());
        assert_eq!(
            settings.database,
            marquee_store::DatabaseTarget::Sqlite(c.data_dir.join("marquee.db"))
        );
    }

    /// A client identifier goes into a header of every Plex request: plain characters only.
    #[test]
    fn odd_plex_client_ids_are_refused() {
        for bad in ["", "two words", "new\nline", &"x".repeat(129)] {
            let c = Config {
                plex_client_id: Some(bad.to_string()),
                ..Config::default()
            };
            let err = c.validate().unwrap_err().to_string();
            assert!(err.contains("MARQUEE_PLEX_CLIENT_ID"), "{bad:?}: {err}");
        }
        let c = Config {
            plex_client_id: Some("marquee-prod.1_a".into()),
            ..Config::default()
        };
        assert!(c.validate().is_ok());
    }

    /// Review item 9: a short or repetitive key can be guessed offline from a single token.
    #[test]
    fn weak_keys_are_refused() {
        for weak in [
            "secret",
            "changeme-changeme",
            &"a".repeat(64),
            "0123456789abcdef0123456789abcde",
        ] {
            for setting in ["MARQUEE_JWT_SECRET", "MARQUEE_ADMIN_TOKEN"] {
                let mut c = Config::default();
                if setting == "MARQUEE_JWT_SECRET" {
                    c.jwt_secret = Some(weak.to_string().into());
                } else {
                    c.admin_token = Some(weak.to_string().into());
                }
                let err = c.validate().unwrap_err().to_string();
                assert!(err.contains(setting) && err.contains("32"), "{weak}: {err}");
            }
        }
        let c = Config {
            jwt_secret: Some("a3f9c2e17b4d8e06f5a1c9b2d7e3f8a4".to_string().into()),
            admin_token: Some("Zq8-Vx2_mK4pL9wR7tY3nB6cF1hJ5dS0".to_string().into()),
            ..Config::default()
        };
        assert!(c.validate().is_ok());
    }

    /// With sign-in set up, who may use Marquee is a choice someone made: the bot's servers
    /// (the default with its token), a list, or anyone; never silently anyone.
    #[test]
    fn sign_in_needs_a_choice_of_who_is_allowed() {
        use settings::AllowedPeople;
        let mut c = Config {
            discord_client_id: Some("1".into()),
            discord_client_secret: Some("s".to_string().into()),
            ..Config::default()
        };
        let err = c.validate().unwrap_err().to_string();
        assert!(
            err.contains("MARQUEE_ALLOWED_SERVERS") && err.contains("DISCORD_TOKEN"),
            "{err}"
        );
        c.allowed_servers = Some("any".into());
        assert_eq!(c.settings().unwrap().auth.allowed, AllowedPeople::Anyone);
        c.allowed_servers = Some("12, 34".into());
        assert!(
            c.validate().is_err(),
            "a list needs the bot's token to check it"
        );
        c.discord_token = Some("bot-token".to_string().into());
        assert_eq!(
            c.settings().unwrap().auth.allowed,
            AllowedPeople::MembersOf(vec![12, 34])
        );
        c.allowed_servers = None;
        assert_eq!(
            c.settings().unwrap().auth.allowed,
            AllowedPeople::BotServers
        );
        c.allowed_servers = Some("twelve".into());
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("MARQUEE_ALLOWED_SERVERS")
        );
    }

    #[test]
    fn plex_url_without_token_is_refused() {
        let c = Config {
            plex_url: Some("http://10.0.0.2:32400".into()),
            ..Config::default()
        };
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("PLEX_TOKEN"), "{err}");
    }

    #[test]
    fn ttls_outside_the_tiers_are_refused() {
        let c = Config {
            cache_media_ttl_secs: 60,
            ..Config::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("15–60"));
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Config {
            plex_token: Some("tok-secret-123".to_string().into()),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("tok-secret-123"));
        assert_eq!(
            redact_url("postgres://u:hunter2@db/x"),
            "postgres://u:***@db/x"
        );
    }
}
