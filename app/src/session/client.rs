//! The browser side of a shared session: the WebSocket, clock sync, and the loop that keeps the
//! `<video>` on the group's timeline. Browser-only (compiled with `hydrate`).
//!
//! One client exists per open session page (kept in a thread-local: the browser is single
//! threaded and the page owns at most one session). It mirrors the session from the server's
//! snapshot and events into [`SyncView`] signals for the UI, and every 100 ms compares the
//! video's position with where the group should be, letting
//! [`DriftController`](marquee_sync::DriftController) decide between a gentle rate change and a
//! seek.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::{GetUntracked, Set};

use marquee_sync::follow::{Followed, Mirror};
use marquee_sync::protocol::close;
use marquee_sync::{
    ClientMsg, ClockEstimator, ClockSample, Command, DriftController, ErrorCode, MemberId,
    PROTOCOL_VERSION, ServerMsg, Session,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, HtmlVideoElement, MessageEvent, WebSocket};

use super::state::{Conn, SyncView};

/// Drift-correction period.
const TICK_MS: i32 = 100;
/// A stall shorter than this is not reported (seeks and small hiccups would make the whole
/// group flap between waiting and playing).
const STALL_REPORT_MS: f64 = 400.0;
/// A video asked to play that is still paused, with data, this long after is asked again.
const PLAY_RETRY_MS: f64 = 1500.0;
/// Commands not acknowledged before a drop are replayed after reconnecting if younger than this;
/// older ones are reported as not applied.
const REPLAY_WINDOW_MS: f64 = 10_000.0;
/// Longest wait between reconnect attempts.
const MAX_BACKOFF_MS: f64 = 10_000.0;

thread_local! {
    static CLIENT: RefCell<Option<Rc<Client>>> = const { RefCell::new(None) };
    /// The access token a cookie-less page (the Discord Activity) joins with.
    static TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Called when the server says that token has expired (the Activity refreshes it).
    static ON_TOKEN_EXPIRED: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Join with this access token instead of cookies (pages in third-party iframes have none);
/// later reconnects use the newest token set.
pub fn set_token(token: Option<String>) {
    TOKEN.with(|t| *t.borrow_mut() = token);
}

/// What to do when the server refuses the token as expired; the client reconnects anyway, with
/// whatever token is set by then.
/// The access token set with [`set_token`], if any.
pub fn token() -> Option<String> {
    TOKEN.with(|t| t.borrow().clone())
}

pub fn on_token_expired(hook: impl Fn() + 'static) {
    ON_TOKEN_EXPIRED.with(|h| *h.borrow_mut() = Some(Rc::new(hook)));
}

/// Starts (or restarts) the client for `session` as `name`.
pub fn start(view: SyncView, session: String, name: String) {
    stop();
    let client = Rc::new(Client {
        view,
        session,
        name,
        inner: RefCell::new(Inner::default()),
    });
    CLIENT.with(|c| *c.borrow_mut() = Some(client.clone()));
    client.connect();
    client.start_tick();
}

/// Closes the socket and stops the loops (leaving the page).
pub fn stop() {
    if let Some(client) = CLIENT.with(|c| c.borrow_mut().take()) {
        client.shutdown();
    }
}

/// Sends a command for the group (from the player's controls).
pub fn send(command: Command) {
    if let Some(c) = current() {
        c.send_command(command);
    }
}

/// The player's `<video>` appeared (or changed with the item).
pub fn attach_video(video: HtmlVideoElement) {
    if let Some(c) = current() {
        {
            let mut inner = c.inner.borrow_mut();
            inner.video = Some(video);
            inner.controller.reset();
            inner.reported_buffering = None;
            // A new element has not been asked to play (the old one may have been, and then
            // paused when it left the page: a track or quality switch mid-film).
            inner.play_requested = None;
        }
        c.tick();
    }
}

/// The user clicked "join playback" after the browser blocked autoplay. The video waited
/// paused, up to 0.3 s from the group (re-seeking a paused video more often only churns): it
/// starts from where the group is at this instant, not from where it waited.
pub fn user_gesture_play() {
    if let Some(c) = current() {
        c.view.needs_click.set(false);
        let video = c.inner.borrow().video.clone();
        if let Some(v) = video {
            c.seek_to_group(&v);
            let _ = v.play();
        }
        c.tick();
    }
}

/// The video reported `waiting` (true) or that it can play again (false).
pub fn video_stalled(stalled: bool) {
    if let Some(c) = current() {
        let now = now_local();
        {
            let mut inner = c.inner.borrow_mut();
            inner.stalled_since = if stalled {
                inner.stalled_since.or(Some(now))
            } else {
                None
            };
        }
        if !stalled {
            c.report_buffering(false);
        }
    }
}

fn current() -> Option<Rc<Client>> {
    CLIENT.with(|c| c.borrow().clone())
}

/// Local high-resolution clock in ms since the Unix epoch (monotonic within the page).
pub fn now_local() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.time_origin() + p.now())
        .unwrap_or_else(js_sys::Date::now)
}

struct Pending {
    id: u64,
    command: Command,
    sent_at: f64,
}

/// How often a playing viewer tells the server its drift (the operator's sync histogram).
const DRIFT_REPORT_EVERY_MS: f64 = 30_000.0;

#[derive(Default)]
struct Inner {
    ws: Option<WebSocket>,
    handlers: Vec<Box<dyn std::any::Any>>,
    member: Option<MemberId>,
    /// The rejoin key of `member`, if it is anonymous (also remembered in the browser's storage,
    /// where a blocked storage cannot keep it).
    member_key: Option<String>,
    /// The copy of the session this page follows, from the last welcome and the events since.
    mirror: Option<Mirror>,
    clock: ClockEstimator,
    controller: DriftController,
    video: Option<HtmlVideoElement>,
    pending: Vec<Pending>,
    last_id: u64,
    attempt: u32,
    shut: bool,
    reported_buffering: Option<bool>,
    stalled_since: Option<f64>,
    /// Which element, playing which source, was last asked to play, and when (until it plays).
    /// Not a flag: a track or quality switch swaps the `<video>` or its source (which drops a
    /// pending `play()`), and asking the old one says nothing about the new.
    play_requested: Option<(HtmlVideoElement, String, f64)>,
    timers: Vec<i32>,
    seeks: u32,
    last_drift_publish: f64,
    /// When this viewer last told the server its drift (for the operator's metrics).
    last_drift_report: f64,
    /// The playback line the video last followed while playing.
    last_line: Option<marquee_sync::Playback>,
}

struct Client {
    view: SyncView,
    session: String,
    name: String,
    inner: RefCell<Inner>,
}

impl Client {
    fn ws_url(&self) -> Option<String> {
        let loc = web_sys::window()?.location();
        let scheme = if loc.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!(
            "{scheme}://{}{}/ws/session/{}",
            loc.host().ok()?,
            crate::paths::prefix(),
            self.session
        ))
    }

    fn connect(self: &Rc<Self>) {
        let Some(url) = self.ws_url() else { return };
        let attempt = self.inner.borrow().attempt;
        self.view.conn.set(if attempt == 0 {
            Conn::Connecting
        } else {
            Conn::Reconnecting { attempt }
        });
        let ws = match WebSocket::new(&url) {
            Ok(ws) => ws,
            Err(_) => {
                self.schedule_reconnect();
                return;
            }
        };
        let on_open = {
            let me = self.clone();
            Closure::<dyn FnMut()>::new(move || me.on_open())
        };
        let on_message = {
            let me = self.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                if let Some(text) = e.data().as_string() {
                    me.on_message(&text);
                }
            })
        };
        let on_close = {
            let me = self.clone();
            Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| me.on_close(e.code()))
        };
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut inner = self.inner.borrow_mut();
        inner.handlers = vec![Box::new(on_open), Box::new(on_message), Box::new(on_close)];
        inner.ws = Some(ws);
    }

    fn raw_send(&self, msg: &ClientMsg) -> bool {
        let inner = self.inner.borrow();
        let Some(ws) = inner.ws.as_ref() else {
            return false;
        };
        if ws.ready_state() != WebSocket::OPEN {
            return false;
        }
        match serde_json::to_string(msg) {
            Ok(text) => ws.send_with_str(&text).is_ok(),
            Err(_) => false,
        }
    }

    fn on_open(self: &Rc<Self>) {
        // Who this tab was (its last welcome), else who this browser was in the session.
        let (member, member_key) = {
            let inner = self.inner.borrow();
            match inner.member.clone() {
                Some(m) => (Some(m), inner.member_key.clone()),
                None => super::remembered::member(&self.session)
                    .map_or((None, None), |(m, k)| (Some(m), k)),
            }
        };
        self.raw_send(&ClientMsg::Hello {
            protocol: PROTOCOL_VERSION,
            name: self.name.clone(),
            member,
            member_key,
            token: TOKEN.with(|t| t.borrow().clone()),
        });
        self.inner.borrow_mut().clock.reset();
        self.ping();
    }

    fn on_close(self: &Rc<Self>, code: u16) {
        let shut = {
            let mut inner = self.inner.borrow_mut();
            inner.ws = None;
            inner.shut
        };
        if shut {
            return;
        }
        match code {
            close::UNKNOWN_SESSION => self.view.conn.set(Conn::Closed(
                "This watch session does not exist (or has ended).".into(),
            )),
            close::PROTOCOL => self.view.conn.set(Conn::Closed(
                "Marquee was updated: reload the page to rejoin.".into(),
            )),
            close::SIGN_IN_REQUIRED => self.view.conn.set(Conn::Closed(
                "This Marquee admits only people signed in with Discord: sign in (top right) to join."
                    .into(),
            )),
            close::SIGN_IN_EXPIRED => {
                if let Some(hook) = ON_TOKEN_EXPIRED.with(|h| h.borrow().clone()) {
                    hook();
                }
                self.schedule_reconnect();
            }
            // The server is restarting or could not load the session: it will be back.
            close::SERVICE_RESTART | close::UNAVAILABLE => self.schedule_reconnect(),
            // A dropped connection, a hello timeout, or anything unknown: try again.
            _ => self.schedule_reconnect(),
        }
    }

    fn schedule_reconnect(self: &Rc<Self>) {
        let attempt = {
            let mut inner = self.inner.borrow_mut();
            inner.attempt += 1;
            inner.attempt
        };
        self.view.conn.set(Conn::Reconnecting { attempt });
        let base = (250.0 * 2f64.powi(attempt.min(8) as i32)).min(MAX_BACKOFF_MS);
        let delay = base * (0.75 + js_sys::Math::random() * 0.5);
        let me = self.clone();
        set_timeout(delay, move || {
            if !me.inner.borrow().shut {
                me.connect();
            }
        });
    }

    fn shutdown(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.shut = true;
        if let Some(ws) = inner.ws.take() {
            ws.set_onclose(None);
            ws.set_onmessage(None);
            ws.set_onopen(None);
            let _ = ws.close();
        }
        if let Some(w) = web_sys::window() {
            for t in inner.timers.drain(..) {
                w.clear_interval_with_handle(t);
            }
        }
        inner.handlers.clear();
    }

    fn ping(self: &Rc<Self>) {
        if self.inner.borrow().shut {
            return;
        }
        let sent = self.raw_send(&ClientMsg::Ping { t0: now_local() });
        if !sent {
            return; // the next open starts pinging again
        }
        let interval = self.inner.borrow().clock.next_interval_ms();
        let me = self.clone();
        set_timeout(interval, move || me.ping());
    }

    fn on_message(self: &Rc<Self>, text: &str) {
        let t3 = now_local();
        let Ok(msg) = serde_json::from_str::<ServerMsg>(text) else {
            return;
        };
        match msg {
            ServerMsg::Welcome {
                member,
                session,
                member_key,
                ..
            } => {
                super::remembered::set_member(&self.session, &member, member_key.as_deref());
                {
                    let mut inner = self.inner.borrow_mut();
                    if member_key.is_some() || inner.member.as_ref() != Some(&member) {
                        inner.member_key = member_key;
                    }
                }
                self.on_welcome(member, session)
            }
            ServerMsg::Pong { t0, t1, t2 } => {
                if let Some(sample) = ClockSample::from_timestamps(t0, t1, t2, t3) {
                    let (rtt, first_ready) = {
                        let mut inner = self.inner.borrow_mut();
                        let was_ready = inner.clock.ready();
                        inner.clock.add(sample);
                        (inner.clock.rtt(), !was_ready && inner.clock.ready())
                    };
                    self.view.rtt_ms.set(rtt);
                    if first_ready {
                        self.raw_send(&ClientMsg::Status {
                            buffering: self.inner.borrow().reported_buffering.unwrap_or(false),
                            rtt_ms: rtt,
                        });
                    }
                }
            }
            ServerMsg::Event {
                version,
                by,
                changes,
            } => {
                let now = self.server_now();
                let followed = {
                    let mut inner = self.inner.borrow_mut();
                    let Some(mirror) = inner.mirror.as_mut() else {
                        return;
                    };
                    let followed = mirror.on_event(version, by.as_ref(), &changes, now);
                    if matches!(
                        followed,
                        Followed::Applied {
                            item_changed: true,
                            ..
                        }
                    ) {
                        inner.reported_buffering = Some(true);
                    }
                    followed
                };
                let notice = match followed {
                    Followed::Stale => return,
                    Followed::Gap => {
                        self.raw_send(&ClientMsg::Resync);
                        return;
                    }
                    Followed::Applied { notice, .. } => notice,
                };
                let snapshot = self
                    .inner
                    .borrow()
                    .mirror
                    .as_ref()
                    .map(|m| m.session.clone());
                self.view.session.set(snapshot);
                if let Some(t) = notice {
                    self.view.notify(t);
                }
                self.schedule_transition();
                self.tick();
            }
            ServerMsg::Ack { id, .. } => {
                self.inner.borrow_mut().pending.retain(|p| p.id != id);
            }
            ServerMsg::Error {
                id, code, message, ..
            } => {
                if let Some(id) = id {
                    self.inner.borrow_mut().pending.retain(|p| p.id != id);
                }
                if code == ErrorCode::UnknownSession {
                    self.view.conn.set(Conn::Closed(message.clone()));
                }
                // Not joined yet and the server could not take us: retry with backoff.
                let joined = self.inner.borrow().member.is_some();
                if code == ErrorCode::Unavailable && !joined {
                    let ws = self.inner.borrow().ws.clone();
                    if let Some(ws) = ws {
                        let _ = ws.close();
                    }
                }
                // An expired sign-in is handled by reconnecting, not shown as a problem.
                if !matches!(code, ErrorCode::SignInExpired | ErrorCode::SignInRequired) {
                    self.view.problem.set(Some(message));
                }
            }
        }
    }

    fn on_welcome(self: &Rc<Self>, member: MemberId, session: Session) {
        let replay: Vec<(u64, Command)>;
        let dropped: usize;
        {
            let mut inner = self.inner.borrow_mut();
            inner.attempt = 0;
            inner.member = Some(member.clone());
            inner.controller.reset();
            let local = now_local();
            let (keep, old): (Vec<Pending>, Vec<Pending>) = inner
                .pending
                .drain(..)
                .partition(|p| local - p.sent_at < REPLAY_WINDOW_MS);
            dropped = old.len();
            replay = keep.iter().map(|p| (p.id, p.command.clone())).collect();
            inner.pending = keep;
            // The server marks a member loading when the item changes; say so if we are ready.
            inner.reported_buffering = session.member(&member).map(|m| m.buffering);
            inner.mirror = Some(Mirror::welcome(session.clone()));
        }
        self.view.member.set(Some(member));
        self.view.session.set(Some(session.clone()));
        self.view.conn.set(Conn::Live);
        if dropped > 0 {
            self.view.problem.set(Some(format!(
                "{dropped} of your actions from before the connection dropped were not applied."
            )));
        }
        for (id, command) in replay {
            self.raw_send(&ClientMsg::Command {
                id,
                base_version: session.version,
                command,
            });
        }
        self.schedule_transition();
        self.tick();
    }

    fn server_now(&self) -> f64 {
        self.inner.borrow().clock.server_time(now_local())
    }

    fn send_command(self: &Rc<Self>, command: Command) {
        let live = matches!(self.view.conn.get_untracked(), Conn::Live);
        if !live {
            self.view.problem.set(Some(
                "Not connected to the session right now: that action was not sent. Try again once reconnected.".into(),
            ));
            return;
        }
        let (id, base_version) = {
            let mut inner = self.inner.borrow_mut();
            // Ids only grow, across reconnects and reloads, so the server can spot replays.
            let id = (inner.last_id + 1).max(js_sys::Date::now() as u64);
            inner.last_id = id;
            inner.pending.push(Pending {
                id,
                command: command.clone(),
                sent_at: now_local(),
            });
            let base_version = inner.mirror.as_ref().map_or(0, |m| m.session.version);
            (id, base_version)
        };
        self.view.problem.set(None);
        self.raw_send(&ClientMsg::Command {
            id,
            base_version,
            command,
        });
    }

    fn report_buffering(self: &Rc<Self>, buffering: bool) {
        let changed = {
            let mut inner = self.inner.borrow_mut();
            let changed = inner.reported_buffering != Some(buffering);
            inner.reported_buffering = Some(buffering);
            changed
        };
        if changed {
            let rtt = self.inner.borrow().clock.rtt();
            self.raw_send(&ClientMsg::Status {
                buffering,
                rtt_ms: rtt,
            });
        }
    }

    /// Runs a tick exactly when a scheduled change takes effect.
    fn schedule_transition(self: &Rc<Self>) {
        let pending_at = self
            .inner
            .borrow()
            .mirror
            .as_ref()
            .and_then(|m| m.timeline.pending)
            .map(|p| p.at);
        if let Some(at) = pending_at {
            let delay = (at - self.server_now()).max(0.0);
            let me = self.clone();
            set_timeout(delay, move || me.tick());
        }
    }

    fn start_tick(self: &Rc<Self>) {
        let me = self.clone();
        let cb = Closure::<dyn FnMut()>::new(move || me.tick());
        if let Some(w) = web_sys::window()
            && let Ok(handle) = w.set_interval_with_callback_and_timeout_and_arguments_0(
                cb.as_ref().unchecked_ref(),
                TICK_MS,
            )
        {
            self.inner.borrow_mut().timers.push(handle);
        }
        cb.forget();
    }

    /// One step of following the group.
    fn tick(self: &Rc<Self>) {
        let now_server = self.server_now();
        let now = now_local();
        let (video, playback, stalled_since, reported) = {
            let mut inner = self.inner.borrow_mut();
            if inner.shut {
                return;
            }
            let Some(mirror) = inner.mirror.as_mut() else {
                return;
            };
            let playback = mirror.timeline.at(now_server);
            let duration = mirror.session.duration();
            let group = playback.position_at(now_server);
            let group = duration.map_or(group, |d| group.min(d));
            if (self.view.position.get_untracked() - group).abs() >= 0.2 {
                self.view.position.set(group);
            }
            let Some(video) = inner.video.clone() else {
                return;
            };
            (
                video,
                playback,
                inner.stalled_since,
                inner.reported_buffering,
            )
        };
        if video.ready_state() < 1 {
            return; // no metadata yet: nothing to position
        }
        // Loading finished (after an item change or a stall): tell the group.
        if video.ready_state() >= 3 && reported == Some(true) && stalled_since.is_none() {
            self.report_buffering(false);
        }
        if playback.playing
            && stalled_since.is_some_and(|t| now - t > STALL_REPORT_MS)
            && reported != Some(true)
        {
            self.report_buffering(true);
        }

        if !playback.playing {
            if !video.paused() {
                let _ = video.pause();
            }
            self.inner.borrow_mut().play_requested = None;
            if (video.playback_rate() - playback.rate).abs() > 1e-3 {
                video.set_playback_rate(playback.rate);
            }
            if !video.seeking() && (video.current_time() - playback.position).abs() > 0.05 {
                video.set_current_time(playback.position);
            }
            self.inner.borrow_mut().controller.reset();
            self.publish_drift(now, None, &video, playback.position);
            return;
        }

        let target = playback.position_at(now_server);
        // At the very end the group is about to finish or move on (the server decides): the
        // video stays there, since play() on an ended video would start it over. ("Play again"
        // moves the line back to 0:00, and the video follows it from there.)
        let length = video.duration();
        if length.is_finite() && target >= length - 0.1 {
            return;
        }
        if video.paused() {
            if (video.current_time() - target).abs() > 0.3 && !video.seeking() {
                video.set_current_time(target + 0.05);
            }
            if self.view.needs_click.get_untracked() {
                return; // blocked by the browser: wait for the viewer's click
            }
            // Ask once; ask again if the video still sits paused with data to play a while
            // later (something paused it after the request: a source swap, the browser).
            let source = video.current_src();
            let asked = self
                .inner
                .borrow()
                .play_requested
                .as_ref()
                .filter(|(el, src, _)| *el == video && *src == source)
                .map(|(_, _, at)| *at);
            let retry = asked.is_none_or(|at| {
                now - at > PLAY_RETRY_MS && video.ready_state() >= 3 && !video.seeking()
            });
            if retry {
                self.inner.borrow_mut().play_requested = Some((video.clone(), source, now));
                self.play(&video);
            }
            return;
        }
        self.inner.borrow_mut().play_requested = None;
        // The group jumped (a seek, or a new line took effect): follow at once rather than
        // through the drift filter, which is meant for slow drift.
        let new_line = {
            let mut inner = self.inner.borrow_mut();
            let new_line = inner.last_line != Some(playback);
            inner.last_line = Some(playback);
            new_line
        };
        if new_line && (video.current_time() - target).abs() > 0.5 {
            let lead = self.inner.borrow().controller.seek_latency() * playback.rate;
            video.set_current_time(target + lead);
            self.inner.borrow_mut().controller.reset();
            return;
        }
        if video.seeking() || video.ready_state() < 3 {
            return;
        }
        let local = video.current_time();
        let ahead = buffered_ahead(&video, local);
        let correction =
            self.inner
                .borrow_mut()
                .controller
                .update(now, local, target, playback.rate, ahead);
        if let Some(to) = correction.seek {
            video.set_current_time(to);
            self.inner.borrow_mut().seeks += 1;
        }
        if (video.playback_rate() - correction.rate).abs() > 1e-3 {
            video.set_playback_rate(correction.rate);
        }
        self.publish_drift(now, Some(local - target), &video, target);
    }

    /// If the group is playing, puts `video` where the group is now, ahead by the time a seek
    /// takes here.
    fn seek_to_group(&self, video: &HtmlVideoElement) {
        let now_server = self.server_now();
        let (playback, lead) = {
            let mut inner = self.inner.borrow_mut();
            let lead = inner.controller.seek_latency();
            let Some(mirror) = inner.mirror.as_mut() else {
                return;
            };
            (mirror.timeline.at(now_server), lead)
        };
        if playback.playing {
            video.set_current_time(playback.position_at(now_server) + lead * playback.rate);
            self.inner.borrow_mut().controller.reset();
        }
    }

    fn play(self: &Rc<Self>, video: &HtmlVideoElement) {
        let Ok(promise) = video.play() else { return };
        let me = self.clone();
        let on_err = Closure::once(move |err: JsValue| {
            me.inner.borrow_mut().play_requested = None;
            let name = js_sys::Reflect::get(&err, &"name".into())
                .ok()
                .and_then(|n| n.as_string())
                .unwrap_or_default();
            if name == "NotAllowedError" {
                me.view.needs_click.set(true);
            }
        });
        let _ = promise.catch(&on_err);
        on_err.forget();
        self.view.needs_click.set(false);
    }

    /// Updates the UI's drift readout (a few times a second) and exposes the numbers to
    /// benchmarks as `window.__marqueeSync`.
    fn publish_drift(&self, now: f64, drift: Option<f64>, video: &HtmlVideoElement, target: f64) {
        let seeks = self.inner.borrow().seeks;
        if let Some(w) = web_sys::window() {
            let obj = js_sys::Object::new();
            let set = |k: &str, v: JsValue| {
                let _ = js_sys::Reflect::set(&obj, &k.into(), &v);
            };
            set(
                "drift",
                drift.map(JsValue::from_f64).unwrap_or(JsValue::NULL),
            );
            set("target", JsValue::from_f64(target));
            set("position", JsValue::from_f64(video.current_time()));
            set("rate", JsValue::from_f64(video.playback_rate()));
            set("seeks", JsValue::from_f64(f64::from(seeks)));
            set("serverNow", JsValue::from_f64(self.server_now()));
            set(
                "offset",
                JsValue::from_f64(self.inner.borrow().clock.offset()),
            );
            let _ = js_sys::Reflect::set(&w, &"__marqueeSync".into(), &obj);
        }
        let last = self.inner.borrow().last_drift_publish;
        if now - last > 500.0 {
            self.inner.borrow_mut().last_drift_publish = now;
            self.view.drift_ms.set(drift.map(|d| d * 1000.0));
        }
        let reported = self.inner.borrow().last_drift_report;
        if let Some(d) = drift
            && now - reported >= DRIFT_REPORT_EVERY_MS
            && self.raw_send(&ClientMsg::Drift {
                drift_ms: d * 1000.0,
            })
        {
            self.inner.borrow_mut().last_drift_report = now;
        }
    }
}

fn buffered_ahead(video: &HtmlVideoElement, at: f64) -> f64 {
    let ranges = video.buffered();
    (0..ranges.length())
        .filter_map(|i| Some((ranges.start(i).ok()?, ranges.end(i).ok()?)))
        .find(|(s, e)| *s <= at + 0.1 && at <= *e)
        .map(|(_, e)| e - at)
        .unwrap_or(0.0)
}

fn set_timeout(ms: f64, f: impl FnOnce() + 'static) {
    let cb = Closure::once(f);
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
            cb.as_ref().unchecked_ref(),
            ms.round() as i32,
        );
    }
    cb.forget();
}
