//! Stopping with a deadline.
//!
//! On the stop signal the server stops accepting connections, tells every WebSocket viewer it is
//! restarting (close code 1012, after recording that they left), and lets the requests still
//! running finish for the grace period. Whatever is left then (a media response stuck on a client
//! that stopped reading, say) is cut: a `docker stop` or a rolling restart never waits for
//! SIGKILL. Axum's own graceful shutdown has no deadline and does not see upgraded WebSocket
//! connections, which is why this exists.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::sync::Hub;

/// Serves `router` on `listener` until `stop` resolves, then shuts down within `grace`.
///
/// Returns when every request and WebSocket has ended, or when `grace` has run out (the
/// connections left are then dropped with the serving future; the process's exit ends their
/// tasks). An error is one from the listener itself.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    hub: Hub,
    grace: Duration,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = CancellationToken::new();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stopping.clone().cancelled_owned())
    .into_future();
    let mut server = std::pin::pin!(server);
    tokio::select! {
        result = &mut server => return result,
        () = stop => {}
    }
    let started = Instant::now();
    tracing::info!(
        grace_secs = grace.as_secs_f64(),
        viewers = hub.connections(),
        "stopping: no new connections; viewers told to reconnect; letting requests finish"
    );
    stopping.cancel();
    hub.close_all();
    let finished = async {
        let result = (&mut server).await;
        hub.drained().await;
        result
    };
    match tokio::time::timeout(grace, finished).await {
        Ok(result) => {
            tracing::info!(
                after_ms = started.elapsed().as_millis() as u64,
                "all requests finished"
            );
            result
        }
        Err(_) => {
            tracing::warn!(
                grace_secs = grace.as_secs_f64(),
                viewers_left = hub.connections(),
                "requests still running after the grace period: cutting them"
            );
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
