//! The HTTP client: auth headers, error mapping and one method per endpoint.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue, RANGE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::PlexError;
use crate::models::{
    DecisionContainer, Envelope, Identity, Listing, Media, Metadata, Page, Section, SectionList,
    TimelineAnswer,
};
use crate::xml;

/// How to reach and identify ourselves to a Plex server.
#[derive(Clone)]
pub struct PlexConfig {
    /// Server URL, e.g. `http://192.168.1.10:32400` (a path prefix is kept).
    pub base_url: Url,
    /// The Plex token; only ever sent as the `X-Plex-Token` header.
    pub token: SecretString,
    /// Stable per install, so Plex shows one device instead of a new one per restart.
    pub client_identifier: String,
    /// `X-Plex-Product`.
    pub product: String,
    /// `X-Plex-Version`.
    pub version: String,
    /// `X-Plex-Device-Name`.
    pub device_name: String,
    /// Limit for API calls, and for the response headers of [`PlexClient::fetch`].
    pub timeout: Duration,
}

impl PlexConfig {
    /// A config with Marquee's product name/version and a 15 s timeout.
    pub fn new(base_url: Url, token: SecretString, client_identifier: impl Into<String>) -> Self {
        PlexConfig {
            base_url,
            token,
            client_identifier: client_identifier.into(),
            product: "Marquee".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            device_name: "Marquee".to_string(),
            timeout: Duration::from_secs(15),
        }
    }
}

impl std::fmt::Debug for PlexConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlexConfig")
            .field("base_url", &self.base_url.as_str())
            .field("token", &"[redacted]")
            .field("client_identifier", &self.client_identifier)
            .field("product", &self.product)
            .field("version", &self.version)
            .field("device_name", &self.device_name)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// What to play and how, for transcode decisions and HLS sessions.
#[derive(Debug, Clone, Default)]
pub struct TranscodeRequest {
    /// Item to play.
    pub rating_key: String,
    /// Which Media version (`None` lets the server choose).
    pub media_index: Option<u32>,
    /// Which Part (`None` lets the server choose).
    pub part_index: Option<u32>,
    /// Transcode session id; reuse it for start/stop so Plex can tear down the transcoder.
    pub session: String,
    /// Start position in seconds (the transcoder's unit, unlike viewOffset's ms).
    pub offset_secs: f64,
    /// Bitrate cap for the transcoder.
    pub max_video_bitrate_kbps: Option<u32>,
    /// Allow playing the file as-is.
    pub direct_play: bool,
    /// Allow remuxing without re-encoding.
    pub direct_stream: bool,
    /// The audio stream to play (Plex also reads the Part's selection; see
    /// [`PlexClient::select_streams`]).
    pub audio_stream_id: Option<i64>,
    /// A subtitle stream to burn into the picture (`subtitles=burn`); `None` asks for no
    /// subtitles in the stream (`subtitles=none`): text subtitles go to the browser apart.
    pub burn_subtitle_id: Option<i64>,
}

/// A player's state, as `/:/timeline` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlayState {
    Playing,
    Paused,
    Buffering,
    Stopped,
}

impl PlayState {
    /// Plex's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PlayState::Playing => "playing",
            PlayState::Paused => "paused",
            PlayState::Buffering => "buffering",
            PlayState::Stopped => "stopped",
        }
    }
}

/// One `/:/timeline` report: where a player is in an item. Plex keeps a transcode only for a
/// player that reports (about every 10 s, and on every change of state).
#[derive(Debug, Clone)]
pub struct Timeline {
    pub rating_key: String,
    /// The playback session (`X-Plex-Session-Identifier`): the transcode's session id.
    pub session: String,
    pub state: PlayState,
    /// Position in the item, in milliseconds.
    pub time_ms: i64,
    /// The item's length, in milliseconds, when known.
    pub duration_ms: Option<i64>,
}

/// The server's verdict on how an item can be played.
#[derive(Debug, Clone, Default)]
pub struct TranscodeDecision {
    /// The file can be sent untouched (part decision "directplay", or decision code 1000).
    pub direct_play: bool,
    /// `generalDecisionCode` (1000 direct play OK, 1001 conversion OK, ≥2000 failures).
    pub general_code: Option<i64>,
    /// `generalDecisionText`.
    pub text: Option<String>,
    /// `directPlayDecisionCode`.
    pub direct_play_code: Option<i64>,
    /// `directPlayDecisionText`, explains why direct play was refused.
    pub direct_play_text: Option<String>,
    /// `transcodeDecisionCode`.
    pub transcode_code: Option<i64>,
    /// `transcodeDecisionText`.
    pub transcode_text: Option<String>,
    /// The Media version the server selected, with per-part decisions.
    pub media: Option<Media>,
}

struct Inner {
    cfg: PlexConfig,
    http: reqwest::Client,
    /// Identification headers, without the token.
    headers: HeaderMap,
    token: HeaderValue,
    base: String,
}

/// Plex API client; cheap to clone (shares one connection pool).
#[derive(Clone)]
pub struct PlexClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PlexClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlexClient")
            .field("config", &self.inner.cfg)
            .finish()
    }
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue, PlexError> {
    HeaderValue::from_str(value).map_err(|_| {
        PlexError::InvalidConfig(format!(
            "{name} contains characters not allowed in a header"
        ))
    })
}

/// Ratings keys and section keys go into URL paths; they are checked with Marquee's one rule for
/// Plex keys ([`marquee_sync::ids::is_plex_key`]) before any request is made.
fn check_key(what: &str, key: &str) -> Result<(), PlexError> {
    if marquee_sync::ids::is_plex_key(key) {
        Ok(())
    } else {
        Err(PlexError::InvalidInput(format!(
            "{what} {key:?} is not a valid Plex key"
        )))
    }
}

/// A request's endpoint as a metrics label with few values: at most its first three path
/// segments, any with a digit (ids, ratingKeys, sessions) as `:id`, no query.
pub(crate) fn endpoint_label(path_and_query: &str) -> String {
    let path = path_and_query.split('?').next().unwrap_or("");
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .take(3)
        .map(|s| {
            if s.bytes().any(|b| b.is_ascii_digit()) {
                ":id"
            } else {
                s
            }
        })
        .collect();
    format!("/{}", segments.join("/"))
}

/// Remove any token from a path before it is logged or put into an error.
fn redact(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.to_ascii_lowercase().starts_with("x-plex-token="))
        .collect();
    if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

fn query(pairs: &[(&str, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// Parse a JSON or XML body into `T` (the inner `MediaContainer`).
pub(crate) fn parse_body<T: DeserializeOwned>(
    body: &[u8],
    content_type: Option<&str>,
    what: &str,
) -> Result<T, PlexError> {
    let malformed = |source: Box<dyn std::error::Error + Send + Sync>| PlexError::Malformed {
        what: what.to_string(),
        source,
    };
    let looks_xml = content_type.is_some_and(|ct| ct.contains("xml"))
        || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    let envelope: Envelope<T> = if looks_xml {
        let text = std::str::from_utf8(body).map_err(|e| malformed(Box::new(e)))?;
        let value = xml::to_json(text).map_err(|e| malformed(Box::new(e)))?;
        serde_json::from_value(value).map_err(|e| malformed(Box::new(e)))?
    } else {
        serde_json::from_slice(body).map_err(|e| malformed(Box::new(e)))?
    };
    Ok(envelope.media_container)
}

impl PlexClient {
    /// Build a client; fails on a non-HTTP URL or header-unsafe identification strings.
    pub fn new(cfg: PlexConfig) -> Result<Self, PlexError> {
        if !matches!(cfg.base_url.scheme(), "http" | "https") {
            return Err(PlexError::InvalidConfig(format!(
                "base URL must be http or https, not {}",
                cfg.base_url.scheme()
            )));
        }
        if cfg.base_url.query().is_some() {
            return Err(PlexError::InvalidConfig(
                "base URL must not have a query".into(),
            ));
        }
        if cfg.token.expose_secret().is_empty() {
            return Err(PlexError::InvalidConfig("token is empty".into()));
        }
        if cfg.client_identifier.is_empty() {
            return Err(PlexError::InvalidConfig(
                "client identifier is empty".into(),
            ));
        }
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let ident: [(&'static str, &str); 5] = [
            ("x-plex-client-identifier", &cfg.client_identifier),
            ("x-plex-product", &cfg.product),
            ("x-plex-version", &cfg.version),
            ("x-plex-platform", std::env::consts::OS),
            ("x-plex-device-name", &cfg.device_name),
        ];
        for (name, value) in ident {
            headers.insert(HeaderName::from_static(name), header_value(name, value)?);
        }
        let mut token = header_value("token", cfg.token.expose_secret())?;
        token.set_sensitive(true);
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.timeout)
            .read_timeout(cfg.timeout)
            .user_agent(format!("{}/{}", cfg.product, cfg.version))
            .build()
            .map_err(|e| PlexError::InvalidConfig(format!("HTTP client: {e}")))?;
        let base = cfg.base_url.as_str().trim_end_matches('/').to_string();
        Ok(PlexClient {
            inner: Arc::new(Inner {
                cfg,
                http,
                headers,
                token,
                base,
            }),
        })
    }

    /// Opens `/:/websockets/notifications` as a WebSocket. The handshake goes through reqwest,
    /// like every other call, so the token travels as the same sensitive header and never
    /// reaches a log (tungstenite's own handshake logs the request whole at trace level). Its
    /// client has no read timeout: the socket may be quiet for hours.
    pub(crate) async fn open_notifications(
        &self,
    ) -> Result<tokio_tungstenite::WebSocketStream<reqwest::Upgraded>, PlexError> {
        use tokio_tungstenite::tungstenite::handshake::{client::generate_key, derive_accept_key};
        let cfg = &self.inner.cfg;
        let socket_client = reqwest::Client::builder()
            .connect_timeout(cfg.timeout)
            .http1_only()
            .user_agent(format!("{}/{}", cfg.product, cfg.version))
            .build()
            .map_err(|e| PlexError::InvalidConfig(format!("HTTP client: {e}")))?;
        let path = "/:/websockets/notifications";
        let key = generate_key();
        let response = socket_client
            .get(format!("{}{path}", self.inner.base))
            .headers(self.inner.headers.clone())
            .header("x-plex-token", self.inner.token.clone())
            .header(reqwest::header::CONNECTION, "Upgrade")
            .header(reqwest::header::UPGRADE, "websocket")
            .header(reqwest::header::SEC_WEBSOCKET_VERSION, "13")
            .header(reqwest::header::SEC_WEBSOCKET_KEY, &key)
            .send();
        let response = tokio::time::timeout(cfg.timeout, response)
            .await
            .map_err(|_| PlexError::Timeout)?
            .map_err(|e| PlexError::Socket(e.without_url().to_string()))?;
        match response.status().as_u16() {
            101 => {}
            401 | 403 => return Err(PlexError::Unauthorized),
            404 => {
                return Err(PlexError::NotFound {
                    path: path.to_owned(),
                });
            }
            status => return Err(PlexError::Status { status }),
        }
        let accepted = response
            .headers()
            .get(reqwest::header::SEC_WEBSOCKET_ACCEPT)
            .is_some_and(|v| v.as_bytes() == derive_accept_key(key.as_bytes()).as_bytes());
        if !accepted {
            return Err(PlexError::Socket("the upgrade was not a WebSocket".into()));
        }
        let upgraded = response
            .upgrade()
            .await
            .map_err(|e| PlexError::Socket(e.without_url().to_string()))?;
        Ok(tokio_tungstenite::WebSocketStream::from_raw_socket(
            upgraded,
            tokio_tungstenite::tungstenite::protocol::Role::Client,
            None,
        )
        .await)
    }

    /// The same server as another Plex user, by their token for it (a linked viewer's, from
    /// plex.tv's resources): what this client reads and reports is then that user's. Shares the
    /// connection pool.
    pub fn as_account(&self, token: &SecretString) -> Result<PlexClient, PlexError> {
        if token.expose_secret().is_empty() {
            return Err(PlexError::InvalidConfig("token is empty".into()));
        }
        let mut value = header_value("token", token.expose_secret())?;
        value.set_sensitive(true);
        let mut cfg = self.inner.cfg.clone();
        cfg.token = token.clone();
        Ok(PlexClient {
            inner: Arc::new(Inner {
                cfg,
                http: self.inner.http.clone(),
                headers: self.inner.headers.clone(),
                token: value,
                base: self.inner.base.clone(),
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &PlexConfig {
        &self.inner.cfg
    }

    fn request(&self, method: Method, path_and_query: &str) -> Result<RequestBuilder, PlexError> {
        let url = Url::parse(&format!("{}{}", self.inner.base, path_and_query)).map_err(|e| {
            PlexError::InvalidInput(format!("bad path {}: {e}", redact(path_and_query)))
        })?;
        Ok(self
            .inner
            .http
            .request(method, url)
            .headers(self.inner.headers.clone())
            .header("X-Plex-Token", self.inner.token.clone()))
    }

    fn map_send_error(&self, err: reqwest::Error) -> PlexError {
        if err.is_timeout() {
            PlexError::Timeout
        } else if err.is_connect() {
            PlexError::Unreachable {
                base_url: self.inner.base.clone(),
                source: err,
            }
        } else {
            PlexError::Request { source: err }
        }
    }

    fn check_status(resp: Response, path: &str) -> Result<Response, PlexError> {
        match resp.status() {
            s if s.is_success() => Ok(resp),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(PlexError::Unauthorized),
            StatusCode::NOT_FOUND => Err(PlexError::NotFound { path: redact(path) }),
            s => Err(PlexError::Status { status: s.as_u16() }),
        }
    }

    /// Send an API request and return the successful response (body not read yet).
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        extra: HeaderMap,
    ) -> Result<Response, PlexError> {
        tracing::debug!(method = %method, path = %redact(path_and_query), "plex request");
        let started = std::time::Instant::now();
        let result = async {
            let resp = self
                .request(method, path_and_query)?
                .headers(extra)
                .timeout(self.inner.cfg.timeout)
                .send()
                .await
                .map_err(|e| self.map_send_error(e))?;
            Self::check_status(resp, path_and_query)
        }
        .await;
        let endpoint = endpoint_label(path_and_query);
        metrics::histogram!("marquee_plex_request_duration_seconds", "endpoint" => endpoint.clone())
            .record(started.elapsed().as_secs_f64());
        if let Err(e) = &result {
            metrics::counter!("marquee_plex_errors_total", "endpoint" => endpoint, "kind" => e.kind())
                .increment(1);
        }
        logged(path_and_query, result)
    }

    async fn get_container<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<T, PlexError> {
        let (body, _) = self
            .get_container_with_headers(path_and_query, HeaderMap::new())
            .await?;
        Ok(body)
    }

    async fn get_container_with_headers<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
        extra: HeaderMap,
    ) -> Result<(T, HeaderMap), PlexError> {
        let resp = self.send(Method::GET, path_and_query, extra).await?;
        let headers = resp.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = logged(
            path_and_query,
            resp.bytes().await.map_err(|e| self.map_send_error(e)),
        )?;
        let parsed = logged(
            path_and_query,
            parse_body(&body, content_type.as_deref(), &redact(path_and_query)),
        )?;
        Ok((parsed, headers))
    }

    async fn get_ok(&self, path_and_query: &str) -> Result<(), PlexError> {
        let resp = self
            .send(Method::GET, path_and_query, HeaderMap::new())
            .await?;
        // Drain so the connection goes back to the pool.
        logged(
            path_and_query,
            resp.bytes().await.map_err(|e| self.map_send_error(e)),
        )?;
        Ok(())
    }

    /// Server identity; needs no token, so it also validates the URL before linking.
    pub async fn identity(&self) -> Result<Identity, PlexError> {
        self.get_container("/identity").await
    }

    /// Library sections.
    pub async fn sections(&self) -> Result<Vec<Section>, PlexError> {
        let list: SectionList = self.get_container("/library/sections").await?;
        Ok(list.directory)
    }

    /// One page of a section's items; libraries can hold tens of thousands, so always page.
    pub async fn section_items(
        &self,
        section_key: &str,
        start: u32,
        size: u32,
    ) -> Result<Page<Metadata>, PlexError> {
        check_key("section", section_key)?;
        let path = format!(
            "/library/sections/{section_key}/all?{}",
            query(&[
                ("X-Plex-Container-Start", start.to_string()),
                ("X-Plex-Container-Size", size.to_string()),
            ])
        );
        let mut extra = HeaderMap::new();
        extra.insert("x-plex-container-start", HeaderValue::from(start));
        extra.insert("x-plex-container-size", HeaderValue::from(size));
        let (listing, headers): (Listing, _) =
            self.get_container_with_headers(&path, extra).await?;
        let header_num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        let offset = listing
            .offset
            .or_else(|| header_num("X-Plex-Container-Start"))
            .unwrap_or(i64::from(start));
        let size_now = listing.size.unwrap_or(listing.metadata.len() as i64);
        let total = listing
            .total_size
            .or_else(|| header_num("X-Plex-Container-Total-Size"))
            .unwrap_or(offset + size_now);
        let clamp = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        Ok(Page {
            items: listing.into_items(),
            offset: clamp(offset),
            total_size: clamp(total),
        })
    }

    /// Full metadata of one item, including every Media version and its streams, and its
    /// intro and credits markers.
    pub async fn metadata(&self, rating_key: &str) -> Result<Metadata, PlexError> {
        check_key("ratingKey", rating_key)?;
        let path = format!("/library/metadata/{rating_key}");
        let listing: Listing = self
            .get_container(&format!("{path}?includeMarkers=1"))
            .await?;
        listing
            .into_items()
            .into_iter()
            .next()
            .ok_or(PlexError::NotFound { path })
    }

    /// Seasons of a show or episodes of a season (without the "All episodes" entry).
    pub async fn children(&self, rating_key: &str) -> Result<Vec<Metadata>, PlexError> {
        check_key("ratingKey", rating_key)?;
        let listing: Listing = self
            .get_container(&format!("/library/metadata/{rating_key}/children"))
            .await?;
        Ok(listing.into_items())
    }

    /// Every episode of a show.
    pub async fn all_leaves(&self, rating_key: &str) -> Result<Vec<Metadata>, PlexError> {
        check_key("ratingKey", rating_key)?;
        let listing: Listing = self
            .get_container(&format!("/library/metadata/{rating_key}/allLeaves"))
            .await?;
        Ok(listing.into_items())
    }

    /// Search titles; results of every hub (movies, shows, episodes…) flattened in hub order.
    pub async fn search(&self, query_text: &str, limit: u32) -> Result<Vec<Metadata>, PlexError> {
        let path = format!(
            "/hubs/search?{}",
            query(&[
                ("query", query_text.to_string()),
                ("limit", limit.to_string())
            ])
        );
        let listing: Listing = self.get_container(&path).await?;
        Ok(listing.into_items())
    }

    /// Partly watched items and next episodes: the "Continue Watching" hub, or, on an older
    /// server without it (404), `/library/onDeck`, which newer servers have dropped.
    pub async fn continue_watching(&self) -> Result<Vec<Metadata>, PlexError> {
        let listing: Listing = match self.get_container("/hubs/continueWatching/items").await {
            Err(PlexError::NotFound { .. }) => self.get_container("/library/onDeck").await?,
            other => other?,
        };
        Ok(listing.into_items())
    }

    /// The server's newest items (`/library/recentlyAdded`), at most `limit`.
    pub async fn recently_added(&self, limit: u32) -> Result<Vec<Metadata>, PlexError> {
        let listing: Listing = self
            .get_container(&format!(
                "/library/recentlyAdded?{}",
                query(&[
                    ("X-Plex-Container-Start", "0".to_string()),
                    ("X-Plex-Container-Size", limit.to_string()),
                ])
            ))
            .await?;
        Ok(listing.into_items())
    }

    /// A request for a resized poster/backdrop. Server-side only: it carries the token, so
    /// the bytes must be proxied rather than the URL handed to a browser.
    pub fn photo_transcode_request(
        &self,
        image_path: &str,
        width: u32,
        height: u32,
    ) -> Result<RequestBuilder, PlexError> {
        if image_path.is_empty() {
            return Err(PlexError::InvalidInput("empty image path".into()));
        }
        let path = format!(
            "/photo/:/transcode?{}",
            query(&[
                ("url", image_path.to_string()),
                ("width", width.to_string()),
                ("height", height.to_string()),
                ("minSize", "1".to_string()),
                ("upscale", "1".to_string()),
            ])
        );
        tracing::debug!(path = %redact(&path), "plex photo request");
        Ok(self
            .request(Method::GET, &path)?
            .timeout(self.inner.cfg.timeout))
    }

    /// Raw GET with auth headers for streaming media/HLS through Marquee's proxy.
    ///
    /// Only waiting for the response head is bounded by the timeout (plus an idle-read
    /// timeout); the body is not buffered, so long files stream. 206 and 416 pass through for
    /// Range requests.
    pub async fn fetch(
        &self,
        path_and_query: &str,
        range: Option<&str>,
    ) -> Result<Response, PlexError> {
        if !path_and_query.starts_with('/') {
            return Err(PlexError::InvalidInput("path must start with '/'".into()));
        }
        tracing::debug!(path = %redact(path_and_query), range, "plex fetch");
        let result = async {
            let mut req = self.request(Method::GET, path_and_query)?;
            if let Some(range) = range {
                req = req.header(RANGE, header_value("range", range)?);
            }
            let resp = tokio::time::timeout(self.inner.cfg.timeout, req.send())
                .await
                .map_err(|_| PlexError::Timeout)?
                .map_err(|e| self.map_send_error(e))?;
            if resp.status() == StatusCode::RANGE_NOT_SATISFIABLE {
                return Ok(resp);
            }
            Self::check_status(resp, path_and_query)
        }
        .await;
        logged(path_and_query, result)
    }

    fn transcode_params(req: &TranscodeRequest, direct_play: bool) -> Vec<(&'static str, String)> {
        let flag = |b: bool| if b { "1" } else { "0" }.to_string();
        let mut p = vec![
            ("hasMDE", "1".to_string()),
            ("path", format!("/library/metadata/{}", req.rating_key)),
            (
                "mediaIndex",
                req.media_index.map_or("-1".to_string(), |i| i.to_string()),
            ),
            (
                "partIndex",
                req.part_index.map_or("-1".to_string(), |i| i.to_string()),
            ),
            ("protocol", "hls".to_string()),
            ("fastSeek", "1".to_string()),
            ("directPlay", flag(direct_play)),
            ("directStream", flag(req.direct_stream)),
            ("directStreamAudio", flag(req.direct_stream)),
            (
                "subtitles",
                if req.burn_subtitle_id.is_some() {
                    "burn"
                } else {
                    "none"
                }
                .to_string(),
            ),
            ("location", "lan".to_string()),
            ("offset", format!("{:.3}", req.offset_secs.max(0.0))),
            ("session", req.session.clone()),
            ("transcodeSessionId", req.session.clone()),
            ("X-Plex-Session-Identifier", req.session.clone()),
        ];
        if let Some(kbps) = req.max_video_bitrate_kbps {
            p.push(("maxVideoBitrate", kbps.to_string()));
            p.push(("videoBitrate", kbps.to_string()));
        }
        if let Some(id) = req.audio_stream_id {
            p.push(("audioStreamID", id.to_string()));
        }
        if let Some(id) = req.burn_subtitle_id {
            p.push(("subtitleStreamID", id.to_string()));
        }
        p
    }

    /// Stores the account's audio and subtitle choice on a Part, which Plex's next decision
    /// and transcode of it read (`subtitle`: `Some(0)` turns subtitles off, `None` leaves them).
    /// The choice is per Plex account, not per player: callers that share an account must
    /// hold one lock from this call until the transcode they start has read it.
    pub async fn select_streams(
        &self,
        part_id: i64,
        audio: Option<i64>,
        subtitle: Option<i64>,
    ) -> Result<(), PlexError> {
        let mut params = vec![("allParts", "1".to_string())];
        if let Some(a) = audio {
            params.push(("audioStreamID", a.to_string()));
        }
        if let Some(s) = subtitle {
            params.push(("subtitleStreamID", s.to_string()));
        }
        let path = format!("/library/parts/{part_id}?{}", query(&params));
        let resp = self.send(Method::PUT, &path, HeaderMap::new()).await?;
        logged(
            &path,
            resp.bytes().await.map_err(|e| self.map_send_error(e)),
        )?;
        Ok(())
    }

    /// The Part's selected subtitle stream as a text file (Plex makes ASS of an embedded text
    /// stream): how a client gets a subtitle that is not a sidecar. Select it first.
    pub async fn extract_subtitles(&self, req: &TranscodeRequest) -> Result<Vec<u8>, PlexError> {
        check_key("ratingKey", &req.rating_key)?;
        let mut params = Self::transcode_params(req, false);
        for (name, value) in &mut params {
            match *name {
                "subtitles" => *value = "sidecar".into(),
                "protocol" => *value = "http".into(),
                "directStream" => *value = "1".into(),
                _ => {}
            }
        }
        params.push(("advancedSubtitles", "text".into()));
        let path = format!("/video/:/transcode/universal/subtitles?{}", query(&params));
        self.bytes(&path).await
    }

    /// A sidecar subtitle's file (`Stream.key`, `/library/streams/{id}`), at most 8 MiB.
    pub async fn stream_file(&self, key: &str) -> Result<Vec<u8>, PlexError> {
        // `/library/streams/{id}`, or with the file's extension (`….srt`), as servers write it.
        let ok = key.strip_prefix("/library/streams/").is_some_and(|rest| {
            let (id, ext) = rest.split_once('.').unwrap_or((rest, "srt"));
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && !ext.is_empty()
                && ext.len() <= 8
                && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !ok {
            return Err(PlexError::InvalidInput(format!(
                "{key:?} is not a stream key"
            )));
        }
        self.bytes(key).await
    }

    /// The seek-preview thumbnails of a Part (`/library/parts/{id}/indexes/sd`), parsed. A
    /// Part without `indexes="sd"` has none (Plex answers 404).
    pub async fn preview_index(&self, part_id: i64) -> Result<crate::bif::Bif, PlexError> {
        /// A two-hour film at one thumbnail every 2 s is about 25 MB.
        const MAX: usize = 64 << 20;
        let path = format!("/library/parts/{part_id}/indexes/sd");
        let resp = self.send(Method::GET, &path, HeaderMap::new()).await?;
        if resp.content_length().is_some_and(|n| n > MAX as u64) {
            return Err(PlexError::InvalidInput(format!(
                "{path} is larger than {MAX} bytes"
            )));
        }
        let body = logged(
            &path,
            resp.bytes().await.map_err(|e| self.map_send_error(e)),
        )?;
        crate::bif::Bif::parse(body).map_err(|e| PlexError::Malformed {
            what: path,
            source: Box::new(e),
        })
    }

    async fn bytes(&self, path: &str) -> Result<Vec<u8>, PlexError> {
        const MAX: usize = 8 << 20;
        let resp = self.send(Method::GET, path, HeaderMap::new()).await?;
        let body = logged(path, resp.bytes().await.map_err(|e| self.map_send_error(e)))?;
        if body.len() > MAX {
            return Err(PlexError::InvalidInput(format!(
                "{} is larger than {MAX} bytes",
                redact(path)
            )));
        }
        Ok(body.to_vec())
    }

    /// Ask the server whether the item can be direct-played or must be transcoded.
    pub async fn transcode_decision(
        &self,
        req: &TranscodeRequest,
    ) -> Result<TranscodeDecision, PlexError> {
        check_key("ratingKey", &req.rating_key)?;
        let path = format!(
            "/video/:/transcode/universal/decision?{}",
            query(&Self::transcode_params(req, req.direct_play))
        );
        let c: DecisionContainer = self.get_container(&path).await?;
        let media = c.metadata.into_iter().next().and_then(|m| {
            let mut media = m.media;
            let selected = media
                .iter()
                .position(|m| m.selected == Some(true))
                .unwrap_or(0);
            (selected < media.len()).then(|| media.swap_remove(selected))
        });
        let part_decisions: Vec<&str> = media
            .iter()
            .flat_map(|m| m.parts.iter().filter_map(|p| p.decision.as_deref()))
            .collect();
        let direct_play = if part_decisions.is_empty() {
            c.direct_play_decision_code == Some(1000) || c.transcode_decision_code == Some(1000)
        } else {
            part_decisions
                .iter()
                .all(|d| d.eq_ignore_ascii_case("directplay"))
        };
        Ok(TranscodeDecision {
            direct_play,
            general_code: c.general_decision_code,
            text: c.general_decision_text,
            direct_play_code: c.direct_play_decision_code,
            direct_play_text: c.direct_play_decision_text,
            transcode_code: c.transcode_decision_code,
            transcode_text: c.transcode_decision_text,
            media,
        })
    }

    /// Path+query (no token) of the HLS master playlist, for [`PlexClient::fetch`]. Its
    /// variant URI is relative (`session/{id}/base/index.m3u8`), so a proxy must resolve it
    /// against `/video/:/transcode/universal/`.
    pub fn hls_start_path(&self, req: &TranscodeRequest) -> String {
        format!(
            "/video/:/transcode/universal/start.m3u8?{}",
            query(&Self::transcode_params(req, false))
        )
    }

    /// Stop a transcode session so Plex frees the transcoder.
    pub async fn stop_transcode(&self, session: &str) -> Result<(), PlexError> {
        self.get_ok(&format!(
            "/video/:/transcode/universal/stop?{}",
            query(&[("session", session.to_string())])
        ))
        .await
    }

    /// Tell Plex a transcode session is still in use (a paused player fetches no segments).
    pub async fn ping_transcode(&self, session: &str) -> Result<(), PlexError> {
        self.get_ok(&format!(
            "/video/:/transcode/universal/ping?{}",
            query(&[("session", session.to_string())])
        ))
        .await
    }

    /// Report a player's state; the answer says whether Plex ended the playback.
    pub async fn timeline(&self, report: &Timeline) -> Result<TimelineAnswer, PlexError> {
        check_key("ratingKey", &report.rating_key)?;
        let mut params = vec![
            ("ratingKey", report.rating_key.clone()),
            ("key", format!("/library/metadata/{}", report.rating_key)),
            ("identifier", "com.plexapp.plugins.library".to_string()),
            ("state", report.state.as_str().to_string()),
            ("time", report.time_ms.max(0).to_string()),
            ("hasMDE", "1".to_string()),
        ];
        if let Some(d) = report.duration_ms {
            params.push(("duration", d.to_string()));
        }
        let mut extra = HeaderMap::new();
        extra.insert(
            HeaderName::from_static("x-plex-session-identifier"),
            header_value("session", &report.session)?,
        );
        let (answer, _) = self
            .get_container_with_headers(&format!("/:/timeline?{}", query(&params)), extra)
            .await?;
        Ok(answer)
    }

    /// Mark an item watched for the token's account (`/:/scrobble`: Plex adds one to its view
    /// count and clears its resume point).
    pub async fn scrobble(&self, rating_key: &str) -> Result<(), PlexError> {
        check_key("ratingKey", rating_key)?;
        self.get_ok(&format!(
            "/:/scrobble?{}",
            query(&[
                ("key", rating_key.to_string()),
                ("identifier", "com.plexapp.plugins.library".to_string()),
            ])
        ))
        .await
    }

    /// Mark an item unwatched for the token's account (`/:/unscrobble`: no views, no resume
    /// point).
    pub async fn unscrobble(&self, rating_key: &str) -> Result<(), PlexError> {
        check_key("ratingKey", rating_key)?;
        self.get_ok(&format!(
            "/:/unscrobble?{}",
            query(&[
                ("key", rating_key.to_string()),
                ("identifier", "com.plexapp.plugins.library".to_string()),
            ])
        ))
        .await
    }

    /// Set the token's account's resume point in an item (`/:/progress`). Unlike
    /// [`PlexClient::timeline`] it makes no player appear in Plex's Now Playing: how a viewer's
    /// own account follows a session the server's owner already reports.
    pub async fn progress(
        &self,
        rating_key: &str,
        time_ms: i64,
        state: PlayState,
    ) -> Result<(), PlexError> {
        check_key("ratingKey", rating_key)?;
        self.get_ok(&format!(
            "/:/progress?{}",
            query(&[
                ("key", rating_key.to_string()),
                ("identifier", "com.plexapp.plugins.library".to_string()),
                ("time", time_ms.max(0).to_string()),
                ("state", state.as_str().to_string()),
            ])
        ))
        .await
    }

    /// Ask Plex to rescan a section.
    pub async fn refresh_section(&self, section_key: &str) -> Result<(), PlexError> {
        check_key("section", section_key)?;
        self.get_ok(&format!("/library/sections/{section_key}/refresh"))
            .await
    }
}

/// An error with its causes, `outer: inner: innermost`, for a log line.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Every failed Plex call is logged here, once, at warn: the endpoint (never the token) and
/// the reason with its causes. Callers turn the error into a fixed sentence for people, so
/// without this line a failure would leave no trace.
fn logged<T>(path_and_query: &str, result: Result<T, PlexError>) -> Result<T, PlexError> {
    if let Err(err) = &result {
        let reason = error_chain(err);
        tracing::warn!(endpoint = %redact(path_and_query), %reason, "Plex call failed");
    }
    result
}
