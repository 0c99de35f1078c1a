//! What Marquee asks Discord with the bot's token, and how often: a member's roles in a server
//! (for the control role) and an Activity instance's place and users (to trust an Activity's
//! launch). Answers are cached, found and not found alike, and a 429 makes every lookup wait out
//! its `Retry-After`: Discord bans an address that keeps making invalid requests, and a
//! reconnecting page must not be the one to cause it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use moka::future::Cache;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// How long a lookup waits for Discord.
const LOOKUP_BUDGET: Duration = Duration::from_secs(3);
/// How long a member's roles are reused: a role granted in Discord reaches Marquee within this.
const ROLES_TTL: Duration = Duration::from_secs(300);
/// How long an Activity instance's answer is reused. Short, because people join and leave; a
/// person missing from a cached answer causes one fresh lookup (they may have just joined).
const INSTANCE_TTL: Duration = Duration::from_secs(15);
/// Entries kept per cache (each is a few hundred bytes at most).
const CACHE_ENTRIES: u64 = 10_000;

/// Why Discord gave no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BotApiError {
    #[error("Discord could not be reached ({0})")]
    Unavailable(String),
    #[error("Discord refused the lookup (HTTP {0}); check DISCORD_TOKEN")]
    Refused(u16),
    #[error("Discord asked Marquee to slow down; lookups resume in {0:?}")]
    RateLimited(Duration),
}

/// An Activity instance as Discord reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityInstance {
    pub channel_id: u64,
    /// `None` in a DM or group DM.
    pub guild_id: Option<u64>,
    /// The people in it now.
    pub users: Vec<u64>,
}

#[derive(Deserialize)]
struct GuildMember {
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Deserialize)]
struct InstanceBody {
    location: Location,
    #[serde(default)]
    users: Vec<String>,
}

#[derive(Deserialize)]
struct Location {
    channel_id: Option<String>,
    #[serde(default)]
    guild_id: Option<String>,
}

/// A bounded cache whose answers live `ttl`.
fn cache<K, V>(ttl: Duration) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(CACHE_ENTRIES)
        .time_to_live(ttl)
        .build()
}

/// Discord's REST API with the bot's token.
pub struct BotApi {
    http: reqwest::Client,
    /// `https://discord.com`, or a fake's address in tests.
    base: String,
    token: SecretString,
    /// The application whose Activity instances are looked up.
    application_id: Option<String>,
    /// (guild, user) → their role ids, `None` when not a member.
    roles: Cache<(u64, u64), Option<Vec<u64>>>,
    /// instance id → the instance, `None` when Discord does not know it.
    instances: Cache<String, Option<ActivityInstance>>,
    /// The servers the bot is in (one entry).
    guilds: Cache<(), Vec<u64>>,
    /// Until when Discord asked us to wait (a 429's `Retry-After`).
    hold_until: Mutex<Option<Instant>>,
}

impl BotApi {
    pub fn new(base: &str, token: SecretString, application_id: Option<String>) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(LOOKUP_BUDGET)
                .build()
                .expect("an HTTP client with a timeout builds (rustls, no system state)"),
            base: base.trim_end_matches('/').to_owned(),
            token,
            application_id,
            roles: cache(ROLES_TTL),
            instances: cache(INSTANCE_TTL),
            guilds: cache(ROLES_TTL),
            hold_until: Mutex::new(None),
        }
    }

    /// The user's role ids in the server; `None` when they are not a member of it.
    pub async fn roles(
        &self,
        guild_id: u64,
        user_id: u64,
    ) -> Result<Option<Vec<u64>>, BotApiError> {
        self.roles
            .try_get_with((guild_id, user_id), async {
                let path = format!("/api/v10/guilds/{guild_id}/members/{user_id}");
                let Some(member) = self.get::<GuildMember>(&path).await? else {
                    return Ok(None);
                };
                Ok(Some(
                    member.roles.iter().filter_map(|r| r.parse().ok()).collect(),
                ))
            })
            .await
            .map_err(|e: std::sync::Arc<BotApiError>| (*e).clone())
    }

    /// The ids of the Discord servers the bot is in.
    pub async fn bot_guilds(&self) -> Result<Vec<u64>, BotApiError> {
        #[derive(Deserialize)]
        struct Guild {
            id: String,
        }
        self.guilds
            .try_get_with((), async {
                let guilds: Vec<Guild> = self
                    .get("/api/v10/users/@me/guilds")
                    .await?
                    .unwrap_or_default();
                Ok(guilds.iter().filter_map(|g| g.id.parse().ok()).collect())
            })
            .await
            .map_err(|e: std::sync::Arc<BotApiError>| (*e).clone())
    }

    /// The running Activity instance `instance_id` of this application with `user_id` in it.
    /// `Ok(None)`: Discord knows no such instance, or the user is not in it.
    pub async fn instance_with(
        &self,
        instance_id: &str,
        user_id: u64,
    ) -> Result<Option<ActivityInstance>, BotApiError> {
        let has_user =
            |i: &Option<ActivityInstance>| i.as_ref().is_some_and(|i| i.users.contains(&user_id));
        let cached = self.instance(instance_id).await?;
        if has_user(&cached) {
            return Ok(cached);
        }
        // They may have joined since the cached answer: ask once more.
        self.instances.invalidate(instance_id).await;
        let fresh = self.instance(instance_id).await?;
        Ok(fresh.filter(|i| i.users.contains(&user_id)))
    }

    async fn instance(&self, instance_id: &str) -> Result<Option<ActivityInstance>, BotApiError> {
        let Some(app) = &self.application_id else {
            return Ok(None);
        };
        self.instances
            .try_get_with(instance_id.to_owned(), async {
                let encoded: String =
                    url::form_urlencoded::byte_serialize(instance_id.as_bytes()).collect();
                let path = format!("/api/v10/applications/{app}/activity-instances/{encoded}");
                let Some(body) = self.get::<InstanceBody>(&path).await? else {
                    return Ok(None);
                };
                let id = |s: &Option<String>| s.as_deref().and_then(|s| s.parse::<u64>().ok());
                let Some(channel_id) = id(&body.location.channel_id) else {
                    return Ok(None);
                };
                Ok(Some(ActivityInstance {
                    channel_id,
                    guild_id: id(&body.location.guild_id),
                    users: body.users.iter().filter_map(|u| u.parse().ok()).collect(),
                }))
            })
            .await
            .map_err(|e: std::sync::Arc<BotApiError>| (*e).clone())
    }

    /// GETs `path`: the body on 200, `None` on 404, an error otherwise. Waits out a 429.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, BotApiError> {
        if let Some(wait) = self.held() {
            return Err(BotApiError::RateLimited(wait));
        }
        let unavailable = |e: reqwest::Error| BotApiError::Unavailable(e.without_url().to_string());
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Bot {}", self.token.expose_secret()),
            )
            .send()
            .await
            .map_err(unavailable)?;
        match response.status().as_u16() {
            200 => Ok(Some(response.json().await.map_err(unavailable)?)),
            404 => Ok(None),
            429 => {
                let wait = retry_after(&response);
                *self.hold_until.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(Instant::now() + wait);
                tracing::warn!(
                    ?wait,
                    "Discord rate-limited the bot's lookups; holding them"
                );
                Err(BotApiError::RateLimited(wait))
            }
            other => Err(BotApiError::Refused(other)),
        }
    }

    /// How long lookups must still wait, if Discord asked us to.
    fn held(&self) -> Option<Duration> {
        let hold = self.hold_until.lock().unwrap_or_else(|p| p.into_inner());
        hold.and_then(|until| until.checked_duration_since(Instant::now()))
            .filter(|d| !d.is_zero())
    }
}

/// A 429's wait: the `Retry-After` header (seconds, possibly fractional) or the JSON body's
/// `retry_after`, bounded to a minute; one second when neither says.
fn retry_after(response: &reqwest::Response) -> Duration {
    let seconds = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(1.0);
    Duration::from_secs_f64(seconds.min(60.0))
}
