//! Health and Prometheus metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use crate::state::AppState;

/// `GET /healthz`: 200 when the store answers; 503 otherwise (for load balancers).
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    match state.services.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok" }))),
        Err(err) => {
            tracing::warn!(%err, "health check: store unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "store unavailable" })),
            )
        }
    }
}

/// How long each readiness check may take.
const READY_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// `GET /readyz`: whether this server can serve viewers now: the database, the cache and Plex
/// each answer within 2 s. 200 or 503, with each check's result (`ok` or `failed`; why is in the
/// log, since anyone may ask and a reason can name an internal address), for a load balancer or
/// an orchestrator. `/healthz` stays the liveness check.
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let services = &state.services;
    let (database, cache, plex) = tokio::join!(
        check(services.store.ping()),
        check(services.cache.ping()),
        check(services.plex.identity()),
    );
    let ready = [&database, &cache, &plex].iter().all(|c| c.is_none());
    let word = |c: &Option<String>| if c.is_none() { "ok" } else { "failed" };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if !ready {
        tracing::warn!(?database, ?cache, ?plex, "not ready");
    }
    (
        status,
        Json(json!({
            "ready": ready,
            "checks": { "database": word(&database), "cache": word(&cache), "plex": word(&plex) },
        })),
    )
}

/// `None` when `f` succeeds in time; else a short reason.
async fn check<T, E: std::fmt::Display>(
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Option<String> {
    match tokio::time::timeout(READY_CHECK, f).await {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("no answer within 2 s".to_owned()),
    }
}

/// `GET /metrics`: Prometheus text, including the cache's hit and miss counts.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let stats = state.services.cache.stats();
    let backend = state.services.cache.backend_name();
    metrics::gauge!("marquee_cache_hits", "backend" => backend).set(stats.hits as f64);
    metrics::gauge!("marquee_cache_misses", "backend" => backend).set(stats.misses as f64);
    metrics::gauge!("marquee_cache_upstream_calls", "backend" => backend)
        .set(stats.upstream_calls as f64);
    let looked_up = stats.hits + stats.misses;
    if looked_up > 0 {
        metrics::gauge!("marquee_cache_hit_ratio", "backend" => backend)
            .set(stats.hits as f64 / looked_up as f64);
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
