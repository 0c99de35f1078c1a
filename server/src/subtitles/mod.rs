//! Text subtitles for the browser: fetched from Plex once per stream, converted to WebVTT
//! ([`webvtt`]) and kept in the shared cache, so a room full of viewers of one track costs
//! Plex one request.
//!
//! A sidecar file (a stream with a `key`) is read from `/library/streams/{id}`. A text stream
//! inside the media file Plex serves only through its transcoder, for the Part's *selected*
//! subtitle: Marquee selects it and asks, under the account's stream-choice lock
//! ([`crate::transcodes::account`]). Picture subtitles are refused here: they are burned into a
//! transcode instead.

pub mod webvtt;

use marquee_plex::{Metadata, PlexClient, TranscodeRequest, stream_type};
use marquee_store::{Cache, Tier};

use crate::error::ApiError;
use crate::transcodes::account::StreamChoiceLock;
use app::error::AppError;

/// See the module docs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Subtitles {
    plex: PlexClient,
    cache: Cache,
    account: StreamChoiceLock,
}

impl Subtitles {
    pub fn new(plex: PlexClient, cache: Cache, account: StreamChoiceLock) -> Self {
        Subtitles {
            plex,
            cache,
            account,
        }
    }

    /// The WebVTT of subtitle stream `stream_id` of version `media_index` of `meta`.
    pub async fn webvtt(
        &self,
        meta: &Metadata,
        media_index: u32,
        stream_id: i64,
    ) -> Result<String, ApiError> {
        let part = meta
            .media
            .get(media_index as usize)
            .and_then(|m| m.parts.first())
            .ok_or_else(|| AppError::NotFound(format!("version {media_index}")))?;
        let stream = part
            .streams
            .iter()
            .find(|s| s.id == stream_id && s.stream_type == stream_type::SUBTITLE)
            .ok_or_else(|| AppError::NotFound(format!("subtitle {stream_id}")))?;
        if app::ssr::tracks::is_image_subtitle(stream) {
            return Err(ApiError::BadRequest(format!(
                "subtitle {stream_id} is a picture format: the player asks Plex to burn it into the video instead"
            )));
        }
        // Under the item's metadata key, so that a change Plex announces drops it too.
        let key = format!(
            "plex:meta:{}:subs:{media_index}:{stream_id}",
            meta.rating_key
        );
        let sidecar = stream.key.clone();
        let part_id = part.id;
        let fetched = self
            .cache
            .get_or_fetch(Tier::Media, &key, || async {
                let bytes = match sidecar {
                    Some(key) => self.plex.stream_file(&key).await?,
                    None => {
                        self.embedded(&meta.rating_key, media_index, part_id, stream_id)
                            .await?
                    }
                };
                metrics::counter!("marquee_subtitles_converted_total").increment(1);
                webvtt::to_webvtt(&bytes).map_err(|e| {
                    ApiError::BadRequest(format!("subtitle {stream_id} could not be read: {e}"))
                })
            })
            .await;
        fetched.map_err(marquee_store::CacheFetchError::into_upstream)
    }

    /// An embedded text stream, through Plex's transcoder: select it, then fetch the Part's
    /// selected subtitle, with no other choice in between.
    async fn embedded(
        &self,
        rating_key: &str,
        media_index: u32,
        part_id: i64,
        stream_id: i64,
    ) -> Result<Vec<u8>, ApiError> {
        let session: [u8; 12] = rand::random();
        let request = TranscodeRequest {
            rating_key: rating_key.to_owned(),
            media_index: Some(media_index),
            part_index: Some(0),
            session: session.iter().map(|b| format!("{b:02x}")).collect(),
            ..Default::default()
        };
        let _choosing = self.account.hold(part_id).await;
        self.plex
            .select_streams(part_id, None, Some(stream_id))
            .await?;
        Ok(self.plex.extract_subtitles(&request).await?)
    }
}
