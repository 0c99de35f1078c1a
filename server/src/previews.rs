//! Seek previews: the thumbnails Plex made of a Part (its BIF index,
//! `/library/parts/{id}/indexes/sd`), fetched once per Part and kept in memory, served one JPEG
//! at a time (`/previews/{item}/{version}/{part}/{ms}`), so a browser downloads only the
//! thumbnails its viewer hovers over, never the whole index (tens of MB for a long film).

use std::sync::Arc;
use std::time::Duration;

use marquee_plex::bif::Bif;
use marquee_plex::{PlexClient, PlexError};

/// How long a fetched index is kept without being asked for.
const IDLE: Duration = Duration::from_secs(30 * 60);

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Previews {
    plex: PlexClient,
    /// Parsed indexes by Part id, bounded by their size in bytes.
    indexes: moka::future::Cache<i64, Arc<Bif>>,
}

impl std::fmt::Debug for Previews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Previews")
            .field("indexes", &self.indexes.entry_count())
            .finish()
    }
}

impl Previews {
    /// Keeps at most `max_bytes` of indexes.
    pub fn new(plex: PlexClient, max_bytes: u64) -> Self {
        let indexes = moka::future::Cache::builder()
            .weigher(|_, bif: &Arc<Bif>| u32::try_from(bif.size()).unwrap_or(u32::MAX))
            .max_capacity(max_bytes)
            .time_to_idle(IDLE)
            .build();
        Previews { plex, indexes }
    }

    /// The thumbnail of Part `part_id` at `ms`; one fetch from Plex for everyone asking at once.
    pub async fn frame(
        &self,
        part_id: i64,
        ms: u64,
    ) -> Result<Option<bytes::Bytes>, Arc<PlexError>> {
        let plex = self.plex.clone();
        let bif = self
            .indexes
            .try_get_with(part_id, async move {
                plex.preview_index(part_id).await.map(Arc::new)
            })
            .await?;
        Ok(bif.frame_at(ms))
    }
}
