//! A fake Plex Media Server: the same endpoints, JSON/XML shapes and quirks as the real one,
//! serving real media generated with ffmpeg.
//!
//! Tests start it on an ephemeral port with [`FakePlex::start`]; the demo mounts [`router`].

mod library;
mod media;
mod server;
mod streams;
mod transcoder;
mod xml;

use std::net::SocketAddr;

pub use library::{
    ARCHIVE_BASE_KEY, ARCHIVE_SECTION, MOVIES_SECTION, MUSIC_SECTION, OWNER_ACCOUNT,
    PHOTOS_SECTION, Progress, SHOWS_SECTION,
};
pub use media::{
    CLIP_MILLIS, LONG_MILLIS, MediaFiles, PREVIEW_INTERVAL_MS, cues, default_media_dir,
    ensure_media,
};
pub use server::{FakePlexState, Fault, RecordedRequest, StreamEvent, router};
pub use streams::Selection;
pub use transcoder::{SEGMENT_SECONDS, Termination, TimelineCall, TranscodeRules};

use crate::FakeError;

/// Well-known ratingKeys of the demo library, so tests don't hard-code magic numbers.
pub mod keys {
    /// Movie with two Media versions: H.264/AAC MP4 (index 0) and HEVC/AC3 MKV (index 1).
    pub const TWO_VERSIONS_MOVIE: &str = "101";
    /// Movie whose only Media is HEVC: must be transcoded for browsers.
    pub const HEVC_ONLY_MOVIE: &str = "102";
    /// Movie rendered with every number as a string and no summary.
    pub const STRINGLY_MOVIE: &str = "103";
    /// Movie without a poster.
    pub const NO_THUMB_MOVIE: &str = "104";
    /// The ten-minute movie (H.264, direct-playable), for seeking in transcodes.
    pub const LONG_MOVIE: &str = "106";
    /// The movie with two audio languages (English default, French), an embedded English text
    /// subtitle, and sidecar French SRT, styled Spanish ASS and forced English SRT subtitles.
    pub const MULTI_TRACK_MOVIE: &str = "107";
    /// The movie whose only subtitle is an image (PGS) stream: it must be burned in.
    pub const IMAGE_SUBS_MOVIE: &str = "108";
    /// The TV show.
    pub const SHOW: &str = "201";
    /// Its "Specials" season (index 0).
    pub const SPECIALS: &str = "210";
    /// Season 1.
    pub const SEASON_1: &str = "211";
    /// Season 2.
    pub const SEASON_2: &str = "212";
}

/// Knobs for the fake server.
#[derive(Debug, Clone)]
pub struct FakePlexOptions {
    /// The token clients must present (header or query `X-Plex-Token`).
    pub token: String,
    /// Items in the large "Archive" section (key "3").
    pub large_section_items: usize,
    /// `machineIdentifier` reported by `/identity`.
    pub machine_identifier: String,
    /// Server version reported by `/identity`.
    pub version: String,
    /// Friendly server name.
    pub friendly_name: String,
    /// Whether the hand-made demo movies and show are there (off, with no large section, gives
    /// an empty library).
    pub demo_items: bool,
    /// Whether `/library/onDeck` answers. Newer servers, and Plex's published API description,
    /// drop it (404) for the continue-watching hub; older servers have only it.
    pub on_deck: bool,
    /// Whether `/hubs/continueWatching` answers (off: an older server, 404).
    pub continue_hub: bool,
    /// Whether the server also has a music ("Music", key 4, type `artist`) and a photo
    /// ("Photos", key 5) library, which Marquee lists but cannot play.
    pub music_and_photos: bool,
    /// Whether `/:/websockets/notifications` answers (off: a server behind a proxy that does
    /// not pass WebSockets; 404).
    pub notifications: bool,
    /// How the transcoder keeps sessions alive and how many one client may run.
    pub transcodes: TranscodeRules,
    /// Plex users the server is shared with, beside its owner (whose token is `token`): each
    /// has its own token for this server and its own watch state.
    pub accounts: Vec<FakeAccount>,
}

/// A Plex user with access to the fake server (as plex.tv's resources list it for them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeAccount {
    /// The user's plex.tv account id.
    pub id: i64,
    /// Their token for this server (a resource's `accessToken`).
    pub token: String,
}

impl Default for FakePlexOptions {
    fn default() -> Self {
        FakePlexOptions {
            token: "fake-plex-token".to_string(),
            large_section_items: 5000,
            machine_identifier: "marquee-fake-plex-0001".to_string(),
            version: "1.41.3.9314-a0bfb8370".to_string(),
            friendly_name: "Marquee Demo Library".to_string(),
            demo_items: true,
            on_deck: false,
            continue_hub: true,
            music_and_photos: false,
            notifications: true,
            transcodes: TranscodeRules::default(),
            accounts: Vec::new(),
        }
    }
}

/// A running fake server. Dropping it leaves the server running until the runtime ends;
/// call [`FakePlex::shutdown`] to stop it deterministically.
pub struct FakePlex {
    state: FakePlexState,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakePlex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePlex")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakePlex {
    /// Bind 127.0.0.1 on an ephemeral port and serve.
    pub async fn start(media: MediaFiles, opts: FakePlexOptions) -> Result<FakePlex, FakeError> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), media, opts).await
    }

    /// Bind `addr` and serve.
    pub async fn start_on(
        addr: SocketAddr,
        media: MediaFiles,
        opts: FakePlexOptions,
    ) -> Result<FakePlex, FakeError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(FakeError::io(format!("binding fake Plex to {addr}")))?;
        let addr = listener
            .local_addr()
            .map_err(FakeError::io("reading fake Plex address"))?;
        let state = FakePlexState::new(media, opts)?;
        let app = router(state.clone());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                })
                .await;
            if let Err(err) = served {
                tracing::warn!(%err, "fake Plex server stopped with an error");
            }
        });
        tracing::debug!(%addr, "fake Plex listening");
        Ok(FakePlex {
            state,
            addr,
            stop: Some(stop_tx),
            task,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token the server expects.
    pub fn token(&self) -> &str {
        self.state.token()
    }

    /// Shared state (request log, faults, sessions).
    pub fn state(&self) -> &FakePlexState {
        &self.state
    }

    /// How many requests had a path starting with `path_prefix` (query ignored).
    pub fn request_count(&self, path_prefix: &str) -> usize {
        self.state.request_count(path_prefix)
    }

    /// Adds an item to the "Archive" section and announces it on the notification socket, as
    /// a real server does once it has scanned a new file. Returns its rating key.
    pub fn add_item(&self) -> String {
        self.state.add_item()
    }

    /// Where the server posts its webhooks (Plex → Settings → Webhooks), or none.
    pub fn set_webhook(&self, url: Option<String>) {
        self.state.set_webhook(url);
    }

    /// How many clients listen on `/:/websockets/notifications`.
    pub fn notification_listeners(&self) -> usize {
        self.state.notification_listeners()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    /// Make subsequent requests misbehave (or behave again with `None`).
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.state.set_fault(fault);
    }

    /// Transcode sessions running now: started, and neither stopped by their player nor
    /// ended by the keep-alive rules.
    pub fn active_transcode_sessions(&self) -> Vec<String> {
        self.state.active_sessions()
    }

    /// Every `/:/timeline` call so far, oldest first.
    pub fn timelines(&self) -> Vec<TimelineCall> {
        self.state.timelines()
    }

    /// Bytes of response bodies sent so far (media, segments, JSON): what crossed the
    /// server's uplink.
    pub fn bytes_sent(&self) -> u64 {
        self.state.bytes_sent()
    }

    /// How many ffmpeg runs the transcoder has made (each covers a few segments).
    pub fn transcoder_runs(&self) -> usize {
        self.state.transcoder_runs()
    }

    /// Stream selections and the transcoder's decisions, in the order they happened: what a
    /// test reads to tell whether two viewers on one account got each other's choice.
    pub fn stream_events(&self) -> Vec<StreamEvent> {
        self.state.stream_events()
    }

    /// Stop serving and wait (briefly) for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = &mut self.task;
        if tokio::time::timeout(std::time::Duration::from_secs(2), &mut *task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// Convenience for tests: generate media into [`default_media_dir`] and start a fake with
/// default options.
pub async fn start_default() -> Result<FakePlex, FakeError> {
    let media = ensure_media(&default_media_dir()).await?;
    FakePlex::start(media, FakePlexOptions::default()).await
}
