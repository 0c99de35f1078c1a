//! The hot cache in front of Plex and other slow sources.
//!
//! One [`Cache`] API over two backends: an in-process map (default, zero setup) and Redis
//! (when several Marquee processes should share entries). Values are stored as JSON so both
//! backends behave the same. [`Cache::get_or_fetch`] adds single-flight: a burst of
//! identical misses (a whole Discord group opening the same library page) reaches the
//! upstream once.

mod memory;
mod redis;

use std::any::Any;
use std::collections::HashMap;
use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

use self::memory::MemoryBackend;
use self::redis::RedisBackend;

/// How long a class of data stays fresh; picks the TTL from [`TierTtls`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// Watch-session data: lives as long as a movie night.
    Session,
    /// Plex library metadata: changes rarely, but should reflect new items within the hour.
    Media,
    /// Server/system status: should notice changes within minutes.
    System,
}

/// TTL per [`Tier`]. The defaults (24 h / 30 min / 10 min) suit production;
/// [`TierTtls::validate`] enforces the supported ranges for user configuration, while tests
/// may construct shorter values directly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierTtls {
    pub session: Duration,
    pub media: Duration,
    pub system: Duration,
}

impl Default for TierTtls {
    fn default() -> Self {
        Self {
            session: Duration::from_secs(24 * 3600),
            media: Duration::from_secs(30 * 60),
            system: Duration::from_secs(10 * 60),
        }
    }
}

impl TierTtls {
    /// Supported media TTL range: shorter hammers Plex, longer hides new items.
    pub const MEDIA_RANGE: (Duration, Duration) =
        (Duration::from_secs(15 * 60), Duration::from_secs(60 * 60));
    /// Supported system TTL range.
    pub const SYSTEM_RANGE: (Duration, Duration) =
        (Duration::from_secs(5 * 60), Duration::from_secs(30 * 60));

    /// TTL for one tier.
    pub fn ttl(&self, tier: Tier) -> Duration {
        match tier {
            Tier::Session => self.session,
            Tier::Media => self.media,
            Tier::System => self.system,
        }
    }

    /// Checks operator-supplied TTLs against the supported ranges (media 15–60 min,
    /// system 5–30 min, session non-zero).
    pub fn validate(&self) -> Result<(), CacheError> {
        let check = |name: &'static str, value: Duration, (min, max): (Duration, Duration)| {
            if value < min || value > max {
                Err(CacheError::InvalidTtl(format!(
                    "{name} TTL {}s outside {}–{}s",
                    value.as_secs(),
                    min.as_secs(),
                    max.as_secs()
                )))
            } else {
                Ok(())
            }
        };
        if self.session.is_zero() {
            return Err(CacheError::InvalidTtl(
                "session TTL must be non-zero".into(),
            ));
        }
        check("media", self.media, Self::MEDIA_RANGE)?;
        check("system", self.system, Self::SYSTEM_RANGE)
    }
}

/// Failure of an explicit cache operation.
#[derive(thiserror::Error, Debug)]
pub enum CacheError {
    /// A Redis command failed.
    #[error("redis error: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// No Redis connection could be obtained (server down, timeout).
    #[error("redis pool error: {0}")]
    Pool(#[from] deadpool_redis::PoolError),
    /// The Redis URL or pool configuration is unusable.
    #[error("redis configuration error: {0}")]
    Config(String),
    /// A value could not be converted to or from JSON.
    #[error("cache value (de)serialization failed: {0}")]
    Serialization(#[from] serde_json::Error),
    /// A configured TTL is outside its supported range.
    #[error("invalid cache TTL: {0}")]
    InvalidTtl(String),
}

/// Failure of [`Cache::get_or_fetch`]. Cache trouble never appears here (it degrades to
/// calling upstream), only the upstream's own error.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheFetchError<E> {
    /// The fetch function failed (shared by every caller that waited on it).
    #[error("upstream fetch failed: {0}")]
    Upstream(E),
}

impl<E> CacheFetchError<E> {
    /// The upstream error, for callers that only care about their own error type.
    pub fn into_upstream(self) -> E {
        match self {
            Self::Upstream(e) => e,
        }
    }
}

/// Counters for dashboards and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that found nothing usable.
    pub misses: u64,
    /// Fetch functions actually run by `get_or_fetch`.
    pub upstream_calls: u64,
    /// Live entries, when the backend can count them cheaply (in-process only).
    pub entries: Option<u64>,
    /// Bytes held, keys and bookkeeping included (in-process only).
    pub bytes: Option<u64>,
}

enum CacheBackend {
    Memory(MemoryBackend),
    Redis(RedisBackend),
}

/// One in-flight fetch per key; the value is an `Arc<OnceCell<Result<T, E>>>`, type-erased so
/// one map serves every value type.
type Flights = HashMap<String, Arc<dyn Any + Send + Sync>>;

struct Inner {
    backend: CacheBackend,
    ttls: TierTtls,
    flights: Mutex<Flights>,
    hits: AtomicU64,
    misses: AtomicU64,
    upstream_calls: AtomicU64,
}

/// Expiring key/value cache; cheap to clone (shared state).
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("backend", &self.backend_name())
            .field("ttls", &self.inner.ttls)
            .finish_non_exhaustive()
    }
}

impl Cache {
    fn with_backend(backend: CacheBackend, ttls: TierTtls) -> Cache {
        Cache {
            inner: Arc::new(Inner {
                backend,
                ttls,
                flights: Mutex::new(HashMap::new()),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                upstream_calls: AtomicU64::new(0),
            }),
        }
    }

    /// A cache private to this process, of at most 64 MiB; the default when no Redis URL is
    /// configured.
    pub fn in_process(ttls: TierTtls) -> Cache {
        Self::in_process_bounded(ttls, memory::DEFAULT_MAX_BYTES)
    }

    /// A cache private to this process that holds at most `max_bytes` (keys, values and
    /// bookkeeping), evicting the least used entries beyond that.
    pub fn in_process_bounded(ttls: TierTtls, max_bytes: u64) -> Cache {
        Self::with_backend(CacheBackend::Memory(MemoryBackend::new(max_bytes)), ttls)
    }

    /// A Redis-backed cache whose keys live under `<namespace>:`. Pings the server first so
    /// a wrong URL is reported at start-up rather than as silent misses.
    pub async fn redis(url: &str, namespace: &str, ttls: TierTtls) -> Result<Cache, CacheError> {
        let backend = RedisBackend::new(url, namespace)?;
        backend.ping().await?;
        Ok(Self::with_backend(CacheBackend::Redis(backend), ttls))
    }

    /// Like [`Cache::redis`] but without the start-up check: for deployments where Redis may
    /// come up after Marquee (`get_or_fetch` degrades to upstream meanwhile).
    pub fn redis_lazy(url: &str, namespace: &str, ttls: TierTtls) -> Result<Cache, CacheError> {
        let backend = RedisBackend::new(url, namespace)?;
        Ok(Self::with_backend(CacheBackend::Redis(backend), ttls))
    }

    /// `"in-process"` or `"redis"`, for logs and the status page.
    pub fn backend_name(&self) -> &'static str {
        match self.inner.backend {
            CacheBackend::Memory(_) => "in-process",
            CacheBackend::Redis(_) => "redis",
        }
    }

    /// Whether the cache answers (Redis: a `PING`; in-process: always).
    pub async fn ping(&self) -> Result<(), CacheError> {
        match &self.inner.backend {
            CacheBackend::Memory(_) => Ok(()),
            CacheBackend::Redis(r) => r.ping().await,
        }
    }

    /// The TTLs this cache applies.
    pub fn ttls(&self) -> &TierTtls {
        &self.inner.ttls
    }

    async fn raw_get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        match &self.inner.backend {
            CacheBackend::Memory(m) => Ok(m.get(key)),
            CacheBackend::Redis(r) => r.get(key).await,
        }
    }

    async fn raw_set(&self, tier: Tier, key: &str, bytes: Vec<u8>) -> Result<(), CacheError> {
        let ttl = self.inner.ttls.ttl(tier);
        match &self.inner.backend {
            CacheBackend::Memory(m) => {
                m.set(key, bytes, ttl);
                Ok(())
            }
            CacheBackend::Redis(r) => r.set(key, bytes, ttl).await,
        }
    }

    /// Reads a value; `None` when absent or expired. Counts a hit or a miss.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        let value = match self.raw_get(key).await? {
            Some(bytes) => Some(serde_json::from_slice(&bytes)?),
            None => None,
        };
        self.count(value.is_some());
        Ok(value)
    }

    /// Stores a value with the TTL of `tier`.
    pub async fn set<T: Serialize>(
        &self,
        tier: Tier,
        key: &str,
        value: &T,
    ) -> Result<(), CacheError> {
        let bytes = serde_json::to_vec(value)?;
        self.raw_set(tier, key, bytes).await
    }

    /// Returns the cached value or runs `fetch` to produce it, storing successes with the
    /// tier's TTL.
    ///
    /// Single-flight: concurrent misses for the same key in this process run `fetch` once;
    /// the others wait and receive a clone of its result, errors included. If the running
    /// caller is cancelled, a waiter takes over. Cache failures (e.g. Redis down) are logged
    /// and treated as misses, so requests still succeed from upstream.
    pub async fn get_or_fetch<T, E, F, Fut>(
        &self,
        tier: Tier,
        key: &str,
        fetch: F,
    ) -> Result<T, CacheFetchError<E>>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        E: Clone + Display + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.lookup::<T>(key).await {
            self.count(true);
            return Ok(value);
        }
        self.count(false);

        let result = match self.join_flight::<Result<T, E>>(key) {
            Some(cell) => {
                let result = cell
                    .get_or_init(|| self.load(tier, key, fetch))
                    .await
                    .clone();
                self.leave_flight(key, &cell);
                result
            }
            // Same key in flight with another value type: fetch alone rather than mix types.
            None => self.load(tier, key, fetch).await,
        };
        result.map_err(CacheFetchError::Upstream)
    }

    /// Cache read that never fails: backend errors and undecodable values become misses.
    async fn lookup<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        match self.raw_get(key).await {
            Ok(Some(bytes)) => match serde_json::from_slice(&bytes) {
                Ok(value) => Some(value),
                Err(error) => {
                    tracing::warn!(key, %error, "cached value has an unexpected shape; refetching");
                    None
                }
            },
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(key, %error, backend = self.backend_name(), "cache unavailable; calling upstream");
                None
            }
        }
    }

    /// Runs the upstream fetch for a flight and stores a success.
    async fn load<T, E, F, Fut>(&self, tier: Tier, key: &str, fetch: F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        // A flight that finished just before ours started may already have stored the value.
        if let Some(value) = self.lookup::<T>(key).await {
            return Ok(value);
        }
        self.inner.upstream_calls.fetch_add(1, Ordering::Relaxed);
        let value = fetch().await?;
        let stored = match serde_json::to_vec(&value) {
            Ok(bytes) => self.raw_set(tier, key, bytes).await,
            Err(e) => Err(CacheError::Serialization(e)),
        };
        if let Err(error) = stored {
            tracing::warn!(key, %error, backend = self.backend_name(), "could not store fetched value in cache");
        }
        Ok(value)
    }

    fn flights(&self) -> std::sync::MutexGuard<'_, Flights> {
        // The map is only touched by single insert/get/remove calls; a poisoned lock still
        // holds a consistent map.
        self.inner
            .flights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Joins the flight for `key`, starting one if none is running. `None` if the running
    /// flight produces a different type.
    fn join_flight<R: Send + Sync + 'static>(&self, key: &str) -> Option<Arc<OnceCell<R>>> {
        let mut flights = self.flights();
        if let Some(existing) = flights.get(key) {
            return Arc::clone(existing).downcast::<OnceCell<R>>().ok();
        }
        let cell = Arc::new(OnceCell::<R>::new());
        flights.insert(key.to_owned(), cell.clone());
        Some(cell)
    }

    /// Ends the flight once its result is known, so later misses fetch afresh.
    fn leave_flight<R: Send + Sync + 'static>(&self, key: &str, cell: &Arc<OnceCell<R>>) {
        let mut flights = self.flights();
        let same = flights
            .get(key)
            .is_some_and(|f| std::ptr::addr_eq(Arc::as_ptr(f), Arc::as_ptr(cell)));
        if same {
            flights.remove(key);
        }
    }

    /// Drops one key (e.g. after the underlying item changed).
    pub async fn invalidate(&self, key: &str) -> Result<(), CacheError> {
        match &self.inner.backend {
            CacheBackend::Memory(m) => {
                m.remove(key);
            }
            CacheBackend::Redis(r) => {
                r.remove(key).await?;
            }
        }
        Ok(())
    }

    /// Drops every key starting with `prefix` (e.g. `"library:3:"` after a section
    /// refresh); returns how many were removed.
    pub async fn invalidate_prefix(&self, prefix: &str) -> Result<u64, CacheError> {
        match &self.inner.backend {
            CacheBackend::Memory(m) => Ok(m.remove_prefix(prefix)),
            CacheBackend::Redis(r) => r.remove_prefix(prefix).await,
        }
    }

    /// Drops everything this cache owns (only its namespace on Redis).
    pub async fn clear(&self) -> Result<u64, CacheError> {
        self.invalidate_prefix("").await
    }

    /// Current counters.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.inner.hits.load(Ordering::Relaxed),
            misses: self.inner.misses.load(Ordering::Relaxed),
            upstream_calls: self.inner.upstream_calls.load(Ordering::Relaxed),
            entries: match &self.inner.backend {
                CacheBackend::Memory(m) => Some(m.live_entries()),
                CacheBackend::Redis(_) => None,
            },
            bytes: match &self.inner.backend {
                CacheBackend::Memory(m) => Some(m.weighed_bytes()),
                CacheBackend::Redis(_) => None,
            },
        }
    }

    fn count(&self, hit: bool) {
        let counter = if hit {
            &self.inner.hits
        } else {
            &self.inner.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
