//! One lock per Plex account for stream choices.
//!
//! Plex keeps the chosen audio and subtitle stream of a Part per *account*, not per player,
//! and its next decision or transcode of that Part reads it. Marquee talks to Plex with one
//! account for everyone, so two viewers choosing different tracks at the same moment could
//! each get the other's: the choice (`PUT /library/parts/{id}`) and the request that reads it
//! (the transcode start, or a subtitle extraction) happen under this lock, one viewer at a
//! time. It is per web server: with several, two servers may still interleave (a known gap,
//! see docs/security.md).

use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

/// See the module docs. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct StreamChoiceLock {
    lock: Arc<Mutex<()>>,
}

impl StreamChoiceLock {
    /// Waits for the account; the choice may be set and read until the guard drops.
    pub async fn hold(&self) -> OwnedMutexGuard<()> {
        let waited = std::time::Instant::now();
        let guard = Arc::clone(&self.lock).lock_owned().await;
        metrics::histogram!("marquee_plex_stream_choice_wait_seconds")
            .record(waited.elapsed().as_secs_f64());
        guard
    }
}
