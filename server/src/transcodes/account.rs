//! One lock per Plex account for stream choices.
//!
//! Plex keeps the chosen audio and subtitle stream of a Part per *account*, not per player,
//! and its next decision or transcode of that Part reads it. Marquee talks to Plex with one
//! account for everyone, so two viewers choosing different tracks at the same moment could
//! each get the other's: the choice (`PUT /library/parts/{id}`) and the request that reads it
//! (the transcode start, or a subtitle extraction) happen under this lock, one viewer at a
//! time per Part. It is per web server: with several, two servers may still interleave (a known gap,
//! see docs/security.md).

use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

/// Locks the Parts hash into: a choice on one Part never waits for another Part's transcode
/// start (which can take seconds on a real server), and the memory is fixed.
const STRIPES: usize = 64;

/// See the module docs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct StreamChoiceLock {
    stripes: Arc<[Arc<Mutex<()>>]>,
}

impl Default for StreamChoiceLock {
    fn default() -> Self {
        StreamChoiceLock {
            stripes: (0..STRIPES).map(|_| Arc::new(Mutex::new(()))).collect(),
        }
    }
}

impl StreamChoiceLock {
    /// Waits for Part `part_id` on the account; its choice may be set and read until the guard
    /// drops.
    pub async fn hold(&self, part_id: i64) -> OwnedMutexGuard<()> {
        let stripe = &self.stripes[part_id.rem_euclid(STRIPES as i64) as usize];
        let waited = std::time::Instant::now();
        let guard = Arc::clone(stripe).lock_owned().await;
        metrics::histogram!("marquee_plex_stream_choice_wait_seconds")
            .record(waited.elapsed().as_secs_f64());
        guard
    }
}
