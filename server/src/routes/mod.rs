//! Marquee's HTTP routes outside Leptos: media and image proxies, admin, health and metrics.
//!
//! The proxies are the reason the browser never needs the Plex token: it asks Marquee for
//! `/media/{item}/{version}/{part}`, `/hls/…` or `/img/…`, and Marquee asks Plex with the token
//! it keeps server-side. Only these shapes are accepted, so a browser cannot use Marquee to reach
//! any other Plex endpoint.

pub mod activity;
pub mod admin;
pub mod hls;
pub mod images;
pub mod media;
pub mod ops;
pub mod plex_webhook;
pub mod previews;
pub mod sessions;
pub mod subtitles;

use axum::http::{HeaderMap, HeaderName, header};

/// Response headers from Plex worth passing on to the browser for media and images.
const PASS_HEADERS: [HeaderName; 7] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::LAST_MODIFIED,
    header::ETAG,
    header::CACHE_CONTROL,
];

/// Copy the allow-listed headers (nothing Plex-specific, no cookies) from a Plex response.
pub fn pass_headers(from: &reqwest::header::HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in PASS_HEADERS.iter() {
        if let Some(v) = from.get(name.as_str())
            && let Ok(v) = axum::http::HeaderValue::from_bytes(v.as_bytes())
        {
            out.insert(name.clone(), v);
        }
    }
    out
}
