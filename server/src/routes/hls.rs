//! HLS from Plex's universal transcoder, proxied.
//!
//! `GET /hls/{item}/{version}/start.m3u8` starts a transcode session and returns the master
//! playlist. Plex writes the variant and segment URIs relative to the playlist
//! (`session/{id}/base/index.m3u8`, `00001.ts`), so the browser's follow-up requests land on
//! `/hls/{item}/{version}/session/{id}/…`, which this module forwards to the same path under
//! Plex's `/video/:/transcode/universal/`. Playlists are rewritten on the way through so that no
//! token and no Plex address can reach the browser, whatever the Plex server wrote.
//!
//! The session id is a transcode token ([`app::ssr::urls::MediaUrls::transcode`]): the
//! `access` guard lets a request through only with a valid one for the item in its path.
//! [`crate::transcodes`] decides whether a start may run (the caps, reuse) and stops the
//! transcodes nobody fetches from; a player pings `…/ping/{token}` while it is paused.

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use marquee_plex::TranscodeRequest;

use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::state::AppState;
use crate::transcodes::{Begin, Owner};
use app::error::AppError;
use marquee_store::secret::TranscodeOwner;

const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";

#[derive(serde::Deserialize)]
pub struct StartQuery {
    /// The transcode token the watch page was given: Plex's session id, and the proof (checked
    /// by `access`) that Marquee issued it for this item.
    session: String,
}

pub async fn start(
    State(state): State<AppState>,
    Path((rating_key, media_index)): Path<(String, u32)>,
    Query(query): Query<StartQuery>,
    named: Option<Extension<TranscodeOwner>>,
    client: Option<Extension<ClientAddr>>,
) -> Result<Response, ApiError> {
    app::ssr::library::validate_key(&rating_key)?;
    let session = query.session;
    if !valid_session(&session) {
        return Err(ApiError::BadRequest("not a transcode session id".into()));
    }
    let owner = owner_of(named, client)?;
    let item = app::ssr::urls::transcode_item(&rating_key, media_index);
    let slot = match state.transcodes.begin(&session, &item, &owner) {
        Ok(Begin::Start(slot)) => slot,
        Ok(Begin::Reuse { token, master }) => {
            tracing::info!(rating_key, media_index, session = %token, "reusing a running transcode");
            return Ok(playlist(master.to_string()));
        }
        Err(refusal) => {
            metrics::counter!("marquee_transcodes_refused_total").increment(1);
            return Err(ApiError::TooManyTranscodes(refusal.to_string()));
        }
    };
    let meta = state.services.library.metadata(&rating_key).await?;
    if (media_index as usize) >= meta.media.len() {
        return Err(AppError::NotFound(format!("version {media_index}")).into());
    }
    let request = TranscodeRequest {
        rating_key: rating_key.clone(),
        media_index: Some(media_index),
        part_index: Some(0),
        session: session.clone(),
        offset_secs: 0.0,
        max_video_bitrate_kbps: None,
        direct_play: false,
        direct_stream: true,
    };
    let path = state.services.plex.hls_start_path(&request);
    let upstream = state.services.plex.fetch(&path, None).await?;
    let prefix = format!("/hls/{rating_key}/{media_index}/");
    let body = playlist_text(&state, upstream, &prefix).await?;
    tracing::info!(rating_key, media_index, session, "started an HLS transcode");
    slot.started(&body);
    Ok(playlist(body))
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

/// Notes a use of transcode `session` (a file fetched, a ping); `410` if it was stopped idle.
async fn touch(
    state: &AppState,
    rating_key: &str,
    media_index: u32,
    session: &str,
    named: Option<Extension<TranscodeOwner>>,
    client: Option<Extension<ClientAddr>>,
) -> Result<(), ApiError> {
    let owner = owner_of(named, client)?;
    let item = app::ssr::urls::transcode_item(rating_key, media_index);
    state
        .transcodes
        .touch(session, &item, &owner)
        .await
        .map_err(|()| {
            ApiError::Gone(
                "this transcoded stream was stopped after it sat unused; reload the player to start it again"
                    .into(),
            )
        })
}

pub async fn session_file(
    State(state): State<AppState>,
    Path((rating_key, media_index, session, rest)): Path<(String, u32, String, String)>,
    named: Option<Extension<TranscodeOwner>>,
    client: Option<Extension<ClientAddr>>,
) -> Result<Response, ApiError> {
    app::ssr::library::validate_key(&rating_key)?;
    if !valid_session(&session) || !valid_rest(&rest) {
        return Err(ApiError::BadRequest(
            "not an HLS file of a transcode session".into(),
        ));
    }
    touch(&state, &rating_key, media_index, &session, named, client).await?;
    let path = format!("/video/:/transcode/universal/session/{session}/{rest}");
    let upstream = state.services.plex.fetch(&path, None).await?;
    if rest.ends_with(".m3u8") {
        let prefix = format!("/hls/{rating_key}/{media_index}/");
        return Ok(playlist(playlist_text(&state, upstream, &prefix).await?));
    }
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = super::pass_headers(upstream.headers());
    Ok((status, headers, Body::from_stream(upstream.bytes_stream())).into_response())
}

/// `POST /hls/{item}/{version}/stop/{session}`: the player leaves; free the transcoder.
pub async fn stop(
    State(state): State<AppState>,
    Path((_, _, session)): Path<(String, u32, String)>,
) -> Result<StatusCode, ApiError> {
    if !valid_session(&session) {
        return Err(ApiError::BadRequest("not a transcode session id".into()));
    }
    state.transcodes.finish(&session);
    state.services.plex.stop_transcode(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /hls/{item}/{version}/ping/{session}`: a player (paused, perhaps, and so fetching
/// nothing) still uses this transcode. Passed on to Plex's own keep-alive.
pub async fn ping(
    State(state): State<AppState>,
    Path((rating_key, media_index, session)): Path<(String, u32, String)>,
    named: Option<Extension<TranscodeOwner>>,
    client: Option<Extension<ClientAddr>>,
) -> Result<StatusCode, ApiError> {
    if !valid_session(&session) {
        return Err(ApiError::BadRequest("not a transcode session id".into()));
    }
    touch(&state, &rating_key, media_index, &session, named, client).await?;
    if let Err(err) = state.services.plex.ping_transcode(&session).await {
        tracing::debug!(%err, "Plex did not take a transcode ping");
    }
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

/// An upstream playlist, checked and sanitized.
async fn playlist_text(
    state: &AppState,
    upstream: reqwest::Response,
    prefix: &str,
) -> Result<String, ApiError> {
    let status = upstream.status();
    if !status.is_success() {
        return Err(app::ssr::errors::plex_unavailable(&format!(
            "the transcoder answered {status}"
        ))
        .into());
    }
    let text = upstream.text().await.map_err(|e| {
        app::ssr::errors::plex_unavailable(&format!("the playlist was cut off: {e}"))
    })?;
    Ok(sanitize_playlist(&text, state.plex_base.as_str(), prefix))
}

fn valid_session(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= marquee_store::secret::TRANSCODE_TOKEN_MAX
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `base/index.m3u8`, `base/00012.ts`, …: short relative paths of safe names with known types.
fn valid_rest(rest: &str) -> bool {
    let segments_ok = rest.split('/').all(|seg| {
        !seg.is_empty()
            && seg != ".."
            && seg != "."
            && seg.len() <= 64
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    });
    let known = [".m3u8", ".ts", ".m4s", ".mp4", ".aac", ".vtt"]
        .iter()
        .any(|ext| rest.ends_with(ext));
    segments_ok && known && rest.split('/').count() <= 4
}

/// Remove every `X-Plex-Token` query parameter and turn absolute URLs to the Plex server's
/// transcoder into Marquee paths under `prefix`.
pub fn sanitize_playlist(text: &str, plex_base: &str, prefix: &str) -> String {
    let plex_base = plex_base.trim_end_matches('/');
    let transcoder = format!("{plex_base}/video/:/transcode/universal/");
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = line.replace(&transcoder, prefix);
        let line = strip_token(&line);
        let line = line.replace(plex_base, "");
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Removes every `X-Plex-Token` parameter, however the Plex server capitalised it.
fn strip_token(line: &str) -> String {
    const NEEDLE: &str = "x-plex-token=";
    let mut result = line.to_string();
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` hold in `result`.
    while let Some(pos) = result.to_ascii_lowercase().find(NEEDLE) {
        let end = result[pos..]
            .find(['&', '"', ' ', '\'', '#'])
            .map_or(result.len(), |e| pos + e);
        // Drop the parameter with its separator: "?X-Plex-Token=…&a" → "?a", "&X-Plex-Token=…" → "".
        let (start, end) = match result[..pos].chars().last() {
            Some('&') => (pos - 1, end),
            Some('?') if result[end..].starts_with('&') => (pos, end + 1),
            Some('?') => (pos - 1, end),
            _ => (pos, end),
        };
        result.replace_range(start..end, "");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playlists_lose_tokens_and_plex_addresses() {
        let master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nsession/abc/base/index.m3u8?X-Plex-Token=SECRET\n\
http://plex:32400/video/:/transcode/universal/session/abc/base/00001.ts?a=1&X-Plex-Token=SECRET&b=2\n\
#EXT-X-KEY:METHOD=AES-128,URI=\"http://plex:32400/key?X-Plex-Token=SECRET\"\n";
        let out = sanitize_playlist(master, "http://plex:32400/", "/hls/7/0/");
        assert!(!out.contains("SECRET"), "{out}");
        assert!(!out.contains("plex:32400"), "{out}");
        assert!(out.contains("session/abc/base/index.m3u8\n"), "{out}");
        assert!(
            out.contains("/hls/7/0/session/abc/base/00001.ts?a=1&b=2"),
            "{out}"
        );
    }

    /// Review item 17: Plex (or a proxy in front of it) may write the parameter in any case.
    #[test]
    fn tokens_are_stripped_in_any_case() {
        let playlist = "a.ts?x-plex-token=SECRET1&b=2\nb.ts?X-PLEX-TOKEN=SECRET2\nc.ts?q=1&X-Plex-token=SECRET3\n";
        let out = sanitize_playlist(playlist, "http://plex:32400/", "/hls/7/0/");
        assert!(!out.to_ascii_lowercase().contains("secret"), "{out}");
        assert!(
            out.contains("a.ts?b=2\n") && out.contains("b.ts\n") && out.contains("c.ts?q=1\n"),
            "{out}"
        );
    }

    #[test]
    fn only_transcode_files_are_forwarded() {
        assert!(valid_rest("base/index.m3u8"));
        assert!(valid_rest("base/00012.ts"));
        assert!(!valid_rest("../../library/sections"));
        assert!(!valid_rest("base/x.json"));
        assert!(!valid_session("a/b"));
        assert!(valid_session("0f3c9a"));
    }
}
