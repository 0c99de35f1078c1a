//! The relay between viewers and Plex's transcoder: starts and re-targets Plex sessions,
//! fetches each segment once into a bounded cache, and reports the timeline.
//!
//! - A segment asked for by several viewers at once is fetched once (the cache's loader is
//!   shared by concurrent requests of one key), and stays cached, least recently used out
//!   first, within [`super::TranscodeLimits::segment_cache_bytes`].
//! - A segment before the Plex session's start, or far past what has been fetched from it
//!   (a seek), re-targets: the Plex session is stopped and a new one starts at that segment's
//!   time, with `directStream=0` (a re-encode: a remuxed stream wedges the browser's buffer
//!   after a seek). Segment numbers are the rendition's, so players notice nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use marquee_plex::{PlayState, PlexClient, PlexError, Timeline, TranscodeRequest};
use marquee_store::{Cache, Tier};
use serde::{Deserialize, Serialize};

use super::account::StreamChoiceLock;
use super::playlist::{self, MediaPlaylist};
use super::{Due, Gone, Joined, Owner, PlexSide, Rendition, Transcodes};
use crate::error::ApiError;
use app::error::AppError;

/// A seek more than this many segments past what was fetched re-targets the transcode
/// (closer, the transcoder gets there first).
const RETARGET_GAP: usize = 5;

/// What other web servers need to join a rendition's Plex session (in the shared cache).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Shared {
    session: String,
    first: usize,
    stream_inf: String,
    variant: String,
}

fn shared_key(r: &Rendition) -> String {
    format!("transcode:rendition:{}", r.key())
}

fn used_key(r: &Rendition) -> String {
    format!("transcode:used:{}", r.key())
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Relay {
    book: Transcodes,
    plex: PlexClient,
    cache: Cache,
    segments: moka::future::Cache<String, Bytes>,
    account: StreamChoiceLock,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("book", &self.book)
            .finish_non_exhaustive()
    }
}

/// A Plex session id: 128 random bits, so that no one can guess another rendition's.
fn new_session_id() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Relay {
    pub fn new(
        book: Transcodes,
        plex: PlexClient,
        cache: Cache,
        account: StreamChoiceLock,
    ) -> Self {
        let bytes = book.limits().segment_cache_bytes;
        let segments = moka::future::Cache::builder()
            .max_capacity(bytes)
            .weigher(|k: &String, v: &Bytes| u32::try_from(k.len() + v.len()).unwrap_or(u32::MAX))
            .time_to_idle(Duration::from_secs(3600))
            .build();
        Relay {
            book,
            plex,
            cache,
            segments,
            account,
        }
    }

    /// The book of running renditions.
    pub fn book(&self) -> &Transcodes {
        &self.book
    }

    /// `viewer` opens `rendition`: joins it, or starts it (or joins another server's).
    /// The master playlist for this viewer.
    pub async fn open(
        &self,
        r: &Rendition,
        viewer: &str,
        owner: &Owner,
        duration_ms: Option<i64>,
    ) -> Result<String, ApiError> {
        let plex = self.ensure(r, viewer, owner, duration_ms, true).await?;
        Ok(playlist::master_for(&plex.stream_inf, viewer, &r.label()))
    }

    /// The rendition's Plex side, starting it if this server does not run it. A rendition
    /// that ended answers `410` to its files, but a `fresh` open (a player loading) starts
    /// it again.
    async fn ensure(
        &self,
        r: &Rendition,
        viewer: &str,
        owner: &Owner,
        duration_ms: Option<i64>,
        fresh: bool,
    ) -> Result<PlexSide, ApiError> {
        match self.book.used(r, viewer) {
            Ok(Some(plex)) => return Ok(plex),
            Ok(None) => {}
            Err(_) if fresh => {}
            Err(why) => return Err(gone(why)),
        }
        let gate = self.book.gate(r);
        let _held = gate.lock().await;
        let slot = match self.book.join(r, viewer, owner) {
            Ok(Joined::Running(plex)) => return Ok(plex),
            Ok(Joined::Start(slot)) => slot,
            Err(refusal) => {
                metrics::counter!("marquee_transcodes_refused_total").increment(1);
                return Err(ApiError::TooManyTranscodes(refusal.to_string()));
            }
        };
        let adopted = match self.shared(r).await {
            Some(shared) => self.adopt(shared, duration_ms).await,
            None => None,
        };
        let plex = match adopted {
            Some(plex) => {
                tracing::info!(rendition = %r.key(), "joining the transcode another server started");
                plex
            }
            None => {
                let plex = self.start_on_plex(r, 0, None, duration_ms).await?;
                tracing::info!(rendition = %r.key(), "started an HLS transcode");
                plex
            }
        };
        slot.started(plex.clone());
        self.publish(r, &plex).await;
        if let Some(due) = self.book.due_now(r) {
            self.send(due).await;
        }
        metrics::gauge!("marquee_transcodes_running").set(self.book.running() as f64);
        Ok(plex)
    }

    /// Starts a Plex transcode of `r` at segment `first` (of `known`, the rendition's
    /// playlist, if read before).
    async fn start_on_plex(
        &self,
        r: &Rendition,
        first: usize,
        known: Option<&PlexSide>,
        duration_ms: Option<i64>,
    ) -> Result<PlexSide, ApiError> {
        let session = new_session_id();
        let offset = known
            .and_then(|k| k.playlist.segments.get(first))
            .map_or(0.0, |s| s.start);
        let request = TranscodeRequest {
            rating_key: r.rating_key.clone(),
            media_index: Some(r.media_index),
            part_index: Some(0),
            session: session.clone(),
            offset_secs: offset,
            max_video_bitrate_kbps: r.quality.kbps(),
            direct_play: false,
            direct_stream: false,
            audio_stream_id: r.tracks.audio_playing(),
            burn_subtitle_id: r.tracks.burn,
        };
        // Plex's transcode reads the account's stream choice on the Part: set it and start,
        // with no other viewer's choice in between.
        let choosing = match r.tracks.part_id {
            Some(part) => {
                let held = self.account.hold(part).await;
                self.plex
                    .select_streams(
                        part,
                        r.tracks.audio_playing(),
                        Some(r.tracks.burn.unwrap_or(0)),
                    )
                    .await?;
                Some(held)
            }
            None => None,
        };
        let master = self.text(&self.plex.hls_start_path(&request)).await;
        drop(choosing);
        let master = master?;
        metrics::counter!("marquee_transcodes_started_total").increment(1);
        let (stream_inf, uri) = playlist::first_variant(&master)
            .ok_or_else(|| ApiError::plex_unavailable("the master playlist named no stream"))?;
        let variant = variant_path(&uri).ok_or_else(|| {
            ApiError::plex_unavailable("the master playlist's stream is not the transcoder's")
        })?;
        let media = self.text(&variant).await?;
        let playlist = MediaPlaylist::parse(&media).ok_or_else(|| {
            ApiError::plex_unavailable("the transcoder's playlist could not be read")
        })?;
        Ok(PlexSide {
            session,
            first,
            frontier: first,
            stream_inf: Arc::from(clean_stream_inf(&stream_inf)),
            playlist: Arc::new(playlist),
            duration_ms: known.and_then(|k| k.duration_ms).or(duration_ms),
        })
    }

    async fn text(&self, path: &str) -> Result<String, ApiError> {
        let upstream = self.plex.fetch(path, None).await?;
        upstream
            .text()
            .await
            .map_err(|e| ApiError::plex_unavailable(&format!("the playlist was cut off: {e}")))
    }

    /// Joins the Plex session another server noted, if Plex still has it.
    async fn adopt(&self, shared: Shared, duration_ms: Option<i64>) -> Option<PlexSide> {
        let media = self.text(&shared.variant).await.ok()?;
        let playlist = MediaPlaylist::parse(&media)?;
        Some(PlexSide {
            session: shared.session,
            first: shared.first,
            frontier: shared.first,
            stream_inf: Arc::from(clean_stream_inf(&shared.stream_inf)),
            playlist: Arc::new(playlist),
            duration_ms,
        })
    }

    async fn shared(&self, r: &Rendition) -> Option<Shared> {
        self.cache.get(&shared_key(r)).await.ok().flatten()
    }

    /// Notes the rendition's Plex session for the other servers.
    async fn publish(&self, r: &Rendition, plex: &PlexSide) {
        let shared = Shared {
            session: plex.session.clone(),
            first: plex.first,
            stream_inf: plex.stream_inf.to_string(),
            variant: format!(
                "/video/:/transcode/universal/session/{}/base/index.m3u8",
                plex.session
            ),
        };
        if let Err(err) = self.cache.set(Tier::System, &shared_key(r), &shared).await {
            tracing::warn!(%err, "could not note a transcode in the shared cache");
        }
    }

    /// Notes a use in the shared cache, every `idle / 4` at most.
    async fn note_use(&self, r: &Rendition) {
        if self.book.shared_note_due(r) {
            let at = app::ssr::urls::unix_now();
            if let Err(err) = self.cache.set(Tier::System, &used_key(r), &at).await {
                tracing::warn!(%err, "could not note a transcode's use in the shared cache");
            }
        }
    }

    /// The media playlist, for `viewer`.
    pub async fn media_playlist(
        &self,
        r: &Rendition,
        viewer: &str,
        owner: &Owner,
    ) -> Result<String, ApiError> {
        let plex = self.ensure(r, viewer, owner, None, false).await?;
        self.note_use(r).await;
        Ok(plex.playlist.text.clone())
    }

    /// Segment `index` of the rendition, from the cache or (once) from Plex.
    pub async fn segment(
        &self,
        r: &Rendition,
        viewer: &str,
        owner: &Owner,
        index: usize,
    ) -> Result<Bytes, ApiError> {
        let plex = self.ensure(r, viewer, owner, None, false).await?;
        if index >= plex.playlist.segments.len() {
            return Err(AppError::NotFound(format!("segment {index}")).into());
        }
        self.note_use(r).await;
        metrics::counter!("marquee_hls_segments_served_total").increment(1);
        let key = format!("{}/{index}", r.key());
        self.segments
            .try_get_with(key, self.fetch_segment(r, index))
            .await
            .map_err(|e: Arc<ApiError>| (*e).clone())
    }

    async fn fetch_segment(&self, r: &Rendition, index: usize) -> Result<Bytes, ApiError> {
        let mut force = false;
        for _ in 0..3 {
            let plex = self.book.plex_side(r).map_err(gone)?;
            let far = index < plex.first || index > plex.frontier + RETARGET_GAP;
            let plex = if far || force {
                self.retarget(r, index, &plex.session).await?
            } else {
                plex
            };
            let Some(segment) = plex.playlist.segments.get(index) else {
                return Err(AppError::NotFound(format!("segment {index}")).into());
            };
            let path = format!(
                "/video/:/transcode/universal/session/{}/base/{}",
                plex.session, segment.plex_name
            );
            match self.plex.fetch(&path, None).await {
                Ok(upstream) => {
                    let bytes = upstream.bytes().await.map_err(|e| {
                        ApiError::plex_unavailable(&format!("a segment was cut off: {e}"))
                    })?;
                    metrics::counter!("marquee_hls_bytes_from_plex_total")
                        .increment(bytes.len() as u64);
                    self.book.fetched(r, &plex.session, index);
                    return Ok(bytes);
                }
                Err(PlexError::NotFound { .. }) => {
                    // Plex may have ended the stream on purpose (its owner stopped it, or it
                    // heard from no player): the timeline answer says so, and then it stays
                    // ended, with Plex's words, rather than being started again.
                    if let Some(due) = self.book.due_now(r) {
                        self.send(due).await;
                    }
                    if let Err(why) = self.book.plex_side(r) {
                        return Err(gone(why));
                    }
                    // Another server may have moved the rendition to a new session; else
                    // this one lost it (or never made that segment): start it there.
                    match self.shared(r).await.filter(|s| s.session != plex.session) {
                        Some(shared) => {
                            if let Some(moved) = self.adopt(shared, plex.duration_ms).await {
                                self.book.replace_session(r, moved);
                                continue;
                            }
                            force = true;
                        }
                        None => force = true,
                    }
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(ApiError::plex_unavailable(
            "the transcoder did not make a segment",
        ))
    }

    /// Moves the rendition's transcode to segment `index`, unless someone did since
    /// `seen` was its session.
    async fn retarget(
        &self,
        r: &Rendition,
        index: usize,
        seen: &str,
    ) -> Result<PlexSide, ApiError> {
        let gate = self.book.gate(r);
        let _held = gate.lock().await;
        let current = self.book.plex_side(r).map_err(gone)?;
        if current.session != seen {
            return Ok(current);
        }
        let started = Instant::now();
        // Stop first: Plex counts a player's streams, and the old one is done.
        if let Err(err) = self.plex.stop_transcode(&current.session).await {
            tracing::debug!(%err, "Plex did not stop the transcode being re-targeted");
        }
        let plex = self
            .start_on_plex(r, index, Some(&current), current.duration_ms)
            .await?;
        self.book.replace_session(r, plex.clone());
        self.publish(r, &plex).await;
        if let Some(due) = self.book.due_now(r) {
            self.send(due).await;
        }
        metrics::counter!("marquee_transcode_retargets_total").increment(1);
        tracing::info!(
            rendition = %r.key(),
            segment = index,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "re-targeted a transcode"
        );
        Ok(plex)
    }

    /// A viewer's report (play, pause, seek, or the periodic one). `Err` if the rendition
    /// ended, with Plex's reason when Plex ended it.
    pub async fn report(
        &self,
        r: &Rendition,
        viewer: &str,
        state: PlayState,
        time_ms: i64,
    ) -> Result<(), ApiError> {
        if state == PlayState::Stopped {
            self.leave(r, viewer).await;
            return Ok(());
        }
        if let Some(due) = self.book.report(r, viewer, state, time_ms).map_err(gone)? {
            self.send(due).await;
        }
        match self.book.used(r, viewer) {
            Err(why) => Err(gone(why)),
            Ok(_) => Ok(()),
        }
    }

    /// `viewer` closed its player; the last one out stops the transcode.
    pub async fn leave(&self, r: &Rendition, viewer: &str) {
        if let Some(last) = self.book.leave(r, viewer) {
            let session = last.session.clone();
            self.send(last).await;
            self.stop(r, &session).await;
        }
    }

    async fn stop(&self, r: &Rendition, session: &str) {
        if let Err(err) = self.plex.stop_transcode(session).await {
            tracing::warn!(%err, "Plex did not stop a transcode");
        }
        let _ = self.cache.invalidate(&shared_key(r)).await;
        let _ = self.cache.invalidate(&used_key(r)).await;
        metrics::gauge!("marquee_transcodes_running").set(self.book.running() as f64);
    }

    /// Tells Plex; a termination in the answer ends the rendition with Plex's words.
    async fn send(&self, due: Due) {
        let report = Timeline {
            rating_key: due.rendition.rating_key.clone(),
            session: due.session.clone(),
            state: due.state,
            time_ms: due.time_ms,
            duration_ms: due.duration_ms,
        };
        metrics::counter!("marquee_plex_timelines_total").increment(1);
        match self.plex.timeline(&report).await {
            Ok(answer) => {
                let ended = answer.termination_code.is_some() || answer.termination_text.is_some();
                if ended && due.state != PlayState::Stopped {
                    let text = answer
                        .termination_text
                        .unwrap_or_else(|| "Plex stopped the stream.".into());
                    tracing::info!(rendition = %due.rendition.key(), code = ?answer.termination_code, %text, "Plex ended a transcode");
                    self.book.ended_by_plex(&due.rendition, &due.session, text);
                }
            }
            Err(err) => tracing::debug!(%err, "Plex did not take a timeline report"),
        }
    }

    /// Reports on the period and stops idle renditions, until the process ends.
    pub fn spawn(&self) {
        let this = self.clone();
        let every = (self.book.limits().timeline_every / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(2));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let reports = this.book.due_reports();
                futures::future::join_all(reports.into_iter().map(|due| this.send(due))).await;
                this.sweep().await;
            }
        });
    }

    async fn sweep(&self) {
        for (r, seen) in self.book.idle_candidates() {
            let elsewhere: Option<u64> = self.cache.get(&used_key(&r)).await.ok().flatten();
            let ago = elsewhere
                .map(|at| Duration::from_secs(app::ssr::urls::unix_now().saturating_sub(at)));
            if let Some(last) = self.book.stop_idle(&r, seen, ago) {
                tracing::info!(rendition = %r.key(), "stopping a transcode nobody watches");
                let session = last.session.clone();
                self.send(last).await;
                self.stop(&r, &session).await;
            }
        }
    }
}

fn gone(why: Gone) -> ApiError {
    ApiError::Gone(why.to_string())
}

/// The path (under the transcoder) of a variant URI from a master playlist, which Plex
/// writes relative to `/video/:/transcode/universal/` or absolute to its own address.
fn variant_path(uri: &str) -> Option<String> {
    const BASE: &str = "/video/:/transcode/universal/";
    let path = uri.split(['?', '#']).next()?;
    let rest = match path.find(BASE) {
        Some(at) => &path[at + BASE.len()..],
        None if !path.contains("://") && !path.starts_with('/') => path,
        None => return None,
    };
    let ok = rest.starts_with("session/")
        && rest.ends_with(".m3u8")
        && !rest.split('/').any(|p| p.is_empty() || p == "..");
    ok.then(|| format!("{BASE}{rest}"))
}

/// Plex's `#EXT-X-STREAM-INF` line, unless it carries a URI (then a plain one).
fn clean_stream_inf(line: &str) -> String {
    let plain = !line.contains("URI=")
        && !line.contains("://")
        && !line.to_ascii_lowercase().contains("token");
    if line.starts_with("#EXT-X-STREAM-INF:") && plain {
        line.to_string()
    } else {
        "#EXT-X-STREAM-INF:BANDWIDTH=2000000".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_paths_stay_under_the_transcoder() {
        assert_eq!(
            variant_path("session/abc/base/index.m3u8").as_deref(),
            Some("/video/:/transcode/universal/session/abc/base/index.m3u8")
        );
        assert_eq!(
            variant_path("http://plex:32400/video/:/transcode/universal/session/abc/base/index.m3u8?X-Plex-Token=S").as_deref(),
            Some("/video/:/transcode/universal/session/abc/base/index.m3u8")
        );
        assert_eq!(variant_path("http://evil/x.m3u8"), None);
        assert_eq!(variant_path("session/../../library/x.m3u8"), None);
    }

    #[test]
    fn stream_descriptions_carry_no_uri() {
        assert_eq!(
            clean_stream_inf("#EXT-X-STREAM-INF:BANDWIDTH=1,URI=\"http://plex/x\""),
            "#EXT-X-STREAM-INF:BANDWIDTH=2000000"
        );
        assert_eq!(
            clean_stream_inf("#EXT-X-STREAM-INF:BANDWIDTH=9"),
            "#EXT-X-STREAM-INF:BANDWIDTH=9"
        );
    }
}
