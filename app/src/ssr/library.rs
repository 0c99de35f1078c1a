//! The library as the pages see it: Plex lookups behind the cache, turned into page models.
//!
//! Cache keys start with `plex:` and name the Plex resource, so a library refresh can drop a
//! section's listings by prefix. Listings use the *system* tier (they change when Plex rescans),
//! metadata and search the *media* tier. Item metadata is also kept in the store's `media_cache`
//! table, so a restart does not send every poster grid back to Plex.

use std::time::Duration;

use marquee_plex::{Metadata, PlexClient, Section, SectionType, TranscodeRequest};
use marquee_store::{Cache, CacheFetchError, Store, Tier};

use crate::error::AppError;
use crate::model::{HomeData, ItemDetail, PlayMode, PlaybackInfo, SectionPage};
use crate::ssr::mapping;
use crate::ssr::tracks::{self, TrackPicks};
use crate::ssr::urls::MediaUrls;

/// How many of Plex's newest items the home page shows.
const RECENTLY_ADDED: u32 = 20;

/// Items per section page; a multiple of the grid's column counts at common widths.
pub const PAGE_SIZE: u32 = 60;
/// Longest search query accepted, to keep cache keys and Plex requests small.
pub const MAX_QUERY_LEN: usize = 100;
/// Items fetched per Plex request when building the title list.
const TITLES_PAGE: u32 = 500;
/// How long item metadata stays in the store's `media_cache` table.
const STORED_METADATA_TTL: Duration = Duration::from_secs(30 * 60);

impl From<CacheFetchError<AppError>> for AppError {
    fn from(err: CacheFetchError<AppError>) -> Self {
        match err {
            CacheFetchError::Upstream(e) => e,
            other => super::errors::internal("cache", &other),
        }
    }
}

/// Cached, page-shaped access to the Plex library.
pub struct Library {
    plex: PlexClient,
    cache: Cache,
    store: Store,
    /// Every image and media URL leaves here signed.
    urls: MediaUrls,
}

impl Library {
    pub fn new(plex: PlexClient, cache: Cache, store: Store, urls: MediaUrls) -> Self {
        Library {
            plex,
            cache,
            store,
            urls,
        }
    }

    async fn cached<T, F, Fut>(&self, tier: Tier, key: &str, fetch: F) -> Result<T, AppError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        Ok(self.cache.get_or_fetch(tier, key, fetch).await?)
    }

    pub async fn sections(&self) -> Result<Vec<Section>, AppError> {
        self.cached(Tier::System, "plex:sections", || async {
            Ok(self.plex.sections().await?)
        })
        .await
    }

    async fn section(&self, key: &str) -> Result<Section, AppError> {
        self.sections()
            .await?
            .into_iter()
            .find(|s| s.key == key)
            .ok_or_else(|| AppError::NotFound(format!("library section {key}")))
    }

    /// Item metadata: cache, then the store's `media_cache`, then Plex.
    pub async fn metadata(&self, rating_key: &str) -> Result<Metadata, AppError> {
        validate_key(rating_key)?;
        let key = format!("plex:meta:{rating_key}");
        self.cached(Tier::Media, &key, || async {
            match self.store.get_media_cache(rating_key).await {
                Ok(Some(value)) => {
                    if let Ok(meta) = serde_json::from_value::<Metadata>(value) {
                        return Ok(meta);
                    }
                }
                Ok(None) => {}
                Err(err) => tracing::warn!(%err, "media_cache read failed; asking Plex"),
            }
            let meta = self.plex.metadata(rating_key).await?;
            match serde_json::to_value(&meta) {
                Ok(value) => {
                    if let Err(err) = self
                        .store
                        .put_media_cache(rating_key, &value, STORED_METADATA_TTL)
                        .await
                    {
                        tracing::warn!(%err, "media_cache write failed");
                    }
                }
                Err(err) => tracing::warn!(%err, "metadata did not serialise for media_cache"),
            }
            Ok(meta)
        })
        .await
    }

    pub async fn children(&self, rating_key: &str) -> Result<Vec<Metadata>, AppError> {
        validate_key(rating_key)?;
        let key = format!("plex:children:{rating_key}");
        self.cached(Tier::Media, &key, || async {
            Ok(self.plex.children(rating_key).await?)
        })
        .await
    }

    /// Every episode of a show (for what comes after an episode).
    pub async fn all_leaves(&self, show_key: &str) -> Result<Vec<Metadata>, AppError> {
        validate_key(show_key)?;
        let key = format!("plex:leaves:{show_key}");
        self.cached(Tier::Media, &key, || async {
            Ok(self.plex.all_leaves(show_key).await?)
        })
        .await
    }

    /// Marks an item (a show or season: all its episodes) watched or unwatched in Plex, on each
    /// of `accounts` (the server owner's, and the asking viewer's own when linked), then forgets
    /// what the cache holds of its watch state.
    pub async fn set_watched(
        &self,
        rating_key: &str,
        watched: bool,
        accounts: &[PlexClient],
    ) -> Result<(), AppError> {
        validate_key(rating_key)?;
        // An unknown item is a 404, before anything is marked.
        self.metadata(rating_key).await?;
        for plex in accounts {
            if watched {
                plex.scrobble(rating_key).await?;
            } else {
                plex.unscrobble(rating_key).await?;
            }
        }
        tracing::info!(rating_key, watched, "watch state set in Plex");
        self.forget_watch_state(rating_key).await
    }

    /// Forgets the cached watch state of an item, of its episodes, and the listings and rows
    /// that show it: after Plex learned it was watched (or not).
    pub async fn forget_watch_state(&self, rating_key: &str) -> Result<(), AppError> {
        let mut items = vec![rating_key.to_owned()];
        let meta = self.metadata(rating_key).await?;
        if matches!(
            meta.r#type,
            marquee_plex::MetadataType::Show | marquee_plex::MetadataType::Season
        ) && let Ok(leaves) = self.plex.all_leaves(rating_key).await
        {
            items.extend(leaves.into_iter().map(|l| l.rating_key));
        }
        for item in &items {
            if let Err(err) = self.store.forget_media_cache(item).await {
                tracing::warn!(%err, item, "could not forget the stored metadata");
            }
        }
        let mut prefixes: Vec<String> = items.iter().map(|i| format!("plex:meta:{i}")).collect();
        prefixes.extend(section_content("plex:section:".to_owned()));
        prefixes.extend(
            ["plex:children:", "plex:leaves:", "plex:continue"]
                .iter()
                .map(|p| (*p).to_owned()),
        );
        self.invalidate_prefixes(&prefixes).await?;
        Ok(())
    }

    /// The home page. Only the sections are essential: if Plex fails to give the
    /// continue-watching row, the page shows the libraries and says the row is missing.
    pub async fn home(&self) -> Result<HomeData, AppError> {
        let (playable, unplayable): (Vec<_>, Vec<_>) = self
            .sections()
            .await?
            .into_iter()
            .partition(|s| playable_section(s.r#type));
        // A server with neither the hub nor `/library/onDeck` has no such row: an empty one,
        // cached like any other answer.
        let continuing = self
            .cached(Tier::Media, "plex:continue", || async {
                match self.plex.continue_watching().await {
                    Err(marquee_plex::PlexError::NotFound { .. }) => Ok(Vec::new()),
                    other => Ok(other?),
                }
            })
            .await;
        let (continue_watching, continue_unavailable) = match continuing {
            Ok(items) => (items.iter().map(mapping::card).collect(), None),
            Err(err) => {
                tracing::warn!(%err, "the home page goes without its continue-watching row");
                (
                    Vec::new(),
                    Some(format!("Continue watching could not be loaded: {err}.")),
                )
            }
        };
        // A row of extras: without it the page still works.
        let recently_added = match self
            .cached(Tier::Media, "plex:recent", || async {
                Ok(self.plex.recently_added(RECENTLY_ADDED).await?)
            })
            .await
        {
            Ok(items) => items
                .iter()
                .filter(|m| !matches!(m.r#type, marquee_plex::MetadataType::Other))
                .map(mapping::card)
                .collect(),
            Err(err) => {
                tracing::warn!(%err, "the home page goes without its recently-added row");
                Vec::new()
            }
        };
        Ok(self.urls.sign(HomeData {
            sections: playable.iter().map(mapping::section).collect(),
            unplayable: unplayable.iter().map(mapping::section).collect(),
            continue_watching,
            continue_unavailable,
            recently_added,
            watching_now: Vec::new(),
        }))
    }

    /// Page `page` of a section. A page past the end is the last page: page numbers come
    /// from the address bar, and each distinct one would otherwise be a Plex call and a cache
    /// entry of a stranger's choosing.
    pub async fn section_page(
        &self,
        section_key: &str,
        page: u32,
    ) -> Result<SectionPage, AppError> {
        validate_key(section_key)?;
        let section = self.section(section_key).await?;
        if !playable_section(section.r#type) {
            return Err(AppError::Unsupported(format!(
                "“{}” is {}; Marquee plays movies and TV shows only",
                section.title,
                match section.r#type {
                    SectionType::Artist => "a music library",
                    SectionType::Photo => "a photo library",
                    _ => "a kind of library Marquee does not know",
                }
            )));
        }
        let mut page = page.max(1);
        if page > 1 {
            let (_, total) = self.listing(section_key, 0).await?;
            page = page.min(total.div_ceil(PAGE_SIZE).max(1));
        }
        let start = (page - 1).saturating_mul(PAGE_SIZE);
        let listing = self.listing(section_key, start).await?;
        Ok(self.urls.sign(SectionPage {
            section: mapping::section(&section),
            items: listing.0.iter().map(mapping::card).collect(),
            page,
            page_size: PAGE_SIZE,
            total: listing.1,
        }))
    }

    /// One page of a section's items from `start`, with the section's size (cached).
    async fn listing(
        &self,
        section_key: &str,
        start: u32,
    ) -> Result<(Vec<Metadata>, u32), AppError> {
        let key = format!("plex:section:{section_key}:items:{start}:{PAGE_SIZE}");
        self.cached(Tier::System, &key, || async {
            let p = self
                .plex
                .section_items(section_key, start, PAGE_SIZE)
                .await?;
            Ok((p.items, p.total_size))
        })
        .await
    }

    pub async fn item(&self, rating_key: &str) -> Result<ItemDetail, AppError> {
        let meta = self.metadata(rating_key).await?;
        let children = if mapping::kind_of(&meta).is_playable() {
            Vec::new()
        } else {
            self.children(rating_key).await?
        };
        Ok(self.urls.sign(mapping::detail(&meta, &children)))
    }

    /// Where Plex says the owner's account left off in an item (ms), asked of Plex itself: the
    /// cached metadata may predate the last time the group watched it.
    pub async fn resume_point(&self, rating_key: &str) -> Result<Option<i64>, AppError> {
        validate_key(rating_key)?;
        let meta = self.plex.metadata(rating_key).await?;
        Ok(meta.view_offset.filter(|o| *o > 0))
    }

    pub async fn search(&self, query: &str) -> Result<Vec<crate::model::ItemCard>, AppError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        if query.chars().count() > MAX_QUERY_LEN {
            return Err(AppError::BadRequest(format!(
                "search text is limited to {MAX_QUERY_LEN} characters"
            )));
        }
        let key = format!("plex:search:{}", query.to_lowercase());
        let hits = self
            .cached(Tier::Media, &key, || async {
                Ok(self.plex.search(query, 30).await?)
            })
            .await?;
        Ok(self
            .urls
            .sign(hits.iter().map(mapping::card).collect::<Vec<_>>()))
    }

    /// Every movie and show of every video section, for the bot's title autocomplete: one
    /// cached value (system tier), fetched from Plex in pages of 500 when it expires.
    pub async fn titles(&self) -> Result<Vec<crate::model::ItemCard>, AppError> {
        let titles = self.cached(Tier::System, "plex:titles", || async {
            let mut all = Vec::new();
            for section in self.sections().await? {
                if !playable_section(section.r#type) {
                    continue;
                }
                let mut start = 0;
                loop {
                    let page = self
                        .plex
                        .section_items(&section.key, start, TITLES_PAGE)
                        .await?;
                    let got = page.items.len() as u32;
                    all.extend(page.items.iter().map(mapping::card));
                    start += got;
                    if got == 0 || start >= page.total_size {
                        break;
                    }
                }
            }
            Ok(all)
        });
        Ok(self.urls.sign(titles.await?))
    }

    /// The episode to start a show with: the first episode of its first regular season
    /// (specials, season 0, only when there is nothing else).
    pub async fn first_episode(&self, show_key: &str) -> Result<String, AppError> {
        let by_index = |items: &[Metadata], skip_zero: bool| {
            items
                .iter()
                .filter(|m| !skip_zero || m.index != Some(0))
                .min_by_key(|m| m.index.unwrap_or(i64::MAX))
                .map(|m| m.rating_key.clone())
        };
        let seasons = self.children(show_key).await?;
        let season = by_index(&seasons, true)
            .or_else(|| by_index(&seasons, false))
            .ok_or_else(|| AppError::NotFound("an episode of that show".into()))?;
        let episodes = self.children(&season).await?;
        by_index(&episodes, false)
            .ok_or_else(|| AppError::NotFound("an episode of that show".into()))
    }

    /// Choose how to play an item: direct play when the browser can decode the version and Plex
    /// agrees, otherwise Plex's HLS transcoder (a transcode `owner` will count against).
    pub async fn playback(
        &self,
        rating_key: &str,
        media_index: Option<u32>,
        quality: Option<u32>,
        picks: &TrackPicks,
        owner: &marquee_store::secret::TranscodeOwner,
    ) -> Result<PlaybackInfo, AppError> {
        if let Some(k) = quality.filter(|k| !crate::model::TRANSCODE_QUALITIES.contains(k)) {
            return Err(AppError::BadRequest(format!(
                "{k} kbps is not a quality Marquee transcodes to"
            )));
        }
        let meta = self.metadata(rating_key).await?;
        if !mapping::kind_of(&meta).is_playable() || meta.media.is_empty() {
            return Err(AppError::BadRequest(format!(
                "“{}” has nothing to play",
                meta.title
            )));
        }
        let versions = mapping::versions(&meta);
        let index = match media_index {
            Some(i) if (i as usize) < versions.len() => i,
            Some(i) => {
                return Err(AppError::BadRequest(format!(
                    "version {i} does not exist; this item has {}",
                    versions.len()
                )));
            }
            None => versions
                .iter()
                .find(|v| v.direct_play)
                .map_or(0, |v| v.index),
        };
        let browser_ok = versions[index as usize].direct_play;
        let part = meta
            .media
            .get(index as usize)
            .and_then(|m| m.parts.first())
            .cloned()
            .unwrap_or_default();
        let audio_tracks = tracks::audio_tracks(&part);
        let subtitle_tracks =
            tracks::subtitle_tracks(&part, |id| self.urls.subtitles(rating_key, index, id));
        let default_audio = tracks::default_audio(&audio_tracks).map(|t| t.id);
        let picked_audio = tracks::pick_audio(&audio_tracks, picks.audio.as_ref())?.map(|t| t.id);
        // Browsers play a file's first audio track only: another one needs a transcode.
        let other_audio = picked_audio.filter(|id| Some(*id) != default_audio);
        let burned = tracks::pick_burn(&subtitle_tracks, picks.burn.as_ref())?.map(|t| t.id);
        let request = TranscodeRequest {
            rating_key: rating_key.to_string(),
            media_index: Some(index),
            part_index: Some(0),
            session: "decision".to_string(),
            offset_secs: 0.0,
            max_video_bitrate_kbps: None,
            direct_play: browser_ok,
            direct_stream: true,
            ..Default::default()
        };
        let mode = if !browser_ok || quality.is_some() || other_audio.is_some() || burned.is_some()
        {
            PlayMode::Hls
        } else {
            match self.plex.transcode_decision(&request).await {
                Ok(decision) if decision.direct_play => PlayMode::Direct,
                Ok(_) => PlayMode::Hls,
                Err(err) => {
                    // The decision is advice: a Plex that cannot answer it can still serve the file.
                    tracing::warn!(%err, rating_key, "transcode decision failed; trying direct play");
                    PlayMode::Direct
                }
            }
        };
        let (src, stop_url, timeline_url) = match mode {
            PlayMode::Direct => (self.urls.media(rating_key, index, 0), None, None),
            PlayMode::Hls => {
                let label = crate::model::rendition_label(quality, other_audio, burned);
                let (token, src) = self.urls.transcode(rating_key, index, owner, &label);
                let base = format!("/hls/{rating_key}/{index}");
                (
                    src,
                    Some(format!("{base}/stop/{token}/{label}")),
                    Some(format!("{base}/timeline/{token}/{label}")),
                )
            }
        };
        let detail = mapping::detail(&meta, &[]);
        let previews = (part.indexes.as_deref() == Some("sd"))
            .then(|| self.urls.previews(rating_key, index, 0));
        Ok(self.urls.sign(PlaybackInfo {
            rating_key: rating_key.to_string(),
            title: meta.title.clone(),
            subtitle: mapping::subtitle(&meta),
            versions,
            media_index: index,
            mode,
            src,
            quality,
            stop_url,
            timeline_url,
            duration_ms: meta.duration,
            poster: detail.poster,
            backdrop: detail.backdrop,
            audio: other_audio.or(default_audio),
            audio_tracks,
            subtitle_tracks,
            burned,
            previews,
        }))
    }

    /// Drop everything cached about a section after Plex rescans it.
    pub async fn invalidate_section(&self, section_key: &str) -> Result<u64, AppError> {
        let mut prefixes = section_content(format!("plex:section:{section_key}:"));
        prefixes.push("plex:sections".to_string());
        self.invalidate_prefixes(&prefixes).await
    }

    /// Drops what a change Plex announced makes stale: the item's metadata, the children
    /// listings, the listings of its section (of every section, when Plex does not say which), search, and
    /// the continue-watching row. Returns how many cache entries went.
    pub async fn forget_change(
        &self,
        change: &marquee_plex::LibraryChange,
    ) -> Result<u64, AppError> {
        use marquee_plex::LibraryChange;
        let (mut dropped, section) = match change {
            LibraryChange::Item { section, item } => {
                if let Err(err) = self.store.forget_media_cache(item).await {
                    tracing::warn!(%err, item, "could not forget the stored metadata");
                }
                // Children of every item: a new episode changes its season's and its show's
                // listings, and Plex names only the episode.
                let dropped = self
                    .invalidate_prefixes(&[
                        format!("plex:meta:{item}"),
                        "plex:children:".to_owned(),
                    ])
                    .await?;
                (dropped, section.as_deref())
            }
            LibraryChange::Section { section } => (0, Some(section.as_str())),
        };
        let listings = match section {
            Some(key) => format!("plex:section:{key}:"),
            None => "plex:section:".to_owned(),
        };
        let mut prefixes = section_content(listings);
        prefixes.push("plex:continue".to_owned());
        dropped += self.invalidate_prefixes(&prefixes).await?;
        Ok(dropped)
    }

    async fn invalidate_prefixes(&self, prefixes: &[String]) -> Result<u64, AppError> {
        let mut dropped = 0;
        for prefix in prefixes {
            dropped += self
                .cache
                .invalidate_prefix(prefix)
                .await
                .map_err(|e| super::errors::internal("cache", &e))?;
        }
        Ok(dropped)
    }
}

/// Plex keys (rating keys, section keys) are short ASCII numbers or slugs; anything else is
/// refused before reaching Plex ([`marquee_sync::ids::is_plex_key`] is the rule).
pub fn validate_key(key: &str) -> Result<(), AppError> {
    if marquee_sync::ids::is_plex_key(key) {
        Ok(())
    } else {
        Err(AppError::BadRequest(
            "that is not a valid library key".into(),
        ))
    }
}

/// Whether Marquee can show and play a section's items (movies and TV, not music or photos).
fn playable_section(kind: SectionType) -> bool {
    matches!(kind, SectionType::Movie | SectionType::Show)
}

/// What a change to a section's content makes stale: its listings (`listings`, a cache key
/// prefix), search results, and the bot's title index.
fn section_content(listings: String) -> Vec<String> {
    vec![
        listings,
        "plex:recent".to_owned(),
        "plex:search:".to_owned(),
        "plex:titles".to_owned(),
    ]
}
