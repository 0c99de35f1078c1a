//! The fake's universal transcoder, with the rules a real Plex server applies to it.
//!
//! - **Real transcodes.** Each session runs ffmpeg on the item's file, made on demand in
//!   chunks of [`CHUNK_SEGMENTS`] segments from the requested `offset`, a few segments ahead of
//!   what its player has asked for. The media playlist spans the whole item (segment `n` is
//!   item time `[4n, 4n + 4)` s, timestamps in item time), so a player can seek anywhere, but
//!   only what this session has transcoded exists: a segment before its start answers 404, and
//!   one far ahead waits while the transcoder works its way there, then 404s. A client that
//!   wants to jump must start the transcode again at the new offset, as Plex's own players do.
//! - **Keep-alive.** A session that hears no `/:/timeline` naming it (by
//!   `X-Plex-Session-Identifier`) and no `…/ping` for [`TranscodeRules::throttle_after`] stops
//!   transcoding ahead (throttled); after [`TranscodeRules::stop_after`] it is stopped: its
//!   files answer 404, and the next timeline naming it carries `terminationCode` and
//!   `terminationText`. Fetching segments does not count: Plex keeps a transcode for a
//!   *reporting* player.
//! - **Stream limit.** At most [`TranscodeRules::streams_per_client`] sessions at once for one
//!   `X-Plex-Client-Identifier`; one more start answers 400. A player that invents a client
//!   identifier per session looks like a new device each time and runs into this on a real
//!   server's per-user remote stream limit.
//! - Every timeline call is recorded ([`TimelineCall`]) for tests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Length of one HLS segment, in seconds.
pub const SEGMENT_SECONDS: u32 = 4;
/// Segments one ffmpeg run makes.
pub const CHUNK_SEGMENTS: u32 = 4;
/// How far ahead of the furthest segment asked for the transcoder works, in segments.
const AHEAD: u32 = 6;
/// How long a request for a segment not made yet waits for it.
const SEGMENT_WAIT: Duration = Duration::from_secs(15);

/// Plex's rules for transcodes, configurable so tests need not wait minutes.
#[derive(Debug, Clone, Copy)]
pub struct TranscodeRules {
    /// Without a timeline or ping for this long, the transcoder stops working ahead.
    pub throttle_after: Duration,
    /// Without a timeline or ping for this long, the session is stopped.
    pub stop_after: Duration,
    /// Sessions at once for one client identifier (`None`: no limit).
    pub streams_per_client: Option<usize>,
}

impl Default for TranscodeRules {
    fn default() -> Self {
        TranscodeRules {
            throttle_after: Duration::from_secs(30),
            stop_after: Duration::from_secs(90),
            streams_per_client: Some(4),
        }
    }
}

/// The code and sentence a stopped session's next timeline answer carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    /// `terminationCode`.
    pub code: u32,
    /// `terminationText`, for people.
    pub text: String,
}

/// The termination of a session that heard from no player.
fn abandoned() -> Termination {
    Termination {
        code: 2006,
        text: "The server stopped this transcode because the player stopped reporting playback."
            .into(),
    }
}

/// One `/:/timeline` call as the fake received it.
#[derive(Debug, Clone)]
pub struct TimelineCall {
    /// `X-Plex-Session-Identifier` (header or query).
    pub session: Option<String>,
    /// `X-Plex-Client-Identifier` (header or query).
    pub client: Option<String>,
    /// `ratingKey`.
    pub rating_key: Option<String>,
    /// `state`: playing, paused, buffering or stopped.
    pub state: Option<String>,
    /// `time`, in milliseconds.
    pub time_ms: Option<i64>,
    /// `duration`, in milliseconds.
    pub duration_ms: Option<i64>,
    /// When it arrived.
    pub at: Instant,
}

/// What a start asks for.
#[derive(Debug, Clone)]
pub struct StartRequest {
    pub session: String,
    pub client: String,
    pub rating_key: i64,
    pub source: PathBuf,
    pub duration_secs: f64,
    pub offset_secs: f64,
    /// `maxVideoBitrate`, in kbps.
    pub max_kbps: Option<u32>,
    /// Which audio stream of the file (ffmpeg's `0:a:n`): the Part's selection.
    pub audio_index: usize,
    /// Subtitles to draw onto the picture, when the request said `subtitles=burn`.
    pub burn: Option<Burn>,
}

/// Subtitles burned into a transcode: stream `stream` of `file` (a media file, or a
/// subtitle file with one stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Burn {
    pub file: PathBuf,
    pub stream: usize,
}

/// Why a start was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartRefusal {
    /// The client identifier already runs its limit of sessions.
    StreamLimit,
}

/// A segment request's outcome.
#[derive(Debug)]
pub enum SegmentAnswer {
    Ready(PathBuf),
    /// Unknown or stopped session, a segment outside what it transcodes, or too slow.
    Missing,
}

struct Session {
    id: String,
    client: String,
    rating_key: i64,
    source: PathBuf,
    total_segments: u32,
    first_segment: u32,
    max_kbps: Option<u32>,
    audio_index: usize,
    burn: Option<Burn>,
    dir: PathBuf,
    /// Set when the session ends; the producer kills its ffmpeg and leaves.
    ended: std::sync::atomic::AtomicBool,
    state: Mutex<Progress>,
}

struct Progress {
    /// The highest segment a player asked for.
    wanted: u32,
    /// The last timeline or ping (or the start).
    alive: Instant,
}

impl Session {
    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn segment_path(&self, n: u32) -> PathBuf {
        self.dir.join(format!("{n:05}.ts"))
    }

    fn is_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// The lowest segment from the start on that does not exist yet.
    fn frontier(&self) -> u32 {
        let mut n = self.first_segment;
        while n < self.total_segments && self.segment_path(n).is_file() {
            n += 1;
        }
        n
    }
}

#[derive(Default)]
struct Book {
    sessions: HashMap<String, Arc<Session>>,
    ended: HashMap<String, Termination>,
    timelines: Vec<TimelineCall>,
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Transcoder {
    rules: TranscodeRules,
    work: PathBuf,
    book: Arc<Mutex<Book>>,
    runs: Arc<AtomicUsize>,
    serial: Arc<AtomicU64>,
}

impl std::fmt::Debug for Transcoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcoder")
            .field("rules", &self.rules)
            .field("work", &self.work)
            .finish_non_exhaustive()
    }
}

impl Transcoder {
    /// A transcoder writing its segments under a fresh directory in `parent`.
    pub fn new(rules: TranscodeRules, parent: &Path) -> Self {
        static INSTANCE: AtomicU64 = AtomicU64::new(0);
        let work = parent.join(format!(
            "transcodes-{}-{}",
            std::process::id(),
            INSTANCE.fetch_add(1, Ordering::SeqCst)
        ));
        Transcoder {
            rules,
            work,
            book: Arc::default(),
            runs: Arc::default(),
            serial: Arc::default(),
        }
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts (or restarts, for the same session id) a transcode. Must run inside a Tokio
    /// runtime: the session's producer is a task.
    pub fn start(&self, req: StartRequest) -> Result<(), StartRefusal> {
        let mut book = self.book();
        if let Some(old) = book.sessions.remove(&req.session) {
            old.ended.store(true, Ordering::SeqCst);
        }
        book.ended.remove(&req.session);
        if let Some(limit) = self.rules.streams_per_client {
            let mine = book
                .sessions
                .values()
                .filter(|s| s.client == req.client)
                .count();
            if mine >= limit {
                return Err(StartRefusal::StreamLimit);
            }
        }
        let total_segments = (req.duration_secs / f64::from(SEGMENT_SECONDS)).ceil() as u32;
        let first_segment = ((req.offset_secs.max(0.0) / f64::from(SEGMENT_SECONDS)) as u32)
            .min(total_segments.saturating_sub(1));
        let serial = self.serial.fetch_add(1, Ordering::SeqCst);
        let session = Arc::new(Session {
            id: req.session.clone(),
            client: req.client,
            rating_key: req.rating_key,
            source: req.source,
            total_segments,
            first_segment,
            max_kbps: req.max_kbps,
            audio_index: req.audio_index,
            burn: req.burn,
            dir: self.work.join(format!("{serial}")),
            ended: Default::default(),
            state: Mutex::new(Progress {
                wanted: first_segment,
                alive: Instant::now(),
            }),
        });
        book.sessions.insert(req.session, session.clone());
        tokio::spawn(produce(self.clone(), session));
        Ok(())
    }

    /// Sessions running now.
    pub fn active(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.book().sessions.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// How many ffmpeg runs all sessions have made (a re-target or a new session adds one).
    pub fn ffmpeg_runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    /// The media playlist of a running session: every segment of the item.
    pub fn media_playlist(&self, session: &str) -> Option<String> {
        let s = self.book().sessions.get(session)?.clone();
        let duration = s.total_segments; // whole segments; the last may be shorter
        let mut out = format!(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{SEGMENT_SECONDS}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        );
        for n in 0..duration {
            out.push_str(&format!("#EXTINF:{SEGMENT_SECONDS}.000000,\n{n:05}.ts\n"));
        }
        out.push_str("#EXT-X-ENDLIST\n");
        Some(out)
    }

    /// The file of segment `n` of `session`, waiting while the transcoder makes it.
    pub async fn segment(&self, session: &str, n: u32) -> SegmentAnswer {
        let Some(s) = self.book().sessions.get(session).cloned() else {
            return SegmentAnswer::Missing;
        };
        if n < s.first_segment || n >= s.total_segments {
            return SegmentAnswer::Missing;
        }
        {
            let mut p = s.progress();
            p.wanted = p.wanted.max(n);
        }
        let deadline = Instant::now() + SEGMENT_WAIT;
        loop {
            if s.is_ended() {
                return SegmentAnswer::Missing;
            }
            let path = s.segment_path(n);
            if path.is_file() {
                return SegmentAnswer::Ready(path);
            }
            if Instant::now() >= deadline {
                return SegmentAnswer::Missing;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// `…/ping?session=`: the player is still there.
    pub fn ping(&self, session: &str) -> bool {
        match self.book().sessions.get(session) {
            Some(s) => {
                s.progress().alive = Instant::now();
                true
            }
            None => false,
        }
    }

    /// `…/stop?session=`: ends a session at its player's request.
    pub fn stop(&self, session: &str) {
        if let Some(s) = self.book().sessions.remove(session) {
            s.ended.store(true, Ordering::SeqCst);
        }
    }

    /// Records a timeline call, keeps its session alive (or ends it for `state=stopped`), and
    /// returns the termination to report if the session was stopped by the server.
    pub fn timeline(&self, call: TimelineCall) -> Option<Termination> {
        let mut book = self.book();
        let session = call.session.clone();
        let stopped = call.state.as_deref() == Some("stopped");
        book.timelines.push(call);
        let id = session?;
        if let Some(t) = book.ended.get(&id) {
            return Some(t.clone());
        }
        if stopped {
            if let Some(s) = book.sessions.remove(&id) {
                s.ended.store(true, Ordering::SeqCst);
            }
        } else if let Some(s) = book.sessions.get(&id) {
            s.progress().alive = Instant::now();
        }
        None
    }

    /// Every timeline call so far, oldest first.
    pub fn timelines(&self) -> Vec<TimelineCall> {
        self.book().timelines.clone()
    }

    /// Ends `session` as the server: forgotten, files gone, termination remembered.
    fn terminate(&self, s: &Session, why: Termination) {
        let mut book = self.book();
        if book
            .sessions
            .get(&s.id)
            .is_some_and(|current| std::ptr::eq(current.as_ref(), s))
        {
            book.sessions.remove(&s.id);
            book.ended.insert(s.id.clone(), why);
        }
        s.ended.store(true, Ordering::SeqCst);
    }
}

/// The session's producer: keeps ffmpeg a few segments ahead of its player while the player
/// reports, and applies the keep-alive rules.
async fn produce(t: Transcoder, s: Arc<Session>) {
    let _ = tokio::fs::create_dir_all(&s.dir).await;
    loop {
        if s.is_ended() {
            break;
        }
        let (wanted, quiet) = {
            let p = s.progress();
            (p.wanted, p.alive.elapsed())
        };
        if quiet >= t.rules.stop_after {
            tracing::info!(session = %s.id, "fake Plex: stopping a transcode no player reports on");
            t.terminate(&s, abandoned());
            break;
        }
        let next = s.frontier();
        let throttled = quiet >= t.rules.throttle_after;
        if next >= s.total_segments || next > wanted + AHEAD || throttled {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let count = CHUNK_SEGMENTS.min(s.total_segments - next);
        t.runs.fetch_add(1, Ordering::SeqCst);
        if let Err(err) = run_chunk(&s, next, count).await {
            tracing::warn!(session = %s.id, %err, "fake Plex: the transcode failed");
            t.terminate(
                &s,
                Termination {
                    code: 2004,
                    text: "The transcoder exited unexpectedly.".into(),
                },
            );
            break;
        }
    }
    let _ = tokio::fs::remove_dir_all(&s.dir).await;
}

/// A path escaped for an ffmpeg filter option (the demo's own paths: no commas or brackets).
fn filter_path(path: &Path) -> String {
    path.to_string_lossy()
        .replace('\\', "\\\\")
        .replace('\'', "\\'")
        .replace(':', "\\:")
}

/// One ffmpeg run: segments `first..first + count`, H.264/AAC in MPEG-TS, key frames every
/// segment, timestamps in item time.
async fn run_chunk(s: &Session, first: u32, count: u32) -> Result<(), String> {
    let start = f64::from(first * SEGMENT_SECONDS);
    let length = f64::from(count * SEGMENT_SECONDS);
    let seg = f64::from(SEGMENT_SECONDS);
    let mut cmd = tokio::process::Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(["-ss", &format!("{start:.3}")])
        .arg("-i")
        .arg(&s.source)
        .args(["-t", &format!("{length:.3}")])
        .args(["-map", "0:v:0", "-map", &format!("0:a:{}?", s.audio_index)])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-profile:v", "main", "-sc_threshold", "0"]);
    if let Some(burn) = &s.burn {
        // Input seeking restarts timestamps at 0: move them to item time for the renderer,
        // then back.
        cmd.args([
            "-vf",
            &format!(
                "setpts=PTS+{start:.3}/TB,subtitles=filename={}:si={},setpts=PTS-STARTPTS",
                filter_path(&burn.file),
                burn.stream
            ),
        ]);
    }
    cmd.args(["-force_key_frames", &format!("expr:gte(t,n_forced*{seg})")]);
    match s.max_kbps {
        Some(kbps) => {
            cmd.args(["-b:v", &format!("{kbps}k"), "-maxrate", &format!("{kbps}k")])
                .args(["-bufsize", &format!("{}k", kbps * 2)]);
        }
        None => {
            cmd.args(["-crf", "28"]);
        }
    }
    cmd.args(["-c:a", "aac", "-b:a", "96k", "-ac", "2", "-ar", "48000"])
        .args(["-output_ts_offset", &format!("{start:.3}")])
        .args(["-f", "hls", "-hls_time", &format!("{SEGMENT_SECONDS}")])
        .args(["-hls_list_size", "0", "-hls_flags", "temp_file"])
        .args(["-start_number", &first.to_string()])
        .arg("-hls_segment_filename")
        .arg(s.dir.join("%05d.ts"))
        .arg(s.dir.join(format!("chunk-{first}.m3u8")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("ffmpeg did not start: {e}"))?;
    let mut stderr = child.stderr.take();
    loop {
        tokio::select! {
            status = child.wait() => {
                let status = status.map_err(|e| e.to_string())?;
                if status.success() {
                    tracing::debug!(session = %s.id, rating_key = s.rating_key, first, count, "fake Plex: transcoded a chunk");
                    return Ok(());
                }
                let mut text = String::new();
                if let Some(err) = stderr.as_mut() {
                    use tokio::io::AsyncReadExt;
                    let _ = err.read_to_string(&mut text).await;
                }
                return Err(format!("ffmpeg: {status}: {}", text.trim()));
            }
            () = tokio::time::sleep(Duration::from_millis(50)) => {
                if s.is_ended() {
                    let _ = child.kill().await;
                    return Ok(());
                }
            }
        }
    }
}
