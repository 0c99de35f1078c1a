//! Configuration: built-in defaults, then an optional TOML file, then environment variables.
//!
//! Every setting has a default that gives the embedded mode (SQLite in `./data`, in-process
//! cache, the demo library), so `marquee` with no configuration works. Secrets are
//! [`SecretString`]s: they print as `[REDACTED]` in `Debug` output and logs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
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
    /// The built site (WASM bundle, CSS, scripts), made by `scripts/build.sh`.
    pub site_root: PathBuf,
    /// Where the demo library keeps its generated media (default: `<data dir>/demo-media`).
    pub demo_media_dir: Option<PathBuf>,
    /// Base URL of the Plex Media Server; unset means "run the built-in demo library".
    pub plex_url: Option<String>,
    #[serde(skip_serializing)]
    pub plex_token: Option<SecretString>,
    /// Seconds before a Plex request counts as failed.
    pub plex_timeout_secs: u64,
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
    /// Whether a session's share link admits guests (viewers not signed in with Discord, who
    /// pick a display name). Unset: off when Discord sign-in is set up; on without it, where
    /// everyone is a guest (see [`Config::admits_guests`]).
    pub guests: Option<bool>,
    /// The address people (and Discord, for posters) reach Marquee at, e.g.
    /// `https://marquee.example.com`; default `http://<bind>`.
    pub public_url: Option<String>,
    /// Cache lifetimes in seconds, per tier.
    pub cache_session_ttl_secs: u64,
    pub cache_media_ttl_secs: u64,
    pub cache_system_ttl_secs: u64,
    /// `tracing` filter, e.g. `info` or `server=debug,info`.
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
            data_dir: PathBuf::from("data"),
            site_root: PathBuf::from("target/site"),
            demo_media_dir: None,
            plex_url: None,
            plex_token: None,
            plex_timeout_secs: 10,
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
            cache_session_ttl_secs: 24 * 3600,
            cache_media_ttl_secs: 30 * 60,
            cache_system_ttl_secs: 10 * 60,
            log: "info".into(),
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
    /// Defaults, then `file` (or `marquee.toml` if it exists), then the environment.
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
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Catch settings that would fail later in a confusing way.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if let Some(url) = self.plex_url.as_deref().filter(|u| !u.is_empty()) {
            if url::Url::parse(url).is_err() {
                return bad(format!(
                    "PLEX_URL is not a URL: {url:?} (example: http://192.168.1.10:32400)"
                ));
            }
            if self
                .plex_token
                .as_ref()
                .is_none_or(|t| t.expose_secret().is_empty())
            {
                return bad(
                    "PLEX_URL is set but PLEX_TOKEN is not; Marquee needs the server's token"
                        .into(),
                );
            }
        }
        if let Some(db) = &self.database_url {
            let db = db.expose_secret();
            let known = ["postgres://", "postgresql://", "sqlite://"]
                .iter()
                .any(|p| db.starts_with(p))
                || db.ends_with(".db")
                || db.is_empty();
            if !known {
                return bad(
                    "DATABASE_URL must start with postgres://, postgresql:// or sqlite://".into(),
                );
            }
        }
        if let Some(redis) = &self.redis_url
            && !(redis.expose_secret().starts_with("redis://")
                || redis.expose_secret().starts_with("rediss://"))
        {
            return bad("REDIS_URL must start with redis:// or rediss://".into());
        }
        for (name, value) in [
            ("MARQUEE_PUBLIC_URL", &self.public_url),
            ("MARQUEE_DISCORD_API_URL", &self.discord_api_url),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty())
                && !url::Url::parse(v).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
            {
                return bad(format!(
                    "{name} must be an http(s) URL such as https://marquee.example.com, not {v:?}"
                ));
            }
        }
        if self
            .discord_client_id
            .as_deref()
            .is_some_and(|s| !s.is_empty())
            != self
                .discord_client_secret
                .as_ref()
                .is_some_and(|s| !s.expose_secret().is_empty())
        {
            return bad(
                "set both MARQUEE_DISCORD_CLIENT_ID and MARQUEE_DISCORD_CLIENT_SECRET for Discord sign-in, or neither"
                    .into(),
            );
        }
        if self.access_token_ttl_secs == 0 || self.refresh_token_ttl_days == 0 {
            return bad("token lifetimes must be positive".into());
        }
        let media = self.cache_media_ttl_secs;
        if !(15 * 60..=60 * 60).contains(&media) {
            return bad(format!(
                "MARQUEE_CACHE_MEDIA_TTL_SECS must be 900–3600 (15–60 min), not {media}"
            ));
        }
        let system = self.cache_system_ttl_secs;
        if !(5 * 60..=30 * 60).contains(&system) {
            return bad(format!(
                "MARQUEE_CACHE_SYSTEM_TTL_SECS must be 300–1800 (5–30 min), not {system}"
            ));
        }
        if self.cache_session_ttl_secs == 0 || self.plex_timeout_secs == 0 {
            return bad("cache and timeout settings must be positive".into());
        }
        Ok(())
    }

    /// True when no Plex server is configured and the demo library should run.
    pub fn demo_mode(&self) -> bool {
        self.plex_url.as_deref().is_none_or(str::is_empty)
    }

    pub fn plex_timeout(&self) -> Duration {
        Duration::from_secs(self.plex_timeout_secs)
    }

    pub fn cache_ttls(&self) -> marquee_store::TierTtls {
        marquee_store::TierTtls {
            session: Duration::from_secs(self.cache_session_ttl_secs),
            media: Duration::from_secs(self.cache_media_ttl_secs),
            system: Duration::from_secs(self.cache_system_ttl_secs),
        }
    }

    /// The database URL, if one is set and non-empty.
    pub fn database_url(&self) -> Option<&str> {
        self.database_url
            .as_ref()
            .map(|s| s.expose_secret())
            .filter(|s| !s.is_empty())
    }

    /// The bot token, if one is set and non-empty.
    pub fn discord_token(&self) -> Option<&SecretString> {
        self.discord_token
            .as_ref()
            .filter(|t| !t.expose_secret().trim().is_empty())
    }

    /// Discord's base URL (`https://discord.com`, or a fake's in tests) for OAuth2 and the REST
    /// calls the server makes itself.
    pub fn discord_api_base(&self) -> String {
        self.discord_api_url
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "https://discord.com".into())
    }

    /// The Discord OAuth2 client, when both its id and secret are set.
    pub fn discord_oauth(&self) -> Option<(&str, &SecretString)> {
        let id = self
            .discord_client_id
            .as_deref()
            .filter(|s| !s.is_empty())?;
        let secret = self
            .discord_client_secret
            .as_ref()
            .filter(|t| !t.expose_secret().is_empty())?;
        Some((id, secret))
    }

    /// Whether viewers who are not signed in may join sessions (see [`Config::guests`]).
    pub fn admits_guests(&self) -> bool {
        self.guests.unwrap_or(self.discord_oauth().is_none())
    }

    /// Whether `marquee serve` should run the bot (see [`Config::bot_in_server`]).
    pub fn bot_in_server(&self) -> bool {
        self.bot_in_server.unwrap_or(self.redis_url().is_none())
    }

    /// Base URL for links and posters, without a trailing slash.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match self.public_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }

    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url
            .as_ref()
            .map(|s| s.expose_secret())
            .filter(|s| !s.is_empty())
    }
}

/// A URL safe to log: the password (if any) replaced by `***`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string()
        }
        Err(_) => "(unparseable URL)".into(),
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
        let mut c = Config::default();
        assert!(c.admits_guests(), "without sign-in everyone is a guest");
        c.discord_client_id = Some("1".into());
        c.discord_client_secret = Some("s".to_string().into());
        assert!(!c.admits_guests());
        c.guests = Some(true);
        assert!(c.admits_guests());
    }

    #[test]
    fn defaults_are_the_embedded_mode() {
        let c = Config::default();
        assert!(c.demo_mode());
        assert!(c.validate().is_ok());
        assert_eq!(c.database_url(), None);
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
