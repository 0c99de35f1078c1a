//! The Plex transcodes this web server relays: one per rendition, shared by every viewer of
//! it, kept alive with timeline reports, capped, and stopped when nobody watches.
//!
//! - **One transcode per rendition.** A rendition is an item's version at one quality
//!   ([`Rendition`]). The first viewer who needs it starts a Plex transcode; the next ones
//!   join it, at no cost under the caps and no new Plex session. Segments pass through a
//!   bounded cache ([`relay`]), so each leaves Plex once however many watch.
//! - **Caps.** At most [`TranscodeLimits::total`] renditions at once on this server, and
//!   [`TranscodeLimits::per_owner`] started by one owner (a signed-in person, else a client
//!   address): a stranger's loop of `start.m3u8` requests cannot start hundreds.
//! - **A well-behaved player.** Plex stops a transcode whose player sends no `/:/timeline`.
//!   Marquee reports for each rendition, as one player: every [`TranscodeLimits::timeline_every`]
//!   and at once on play, pause, seek and stop, with the state its viewers report (playing if
//!   anyone plays) and the time in milliseconds. When Plex answers that it ended the playback,
//!   the rendition ends with Plex's sentence, which its viewers are shown.
//! - **Idle stop.** A rendition none of whose viewers fetched a file or reported for
//!   [`TranscodeLimits::idle`], or whose last viewer left, is reported `stopped` and stopped on
//!   Plex; its files then answer `410 Gone`.
//!
//! With several web servers, each keeps its own book. The Plex session of a rendition is noted
//! in the shared cache, so a server asked for a rendition another one runs joins that
//! transcode instead of starting a second one, and every server notes the time of use there so
//! that none stops a transcode the others still serve.

pub mod account;
pub mod playlist;
pub mod relay;

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use marquee_plex::PlayState;
use marquee_store::secret::TranscodeOwner;

use playlist::MediaPlaylist;

/// The caps, the idle time and the reporting period, from the settings.
#[derive(Clone, Copy, Debug)]
pub struct TranscodeLimits {
    /// Renditions transcoding at once on this web server.
    pub total: usize,
    /// Renditions one owner may have started and still running.
    pub per_owner: usize,
    /// How long a rendition may go unused before it is stopped.
    pub idle: Duration,
    /// How often Plex hears from each running transcode (Plex's players: about 10 s).
    pub timeline_every: Duration,
    /// The segment cache's bound, in bytes.
    pub segment_cache_bytes: u64,
}

/// Whom a transcode counts against on this server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    Person(u64),
    /// Someone not signed in, by client address (IPv6 by /64).
    Address(IpAddr),
}

impl Owner {
    /// The owner a token names, with `client` (already bucketed) for the anonymous.
    pub fn of(token_owner: &TranscodeOwner, client: IpAddr) -> Owner {
        match token_owner {
            TranscodeOwner::Person(id) => Owner::Person(*id),
            TranscodeOwner::Anonymous => Owner::Address(client),
        }
    }
}

/// How good a rendition is: Plex's original quality, or a bitrate cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quality {
    Original,
    Kbps(u32),
}

impl Quality {
    /// The bitrates a viewer may ask for, in kbps: the watch page's list.
    pub const CHOICES: [u32; 4] = app::model::TRANSCODE_QUALITIES;

    /// The path label (`base`, `q2000`), as the watch page writes it.
    pub fn label(self) -> String {
        app::model::quality_label(self.kbps())
    }

    /// Reads a label; only [`Quality::CHOICES`] are accepted.
    pub fn from_label(label: &str) -> Option<Quality> {
        if label == "base" {
            return Some(Quality::Original);
        }
        let kbps: u32 = label.strip_prefix('q')?.parse().ok()?;
        Quality::from_kbps(kbps)
    }

    pub fn from_kbps(kbps: u32) -> Option<Quality> {
        Quality::CHOICES
            .contains(&kbps)
            .then_some(Quality::Kbps(kbps))
    }

    pub fn kbps(self) -> Option<u32> {
        match self {
            Quality::Original => None,
            Quality::Kbps(k) => Some(k),
        }
    }
}

/// What one transcode makes: an item's version at a quality, with an audio track and maybe
/// a subtitle burned in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rendition {
    pub rating_key: String,
    pub media_index: u32,
    pub quality: Quality,
    pub tracks: Tracks,
}

/// The streams a rendition plays, which Plex reads from the Part's stream choice (see
/// [`relay`]: set under one lock per Plex account, then the transcode started).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tracks {
    /// The Part whose choice is set (`None`: Plex named no Part; nothing is set).
    pub part_id: Option<i64>,
    /// An audio track other than the default, when asked for.
    pub audio: Option<i64>,
    /// The version's default audio track.
    pub default_audio: Option<i64>,
    /// An image subtitle burned into the picture.
    pub burn: Option<i64>,
}

impl Tracks {
    /// The audio track that plays.
    pub fn audio_playing(&self) -> Option<i64> {
        self.audio.or(self.default_audio)
    }
}

impl Rendition {
    /// Its path label (`q2000`, `base-a1073`, `base-s1083`): what players' URLs carry.
    pub fn label(&self) -> String {
        app::model::rendition_label(self.quality.kbps(), self.tracks.audio, self.tracks.burn)
    }

    /// A stable name for caches and logs: `101/0/q2000`.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.rating_key, self.media_index, self.label())
    }
}

/// Why a transcode may not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscodeRefusal {
    #[error(
        "{0} transcoded streams are already running on this Marquee, its limit; try again when one ends, or play a version this browser can play directly"
    )]
    ServerFull(usize),
    #[error(
        "you already have {0} transcoded streams running, the limit for one person; close another player first"
    )]
    OwnerFull(usize),
}

/// Why a rendition's files are gone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Gone {
    #[error(
        "this transcoded stream was stopped after it sat unused; reload the player to start it again"
    )]
    Idle,
    /// Plex ended it, and said why.
    #[error("Plex ended this stream: {0} Reload to start it again.")]
    ByPlex(String),
}

/// The Plex side of a running rendition.
#[derive(Debug, Clone)]
pub struct PlexSide {
    /// Plex's session id (Marquee-made, new for every start and re-target).
    pub session: String,
    /// The first segment this Plex session makes (its start offset).
    pub first: usize,
    /// One past the furthest segment fetched from this Plex session.
    pub frontier: usize,
    /// Plex's description of the stream (`#EXT-X-STREAM-INF:…`).
    pub stream_inf: Arc<str>,
    pub playlist: Arc<MediaPlaylist>,
    pub duration_ms: Option<i64>,
}

/// A viewer's last report.
#[derive(Debug, Clone, Copy)]
struct Report {
    state: PlayState,
    time_ms: i64,
    at: Instant,
}

/// What was last sent to Plex, to tell a change from a repeat.
#[derive(Debug, Clone, Copy)]
struct Sent {
    state: PlayState,
    time_ms: i64,
    at: Instant,
}

struct Running {
    owner: Owner,
    /// `None` while Plex is starting it.
    plex: Option<PlexSide>,
    viewers: HashMap<String, Option<Report>>,
    last_used: Instant,
    shared_note: Instant,
    sent: Option<Sent>,
    /// A change came too soon after the last report: the next tick sends it.
    pending: bool,
}

/// A rendition being started: holds its place under the caps until it runs or is dropped.
#[derive(Debug)]
pub struct Slot {
    transcodes: Transcodes,
    rendition: Rendition,
    done: bool,
}

impl Slot {
    /// Plex started it.
    pub fn started(mut self, plex: PlexSide) {
        self.done = true;
        if let Some(run) = self.transcodes.book().running.get_mut(&self.rendition) {
            run.plex = Some(plex);
            run.last_used = Instant::now();
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.done {
            self.transcodes.book().running.remove(&self.rendition);
        }
    }
}

/// What [`Transcodes::join`] found.
#[derive(Debug)]
pub enum Joined {
    /// Running: the viewer is in.
    Running(PlexSide),
    /// Not running here: start it (or adopt another server's), then [`Slot::started`].
    Start(Slot),
}

/// One timeline report to send.
#[derive(Debug, Clone)]
pub struct Due {
    pub rendition: Rendition,
    pub session: String,
    pub state: PlayState,
    pub time_ms: i64,
    pub duration_ms: Option<i64>,
}

/// Most ended renditions remembered (to answer `410` with the reason).
const ENDED_MEMORY: usize = 1024;
/// A viewer's report counts for this long (a few of the player's 10 s reports).
const REPORT_FRESH: Duration = Duration::from_secs(35);
/// A reported time this far from what Plex was told (after playing on) is a seek.
const SEEK_MS: i64 = 2500;
/// Changes reach Plex at most this often per rendition: a viewer toggling play and pause in a
/// loop must not turn Marquee into a flood of timeline calls.
const MIN_REPORT_GAP: Duration = Duration::from_millis(250);

#[derive(Default)]
struct Book {
    running: HashMap<Rendition, Running>,
    ended: HashMap<Rendition, Gone>,
    ended_order: VecDeque<Rendition>,
    gates: HashMap<Rendition, Arc<tokio::sync::Mutex<()>>>,
}

impl Book {
    fn remember_ended(&mut self, rendition: Rendition, why: Gone) {
        if self.ended.insert(rendition.clone(), why).is_none() {
            self.ended_order.push_back(rendition);
        }
        while self.ended_order.len() > ENDED_MEMORY {
            if let Some(old) = self.ended_order.pop_front() {
                self.ended.remove(&old);
            }
        }
    }
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Transcodes {
    limits: TranscodeLimits,
    book: Arc<Mutex<Book>>,
}

impl std::fmt::Debug for Transcodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcodes")
            .field("limits", &self.limits)
            .field("running", &self.running())
            .finish()
    }
}

impl Transcodes {
    pub fn new(limits: TranscodeLimits) -> Self {
        Self {
            limits,
            book: Arc::default(),
        }
    }

    pub fn limits(&self) -> TranscodeLimits {
        self.limits
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renditions running (or starting) now.
    pub fn running(&self) -> usize {
        self.book().running.len()
    }

    /// The lock under which a rendition is started or re-targeted, so that two viewers
    /// arriving together make one Plex session.
    pub fn gate(&self, rendition: &Rendition) -> Arc<tokio::sync::Mutex<()>> {
        self.book()
            .gates
            .entry(rendition.clone())
            .or_default()
            .clone()
    }

    /// `viewer` wants `rendition`: joins it if it runs, else takes a slot under the caps
    /// (call under [`Transcodes::gate`]).
    pub fn join(
        &self,
        rendition: &Rendition,
        viewer: &str,
        owner: &Owner,
    ) -> Result<Joined, TranscodeRefusal> {
        let mut book = self.book();
        let now = Instant::now();
        if let Some(run) = book.running.get_mut(rendition)
            && let Some(plex) = &run.plex
        {
            run.viewers.entry(viewer.to_owned()).or_insert(None);
            run.last_used = now;
            return Ok(Joined::Running(plex.clone()));
        }
        let mine = book.running.values().filter(|r| r.owner == *owner).count();
        if mine >= self.limits.per_owner {
            return Err(TranscodeRefusal::OwnerFull(self.limits.per_owner));
        }
        if book.running.len() >= self.limits.total {
            return Err(TranscodeRefusal::ServerFull(self.limits.total));
        }
        book.ended.remove(rendition);
        book.running.insert(
            rendition.clone(),
            Running {
                owner: owner.clone(),
                plex: None,
                viewers: HashMap::from([(viewer.to_owned(), None)]),
                last_used: now,
                shared_note: now,
                sent: None,
                pending: false,
            },
        );
        Ok(Joined::Start(Slot {
            transcodes: self.clone(),
            rendition: rendition.clone(),
            done: false,
        }))
    }

    /// The running rendition's Plex side, noting a use by `viewer`. `Ok(None)`: not running
    /// here (another server may run it); `Err`: it ended.
    pub fn used(&self, rendition: &Rendition, viewer: &str) -> Result<Option<PlexSide>, Gone> {
        let mut book = self.book();
        if let Some(run) = book.running.get_mut(rendition) {
            run.last_used = Instant::now();
            run.viewers.entry(viewer.to_owned()).or_insert(None);
            return Ok(run.plex.clone());
        }
        match book.ended.get(rendition) {
            Some(why) => Err(why.clone()),
            None => Ok(None),
        }
    }

    /// The running rendition's Plex side, without noting a use.
    pub fn plex_side(&self, rendition: &Rendition) -> Result<PlexSide, Gone> {
        let book = self.book();
        match book.running.get(rendition).and_then(|r| r.plex.clone()) {
            Some(plex) => Ok(plex),
            None => Err(book.ended.get(rendition).cloned().unwrap_or(Gone::Idle)),
        }
    }

    /// The rendition's state to send now (after a start or a re-target), marked as sent.
    pub fn due_now(&self, rendition: &Rendition) -> Option<Due> {
        let now = Instant::now();
        let mut book = self.book();
        let run = book.running.get_mut(rendition)?;
        let due = Self::due(rendition, run, now)?;
        run.sent = Some(Sent {
            state: due.state,
            time_ms: due.time_ms,
            at: now,
        });
        Some(due)
    }

    /// Whether this server should note a use in the shared cache now (every `idle / 4`).
    pub fn shared_note_due(&self, rendition: &Rendition) -> bool {
        let mut book = self.book();
        let every = self.note_every();
        match book.running.get_mut(rendition) {
            Some(run) if run.shared_note.elapsed() >= every => {
                run.shared_note = Instant::now();
                true
            }
            _ => false,
        }
    }

    /// Segment `index` came from Plex session `session`.
    pub fn fetched(&self, rendition: &Rendition, session: &str, index: usize) {
        if let Some(plex) = self
            .book()
            .running
            .get_mut(rendition)
            .and_then(|run| run.plex.as_mut())
            .filter(|p| p.session == session)
        {
            plex.frontier = plex.frontier.max(index + 1);
        }
    }

    /// The rendition now runs on a new Plex session (re-targeted, or adopted from another
    /// server); returns the session it replaces.
    pub fn replace_session(&self, rendition: &Rendition, plex: PlexSide) -> Option<String> {
        let mut book = self.book();
        let run = book.running.get_mut(rendition)?;
        run.sent = None;
        let old = run.plex.replace(plex);
        old.map(|p| p.session)
    }

    /// A viewer's report; the timeline to send at once if the rendition's state changed
    /// (play, pause, a seek, stop).
    pub fn report(
        &self,
        rendition: &Rendition,
        viewer: &str,
        state: PlayState,
        time_ms: i64,
    ) -> Result<Option<Due>, Gone> {
        let mut book = self.book();
        let Some(run) = book.running.get_mut(rendition) else {
            return match book.ended.get(rendition) {
                Some(why) => Err(why.clone()),
                None => Ok(None),
            };
        };
        let now = Instant::now();
        run.last_used = now;
        run.viewers.insert(
            viewer.to_owned(),
            Some(Report {
                state,
                time_ms,
                at: now,
            }),
        );
        let Some(due) = Self::due(rendition, run, now) else {
            return Ok(None);
        };
        let changed = match run.sent {
            None => true,
            Some(sent) => {
                let expected = match sent.state {
                    PlayState::Playing => sent.time_ms + sent.at.elapsed().as_millis() as i64,
                    _ => sent.time_ms,
                };
                sent.state != due.state || (due.time_ms - expected).abs() > SEEK_MS
            }
        };
        let too_soon = run
            .sent
            .is_some_and(|s| now.duration_since(s.at) < MIN_REPORT_GAP);
        if changed && too_soon {
            run.pending = true;
            Ok(None)
        } else if changed {
            run.pending = false;
            run.sent = Some(Sent {
                state: due.state,
                time_ms: due.time_ms,
                at: now,
            });
            Ok(Some(due))
        } else {
            Ok(None)
        }
    }

    /// The rendition's state as one player: playing if a viewer plays (at the time the
    /// latest playing report puts it now), else the latest report's; buffering while no
    /// viewer has reported yet.
    fn due(rendition: &Rendition, run: &Running, now: Instant) -> Option<Due> {
        let plex = run.plex.as_ref()?;
        let fresh =
            run.viewers.values().flatten().filter(|r| {
                now.duration_since(r.at) < REPORT_FRESH && r.state != PlayState::Stopped
            });
        let latest_playing = fresh
            .clone()
            .filter(|r| r.state == PlayState::Playing)
            .max_by_key(|r| r.at);
        let latest = fresh.max_by_key(|r| r.at);
        let (state, time_ms) = match (latest_playing, latest) {
            (Some(r), _) => (
                PlayState::Playing,
                r.time_ms + now.duration_since(r.at).as_millis() as i64,
            ),
            (None, Some(r)) => (r.state, r.time_ms),
            (None, None) => {
                let at = plex
                    .playlist
                    .segments
                    .get(plex.first)
                    .map_or(0.0, |s| s.start);
                (PlayState::Buffering, (at * 1000.0) as i64)
            }
        };
        let time_ms = match plex.duration_ms {
            Some(d) => time_ms.clamp(0, d),
            None => time_ms.max(0),
        };
        Some(Due {
            rendition: rendition.clone(),
            session: plex.session.clone(),
            state,
            time_ms,
            duration_ms: plex.duration_ms,
        })
    }

    /// The reports to send on the period: every running rendition not told in the last
    /// [`TranscodeLimits::timeline_every`].
    pub fn due_reports(&self) -> Vec<Due> {
        let now = Instant::now();
        let every = self.limits.timeline_every;
        let mut book = self.book();
        let mut out = Vec::new();
        for (rendition, run) in book.running.iter_mut() {
            let recent = run
                .sent
                .is_some_and(|s| now.duration_since(s.at) < every.mul_f32(0.9));
            if recent && !run.pending {
                continue;
            }
            run.pending = false;
            if let Some(due) = Self::due(rendition, run, now) {
                run.sent = Some(Sent {
                    state: due.state,
                    time_ms: due.time_ms,
                    at: now,
                });
                out.push(due);
            }
        }
        out
    }

    /// `viewer` closed its player. The Plex session to stop if it was the last one.
    pub fn leave(&self, rendition: &Rendition, viewer: &str) -> Option<Due> {
        let mut book = self.book();
        let run = book.running.get_mut(rendition)?;
        run.viewers.remove(viewer);
        if !run.viewers.is_empty() {
            return None;
        }
        let run = book.running.remove(rendition)?;
        book.remember_ended(rendition.clone(), Gone::Idle);
        let due = Self::due(rendition, &run, Instant::now())?;
        Some(Due {
            state: PlayState::Stopped,
            ..due
        })
    }

    /// Plex ended `session` (a timeline answer said so): the rendition ends with Plex's
    /// words, unless it has moved to another session since.
    pub fn ended_by_plex(&self, rendition: &Rendition, session: &str, text: String) -> bool {
        let mut book = self.book();
        let current = book
            .running
            .get(rendition)
            .and_then(|r| r.plex.as_ref())
            .is_some_and(|p| p.session == session);
        if current {
            book.running.remove(rendition);
            book.remember_ended(rendition.clone(), Gone::ByPlex(text));
        }
        current
    }

    fn note_every(&self) -> Duration {
        (self.limits.idle / 4).clamp(Duration::from_millis(200), Duration::from_secs(10))
    }

    /// Renditions unused here for longer than the idle limit, with when they were last used
    /// (the caller checks the shared cache before [`Transcodes::stop_idle`]).
    pub fn idle_candidates(&self) -> Vec<(Rendition, Instant)> {
        let now = Instant::now();
        self.book()
            .running
            .iter()
            .filter(|(_, run)| run.plex.is_some())
            .filter(|(_, run)| now.duration_since(run.last_used) >= self.limits.idle)
            .map(|(r, run)| (r.clone(), run.last_used))
            .collect()
    }

    /// Stops `rendition` if it was not used since `seen` (and `elsewhere_ago`, the time since
    /// another server used it, is not within the limit either): the `stopped` report to send.
    pub fn stop_idle(
        &self,
        rendition: &Rendition,
        seen: Instant,
        elsewhere_ago: Option<Duration>,
    ) -> Option<Due> {
        let now = Instant::now();
        let mut book = self.book();
        let run = book.running.get_mut(rendition)?;
        if run.last_used != seen {
            return None; // used here meanwhile
        }
        if let Some(ago) = elsewhere_ago.filter(|ago| *ago < self.limits.idle) {
            // Used through another server since: keep it, counting from then.
            run.last_used = now.checked_sub(ago).unwrap_or(now);
            return None;
        }
        let run = book.running.remove(rendition)?;
        book.remember_ended(rendition.clone(), Gone::Idle);
        book.gates.remove(rendition);
        let due = Self::due(rendition, &run, now)?;
        Some(Due {
            state: PlayState::Stopped,
            ..due
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn transcodes(total: usize, per_owner: usize, idle_ms: u64) -> Transcodes {
        Transcodes::new(TranscodeLimits {
            total,
            per_owner,
            idle: Duration::from_millis(idle_ms),
            timeline_every: Duration::from_millis(100),
            segment_cache_bytes: 1 << 20,
        })
    }

    fn rendition(key: &str, quality: Quality) -> Rendition {
        Rendition {
            rating_key: key.into(),
            media_index: 0,
            quality,
            tracks: Tracks::default(),
        }
    }

    fn side(session: &str) -> PlexSide {
        let text = "#EXTINF:4,\na.ts\n#EXTINF:4,\nb.ts\n#EXTINF:4,\nc.ts\n";
        PlexSide {
            session: session.into(),
            first: 0,
            frontier: 0,
            stream_inf: Arc::from("#EXT-X-STREAM-INF:BANDWIDTH=1"),
            playlist: Arc::new(MediaPlaylist::parse(text).unwrap()),
            duration_ms: Some(12_000),
        }
    }

    fn start(t: &Transcodes, r: &Rendition, viewer: &str, owner: &Owner) -> Slot {
        match t.join(r, viewer, owner) {
            Ok(Joined::Start(slot)) => slot,
            other => panic!("{other:?}"),
        }
    }

    const ANA: Owner = Owner::Person(1);
    const BEN: Owner = Owner::Person(2);

    #[test]
    fn caps_hold_per_owner_and_in_all() {
        let t = transcodes(3, 2, 60_000);
        let _a = start(&t, &rendition("101", Quality::Original), "v1", &ANA);
        let _b = start(&t, &rendition("102", Quality::Original), "v2", &ANA);
        assert_eq!(
            t.join(&rendition("103", Quality::Original), "v3", &ANA)
                .unwrap_err(),
            TranscodeRefusal::OwnerFull(2)
        );
        let c = start(&t, &rendition("103", Quality::Original), "v4", &BEN);
        assert_eq!(
            t.join(&rendition("104", Quality::Original), "v5", &BEN)
                .unwrap_err(),
            TranscodeRefusal::ServerFull(3)
        );
        drop(c);
        let _d = start(&t, &rendition("104", Quality::Original), "v5", &BEN);
    }

    #[test]
    fn viewers_of_one_rendition_share_its_transcode_whoever_they_are() {
        let t = transcodes(1, 1, 60_000);
        let r = rendition("101", Quality::Kbps(2000));
        start(&t, &r, "ana-viewer", &ANA).started(side("plex-1"));
        match t.join(&r, "ben-viewer", &BEN) {
            Ok(Joined::Running(plex)) => assert_eq!(plex.session, "plex-1"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            t.join(&rendition("101", Quality::Original), "ana-2", &ANA)
                .unwrap_err(),
            TranscodeRefusal::OwnerFull(1),
            "another quality is another transcode"
        );
        assert_eq!(t.running(), 1);
        assert!(t.leave(&r, "ana-viewer").is_none(), "Ben still watches");
        let last = t.leave(&r, "ben-viewer").expect("the last viewer stops it");
        assert_eq!(last.state, PlayState::Stopped);
        assert_eq!(t.used(&r, "ben-viewer").unwrap_err(), Gone::Idle);
    }

    #[test]
    fn plex_hears_changes_at_once_and_repeats_on_the_period() {
        let t = transcodes(2, 2, 60_000);
        let r = rendition("101", Quality::Original);
        start(&t, &r, "a", &ANA).started(side("plex-1"));
        let first = t.report(&r, "a", PlayState::Playing, 1_000).unwrap();
        assert_eq!(first.map(|d| d.state), Some(PlayState::Playing));
        assert!(
            t.report(&r, "a", PlayState::Playing, 1_050)
                .unwrap()
                .is_none(),
            "playing on is no news"
        );
        std::thread::sleep(MIN_REPORT_GAP);
        let seek = t
            .report(&r, "a", PlayState::Playing, 8_000)
            .unwrap()
            .unwrap();
        assert_eq!(seek.time_ms, 8_000);
        std::thread::sleep(MIN_REPORT_GAP);
        let pause = t
            .report(&r, "a", PlayState::Paused, 8_100)
            .unwrap()
            .unwrap();
        assert_eq!(pause.state, PlayState::Paused);
        // Another viewer still playing makes the rendition play.
        std::thread::sleep(MIN_REPORT_GAP);
        let other = t
            .report(&r, "b", PlayState::Playing, 8_100)
            .unwrap()
            .unwrap();
        assert_eq!(other.state, PlayState::Playing);
        assert!(t.due_reports().is_empty(), "just told");
        std::thread::sleep(Duration::from_millis(120));
        let period = t.due_reports();
        assert_eq!(period.len(), 1);
        assert!(period[0].time_ms >= 8_100 + 100, "{:?}", period[0]);
    }

    /// A viewer flipping play and pause in a loop gets Plex one report per gap, and the last
    /// state still reaches Plex on the next tick.
    #[test]
    fn a_flood_of_changes_is_not_passed_on() {
        let t = transcodes(2, 2, 60_000);
        let r = rendition("101", Quality::Original);
        start(&t, &r, "a", &ANA).started(side("plex-1"));
        let mut sent = 0;
        for i in 0..50 {
            let state = if i % 2 == 0 {
                PlayState::Playing
            } else {
                PlayState::Paused
            };
            if t.report(&r, "a", state, 1_000).unwrap().is_some() {
                sent += 1;
            }
        }
        assert_eq!(sent, 1, "one report for fifty changes in a moment");
        let next = t.due_reports();
        assert_eq!(next.len(), 1, "the last change goes out on the next tick");
        assert_eq!(next[0].state, PlayState::Paused);
    }

    #[test]
    fn plex_ending_a_stream_ends_it_with_plex_words() {
        let t = transcodes(2, 2, 60_000);
        let r = rendition("101", Quality::Original);
        start(&t, &r, "a", &ANA).started(side("plex-1"));
        assert!(!t.ended_by_plex(&r, "old-session", "x".into()));
        assert!(t.ended_by_plex(&r, "plex-1", "The owner ended it.".into()));
        assert_eq!(
            t.report(&r, "a", PlayState::Playing, 0).unwrap_err(),
            Gone::ByPlex("The owner ended it.".into())
        );
    }

    #[test]
    fn idle_renditions_stop_unless_used_elsewhere() {
        let t = transcodes(4, 4, 50);
        let r = rendition("101", Quality::Original);
        start(&t, &r, "a", &ANA).started(side("plex-1"));
        std::thread::sleep(Duration::from_millis(60));
        let (cand, seen) = t.idle_candidates().pop().unwrap();
        assert_eq!(cand, r);
        assert!(
            t.stop_idle(&r, seen, Some(Duration::from_millis(10)))
                .is_none()
        );
        std::thread::sleep(Duration::from_millis(60));
        let (_, seen) = t.idle_candidates().pop().unwrap();
        let stop = t.stop_idle(&r, seen, None).unwrap();
        assert_eq!(stop.state, PlayState::Stopped);
        assert_eq!(t.used(&r, "a").unwrap_err(), Gone::Idle);
        assert_eq!(t.running(), 0);
    }
}
