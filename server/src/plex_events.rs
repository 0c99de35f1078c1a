//! Keeps the library cache in step with Plex: listens on the Plex server's notification
//! socket and drops what each announced change makes stale, so a newly added episode shows
//! up at once rather than when its cache entry expires. The TTLs stay as the fallback for a
//! server whose socket cannot be reached.

use std::sync::Arc;
use std::time::Duration;

use app::ssr::Library;
use futures::StreamExt;
use marquee_plex::{LibraryChange, PlexClient, PlexError};

/// The wait before reconnecting grows from this…
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// …up to this, so a Plex server that is down is asked about once a minute.
const LAST_RETRY: Duration = Duration::from_secs(60);

/// Listens until the server stops (`closing` resolves), reconnecting after each loss.
pub fn spawn(
    plex: PlexClient,
    library: Arc<Library>,
    closing: impl std::future::Future<Output = ()> + Send + 'static,
) {
    tokio::spawn(async move {
        tokio::select! {
            () = closing => {}
            () = listen(plex, library) => {}
        }
    });
}

async fn listen(plex: PlexClient, library: Arc<Library>) {
    let mut retry = FIRST_RETRY;
    loop {
        match plex.library_changes().await {
            Ok(changes) => {
                tracing::info!("listening to Plex's library notifications");
                retry = FIRST_RETRY;
                let mut changes = std::pin::pin!(changes);
                while let Some(change) = changes.next().await {
                    forget(&library, &change).await;
                }
                tracing::info!("Plex closed its notification socket; reconnecting");
            }
            Err(PlexError::Unauthorized) => {
                tracing::warn!("Plex refused the notification socket (check PLEX_TOKEN)");
            }
            Err(err) => {
                tracing::debug!(%err, "Plex's notification socket is not reachable yet");
            }
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(LAST_RETRY);
    }
}

/// Drops what `change` makes stale, counted in `marquee_plex_changes_total`: for the socket's
/// changes and the webhook's alike.
pub(crate) async fn forget(library: &Library, change: &LibraryChange) {
    match library.forget_change(change).await {
        Ok(dropped) => {
            metrics::counter!("marquee_plex_changes_total").increment(1);
            tracing::debug!(
                ?change,
                dropped,
                "Plex announced a change; its cache entries went"
            );
        }
        Err(err) => tracing::warn!(%err, ?change, "could not drop the cache entries of a change"),
    }
}
