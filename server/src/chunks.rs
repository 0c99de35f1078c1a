//! The direct-play relay: original files from Plex in fixed chunks, through a bounded cache.
//!
//! Browsers read a video with Range requests, each viewer at its own offsets. Marquee answers
//! every one from aligned chunks of [`CHUNK_BYTES`], each fetched from Plex once (concurrent
//! requests for one chunk share one fetch) and kept, least recently used out first, within the
//! cache's bound. Five viewers of one file in a party so pull its bytes from Plex about once:
//! on a small rented server, the home uplink carries the movie once per party. A response is
//! streamed chunk by chunk as the browser reads it, so a request the browser abandons costs no
//! more chunks.

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use bytes::Bytes;
use futures::Stream;
use marquee_plex::PlexClient;

use crate::error::ApiError;

/// The chunk size: big enough that a browser's read is a few Plex requests, small enough that
/// a seek fetches little it will not play.
pub const CHUNK_BYTES: u64 = 1 << 20;

/// One chunk of a file, with what Plex said of the whole file.
#[derive(Debug)]
pub struct Chunk {
    pub bytes: Bytes,
    /// The file's size (from `Content-Range`).
    pub total: u64,
    pub content_type: Option<HeaderValue>,
}

/// What a request's `Range` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// No `Range`: the whole file (`200`).
    Whole,
    /// `bytes=a-` or `bytes=a-b` (inclusive).
    From(u64, Option<u64>),
    /// `bytes=-n`: the last `n` bytes.
    Last(u64),
}

impl Want {
    /// Reads a `Range` header; `None` for what the relay does not serve from chunks (several
    /// ranges, other units), which is passed to Plex as it is.
    pub fn parse(range: Option<&str>) -> Option<Want> {
        let Some(range) = range else {
            return Some(Want::Whole);
        };
        let spec = range.trim().strip_prefix("bytes=")?;
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        match (a.is_empty(), b.is_empty()) {
            (true, false) => b.parse().ok().filter(|n| *n > 0).map(Want::Last),
            (false, true) => a.parse().ok().map(|a| Want::From(a, None)),
            (false, false) => {
                let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
                (b >= a).then_some(Want::From(a, Some(b)))
            }
            (true, true) => None,
        }
    }

    /// The inclusive byte span of a file of `total` bytes; `None` if unsatisfiable (`416`).
    pub fn span(self, total: u64) -> Option<(u64, u64)> {
        if total == 0 {
            return None;
        }
        match self {
            Want::Whole => Some((0, total - 1)),
            Want::From(a, _) if a >= total => None,
            Want::From(a, b) => Some((a, b.map_or(total - 1, |b| b.min(total - 1)))),
            Want::Last(n) => Some((total.saturating_sub(n), total - 1)),
        }
    }

    /// The chunk to fetch first (the one that tells the file's size).
    fn first_chunk(self) -> u64 {
        match self {
            Want::Whole | Want::Last(_) => 0,
            Want::From(a, _) => a / CHUNK_BYTES,
        }
    }
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Chunks {
    plex: PlexClient,
    cache: moka::future::Cache<String, Arc<Chunk>>,
}

impl std::fmt::Debug for Chunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunks")
            .field("entries", &self.cache.entry_count())
            .finish_non_exhaustive()
    }
}

/// A served file: its span, size and type, and the bytes as a stream.
pub struct Served<S> {
    pub start: u64,
    pub end: u64,
    pub total: u64,
    pub content_type: Option<HeaderValue>,
    pub body: S,
}

impl Chunks {
    /// A relay keeping at most `bytes` of chunks.
    pub fn new(plex: PlexClient, bytes: u64) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(bytes)
            .weigher(|k: &String, v: &Arc<Chunk>| {
                u32::try_from(k.len() + v.bytes.len()).unwrap_or(u32::MAX)
            })
            .time_to_idle(Duration::from_secs(3600))
            .build();
        Chunks { plex, cache }
    }

    /// Chunk `index` of the Plex file at `part_key`, from the cache or (once) from Plex.
    pub async fn chunk(&self, part_key: &str, index: u64) -> Result<Arc<Chunk>, ApiError> {
        let key = format!("{part_key}#{index}");
        let plex = self.plex.clone();
        let part_key = part_key.to_owned();
        self.cache
            .try_get_with(key, async move { fetch(&plex, &part_key, index).await })
            .await
            .map_err(|e: Arc<ApiError>| (*e).clone())
    }

    /// What `want` of the file at `part_key` is: `Ok(None)` when it cannot be satisfied
    /// (`416`, with the size), else the span and a stream of its bytes.
    pub async fn serve(
        &self,
        part_key: &str,
        want: Want,
    ) -> Result<
        Result<Served<impl Stream<Item = Result<Bytes, std::io::Error>> + use<>>, u64>,
        ApiError,
    > {
        let first = self.chunk(part_key, want.first_chunk()).await?;
        let total = first.total;
        let Some((start, end)) = want.span(total) else {
            return Ok(Err(total));
        };
        let content_type = first.content_type.clone();
        let this = self.clone();
        let part_key = part_key.to_owned();
        let first_index = want.first_chunk();
        // Walk the chunks from `start` to `end`, slicing the first and the last.
        let body = futures::stream::unfold(
            (start, Some((first_index, first))),
            move |(at, mut held)| {
                let this = this.clone();
                let part_key = part_key.clone();
                async move {
                    if at > end {
                        return None;
                    }
                    let index = at / CHUNK_BYTES;
                    let chunk = match held.take() {
                        Some((i, c)) if i == index => c,
                        _ => match this.chunk(&part_key, index).await {
                            Ok(c) => c,
                            Err(err) => {
                                let io = std::io::Error::other(err.to_string());
                                return Some((Err(io), (end + 1, None)));
                            }
                        },
                    };
                    let offset = (at - index * CHUNK_BYTES) as usize;
                    let last =
                        (end - index * CHUNK_BYTES + 1).min(chunk.bytes.len() as u64) as usize;
                    if offset >= last {
                        let io = std::io::Error::other("Plex sent a short chunk");
                        return Some((Err(io), (end + 1, None)));
                    }
                    let piece = chunk.bytes.slice(offset..last);
                    let next = index * CHUNK_BYTES + last as u64;
                    Some((Ok(piece), (next, None)))
                }
            },
        );
        Ok(Ok(Served {
            start,
            end,
            total,
            content_type,
            body,
        }))
    }
}

/// One chunk from Plex, by Range; its `Content-Range` gives the file's size.
async fn fetch(plex: &PlexClient, part_key: &str, index: u64) -> Result<Arc<Chunk>, ApiError> {
    let from = index * CHUNK_BYTES;
    let range = format!("bytes={from}-{}", from + CHUNK_BYTES - 1);
    tracing::debug!(index, "fetching a media chunk from Plex");
    let upstream = plex.fetch(part_key, Some(&range)).await?;
    let status = upstream.status();
    let headers = upstream.headers().clone();
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok());
    let total = match status.as_u16() {
        206 => headers
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit_once('/'))
            .and_then(|(_, total)| total.trim().parse::<u64>().ok())
            .ok_or_else(|| ApiError::plex_unavailable("a media range came without its size"))?,
        // A server that ignores Range sends the whole file: usable only if it is one chunk.
        200 => headers
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|len| index == 0 && *len <= CHUNK_BYTES)
            .ok_or_else(|| ApiError::plex_unavailable("Plex ignored a media range"))?,
        416 => {
            return Err(ApiError::plex_unavailable(
                "a media range past the file's end",
            ));
        }
        other => {
            return Err(ApiError::plex_unavailable(&format!(
                "media request answered {other}"
            )));
        }
    };
    let bytes = upstream
        .bytes()
        .await
        .map_err(|e| ApiError::plex_unavailable(&format!("a media chunk was cut off: {e}")))?;
    let expected = total.saturating_sub(from).min(CHUNK_BYTES);
    if bytes.len() as u64 != expected {
        return Err(ApiError::plex_unavailable("Plex sent a short media chunk"));
    }
    metrics::counter!("marquee_media_bytes_from_plex_total").increment(bytes.len() as u64);
    Ok(Arc::new(Chunk {
        bytes,
        total,
        content_type,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_browsers_send_them() {
        assert_eq!(Want::parse(None), Some(Want::Whole));
        assert_eq!(Want::parse(Some("bytes=0-")), Some(Want::From(0, None)));
        assert_eq!(
            Want::parse(Some("bytes=100-199")),
            Some(Want::From(100, Some(199)))
        );
        assert_eq!(Want::parse(Some("bytes=-500")), Some(Want::Last(500)));
        assert_eq!(Want::parse(Some("bytes=5-1")), None);
        assert_eq!(Want::parse(Some("bytes=0-1,5-6")), None);
        assert_eq!(Want::parse(Some("items=0-1")), None);
    }

    #[test]
    fn spans_are_clamped_to_the_file() {
        assert_eq!(Want::Whole.span(10), Some((0, 9)));
        assert_eq!(Want::From(4, Some(99)).span(10), Some((4, 9)));
        assert_eq!(Want::From(10, None).span(10), None);
        assert_eq!(Want::Last(3).span(10), Some((7, 9)));
        assert_eq!(Want::Last(30).span(10), Some((0, 9)));
    }
}
