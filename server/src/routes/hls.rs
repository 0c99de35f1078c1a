//! HLS from Plex's universal transcoder, relayed.
//!
//! `GET /hls/{item}/{version}/start.m3u8?session={token}&quality={label}` joins (or starts)
//! the rendition's shared transcode ([`crate::transcodes`]) and returns a master playlist that
//! points at `session/{token}/{label}/index.m3u8`; the media playlist names segments
//! `{label}/{n}.ts`. Marquee writes both itself from Plex's, so no token, Plex address or Plex
//! session id reaches a browser, and a re-targeted transcode changes no URL a player holds.
//!
//! The `{token}` is a transcode token ([`app::ssr::urls::MediaUrls::transcode`]): the `access`
//! guard lets a request through only with a valid one for the item in its path. A player
//! reports its state to `POST …/timeline/{token}/{label}?state=…&time=…` (on play, pause, seek
//! and every 10 s), which Marquee passes on to Plex as the rendition's timeline, and leaves
//! with `POST …/stop/{token}/{label}`.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use marquee_plex::PlayState;

use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::state::AppState;
use crate::transcodes::{Owner, Quality, Rendition, Tracks};
use app::error::AppError;
use app::ssr::tracks;
use marquee_plex::Metadata;
use marquee_store::secret::TranscodeOwner;

const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";

#[derive(serde::Deserialize)]
pub struct StartQuery {
    /// The transcode token the watch page was given: the proof (checked by `access`) that
    /// Marquee issued it for this item, and the viewer's name in the rendition.
    session: String,
    /// The rendition's quality label (`base`, `q2000`); the original when absent.
    quality: Option<String>,
}

/// The rendition a path label names, checked against the item: a quality Marquee offers, an
/// audio track of the version other than its default, an image subtitle of it to burn in.
fn rendition(
    rating_key: &str,
    meta: &Metadata,
    media_index: u32,
    label: &str,
) -> Result<Rendition, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "not a rendition Marquee transcodes to; use base or one of {}, then -a{{audio id}} and -s{{subtitle id}}",
            Quality::CHOICES.map(|k| format!("q{k}")).join(", ")
        ))
    };
    let (quality, audio, burn) = app::model::parse_rendition_label(label).ok_or_else(bad)?;
    let quality = Quality::from_label(quality).ok_or_else(bad)?;
    let media = meta
        .media
        .get(media_index as usize)
        .ok_or_else(|| AppError::NotFound(format!("version {media_index}")))?;
    let part = media.parts.first();
    let audio_tracks = part.map(tracks::audio_tracks).unwrap_or_default();
    let default_audio = tracks::default_audio(&audio_tracks).map(|t| t.id);
    if let Some(a) = audio
        && (Some(a) == default_audio || !audio_tracks.iter().any(|t| t.id == a))
    {
        return Err(ApiError::BadRequest(format!(
            "audio track {a} is not another track of this version"
        )));
    }
    if let Some(b) = burn {
        let image = part
            .and_then(|p| p.streams.iter().find(|s| s.id == b))
            .is_some_and(|s| {
                s.stream_type == marquee_plex::stream_type::SUBTITLE && tracks::is_image_subtitle(s)
            });
        if !image {
            return Err(ApiError::BadRequest(format!(
                "subtitle {b} is not a picture subtitle of this version; text subtitles are not burned in"
            )));
        }
    }
    Ok(Rendition {
        rating_key: rating_key.to_owned(),
        media_index,
        quality,
        tracks: Tracks {
            part_id: part.map(|p| p.id),
            audio,
            default_audio,
            burn,
        },
    })
}

/// The item's metadata (cached), for checking a rendition against it.
async fn item(state: &AppState, rating_key: &str) -> Result<Metadata, ApiError> {
    app::ssr::library::validate_key(rating_key)?;
    Ok(state.services.library.metadata(rating_key).await?)
}

pub async fn start(
    State(state): State<AppState>,
    Path((rating_key, media_index)): Path<(String, u32)>,
    Query(query): Query<StartQuery>,
    named: Option<Extension<TranscodeOwner>>,
    client: Option<Extension<ClientAddr>>,
) -> Result<Response, ApiError> {
    let viewer = query.session;
    if !valid_session(&viewer) {
        return Err(ApiError::BadRequest("not a transcode session id".into()));
    }
    let meta = item(&state, &rating_key).await?;
    let r = rendition(
        &rating_key,
        &meta,
        media_index,
        query.quality.as_deref().unwrap_or("base"),
    )?;
    let owner = owner_of(named, client)?;
    let master = state.relay.open(&r, &viewer, &owner, meta.duration).await?;
    Ok(playlist(master))
}

/// Whom a transcode counts against: the person its token names (the access guard checked the
/// token and left whom it names as a request extension), else the client address.
fn owner_of(
    named: Option<Extension<TranscodeOwner>>,
    client: Option<Extension<ClientAddr>>,
) -> Result<Owner, ApiError> {
    let Some(Extension(named)) = named else {
        return Err(ApiError::BadRequest("not a transcode session id".into()));
    };
    let address = client.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.bucket);
    Ok(Owner::of(&named, address))
}

pub async fn session_file(
    State(state): State<AppState>,
    Path((rating_key, media_index, viewer, rest)): Path<(String, u32, String, String)>,
    named: Option<Extension<TranscodeOwner>>,
    client: Option<Extension<ClientAddr>>,
) -> Result<Response, ApiError> {
    let bad = || ApiError::BadRequest("not an HLS file of a transcode session".into());
    let (label, file) = rest.split_once('/').ok_or_else(bad)?;
    if !valid_session(&viewer) {
        return Err(bad());
    }
    let meta = item(&state, &rating_key).await?;
    let r = rendition(&rating_key, &meta, media_index, label)?;
    let owner = owner_of(named, client)?;
    if file == "index.m3u8" {
        let text = state.relay.media_playlist(&r, &viewer, &owner).await?;
        return Ok(playlist(text));
    }
    let index: usize = file
        .strip_suffix(".ts")
        .filter(|n| !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .ok_or_else(bad)?;
    let bytes = state.relay.segment(&r, &viewer, &owner, index).await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("video/mp2t")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /hls/{item}/{version}/stop/{token}/{label}`: the player leaves; the last viewer out
/// frees the transcoder.
pub async fn stop(
    State(state): State<AppState>,
    Path((rating_key, media_index, viewer, label)): Path<(String, u32, String, String)>,
) -> Result<StatusCode, ApiError> {
    if !valid_session(&viewer) {
        return Err(ApiError::BadRequest("not a transcode session id".into()));
    }
    let meta = item(&state, &rating_key).await?;
    let r = rendition(&rating_key, &meta, media_index, &label)?;
    state.relay.leave(&r, &viewer).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
pub struct TimelineQuery {
    state: String,
    /// Position in the item, in milliseconds.
    time: i64,
}

/// `POST /hls/{item}/{version}/timeline/{token}/{label}?state=playing&time=12000`: where this
/// viewer is. Passed on to Plex as the rendition's timeline; `410` with Plex's reason once
/// Plex ended the stream.
pub async fn timeline(
    State(state): State<AppState>,
    Path((rating_key, media_index, viewer, label)): Path<(String, u32, String, String)>,
    Query(query): Query<TimelineQuery>,
) -> Result<StatusCode, ApiError> {
    if !valid_session(&viewer) {
        return Err(ApiError::BadRequest("not a transcode session id".into()));
    }
    let meta = item(&state, &rating_key).await?;
    let r = rendition(&rating_key, &meta, media_index, &label)?;
    let play = match query.state.as_str() {
        "playing" => PlayState::Playing,
        "paused" => PlayState::Paused,
        "buffering" => PlayState::Buffering,
        "stopped" => PlayState::Stopped,
        _ => {
            return Err(ApiError::BadRequest(
                "state must be playing, paused, buffering or stopped".into(),
            ));
        }
    };
    if !(0..=100_000_000_000).contains(&query.time) {
        return Err(ApiError::BadRequest(
            "time must be a position in milliseconds".into(),
        ));
    }
    state.relay.report(&r, &viewer, play, query.time).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn playlist(body: String) -> Response {
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(PLAYLIST_TYPE),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

fn valid_session(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= marquee_store::secret::TRANSCODE_TOKEN_MAX
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn session_ids_are_plain() {
        assert!(!valid_session("a/b"));
        assert!(!valid_session(""));
        assert!(valid_session("0f3c9a"));
    }

    #[test]
    fn only_offered_qualities_and_the_versions_tracks_make_renditions() {
        use marquee_plex::{Media, Part, Stream};
        let stream = |id, stream_type, codec: &str, default| Stream {
            id,
            stream_type,
            codec: Some(codec.into()),
            default: Some(default),
            ..Default::default()
        };
        let meta = Metadata {
            rating_key: "107".into(),
            media: vec![Media {
                parts: vec![Part {
                    id: 1071,
                    streams: vec![
                        stream(1, 2, "aac", true),
                        stream(2, 2, "aac", false),
                        stream(3, 3, "srt", false),
                        stream(4, 3, "pgs", false),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let r = |label: &str| rendition("107", &meta, 0, label);
        assert!(r("base").is_ok());
        assert!(r("q2000").is_ok());
        assert!(r("q1999").is_err());
        assert!(r("../x").is_err());
        let picked = r("q2000-a2-s4").unwrap();
        assert_eq!(picked.tracks.audio_playing(), Some(2));
        assert_eq!(picked.tracks.part_id, Some(1071));
        assert_eq!(picked.label(), "q2000-a2-s4");
        assert_eq!(r("base").unwrap().tracks.audio_playing(), Some(1));
        assert!(
            r("base-a1").is_err(),
            "the default audio is not a second rendition"
        );
        assert!(r("base-a9").is_err());
        assert!(r("base-s3").is_err(), "text subtitles are not burned in");
        assert!(r("base-s4-a2").is_err());
        assert!(rendition("107", &meta, 1, "base").is_err());
    }
}
