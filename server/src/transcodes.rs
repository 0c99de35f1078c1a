//! The Plex transcodes this web server has started: how many may run, whose they are, and
//! when to stop one nobody watches.
//!
//! A transcode costs the Plex server a CPU core (or its GPU's few sessions), so a stranger's
//! loop of `start.m3u8` requests must not start hundreds. The rules:
//! - at most [`TranscodeLimits::total`] at once, and [`TranscodeLimits::per_owner`] for one
//!   owner (a signed-in person, else a client address);
//! - an owner who starts the same item and version again (a reload, a second tab) gets the
//!   transcode already running, so it costs no new slot and no new Plex session;
//! - a transcode none of whose files was fetched for [`TranscodeLimits::idle`] is stopped on
//!   Plex and forgotten; its files then answer `410 Gone`.
//!
//! With several web servers, each counts the transcodes it started. A file fetched through
//! another server counts as use on both: every server notes the time of use in the shared
//! cache, and the idle sweep reads it before stopping anything.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use marquee_store::secret::TranscodeOwner;
use marquee_store::{Cache, Tier};

/// The caps and the idle time, from the settings.
#[derive(Clone, Copy, Debug)]
pub struct TranscodeLimits {
    /// Transcodes running at once on this web server.
    pub total: usize,
    /// Transcodes running at once for one owner.
    pub per_owner: usize,
    /// How long a transcode may go without a fetched file before it is stopped.
    pub idle: Duration,
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
    #[error("this stream is still starting; try again in a moment")]
    Starting,
}

/// What [`Transcodes::begin`] decided.
#[derive(Debug)]
pub enum Begin {
    /// Start it on Plex, then call [`Slot::started`]; a slot dropped before that (Plex failed,
    /// the request was cancelled) is freed.
    Start(Slot),
    /// This owner already runs this item: answer with that transcode's master playlist.
    Reuse { token: String, master: Arc<str> },
}

struct Running {
    item: String,
    owner: Owner,
    /// The master playlist as sent to the first player (`None` while Plex is starting it,
    /// and for one another server started).
    master: Option<Arc<str>>,
    /// Plex has not answered the start yet: not to be swept.
    starting: bool,
    last_used: Instant,
    /// When this server last wrote the time of use to the shared cache.
    shared_note: Instant,
}

/// A transcode being started: holds its place under the caps until it runs or is dropped.
#[derive(Debug)]
pub struct Slot {
    transcodes: Transcodes,
    token: String,
    done: bool,
}

impl Slot {
    /// Plex started it; `master` is the playlist sent to the player, for reuse.
    pub fn started(mut self, master: &str) {
        self.done = true;
        if let Some(run) = self.transcodes.book().running.get_mut(&self.token) {
            run.master = Some(Arc::from(master));
            run.starting = false;
            run.last_used = Instant::now();
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.done {
            self.transcodes.book().running.remove(&self.token);
        }
    }
}

/// Most stopped tokens remembered (to answer `410` instead of asking Plex).
const STOPPED_MEMORY: usize = 4096;

#[derive(Default)]
struct Book {
    running: HashMap<String, Running>,
    stopped: HashSet<String>,
    stopped_order: VecDeque<String>,
}

impl Book {
    fn remember_stopped(&mut self, token: String) {
        if self.stopped.insert(token.clone()) {
            self.stopped_order.push_back(token);
        }
        while self.stopped_order.len() > STOPPED_MEMORY {
            if let Some(old) = self.stopped_order.pop_front() {
                self.stopped.remove(&old);
            }
        }
    }
}

/// See the module docs. Cheap to clone.
#[derive(Clone)]
pub struct Transcodes {
    limits: TranscodeLimits,
    book: Arc<Mutex<Book>>,
    cache: Cache,
}

impl std::fmt::Debug for Transcodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcodes")
            .field("limits", &self.limits)
            .field("running", &self.running())
            .finish()
    }
}

/// The shared-cache key holding when a transcode was last used (Unix seconds).
fn used_key(token: &str) -> String {
    format!("transcode:used:{token}")
}

impl Transcodes {
    pub fn new(limits: TranscodeLimits, cache: Cache) -> Self {
        Self {
            limits,
            book: Arc::default(),
            cache,
        }
    }

    pub fn limits(&self) -> TranscodeLimits {
        self.limits
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Transcodes running (or starting) now.
    pub fn running(&self) -> usize {
        self.book().running.len()
    }

    /// Decides whether `owner` may start transcode `token` of `item` (see the module docs).
    /// On [`Begin::Start`] the slot is held until [`Slot::started`] or the slot's drop.
    pub fn begin(&self, token: &str, item: &str, owner: &Owner) -> Result<Begin, TranscodeRefusal> {
        let mut book = self.book();
        let now = Instant::now();
        if let Some(run) = book.running.get_mut(token) {
            // The same player asked again (hls.js retries a failed manifest load).
            run.last_used = now;
            if let Some(master) = &run.master {
                return Ok(Begin::Reuse {
                    token: token.to_owned(),
                    master: master.clone(),
                });
            }
        }
        let same = book
            .running
            .iter_mut()
            .find(|(_, run)| run.owner == *owner && run.item == item && run.master.is_some());
        if let Some((existing, run)) = same {
            run.last_used = now;
            let master = run.master.clone().unwrap_or_else(|| Arc::from(""));
            return Ok(Begin::Reuse {
                token: existing.clone(),
                master,
            });
        }
        if book.running.contains_key(token) {
            // Its first start is still waiting for Plex: this one must not free that slot.
            return Err(TranscodeRefusal::Starting);
        }
        let mine = book.running.values().filter(|r| r.owner == *owner).count();
        if mine >= self.limits.per_owner {
            return Err(TranscodeRefusal::OwnerFull(self.limits.per_owner));
        }
        if book.running.len() >= self.limits.total {
            return Err(TranscodeRefusal::ServerFull(self.limits.total));
        }
        book.stopped.remove(token);
        book.running.insert(
            token.to_owned(),
            Running {
                item: item.to_owned(),
                owner: owner.clone(),
                master: None,
                starting: true,
                last_used: now,
                shared_note: now,
            },
        );
        Ok(Begin::Start(Slot {
            transcodes: self.clone(),
            token: token.to_owned(),
            done: false,
        }))
    }

    /// A file of `token` is being fetched. `Err(())` when it was stopped for sitting idle
    /// (answer `410`). A transcode started by another web server is adopted (and
    /// counts here from then on), so that this server's sweep sees its use too.
    pub async fn touch(&self, token: &str, item: &str, owner: &Owner) -> Result<(), ()> {
        let now = Instant::now();
        let note = {
            let mut book = self.book();
            if book.stopped.contains(token) {
                return Err(());
            }
            let run = book.running.entry(token.to_owned()).or_insert(Running {
                item: item.to_owned(),
                owner: owner.clone(),
                master: None,
                starting: false,
                last_used: now,
                shared_note: now,
            });
            run.last_used = now;
            let due = now.duration_since(run.shared_note) >= self.note_every();
            if due {
                run.shared_note = now;
            }
            due
        };
        if note {
            let at = app::ssr::urls::unix_now();
            if let Err(err) = self.cache.set(Tier::System, &used_key(token), &at).await {
                tracing::warn!(%err, "could not note a transcode's use in the shared cache");
            }
        }
        Ok(())
    }

    /// The player left (`POST …/stop`): forget `token`. Whether it was running here.
    pub fn finish(&self, token: &str) -> bool {
        let mut book = self.book();
        let was = book.running.remove(token).is_some();
        book.remember_stopped(token.to_owned());
        was
    }

    fn note_every(&self) -> Duration {
        (self.limits.idle / 4).clamp(Duration::from_millis(200), Duration::from_secs(10))
    }

    /// The transcodes idle for longer than the limit here and, per the shared cache, on
    /// every other server too; they are forgotten and remembered as stopped. The caller
    /// stops them on Plex.
    pub async fn sweep(&self) -> Vec<String> {
        let now = Instant::now();
        let idle: Vec<(String, Instant)> = self
            .book()
            .running
            .iter()
            .filter(|(_, run)| !run.starting)
            .filter(|(_, run)| now.duration_since(run.last_used) >= self.limits.idle)
            .map(|(token, run)| (token.clone(), run.last_used))
            .collect();
        let mut stop = Vec::new();
        for (token, seen) in idle {
            let elsewhere: Option<u64> = self.cache.get(&used_key(&token)).await.ok().flatten();
            let ago = elsewhere
                .map(|at| Duration::from_secs(app::ssr::urls::unix_now().saturating_sub(at)));
            let mut book = self.book();
            match (ago, book.running.get_mut(&token)) {
                (_, None) => {}
                // Used through another server since: keep it, counting from then.
                (Some(ago), Some(run)) if ago < self.limits.idle && run.last_used == seen => {
                    run.last_used = now.checked_sub(ago).unwrap_or(now);
                }
                (_, Some(run)) if run.last_used == seen => {
                    book.running.remove(&token);
                    book.remember_stopped(token.clone());
                    stop.push(token);
                }
                // Used here while the cache was read.
                _ => {}
            }
        }
        stop
    }

    /// Sweeps every `idle / 4` until the process ends, stopping idle transcodes on Plex.
    pub fn spawn_sweeper(&self, plex: marquee_plex::PlexClient) {
        let this = self.clone();
        let every = self.note_every();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                for token in this.sweep().await {
                    tracing::info!(session = %token, "stopping a transcode nobody fetched from");
                    if let Err(err) = plex.stop_transcode(&token).await {
                        tracing::warn!(%err, "Plex did not stop an idle transcode");
                    }
                    let _ = this.cache.invalidate(&used_key(&token)).await;
                }
                metrics::gauge!("marquee_transcodes_running").set(this.running() as f64);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn transcodes(total: usize, per_owner: usize, idle_ms: u64) -> Transcodes {
        Transcodes::new(
            TranscodeLimits {
                total,
                per_owner,
                idle: Duration::from_millis(idle_ms),
            },
            Cache::in_process(Default::default()),
        )
    }

    fn start(t: &Transcodes, token: &str, item: &str, owner: &Owner) -> Slot {
        match t.begin(token, item, owner) {
            Ok(Begin::Start(slot)) => slot,
            other => panic!("{other:?}"),
        }
    }

    const ANA: Owner = Owner::Person(1);
    const BEN: Owner = Owner::Person(2);

    #[test]
    fn caps_hold_per_owner_and_in_all() {
        let t = transcodes(3, 2, 60_000);
        let _t1 = start(&t, "t1", "101/0", &ANA);
        let _t2 = start(&t, "t2", "102/0", &ANA);
        assert_eq!(
            t.begin("t3", "103/0", &ANA).unwrap_err(),
            TranscodeRefusal::OwnerFull(2)
        );
        let t4 = start(&t, "t4", "103/0", &BEN);
        assert_eq!(
            t.begin("t5", "104/0", &BEN).unwrap_err(),
            TranscodeRefusal::ServerFull(3)
        );
        drop(t4);
        let _t5 = start(&t, "t5", "104/0", &BEN);
    }

    #[test]
    fn the_same_owner_and_item_share_one_transcode() {
        let t = transcodes(1, 1, 60_000);
        start(&t, "t1", "101/0", &ANA).started("#EXTM3U\nsession/t1/base/index.m3u8\n");
        match t.begin("t2", "101/0", &ANA) {
            Ok(Begin::Reuse { token, master }) => {
                assert_eq!(token, "t1");
                assert!(master.contains("session/t1/"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            t.begin("t3", "101/1", &ANA).unwrap_err(),
            TranscodeRefusal::OwnerFull(1),
            "another version is another transcode"
        );
        assert_eq!(t.running(), 1);
    }

    #[tokio::test]
    async fn idle_transcodes_are_swept_and_then_gone() {
        let t = transcodes(4, 4, 100);
        start(&t, "t1", "101/0", &ANA).started("#EXTM3U\n");
        start(&t, "t2", "102/0", &ANA).started("#EXTM3U\n");
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(40)).await;
            assert_eq!(t.touch("t2", "102/0", &ANA).await, Ok(()));
        }
        assert_eq!(t.sweep().await, vec!["t1".to_owned()]);
        assert_eq!(
            t.touch("t1", "101/0", &ANA).await,
            Err(()),
            "410 from now on"
        );
        assert_eq!(t.running(), 1);
    }
}
