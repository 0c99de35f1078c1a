//! Serving connections, and stopping with a deadline.
//!
//! Connections are served by hyper directly rather than through `axum::serve`, for two
//! limits a public server needs against slow or idle clients (slowloris): a deadline for each
//! request's headers (`MARQUEE_HEADER_READ_TIMEOUT_SECS`), and a cap on open connections
//! (`MARQUEE_MAX_CONNECTIONS`; beyond it new connections are closed at once).
//!
//! On the stop signal the server stops accepting connections, tells every WebSocket viewer it is
//! restarting (close code 1012, after recording that they left), and lets the requests still
//! running finish for the grace period. Whatever is left then (a media response stuck on a client
//! that stopped reading, say) is cut: a `docker stop` or a rolling restart never waits for
//! SIGKILL. Axum's own graceful shutdown has no deadline and does not see upgraded WebSocket
//! connections, which is why this exists.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use crate::sync::Hub;

/// The connection limits (see the module docs).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `stop` resolves, then shuts down within `grace`.
///
/// Returns when every request and WebSocket has ended, or when `grace` has run out (the
/// connections left are then dropped; the process's exit ends their tasks).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    hub: Hub,
    grace: Duration,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // HTTP/1 only: browsers speak HTTP/2 only over TLS, which a proxy in front ends.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let builder = Arc::new(builder);
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(%err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            metrics::counter!("marquee_connections_refused_total").increment(1);
            tracing::debug!(%peer, "refused a connection: too many open");
            drop(stream);
            continue;
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(request)
        });
        let builder = Arc::clone(&builder);
        let stopping = stopping.clone();
        let deadline = limits.header_read_timeout;
        connections.spawn(async move {
            let _permit = permit;
            // hyper's own deadline starts once it has seen the first byte (it reads that to
            // tell the protocol); a client that sends nothing is cut here.
            // (`peek`, not `readable`: readiness may be reported before any byte is there.)
            let mut first = [0u8; 1];
            match tokio::time::timeout(deadline, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = stopping.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = result {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.close();
    let started = Instant::now();
    tracing::info!(
        grace_secs = grace.as_secs_f64(),
        viewers = hub.connections(),
        "stopping: no new connections; viewers told to reconnect; letting requests finish"
    );
    stopping.cancel();
    hub.close_all();
    let finished = async {
        connections.wait().await;
        hub.drained().await;
    };
    match tokio::time::timeout(grace, finished).await {
        Ok(()) => {
            tracing::info!(
                after_ms = started.elapsed().as_millis() as u64,
                "all requests finished"
            );
            Ok(())
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
