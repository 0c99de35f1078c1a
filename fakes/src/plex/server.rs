//! Request handling of the fake Plex server.
//!
//! Routing is done by hand on path segments because Plex paths contain `:` segments
//! (`/:/timeline`, `/video/:/transcode/…`) that axum's router reserves for its own syntax.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::FakePlexOptions;
use super::library::{
    ARCHIVE_SECTION, FileSizes, Item, Kind, Library, MOVIES_SECTION, MUSIC_SECTION, MediaKind,
    PHOTOS_SECTION, SHOWS_SECTION, section_title,
};
use super::media::MediaFiles;
use super::streams::{FakeStream, Selection, SubSource};
use super::transcoder::{self, SegmentAnswer, StartRequest, TimelineCall, Transcoder};
use super::xml;
use crate::FakeError;

/// A way to make the fake misbehave, for error-path tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer 200 with a truncated JSON body.
    MalformedJson,
    /// Wait this long before answering.
    Delay(Duration),
    /// Answer with this status and an empty body.
    Status(u16),
    /// Answer requests whose path starts with the prefix with the status; serve the rest.
    StatusFor(&'static str, u16),
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: Method,
    /// Path plus query string, exactly as sent.
    pub path_and_query: String,
    /// Request headers.
    pub headers: HeaderMap,
}

impl RecordedRequest {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(p, _)| p)
    }

    /// A header's value, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter's (decoded) value.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let (_, query) = self.path_and_query.split_once('?')?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// A stream selection or a transcoder decision, in the order the fake saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// `PUT /library/parts/{part}`: the account's choice is now this.
    Selected { part: i64, selection: Selection },
    /// A decision, a transcode start or a subtitle extraction (`what`: `decision`, `start`,
    /// `subtitles`) made with the Part's selection at that moment.
    Decided {
        what: &'static str,
        part: i64,
        /// The audio stream it used.
        audio: Option<i64>,
        /// The subtitle stream it used (burned in, or extracted), if any.
        subtitle: Option<i64>,
        /// The request's `subtitles` parameter.
        subtitles: Option<String>,
        /// The request's `session`.
        session: Option<String>,
    },
}

/// Shared state of a fake server; cheap to clone.
#[derive(Clone)]
pub struct FakePlexState {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FakePlexState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePlexState")
            .field("media", &self.inner.media.root)
            .finish_non_exhaustive()
    }
}

struct Inner {
    opts: FakePlexOptions,
    media: MediaFiles,
    library: Library,
    requests: Mutex<Vec<RecordedRequest>>,
    fault: Mutex<Option<Fault>>,
    transcoder: Transcoder,
    /// Bytes of response bodies sent (by `Content-Length`): what crossed the server's uplink.
    body_bytes: std::sync::atomic::AtomicU64,
    section_updated: HashMap<&'static str, AtomicI64>,
    /// Notifications for the clients on `/:/websockets/notifications` (JSON text).
    events: tokio::sync::broadcast::Sender<String>,
    /// Where webhooks go, if anywhere.
    webhook: Mutex<Option<String>>,
    /// Stream selections and decisions, oldest first.
    stream_events: Mutex<Vec<StreamEvent>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not wedge the fake for everyone else.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl FakePlexState {
    /// Build the state (reads the media file sizes).
    pub fn new(media: MediaFiles, opts: FakePlexOptions) -> Result<Self, FakeError> {
        let size = |p: &PathBuf| {
            std::fs::metadata(p)
                .map(|m| m.len())
                .map_err(FakeError::io(format!("reading {}", p.display())))
        };
        let sizes = FileSizes {
            h264: size(&media.h264_mp4)?,
            hevc: size(&media.hevc_mkv)?,
            long: size(&media.long_mp4)?,
            multi: size(&media.multi_mp4)?,
        };
        let transcoder = Transcoder::new(opts.transcodes, &media.root);
        let mut library = Library::new(opts.large_section_items, sizes);
        if !opts.demo_items {
            library = library.without_demo_items();
        }
        let section_updated = [MOVIES_SECTION, SHOWS_SECTION, ARCHIVE_SECTION]
            .into_iter()
            .map(|s| (s, AtomicI64::new(1_700_000_000)))
            .collect();
        Ok(FakePlexState {
            inner: Arc::new(Inner {
                opts,
                media,
                library,
                requests: Mutex::new(Vec::new()),
                fault: Mutex::new(None),
                transcoder,
                body_bytes: Default::default(),
                section_updated,
                events: tokio::sync::broadcast::channel(64).0,
                webhook: Mutex::new(None),
                stream_events: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The expected token.
    pub fn token(&self) -> &str {
        &self.inner.opts.token
    }

    /// The account whose token the request carries (header or query `X-Plex-Token`): the
    /// owner's, or one of the users the server is shared with.
    fn account_of(&self, req: &Request) -> Option<i64> {
        let from_query = || {
            url::form_urlencoded::parse(req.uri().query()?.as_bytes())
                .find(|(k, _)| k == "X-Plex-Token")
                .map(|(_, v)| v.into_owned())
        };
        let presented = req
            .headers()
            .get("X-Plex-Token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(from_query)?;
        if presented == self.inner.opts.token {
            return Some(super::library::OWNER_ACCOUNT);
        }
        self.inner
            .opts
            .accounts
            .iter()
            .find(|a| a.token == presented)
            .map(|a| a.id)
    }

    /// An account's watch state of an item (resume point and view count), as Plex keeps it
    /// per user.
    pub fn progress_for(&self, account: i64, rating_key: &str) -> super::library::Progress {
        rating_key
            .parse()
            .map(|rk| self.inner.library.progress_for(account, rk))
            .unwrap_or_default()
    }

    /// See [`super::FakePlex::stream_events`].
    pub fn stream_events(&self) -> Vec<StreamEvent> {
        lock(&self.inner.stream_events).clone()
    }

    fn record(&self, event: StreamEvent) {
        lock(&self.inner.stream_events).push(event);
    }

    /// See [`super::FakePlex::request_count`].
    pub fn request_count(&self, path_prefix: &str) -> usize {
        lock(&self.inner.requests)
            .iter()
            .filter(|r| r.path().starts_with(path_prefix))
            .count()
    }

    /// See [`super::FakePlex::requests`].
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.requests).clone()
    }

    /// A new item at the end of the "Archive" section, announced as Plex announces a scanned
    /// file: timeline entries on the notification socket (created, then processed), then the
    /// section scan's activity ending. Returns its rating key.
    pub fn add_item(&self) -> String {
        let item = self.inner.library.add_archive_item();
        let now = self.bump_section(ARCHIVE_SECTION);
        for state in [0, 5] {
            self.notify(json!({
                "type": "timeline",
                "size": 1,
                "TimelineEntry": [{
                    "identifier": "com.plexapp.plugins.library",
                    "sectionID": ARCHIVE_SECTION,
                    "itemID": item.rating_key.to_string(),
                    "type": 1,
                    "title": item.title,
                    "state": state,
                    "updatedAt": now,
                }]
            }));
        }
        self.notify(json!({
            "type": "activity",
            "size": 1,
            "ActivityNotification": [{
                "event": "ended",
                "uuid": format!("00000000-0000-4000-8000-{:012}", item.rating_key),
                "Activity": {
                    "uuid": format!("00000000-0000-4000-8000-{:012}", item.rating_key),
                    "type": "library.update.section",
                    "cancellable": false,
                    "userID": 1,
                    "title": format!("Scanning {}", section_title(ARCHIVE_SECTION)),
                    "subtitle": "",
                    "progress": 100,
                    "Context": {"librarySectionID": ARCHIVE_SECTION},
                }
            }]
        }));
        self.post_webhook(json!({
            "event": "library.new",
            "user": true,
            "owner": true,
            "Account": {"id": 1, "title": "owner"},
            "Server": {"title": self.inner.opts.friendly_name, "uuid": self.inner.opts.machine_identifier},
            "Metadata": {
                "librarySectionType": "movie",
                "ratingKey": item.rating_key.to_string(),
                "key": format!("/library/metadata/{}", item.rating_key),
                "librarySectionTitle": section_title(ARCHIVE_SECTION),
                "librarySectionID": ARCHIVE_SECTION.parse::<i64>().unwrap_or(0),
                "type": "movie",
                "title": item.title,
                "addedAt": now,
            },
        }));
        item.rating_key.to_string()
    }

    /// See [`super::FakePlex::set_webhook`].
    pub fn set_webhook(&self, url: Option<String>) {
        *lock(&self.inner.webhook) = url;
    }

    /// Posts a webhook as Plex does: `multipart/form-data` with the event JSON as `payload`
    /// (and, for new items, a small JPEG as `thumb`), from a task of its own, no retries.
    fn post_webhook(&self, payload: Value) {
        let Some(url) = lock(&self.inner.webhook).clone() else {
            return;
        };
        tokio::spawn(async move {
            let thumb = reqwest::multipart::Part::bytes(vec![0xFF, 0xD8, 0xFF, 0xD9])
                .file_name("thumb.jpg")
                .mime_str("image/jpeg");
            let mut form = reqwest::multipart::Form::new().text("payload", payload.to_string());
            if let Ok(thumb) = thumb {
                form = form.part("thumb", thumb);
            }
            match reqwest::Client::new()
                .post(&url)
                .multipart(form)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => tracing::warn!(status = %r.status(), "the webhook was refused"),
                Err(err) => tracing::warn!(%err, "the webhook could not be posted"),
            }
        });
    }

    /// Marks a section as changed now; returns the new `updatedAt`.
    fn bump_section(&self, section: &str) -> i64 {
        match self.inner.section_updated.get(section) {
            Some(stamp) => stamp.fetch_add(1, Ordering::SeqCst) + 1,
            None => 0,
        }
    }

    /// Sends a notification to every connected client, as `{"NotificationContainer": …}`.
    fn notify(&self, container: Value) {
        let text = json!({ "NotificationContainer": container }).to_string();
        // No client listening is fine: Plex drops notifications nobody is connected for.
        let _ = self.inner.events.send(text);
    }

    /// How many clients are connected to the notification socket.
    pub fn notification_listeners(&self) -> usize {
        self.inner.events.receiver_count()
    }

    /// See [`super::FakePlex::set_fault`].
    pub fn set_fault(&self, fault: Option<Fault>) {
        *lock(&self.inner.fault) = fault;
    }

    /// Transcode sessions running now (started, and neither stopped nor ended by the
    /// keep-alive rules).
    pub fn active_sessions(&self) -> Vec<String> {
        self.inner.transcoder.active()
    }

    /// Every `/:/timeline` call so far, oldest first.
    pub fn timelines(&self) -> Vec<TimelineCall> {
        self.inner.transcoder.timelines()
    }

    /// Bytes of response bodies sent so far: what crossed the server's uplink.
    pub fn bytes_sent(&self) -> u64 {
        self.inner.body_bytes.load(Ordering::SeqCst)
    }

    /// How many ffmpeg runs the transcoder has made.
    pub fn transcoder_runs(&self) -> usize {
        self.inner.transcoder.ffmpeg_runs()
    }

    /// The section's `updatedAt` (bumped by refresh).
    pub fn section_updated_at(&self, section: &str) -> Option<i64> {
        self.inner
            .section_updated
            .get(section)
            .map(|a| a.load(Ordering::SeqCst))
    }
}

/// The fake's routes, for mounting in the demo server.
pub fn router(state: FakePlexState) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// What the client asked for, in one place.
struct Ctx {
    json: bool,
    query: Vec<(String, String)>,
    headers: HeaderMap,
}

impl Ctx {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A paging parameter, from the header or the query string.
    fn paging(&self, name: &str) -> Option<usize> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .or_else(|| self.param(name))
            .and_then(|v| v.trim().parse().ok())
    }

    fn container(&self, mc: Value) -> Response {
        if self.json {
            (
                [(header::CONTENT_TYPE, "application/json")],
                json!({ "MediaContainer": mc }).to_string(),
            )
                .into_response()
        } else {
            (
                [(header::CONTENT_TYPE, "text/xml;charset=utf-8")],
                xml::render_container(&mc),
            )
                .into_response()
        }
    }
}

fn status(code: StatusCode) -> Response {
    code.into_response()
}

async fn handle(State(state): State<FakePlexState>, req: Request) -> Response {
    let account = state.account_of(&req);
    let response = match account {
        Some(account) => {
            super::library::ACCOUNT
                .scope(account, respond(state.clone(), req))
                .await
        }
        None => respond(state.clone(), req).await,
    };
    let length = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = length {
        state
            .inner
            .body_bytes
            .fetch_add(length, std::sync::atomic::Ordering::SeqCst);
    }
    response
}

/// `/library/parts/{id}/indexes/sd`: the Part's BIF of seek-preview thumbnails; 404 for a
/// Part without one, as Plex answers.
async fn preview_index(state: &FakePlexState, part_id: &str, _req: Request) -> Response {
    let Some(path) = part_id
        .parse::<i64>()
        .ok()
        .and_then(|id| state.inner.library.part(id))
        .and_then(|(_, kind, _)| state.inner.media.previews_of(kind))
    else {
        return status(StatusCode::NOT_FOUND);
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
        Err(_) => status(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

async fn respond(state: FakePlexState, req: Request) -> Response {
    let path_and_query = req.uri().path_and_query().map_or_else(
        || req.uri().path().to_string(),
        |pq| pq.as_str().to_string(),
    );
    lock(&state.inner.requests).push(RecordedRequest {
        method: req.method().clone(),
        path_and_query,
        headers: req.headers().clone(),
    });

    let fault = lock(&state.inner.fault).clone();
    match fault {
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::Status(code)) => {
            return status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        }
        Some(Fault::StatusFor(prefix, code)) if req.uri().path().starts_with(prefix) => {
            return status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        }
        Some(Fault::MalformedJson) => {
            return (
                [(header::CONTENT_TYPE, "application/json")],
                "{\"MediaContainer\":{\"size\":1,\"Metadata\":[{\"ratingKey\":",
            )
                .into_response();
        }
        Some(Fault::StatusFor(..)) | None => {}
    }

    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let json = req
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("json"));
    let ctx = Ctx {
        json,
        query,
        headers: req.headers().clone(),
    };
    let path = req.uri().path().to_string();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();

    if segs.as_slice() == ["identity"] {
        return ctx.container(json!({
            "size": 0,
            "apiVersion": "1.1.1",
            "claimed": true,
            "machineIdentifier": state.inner.opts.machine_identifier,
            "version": state.inner.opts.version,
        }));
    }

    if state.account_of(&req).is_none() {
        return status(StatusCode::UNAUTHORIZED);
    }

    let method = req.method().clone();
    let is_get = method == Method::GET || method == Method::HEAD;
    if segs.as_slice() == [":", "websockets", "notifications"] && is_get {
        if !state.inner.opts.notifications {
            return status(StatusCode::NOT_FOUND);
        }
        return notifications(state.clone(), req).await;
    }
    let lib = &state.inner.library;
    match segs.as_slice() {
        ["library", "sections"] if is_get => sections(&state, &ctx),
        ["library", "sections", id, "all"] if is_get => section_all(&state, &ctx, id),
        ["library", "sections", id, "refresh"] if is_get || method == Method::POST => {
            match state.inner.section_updated.get(id) {
                Some(stamp) => {
                    stamp.fetch_add(1, Ordering::SeqCst);
                    status(StatusCode::OK)
                }
                None => status(StatusCode::NOT_FOUND),
            }
        }
        ["library", "sections", _, "onDeck"] | ["library", "onDeck"]
            if is_get && !state.inner.opts.on_deck =>
        {
            status(StatusCode::NOT_FOUND)
        }
        ["hubs", "continueWatching", ..] if is_get && !state.inner.opts.continue_hub => {
            status(StatusCode::NOT_FOUND)
        }
        ["library", "sections", id, "onDeck"] if is_get => {
            let items: Vec<Item> = lib
                .in_progress()
                .into_iter()
                .filter(|i| i.section == *id)
                .collect();
            listing(&state, &ctx, json!({"mixedParents": true}), &items)
        }
        ["library", "metadata", rk] if is_get => match item(lib, rk) {
            Some(it) => listing_full(&state, &ctx, json!({}), &[it]),
            None => status(StatusCode::NOT_FOUND),
        },
        ["library", "metadata", rk, "children"] if is_get => children(&state, &ctx, rk),
        ["library", "metadata", rk, "allLeaves"] if is_get => match item(lib, rk) {
            Some(it) if matches!(it.kind, Kind::Show | Kind::Season) => {
                let leaves = lib.all_leaves(it.rating_key);
                paged_listing(&state, &ctx, json!({"title2": it.title}), &leaves)
            }
            Some(_) => status(StatusCode::BAD_REQUEST),
            None => status(StatusCode::NOT_FOUND),
        },
        ["library", "metadata", rk, which @ ("thumb" | "art"), _stamp] if is_get => {
            image_for(&state, rk, which, req).await
        }
        ["library", "recentlyAdded"] if is_get => paged_listing(
            &state,
            &ctx,
            json!({"mixedParents": true}),
            &lib.recently_added(),
        ),
        ["library", "onDeck"] if is_get => listing(
            &state,
            &ctx,
            json!({"mixedParents": true}),
            &lib.in_progress(),
        ),
        ["hubs", "continueWatching", "items"] if is_get => listing(
            &state,
            &ctx,
            json!({"hubIdentifier": "home.continue"}),
            &lib.in_progress(),
        ),
        ["hubs", "continueWatching"] if is_get => {
            let items: Vec<Value> = lib
                .in_progress()
                .iter()
                .map(|i| lib.render(i, false))
                .collect();
            ctx.container(json!({
                "size": 1,
                "Hub": [{
                    "hubIdentifier": "home.continue",
                    "title": "Continue Watching",
                    "type": "mixed",
                    "size": items.len(),
                    "more": false,
                    "Metadata": items,
                }]
            }))
        }
        ["hubs", "search"] if is_get => search(&state, &ctx),
        ["photo", ":", "transcode"] if is_get => {
            let Some(url) = ctx.param("url").map(str::to_string) else {
                return status(StatusCode::BAD_REQUEST);
            };
            let path = url.split_once('?').map_or(url.as_str(), |(p, _)| p);
            let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            match segs.as_slice() {
                ["library", "metadata", rk, which @ ("thumb" | "art"), ..] => {
                    image_for(&state, rk, which, req).await
                }
                _ => status(StatusCode::NOT_FOUND),
            }
        }
        ["library", "parts", part_id] if method == Method::PUT => {
            select_streams(&state, &ctx, part_id)
        }
        ["library", "streams", id] if is_get => stream_file(&state, id, req).await,
        ["video", ":", "transcode", "universal", "subtitles"] if is_get => {
            extract_subtitles(&state, &ctx).await
        }
        ["library", "parts", part_id, "indexes", "sd"] if is_get => {
            preview_index(&state, part_id, req).await
        }
        ["library", "parts", part_id, _stamp, file] if is_get => {
            part_file(&state, part_id, file, req).await
        }
        ["video", ":", "transcode", "universal", "decision"] if is_get => decision(&state, &ctx),
        ["video", ":", "transcode", "universal", "start.m3u8"] if is_get => {
            start_transcode(&state, &ctx)
        }
        [
            "video",
            ":",
            "transcode",
            "universal",
            "session",
            session,
            "base",
            file,
        ] if is_get => hls_file(&state, session, file, req).await,
        ["video", ":", "transcode", "universal", "stop"] if is_get => {
            if let Some(session) = ctx.param("session") {
                state.inner.transcoder.stop(session);
            }
            status(StatusCode::OK)
        }
        ["video", ":", "transcode", "universal", "ping"] if is_get => match ctx.param("session") {
            Some(session) if state.inner.transcoder.ping(session) => status(StatusCode::OK),
            _ => status(StatusCode::NOT_FOUND),
        },
        [":", "timeline"] if is_get || method == Method::POST => timeline(&state, &ctx),
        [":", what @ ("scrobble" | "unscrobble" | "progress")]
            if is_get || method == Method::PUT =>
        {
            match ctx.param("key").and_then(|k| item(lib, k)) {
                Some(it) => {
                    let rk = it.rating_key;
                    // A show or season stands for all its episodes, as on a real server.
                    let targets: Vec<i64> = if matches!(it.kind, Kind::Show | Kind::Season) {
                        lib.all_leaves(rk).iter().map(|l| l.rating_key).collect()
                    } else {
                        vec![rk]
                    };
                    match *what {
                        "scrobble" => targets.iter().for_each(|k| lib.scrobble(*k)),
                        "unscrobble" => targets.iter().for_each(|k| lib.unscrobble(*k)),
                        _ => {
                            if let Some(t) = ctx.param("time").and_then(|v| v.parse().ok()) {
                                lib.record_position(rk, t, None);
                            }
                        }
                    }
                    status(StatusCode::OK)
                }
                None => status(StatusCode::NOT_FOUND),
            }
        }
        _ => status(StatusCode::NOT_FOUND),
    }
}

fn item(lib: &Library, rk: &str) -> Option<Item> {
    rk.parse::<i64>().ok().and_then(|k| lib.get(k))
}

fn path_rating_key(path: &str) -> Option<i64> {
    path.strip_prefix("/library/metadata/")?
        .split('/')
        .next()?
        .parse()
        .ok()
}

fn sections(state: &FakePlexState, ctx: &Ctx) -> Response {
    let dirs: Vec<Value> = [
        (
            MOVIES_SECTION,
            "movie",
            "tv.plex.agents.movie",
            "Plex Movie",
            "/data/movies",
        ),
        (
            SHOWS_SECTION,
            "show",
            "tv.plex.agents.series",
            "Plex TV Series",
            "/data/tv",
        ),
        (
            ARCHIVE_SECTION,
            "movie",
            "tv.plex.agents.movie",
            "Plex Movie",
            "/data/archive",
        ),
        (
            MUSIC_SECTION,
            "artist",
            "tv.plex.agents.music",
            "Plex Music",
            "/data/music",
        ),
        (
            PHOTOS_SECTION,
            "photo",
            "com.plexapp.agents.none",
            "Plex Photo Scanner",
            "/data/photos",
        ),
    ]
    .into_iter()
    .filter(|(key, ..)| {
        state.inner.opts.music_and_photos || ![MUSIC_SECTION, PHOTOS_SECTION].contains(key)
    })
    .map(|(key, ty, agent, scanner, location)| {
        let updated = state.section_updated_at(key).unwrap_or(0);
        json!({
            "allowSync": true,
            "art": format!("/:/resources/{ty}-fanart.jpg"),
            "composite": format!("/library/sections/{key}/composite/{updated}"),
            "filters": true,
            "refreshing": false,
            "thumb": format!("/:/resources/{ty}.png"),
            "key": key,
            "type": ty,
            "title": section_title(key),
            "agent": agent,
            "scanner": scanner,
            "language": "en-US",
            "uuid": format!("00000000-0000-4000-8000-00000000000{key}"),
            "updatedAt": updated,
            "createdAt": 1_690_000_000,
            "scannedAt": updated,
            "content": true,
            "directory": true,
            "hidden": 0,
            "Location": [{"id": key.parse::<i64>().unwrap_or(0), "path": location}],
        })
    })
    .collect();
    ctx.container(json!({
        "size": dirs.len(),
        "allowSync": false,
        "title1": "Plex Library",
        "Directory": dirs,
    }))
}

fn section_all(state: &FakePlexState, ctx: &Ctx, id: &str) -> Response {
    if [MUSIC_SECTION, PHOTOS_SECTION].contains(&id) {
        return if state.inner.opts.music_and_photos {
            unplayable_section(ctx, id)
        } else {
            status(StatusCode::NOT_FOUND)
        };
    }
    let lib = &state.inner.library;
    let Some(total) = lib.section_len(id) else {
        return status(StatusCode::NOT_FOUND);
    };
    let start = ctx.paging("X-Plex-Container-Start").unwrap_or(0);
    let size = ctx.paging("X-Plex-Container-Size").unwrap_or(usize::MAX);
    let items = lib.section_page(id, start, size);
    let view_group = if id == SHOWS_SECTION { "show" } else { "movie" };
    let mut mc = json!({
        "size": items.len(),
        "totalSize": total,
        "offset": start,
        "allowSync": true,
        "identifier": "com.plexapp.plugins.library",
        "librarySectionID": id.parse::<i64>().unwrap_or(0),
        "librarySectionTitle": section_title(id),
        "librarySectionUUID": format!("00000000-0000-4000-8000-00000000000{id}"),
        "mediaTagPrefix": "/system/bundle/media/flags/",
        "title1": section_title(id),
        "title2": "All",
        "viewGroup": view_group,
    });
    if !items.is_empty() {
        mc["Metadata"] = Value::Array(items.iter().map(|i| lib.render(i, false)).collect());
    }
    let mut resp = ctx.container(mc);
    let headers = resp.headers_mut();
    headers.insert("X-Plex-Container-Start", HeaderValue::from(start));
    headers.insert("X-Plex-Container-Total-Size", HeaderValue::from(total));
    resp
}

/// `GET /:/websockets/notifications`: the server's events as WebSocket text messages, until
/// the client goes away.
async fn notifications(state: FakePlexState, req: Request) -> Response {
    use axum::extract::FromRequest;
    use axum::extract::ws::{Message, WebSocketUpgrade};
    let upgrade = match WebSocketUpgrade::from_request(req, &state).await {
        Ok(u) => u,
        Err(rejection) => return rejection.into_response(),
    };
    let mut events = state.inner.events.subscribe();
    upgrade.on_upgrade(move |mut socket| async move {
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(text) => {
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
            }
        }
    })
}

/// The music library's one artist, or the photo library's one album: what a client that
/// plays only video gets when it opens them anyway.
fn unplayable_section(ctx: &Ctx, id: &str) -> Response {
    let (view_group, entry) = if id == MUSIC_SECTION {
        (
            "artist",
            json!({"ratingKey": "9001", "key": "/library/metadata/9001/children", "type": "artist",
                   "title": "The Demo Band", "summary": "", "index": 1, "addedAt": 1_690_000_000,
                   "thumb": "/library/metadata/9001/thumb/1690000000"}),
        )
    } else {
        (
            "photo",
            json!({"ratingKey": "9101", "key": "/library/metadata/9101/children", "type": "photo",
                   "title": "Summer 2024", "index": 1, "addedAt": 1_690_000_000}),
        )
    };
    ctx.container(json!({
        "size": 1,
        "totalSize": 1,
        "offset": 0,
        "allowSync": false,
        "librarySectionID": id.parse::<i64>().unwrap_or(0),
        "librarySectionTitle": section_title(id),
        "title1": section_title(id),
        "title2": "All",
        "viewGroup": view_group,
        "Directory": [entry],
    }))
}

fn listing(state: &FakePlexState, ctx: &Ctx, extra: Value, items: &[Item]) -> Response {
    render_listing(state, ctx, extra, items, false)
}

fn listing_full(state: &FakePlexState, ctx: &Ctx, extra: Value, items: &[Item]) -> Response {
    render_listing(state, ctx, extra, items, true)
}

fn render_listing(
    state: &FakePlexState,
    ctx: &Ctx,
    extra: Value,
    items: &[Item],
    full: bool,
) -> Response {
    let lib = &state.inner.library;
    let mut mc = json!({
        "size": items.len(),
        "allowSync": true,
        "identifier": "com.plexapp.plugins.library",
        "mediaTagPrefix": "/system/bundle/media/flags/",
    });
    if let (Value::Object(mc), Value::Object(extra)) = (&mut mc, extra) {
        mc.extend(extra);
    }
    // Markers come only when asked for, as on a real server (`includeMarkers=1`).
    let markers = full && ctx.param("includeMarkers") == Some("1");
    if !items.is_empty() {
        mc["Metadata"] = Value::Array(
            items
                .iter()
                .map(|i| {
                    let mut v = lib.render(i, full);
                    let list = lib.markers(i);
                    if markers && !list.is_empty() {
                        v["Marker"] = Value::Array(list);
                    }
                    v
                })
                .collect(),
        );
    }
    ctx.container(mc)
}

fn paged_listing(state: &FakePlexState, ctx: &Ctx, extra: Value, items: &[Item]) -> Response {
    let start = ctx.paging("X-Plex-Container-Start").unwrap_or(0);
    let size = ctx.paging("X-Plex-Container-Size").unwrap_or(usize::MAX);
    let page: Vec<Item> = items.iter().skip(start).take(size).cloned().collect();
    let mut extra = extra;
    extra["totalSize"] = json!(items.len());
    extra["offset"] = json!(start);
    let mut resp = listing(state, ctx, extra, &page);
    let headers = resp.headers_mut();
    headers.insert("X-Plex-Container-Start", HeaderValue::from(start));
    headers.insert(
        "X-Plex-Container-Total-Size",
        HeaderValue::from(items.len()),
    );
    resp
}

fn children(state: &FakePlexState, ctx: &Ctx, rk: &str) -> Response {
    let lib = &state.inner.library;
    let Some(parent) = item(lib, rk) else {
        return status(StatusCode::NOT_FOUND);
    };
    let kids = lib.children(parent.rating_key);
    match parent.kind {
        Kind::Show => {
            let leaves = lib.all_leaves(parent.rating_key).len();
            let mut mc = json!({
                "size": kids.len() + 1,
                "allowSync": true,
                "key": parent.rating_key.to_string(),
                "parentTitle": "",
                "title1": section_title(parent.section),
                "title2": parent.title,
                "viewGroup": "season",
                "summary": parent.summary,
                "Directory": [{
                    "leafCount": leaves,
                    "thumb": format!("/library/metadata/{}/thumb/{}", parent.rating_key, parent.stamp()),
                    "viewedLeafCount": 0,
                    "key": format!("/library/metadata/{}/allLeaves", parent.rating_key),
                    "title": "All episodes",
                }],
            });
            mc["Metadata"] = Value::Array(kids.iter().map(|i| lib.render(i, false)).collect());
            ctx.container(mc)
        }
        Kind::Season => {
            let show = parent.parent.and_then(|p| lib.get(p));
            listing(
                state,
                ctx,
                json!({
                    "key": parent.rating_key.to_string(),
                    "parentIndex": parent.index,
                    "parentTitle": show.as_ref().map(|s| s.title.clone()),
                    "grandparentTitle": show.as_ref().map(|s| s.title.clone()),
                    "title1": show.as_ref().map(|s| s.title.clone()),
                    "title2": parent.title,
                    "viewGroup": "episode",
                }),
                &kids,
            )
        }
        _ => listing(state, ctx, json!({}), &[]),
    }
}

fn search(state: &FakePlexState, ctx: &Ctx) -> Response {
    let Some(query) = ctx.param("query") else {
        return status(StatusCode::BAD_REQUEST);
    };
    let limit = ctx
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(3);
    let lib = &state.inner.library;
    let found = lib.search(query);
    let hub = |ty: &str, title: &str, array: &str| {
        let all: Vec<&Item> = found.iter().filter(|i| i.kind.as_str() == ty).collect();
        let items: Vec<Value> = all
            .iter()
            .take(limit)
            .map(|i| lib.render(i, false))
            .collect();
        let mut h = json!({
            "title": title,
            "type": ty,
            "hubIdentifier": ty,
            "context": format!("hub.{ty}"),
            "size": items.len(),
            "more": all.len() > items.len(),
            "style": "shelf",
        });
        if !items.is_empty() {
            h[array] = Value::Array(items);
        }
        h
    };
    let hubs = vec![
        hub("movie", "Movies", "Metadata"),
        hub("show", "Shows", "Directory"),
        hub("episode", "Episodes", "Metadata"),
    ];
    ctx.container(json!({"size": hubs.len(), "Hub": hubs}))
}

/// The item a transcoder request's `path` names.
fn item_of_path(state: &FakePlexState, ctx: &Ctx) -> Option<Item> {
    ctx.param("path")
        .and_then(path_rating_key)
        .and_then(|rk| state.inner.library.get(rk))
}

fn decision(state: &FakePlexState, ctx: &Ctx) -> Response {
    let lib = &state.inner.library;
    let Some(it) = item_of_path(state, ctx) else {
        return status(StatusCode::NOT_FOUND);
    };
    if it.media.is_empty() {
        return status(StatusCode::BAD_REQUEST);
    }
    let flag = |name: &str, default: bool| {
        ctx.param(name)
            .map_or(default, |v| v == "1" || v.eq_ignore_ascii_case("true"))
    };
    let direct_play_requested = flag("directPlay", true);
    let media_index = ctx
        .param("mediaIndex")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|i| *i >= 0)
        .map(|i| i as usize);
    let index = match media_index {
        Some(i) if i < it.media.len() => i,
        Some(_) => return status(StatusCode::BAD_REQUEST),
        // The server chooses: prefer a version the client can play as-is.
        None => it
            .media
            .iter()
            .position(|m| *m != MediaKind::Hevc && direct_play_requested)
            .unwrap_or(0),
    };
    let kind = it.media[index];
    let part_id = it.part_id(index);
    let streams = super::streams::streams_of(kind, part_id);
    let selection = lib.selection(part_id);
    let burn = ctx.param("subtitles") == Some("burn");
    let burned = selection
        .subtitle_of(&streams)
        .filter(|_| burn)
        .map(|s| s.id);
    state.record(StreamEvent::Decided {
        what: "decision",
        part: part_id,
        audio: selection.audio_of(&streams).map(|s| s.id),
        subtitle: burned,
        subtitles: ctx.param("subtitles").map(str::to_string),
        session: ctx.param("session").map(str::to_string),
    });
    // Burning subtitles in means drawing on the picture: no direct play.
    let direct = direct_play_requested && kind != MediaKind::Hevc && burned.is_none();
    let mut media = lib.render_media(&it, index, kind, true);
    media["selected"] = json!(true);
    if let Some(parts) = media["Part"].as_array_mut() {
        for part in parts {
            part["decision"] = json!(if direct { "directplay" } else { "transcode" });
            part["selected"] = json!(true);
            if let Some(streams) = part["Stream"].as_array_mut() {
                for s in streams {
                    s["decision"] = json!(if direct { "copy" } else { "transcode" });
                    s["location"] = json!(if direct { "direct" } else { "segments-av" });
                    if burned.is_some() && s["id"].as_i64() == burned {
                        s["decision"] = json!("burn");
                        s["burn"] = json!("1");
                    }
                }
            }
        }
    }
    let mut meta = lib.render(&it, false);
    meta["Media"] = json!([media]);
    let (dp_code, dp_text) = if direct {
        (1000, "Direct play OK.".to_string())
    } else if !direct_play_requested {
        (3000, "Direct play disabled by the client.".to_string())
    } else {
        (
            3000,
            "App cannot direct play this item. No direct play video profile exists for protocol http, with container mkv and codec hevc.".to_string(),
        )
    };
    let (general, general_text, tc, tc_text) = if direct {
        (1000, "Direct play OK.", 1000, "Direct play OK.")
    } else {
        (
            1001,
            "Direct play not available; Conversion OK.",
            1001,
            "Direct play not available; Conversion OK.",
        )
    };
    ctx.container(json!({
        "size": 1,
        "allowSync": true,
        "generalDecisionCode": general,
        "generalDecisionText": general_text,
        "directPlayDecisionCode": dp_code,
        "directPlayDecisionText": dp_text,
        "transcodeDecisionCode": tc,
        "transcodeDecisionText": tc_text,
        "librarySectionID": it.section,
        "Metadata": [meta],
    }))
}

async fn serve_file(path: PathBuf, content_type: &'static str, req: Request) -> Response {
    match ServeFile::new(path).oneshot(req).await {
        Ok(resp) => {
            let mut resp = resp.map(Body::new);
            if resp.status().is_success() {
                resp.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            }
            resp
        }
        Err(err) => {
            tracing::warn!(%err, "fake Plex could not serve a file");
            status(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

async fn image_for(state: &FakePlexState, rk: &str, which: &str, req: Request) -> Response {
    let Some(it) = item(&state.inner.library, rk).filter(|i| i.has_thumb) else {
        return status(StatusCode::NOT_FOUND);
    };
    let media = &state.inner.media;
    let path = if which == "art" {
        media.backdrop.clone()
    } else {
        match media.posters.get(it.poster % media.posters.len().max(1)) {
            Some(p) => p.clone(),
            None => return status(StatusCode::NOT_FOUND),
        }
    };
    serve_file(path, "image/jpeg", req).await
}

async fn part_file(state: &FakePlexState, part_id: &str, file: &str, req: Request) -> Response {
    let Ok(part_id) = part_id.parse::<i64>() else {
        return status(StatusCode::NOT_FOUND);
    };
    let rk = part_id / 10;
    let index = (part_id % 10) - 1;
    let Some(it) = state.inner.library.get(rk) else {
        return status(StatusCode::NOT_FOUND);
    };
    let Some(kind) = usize::try_from(index)
        .ok()
        .and_then(|i| it.media.get(i).copied())
    else {
        return status(StatusCode::NOT_FOUND);
    };
    let (path, ext, content_type) = state.inner.media.file_of(kind);
    if file != format!("file.{ext}") && file != "file" {
        return status(StatusCode::NOT_FOUND);
    }
    serve_file(path, content_type, req).await
}

async fn hls_file(state: &FakePlexState, session: &str, file: &str, req: Request) -> Response {
    let transcoder = &state.inner.transcoder;
    if file == "index.m3u8" {
        return match transcoder.media_playlist(session) {
            Some(body) => (
                [(header::CONTENT_TYPE, "application/vnd.apple.mpegurl")],
                body,
            )
                .into_response(),
            None => status(StatusCode::NOT_FOUND),
        };
    }
    let Some(n) = file
        .strip_suffix(".ts")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u32>().ok())
    else {
        return status(StatusCode::NOT_FOUND);
    };
    match transcoder.segment(session, n).await {
        SegmentAnswer::Ready(path) => serve_file(path, "video/mp2t", req).await,
        SegmentAnswer::Missing => status(StatusCode::NOT_FOUND),
    }
}

/// A header, else the query parameter of the same name (Plex takes either).
fn header_or_param(ctx: &Ctx, name: &str) -> Option<String> {
    ctx.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| ctx.param(name).map(str::to_string))
}

/// `start.m3u8`: a real transcode at `offset`, its master playlist pointing at the session.
fn start_transcode(state: &FakePlexState, ctx: &Ctx) -> Response {
    let Some(session) = ctx.param("session").filter(|s| !s.is_empty()) else {
        return status(StatusCode::BAD_REQUEST);
    };
    let Some(client) = header_or_param(ctx, "X-Plex-Client-Identifier") else {
        return status(StatusCode::BAD_REQUEST);
    };
    if item_of_path(state, ctx).is_none() {
        return status(StatusCode::NOT_FOUND);
    }
    let Some((it, _, kind, part_id, streams)) = part_of_request(state, ctx) else {
        return status(StatusCode::BAD_REQUEST);
    };
    let (source, _, _) = state.inner.media.file_of(kind);
    // What plays is the account's choice on the Part, as the last PUT left it.
    let selection = state.inner.library.selection(part_id);
    let audio = selection.audio_of(&streams);
    let burn_requested = ctx.param("subtitles") == Some("burn");
    let burned = selection.subtitle_of(&streams).filter(|_| burn_requested);
    state.record(StreamEvent::Decided {
        what: "start",
        part: part_id,
        audio: audio.map(|s| s.id),
        subtitle: burned.map(|s| s.id),
        subtitles: ctx.param("subtitles").map(str::to_string),
        session: Some(session.to_string()),
    });
    let burn = burned.and_then(|s| s.subtitle).map(|src| match src {
        SubSource::Embedded(n) => transcoder::Burn {
            file: source.clone(),
            stream: n,
        },
        SubSource::Sidecar(which) | SubSource::Image(which) => transcoder::Burn {
            file: state.inner.media.sidecar(which),
            stream: 0,
        },
    });
    let offset_secs = ctx
        .param("offset")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|o| o.is_finite())
        .unwrap_or(0.0);
    let max_kbps = ctx
        .param("maxVideoBitrate")
        .and_then(|v| v.parse::<u32>().ok());
    let request = StartRequest {
        session: session.to_string(),
        client,
        rating_key: it.rating_key,
        source,
        duration_secs: kind.millis() as f64 / 1000.0,
        offset_secs,
        max_kbps,
        audio_index: audio.and_then(|a| a.audio_index).unwrap_or(0),
        burn,
    };
    match state.inner.transcoder.start(request) {
        Ok(()) => {
            let bandwidth = max_kbps.map_or(900_000, |k| u64::from(k) * 1000 + 96_000);
            let body = format!(
                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH={bandwidth},RESOLUTION=640x360,CODECS=\"avc1.4d401e,mp4a.40.2\"\nsession/{session}/base/index.m3u8\n"
            );
            (
                [(header::CONTENT_TYPE, "application/vnd.apple.mpegurl")],
                body,
            )
                .into_response()
        }
        Err(transcoder::StartRefusal::StreamLimit) => status(StatusCode::BAD_REQUEST),
    }
}

/// `/:/timeline`: recorded; keeps its transcode alive; tells a player whose transcode the
/// server ended why, as `terminationCode`/`terminationText`.
fn timeline(state: &FakePlexState, ctx: &Ctx) -> Response {
    if ctx.param("ratingKey").is_none() && ctx.param("key").is_none() {
        return status(StatusCode::BAD_REQUEST);
    }
    let number = |name: &str| ctx.param(name).and_then(|v| v.parse::<i64>().ok());
    let call = TimelineCall {
        session: header_or_param(ctx, "X-Plex-Session-Identifier"),
        client: header_or_param(ctx, "X-Plex-Client-Identifier"),
        rating_key: ctx.param("ratingKey").map(str::to_string),
        state: ctx.param("state").map(str::to_string),
        time_ms: number("time"),
        duration_ms: number("duration"),
        at: std::time::Instant::now(),
    };
    // The account's resume point follows what its player reports, as on a real server.
    if let (Some(rk), Some(t), Some("playing" | "paused" | "stopped")) = (
        call.rating_key
            .as_deref()
            .and_then(|k| k.parse::<i64>().ok()),
        call.time_ms,
        call.state.as_deref(),
    ) {
        state.inner.library.record_position(rk, t, call.duration_ms);
    }
    match state.inner.transcoder.timeline(call) {
        Some(ended) => ctx.container(json!({
            "size": 0,
            "terminationCode": ended.code,
            "terminationText": ended.text,
        })),
        None => ctx.container(json!({"size": 0})),
    }
}

/// The item, Media index, Part id and streams a transcoder request names (`path`,
/// `mediaIndex`; the first version when the index is absent or -1).
fn part_of_request(
    state: &FakePlexState,
    ctx: &Ctx,
) -> Option<(Item, usize, MediaKind, i64, Vec<FakeStream>)> {
    let it = item_of_path(state, ctx)?;
    let index = ctx
        .param("mediaIndex")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|i| *i >= 0)
        .map_or(0, |i| i as usize);
    let kind = *it.media.get(index)?;
    let part_id = it.part_id(index);
    let streams = super::streams::streams_of(kind, part_id);
    Some((it, index, kind, part_id, streams))
}

/// `PUT /library/parts/{id}?audioStreamID=…&subtitleStreamID=…&allParts=1`: the account's
/// choice, kept on the Part for the next decision. `subtitleStreamID=0` turns subtitles off;
/// a parameter left out keeps its old value; a stream of another Part is refused.
fn select_streams(state: &FakePlexState, ctx: &Ctx, part_id: &str) -> Response {
    let Some((part_id, streams)) = part_id
        .parse::<i64>()
        .ok()
        .and_then(|id| Some((id, state.inner.library.part(id)?.2)))
    else {
        return status(StatusCode::NOT_FOUND);
    };
    let number = |name: &str| -> Result<Option<i64>, ()> {
        match ctx.param(name) {
            None => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| ()),
        }
    };
    let (Ok(audio), Ok(subtitle)) = (number("audioStreamID"), number("subtitleStreamID")) else {
        return status(StatusCode::BAD_REQUEST);
    };
    let of_type = |id: i64, t: i64| streams.iter().any(|s| s.id == id && s.stream_type == t);
    if audio.is_some_and(|a| !of_type(a, 2)) || subtitle.is_some_and(|s| s != 0 && !of_type(s, 3)) {
        return status(StatusCode::BAD_REQUEST);
    }
    let library = &state.inner.library;
    let mut selection = library.selection(part_id);
    if let Some(a) = audio {
        selection.audio = Some(a);
    }
    if let Some(s) = subtitle {
        selection.subtitle = (s != 0).then_some(s);
    }
    library.select(part_id, selection);
    state.record(StreamEvent::Selected {
        part: part_id,
        selection,
    });
    status(StatusCode::OK)
}

/// `/library/streams/{id}`: a sidecar subtitle's file, as Plex serves it; `501` for a stream
/// inside the media file (Plex serves only sidecars here).
async fn stream_file(state: &FakePlexState, id: &str, req: Request) -> Response {
    // Plex takes `/library/streams/{id}` and `/library/streams/{id}.{ext}` alike.
    let id = id.split_once('.').map_or(id, |(id, _)| id);
    let Ok(id) = id.parse::<i64>() else {
        return status(StatusCode::NOT_FOUND);
    };
    let Some((_, _, streams)) = state.inner.library.part(id / 10) else {
        return status(StatusCode::NOT_FOUND);
    };
    match streams.iter().find(|s| s.id == id).and_then(|s| s.subtitle) {
        Some(SubSource::Sidecar(which)) => {
            let path = state.inner.media.sidecar(which);
            let content_type = if path.extension().is_some_and(|e| e == "ass") {
                "text/x-ssa"
            } else {
                "application/x-subrip"
            };
            serve_file(path, content_type, req).await
        }
        Some(_) => status(StatusCode::NOT_IMPLEMENTED),
        None => status(StatusCode::NOT_FOUND),
    }
}

/// `/video/:/transcode/universal/subtitles?…&subtitles=sidecar`: the Part's *selected*
/// subtitle stream as an ASS file, extracted from the media file (how Plex hands a client an
/// embedded text subtitle). An image stream, or no selection, is refused.
async fn extract_subtitles(state: &FakePlexState, ctx: &Ctx) -> Response {
    let Some((_, _, kind, part_id, streams)) = part_of_request(state, ctx) else {
        return status(StatusCode::NOT_FOUND);
    };
    let selection = state.inner.library.selection(part_id);
    let chosen = selection.subtitle_of(&streams).cloned();
    state.record(StreamEvent::Decided {
        what: "subtitles",
        part: part_id,
        audio: selection.audio_of(&streams).map(|s| s.id),
        subtitle: chosen.as_ref().map(|s| s.id),
        subtitles: ctx.param("subtitles").map(str::to_string),
        session: ctx.param("session").map(str::to_string),
    });
    let (source, map) = match chosen.and_then(|s| s.subtitle) {
        Some(SubSource::Embedded(n)) => (state.inner.media.file_of(kind).0, format!("0:s:{n}")),
        Some(SubSource::Sidecar(which)) => (state.inner.media.sidecar(which), "0:s:0".into()),
        Some(SubSource::Image(_)) | None => return status(StatusCode::BAD_REQUEST),
    };
    let output = tokio::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-i"])
        .arg(&source)
        .args(["-map", &map, "-c:s", "ass", "-f", "ass", "-"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await;
    match output {
        Ok(out) if out.status.success() => (
            [(header::CONTENT_TYPE, "text/x-ssa; charset=utf-8")],
            out.stdout,
        )
            .into_response(),
        Ok(out) => {
            tracing::warn!(stderr = %String::from_utf8_lossy(&out.stderr), "fake Plex: subtitle extraction failed");
            status(StatusCode::INTERNAL_SERVER_ERROR)
        }
        Err(err) => {
            tracing::warn!(%err, "fake Plex: ffmpeg did not start for a subtitle");
            status(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}
