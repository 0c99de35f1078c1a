//! Cache behaviour, run identically against the in-process backend and Redis (a unique
//! namespace per test, cleared afterwards). Redis must be reachable: the tests fail rather
//! than skip when it is not.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::FutureExt;
use marquee_store::testing::{fresh_redis_namespace, redis_url};
use marquee_store::{Cache, CacheError, CacheFetchError, Tier, TierTtls};
use serde::{Deserialize, Serialize};

/// Builds caches of one backend; every cache from one fixture shares its namespace.
struct Fixture {
    redis_namespace: Option<String>,
}

impl Fixture {
    async fn cache(&self, ttls: TierTtls) -> Cache {
        match &self.redis_namespace {
            None => Cache::in_process(ttls),
            Some(ns) => Cache::redis(&redis_url(), ns, ttls)
                .await
                .unwrap_or_else(|e| panic!("a Redis cache in {ns}: {e}")),
        }
    }
}

async fn with_in_process<F, Fut>(body: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    body(Fixture {
        redis_namespace: None,
    })
    .await;
}

async fn with_redis<F, Fut>(body: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    // Fails early and loudly if Redis is missing.
    let ns = fresh_redis_namespace().await;
    let fixture = Fixture {
        redis_namespace: Some(ns),
    };
    let cleaner = fixture.cache(TierTtls::default()).await;
    let outcome = AssertUnwindSafe(body(fixture)).catch_unwind().await;
    cleaner.clear().await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

on_both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    in_process => with_in_process, redis => with_redis;
    set_get_round_trip,
    tier_ttl_expiry,
    single_flight_100_concurrent_misses,
    single_flight_shares_errors_and_does_not_cache_them,
    hit_miss_counters,
    invalidate_prefix_and_clear,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Movie {
    title: String,
    year: u16,
    genres: Vec<String>,
}

fn alien() -> Movie {
    Movie {
        title: "Alien".into(),
        year: 1979,
        genres: vec!["horror".into(), "sci-fi".into()],
    }
}

fn short_ttls() -> TierTtls {
    TierTtls {
        session: Duration::from_secs(30),
        media: Duration::from_millis(700),
        system: Duration::from_millis(700),
    }
}

async fn set_get_round_trip(fx: Fixture) {
    let cache = fx.cache(TierTtls::default()).await;
    assert_eq!(cache.get::<Movie>("movie:1").await.unwrap(), None);
    cache.set(Tier::Media, "movie:1", &alien()).await.unwrap();
    assert_eq!(cache.get::<Movie>("movie:1").await.unwrap(), Some(alien()));
    // Overwrite.
    cache.set(Tier::Media, "movie:1", &"plain").await.unwrap();
    assert_eq!(
        cache.get::<String>("movie:1").await.unwrap().as_deref(),
        Some("plain")
    );
    // Reading with the wrong type is an explicit error, not a silent None.
    assert!(matches!(
        cache.get::<Movie>("movie:1").await,
        Err(CacheError::Serialization(_))
    ));
}

async fn tier_ttl_expiry(fx: Fixture) {
    let cache = fx.cache(short_ttls()).await;
    cache.set(Tier::Media, "m", &1_u32).await.unwrap();
    cache.set(Tier::System, "s", &2_u32).await.unwrap();
    cache.set(Tier::Session, "w", &3_u32).await.unwrap();
    assert_eq!(cache.get::<u32>("m").await.unwrap(), Some(1));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(cache.get::<u32>("m").await.unwrap(), None);
    assert_eq!(cache.get::<u32>("s").await.unwrap(), None);
    assert_eq!(cache.get::<u32>("w").await.unwrap(), Some(3));

    // get_or_fetch stores with the tier's TTL as well.
    let calls = AtomicUsize::new(0);
    let fetch = || async {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok::<_, String>(7_u32)
    };
    assert_eq!(
        cache.get_or_fetch(Tier::Media, "f", fetch).await.unwrap(),
        7
    );
    assert_eq!(
        cache.get_or_fetch(Tier::Media, "f", fetch).await.unwrap(),
        7
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        cache.get_or_fetch(Tier::Media, "f", fetch).await.unwrap(),
        7
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

async fn single_flight_100_concurrent_misses(fx: Fixture) {
    let cache = fx.cache(TierTtls::default()).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let cache = cache.clone();
            let calls = Arc::clone(&calls);
            tokio::spawn(async move {
                cache
                    .get_or_fetch(Tier::Media, "library:1:movie:42", || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, String>(alien())
                    })
                    .await
            })
        })
        .collect();
    let results = futures::future::join_all(tasks).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "upstream called more than once"
    );
    assert_eq!(results.len(), 100);
    for result in results {
        assert_eq!(result.unwrap().unwrap(), alien());
    }
    let stats = cache.stats();
    assert_eq!(stats.upstream_calls, 1);
    assert_eq!(stats.hits + stats.misses, 100);
    assert!(stats.misses >= 1);

    // The value is now cached: no further upstream calls.
    let again = cache
        .get_or_fetch(Tier::Media, "library:1:movie:42", || async {
            Err::<Movie, _>("must not be called".to_string())
        })
        .await
        .unwrap();
    assert_eq!(again, alien());
    assert_eq!(cache.stats().upstream_calls, 1);
}

async fn single_flight_shares_errors_and_does_not_cache_them(fx: Fixture) {
    let cache = fx.cache(TierTtls::default()).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let cache = cache.clone();
            let calls = Arc::clone(&calls);
            tokio::spawn(async move {
                cache
                    .get_or_fetch(Tier::System, "status", || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Err::<u32, _>("plex offline".to_string())
                    })
                    .await
            })
        })
        .collect();
    for result in futures::future::join_all(tasks).await {
        assert_eq!(
            result.unwrap(),
            Err(CacheFetchError::Upstream("plex offline".to_string()))
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Errors are not cached: the next call tries upstream again.
    let value = cache
        .get_or_fetch(Tier::System, "status", || async { Ok::<_, String>(5_u32) })
        .await
        .unwrap();
    assert_eq!(value, 5);
    assert_eq!(cache.stats().upstream_calls, 2);
}

async fn hit_miss_counters(fx: Fixture) {
    let cache = fx.cache(TierTtls::default()).await;
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.upstream_calls), (0, 0, 0));

    assert_eq!(cache.get::<u32>("k").await.unwrap(), None); // miss
    cache.set(Tier::System, "k", &1_u32).await.unwrap();
    assert_eq!(cache.get::<u32>("k").await.unwrap(), Some(1)); // hit
    let v = cache
        .get_or_fetch(Tier::System, "k", || async { Ok::<_, String>(99_u32) })
        .await
        .unwrap(); // hit
    assert_eq!(v, 1);
    let v = cache
        .get_or_fetch(Tier::System, "other", || async { Ok::<_, String>(2_u32) })
        .await
        .unwrap(); // miss + upstream
    assert_eq!(v, 2);

    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.upstream_calls), (2, 2, 1));
    match cache.backend_name() {
        "in-process" => assert_eq!(stats.entries, Some(2)),
        "redis" => assert_eq!(stats.entries, None),
        other => panic!("unknown backend {other}"),
    }
}

async fn invalidate_prefix_and_clear(fx: Fixture) {
    let cache = fx.cache(TierTtls::default()).await;
    for key in [
        "lib:1:a", "lib:1:b", "lib:10:a", "lib:2:a", "solo", "odd*[x]", "oddity",
    ] {
        cache.set(Tier::Media, key, &key).await.unwrap();
    }
    cache.invalidate("solo").await.unwrap();
    cache.invalidate("never-set").await.unwrap();
    assert_eq!(cache.get::<String>("solo").await.unwrap(), None);

    assert_eq!(cache.invalidate_prefix("lib:1:").await.unwrap(), 2);
    assert_eq!(cache.get::<String>("lib:1:a").await.unwrap(), None);
    assert_eq!(cache.get::<String>("lib:1:b").await.unwrap(), None);
    assert!(cache.get::<String>("lib:10:a").await.unwrap().is_some());
    assert!(cache.get::<String>("lib:2:a").await.unwrap().is_some());

    // Glob characters in the prefix are literal.
    assert_eq!(cache.invalidate_prefix("odd*").await.unwrap(), 1);
    assert!(cache.get::<String>("oddity").await.unwrap().is_some());

    // Another cache in the same namespace sees the same entries; clear removes them all.
    let twin = fx.cache(TierTtls::default()).await;
    if twin.backend_name() == "redis" {
        assert!(twin.get::<String>("lib:2:a").await.unwrap().is_some());
    }
    assert_eq!(cache.clear().await.unwrap(), 3);
    assert_eq!(cache.get::<String>("lib:2:a").await.unwrap(), None);
    assert_eq!(cache.clear().await.unwrap(), 0);
}

#[tokio::test]
async fn redis_namespaces_are_isolated() {
    let a_ns = format!("marquee_test_{}", marquee_store::db::random_slug(12));
    let b_ns = format!("{a_ns}_other");
    with_redis(|fx| async move {
        let a = fx.cache(TierTtls::default()).await;
        let b = Fixture {
            redis_namespace: Some(b_ns.clone()),
        }
        .cache(TierTtls::default())
        .await;
        a.set(Tier::Media, "k", &1_u32).await.unwrap();
        b.set(Tier::Media, "k", &2_u32).await.unwrap();
        assert_eq!(a.clear().await.unwrap(), 1);
        assert_eq!(b.get::<u32>("k").await.unwrap(), Some(2));
        assert_eq!(b.clear().await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn redis_down_degrades_to_upstream() {
    // Nothing listens on port 1: construction without the start-up check succeeds, explicit
    // calls report the failure, get_or_fetch still answers from upstream.
    let cache = Cache::redis_lazy(
        "redis://127.0.0.1:1",
        "marquee_test_down",
        TierTtls::default(),
    )
    .unwrap();
    assert_eq!(cache.backend_name(), "redis");
    assert!(cache.get::<u32>("k").await.is_err());
    assert!(cache.set(Tier::Media, "k", &1_u32).await.is_err());
    for _ in 0..2 {
        let v = cache
            .get_or_fetch(Tier::Media, "k", || async { Ok::<_, String>(42_u32) })
            .await
            .unwrap();
        assert_eq!(v, 42);
    }
    assert_eq!(cache.stats().upstream_calls, 2);

    assert!(
        Cache::redis(
            "redis://127.0.0.1:1",
            "marquee_test_down",
            TierTtls::default()
        )
        .await
        .is_err(),
        "start-up check should fail"
    );
}

#[test]
fn default_ttls_and_validation() {
    let ttls = TierTtls::default();
    assert_eq!(ttls.session, Duration::from_secs(24 * 3600));
    assert_eq!(ttls.media, Duration::from_secs(30 * 60));
    assert_eq!(ttls.system, Duration::from_secs(10 * 60));
    assert!(ttls.validate().is_ok());
    assert!(short_ttls().validate().is_err());
    let too_long = TierTtls {
        media: Duration::from_secs(61 * 60),
        ..TierTtls::default()
    };
    assert!(matches!(
        too_long.validate(),
        Err(CacheError::InvalidTtl(_))
    ));
}
