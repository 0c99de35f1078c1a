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

/// `GET /metrics`: Prometheus text, including the cache's hit and miss counts.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let stats = state.services.cache.stats();
    let backend = state.services.cache.backend_name();
    metrics::gauge!("marquee_cache_hits", "backend" => backend).set(stats.hits as f64);
    metrics::gauge!("marquee_cache_misses", "backend" => backend).set(stats.misses as f64);
    metrics::gauge!("marquee_cache_upstream_calls", "backend" => backend)
        .set(stats.upstream_calls as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
