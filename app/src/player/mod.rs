//! The player: Marquee's controls around the HTML5 `<video>` element.
//!
//! Direct-play media is a plain `src`; transcoded media is HLS, attached through hls.js (see
//! [`hls`]). Controls are ours rather than the browser's so they look the same everywhere and so
//! the shared-session code can drive them later: play/pause, a seek bar that shows what is
//! buffered, time, volume and mute, fullscreen, keyboard shortcuts, a buffering indicator, readable
//! errors, and a version picker when an item has several media versions.
//!
//! In a shared session the player does not act on its own video: it tells the session what the
//! viewer asked for through [`SessionHooks`], and the session moves the video to follow the
//! group. The player knows nothing else about sessions (the session page builds the hooks).

pub mod format;
pub mod hls;
pub mod keys;
pub mod prefs;
pub mod tracks;

use leptos::ev;
use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use crate::components::icons::{Icon, IconKind};
use crate::error::AppError;
use crate::model::{PlayMode, PlaybackInfo};
use format::format_time;
use keys::{KeyAction, action_for};

/// How to play an item, and which version.
#[server(endpoint = "playback")]
pub async fn get_playback(
    key: String,
    version: Option<u32>,
    quality: Option<u32>,
    audio: Option<String>,
    burn: Option<String>,
) -> Result<PlaybackInfo, AppError> {
    let played = async {
        let picks = crate::ssr::tracks::TrackPicks::parse(audio.as_deref(), burn.as_deref())?;
        crate::ssr::services()?
            .library
            .playback(
                &key,
                version,
                quality,
                &picks,
                &crate::ssr::account::transcode_owner(),
            )
            .await
    };
    // A bad pick or version is the caller's mistake: its status, not a 500.
    played.await.inspect_err(crate::ssr::set_status_for)
}

/// What the player needs from a shared session: where the viewer's play, pause and seek go
/// instead of the video, where the player reports its `<video>` and its stalls, and what the
/// session wants shown. `Copy`: every field is a signal or a callback handle.
#[derive(Clone, Copy)]
pub struct SessionHooks {
    /// Whether the group is playing (or about to resume after a wait): the play button pauses.
    pub group_playing: Signal<bool>,
    /// The browser blocked autoplay: show one "click to join playback" button.
    pub needs_click: Signal<bool>,
    /// The viewer pressed play.
    pub on_play: Callback<()>,
    /// The viewer pressed pause.
    pub on_pause: Callback<()>,
    /// The viewer sought to this position, in seconds (already clamped to the duration).
    pub on_seek: Callback<f64>,
    /// The `<video>` element appeared (or changed with the item): the session drives it.
    pub on_video_attached: Callback<web_sys::HtmlVideoElement>,
    /// The video stalled (`true`, the `waiting` event) or can play again (`false`).
    pub on_stall: Callback<bool>,
    /// The viewer clicked "click to join playback" (a user gesture the browser lets play).
    pub on_gesture_play: Callback<()>,
}

/// A readable message for `MediaError.code`.
pub fn media_error_message(code: u16) -> &'static str {
    match code {
        1 => "Playback was aborted.",
        2 => "A network error stopped the video. Check the connection and press play to retry.",
        3 => "The video could not be decoded. Try another version if there is one.",
        4 => {
            "The video could not be loaded: the server did not deliver it, or this browser cannot play its format."
        }
        _ => "The video failed to play.",
    }
}

/// Buffered ranges as `(start%, width%)` of the duration, for the seek bar.
fn buffered_percentages(video: &web_sys::HtmlVideoElement, duration: f64) -> Vec<(f64, f64)> {
    let ranges = video.buffered();
    if !(duration.is_finite() && duration > 0.0) {
        return Vec::new();
    }
    (0..ranges.length())
        .filter_map(|i| {
            let start = ranges.start(i).ok()?;
            let end = ranges.end(i).ok()?;
            Some((start / duration * 100.0, (end - start) / duration * 100.0))
        })
        .collect()
}

/// Where the pointer is across the seek bar, from 0 to 1.
fn pointer_fraction(e: &leptos::ev::PointerEvent) -> Option<f64> {
    use wasm_bindgen::JsCast;
    let bar = e.current_target()?.dyn_into::<web_sys::Element>().ok()?;
    let rect = bar.get_bounding_client_rect();
    (rect.width() > 0.0)
        .then(|| ((f64::from(e.client_x()) - rect.left()) / rect.width()).clamp(0.0, 1.0))
}

/// The thumbnail link for `secs` into the item: the signed previews link with the time (ms,
/// on Plex's 2 s grid, so neighbouring pixels share one cached image) after its path.
fn preview_src(base: &str, secs: f64) -> String {
    let ms = ((secs.max(0.0) / 2.0).floor() * 2000.0) as u64;
    match base.split_once('?') {
        Some((path, query)) => format!("{path}/{ms}?{query}"),
        None => format!("{base}/{ms}"),
    }
}

/// The player for `info`; with `session`, its controls drive the group (see [`SessionHooks`]).
#[component]
pub fn Player(
    info: PlaybackInfo,
    #[prop(optional)] session: Option<SessionHooks>,
) -> impl IntoView {
    let video_ref = NodeRef::<html::Video>::new();
    let shell_ref = NodeRef::<html::Div>::new();

    let (playing, set_playing) = signal(false);
    let (time, set_time) = signal(0.0_f64);
    let (duration, set_duration) =
        signal(info.duration_ms.map(|ms| ms as f64 / 1000.0).unwrap_or(0.0));
    let (buffered, set_buffered) = signal(Vec::<(f64, f64)>::new());
    let (volume, set_volume) = signal(1.0_f64);
    let (muted, set_muted) = signal(false);
    let (waiting, set_waiting) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let (fullscreen, set_fullscreen) = signal(false);

    let is_hls = info.mode == PlayMode::Hls;
    let src = crate::paths::local(&info.src);
    // Seek previews: where the pointer is over the seek bar (a fraction of it), while it is.
    let previews = info.previews.clone().map(|p| crate::paths::local(&p));
    let (hover, set_hover) = signal(None::<f64>);
    let subs = tracks::Subtitles::new(&info);
    // `data-ready` once the controls are live (hydrated), for scripts and tests.
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));

    // A URL parameter set (or dropped): the page loads the stream it names. The quality, audio
    // and burn menus go through here; in a session the player rejoins the group where it is.
    let location = leptos_router::hooks::use_location();
    let navigate_param: tracks::Navigate = {
        let navigate = use_navigate();
        let location = location.clone();
        Callback::new(move |(name, value): (&'static str, Option<String>)| {
            let path = location.pathname.get_untracked();
            let mut query = location.query.get_untracked();
            match value {
                Some(v) => query.replace(name, v),
                None => {
                    query.remove(name);
                }
            }
            navigate(
                &format!("{path}{}", query.to_query_string()),
                Default::default(),
            );
        })
    };
    #[cfg(feature = "hydrate")]
    {
        subs.start(&info);
        // The viewer's remembered audio language, or picture subtitle, needs another stream:
        // ask for it once, unless the URL already says what to play.
        let prefs_now = prefs::TrackPrefs::load();
        let audio = prefs::wanted_audio(&info, &prefs_now).map(|t| {
            let langs: Vec<Option<&str>> = info
                .audio_tracks
                .iter()
                .map(|t| t.language.as_deref())
                .collect();
            prefs::pick_value(t.id, t.language.as_deref(), &langs)
        });
        let burn = prefs::wanted_subtitle(&info.subtitle_tracks, &prefs_now)
            .filter(|t| t.image && info.burned.is_none())
            .map(|t| t.id.to_string());
        Effect::new(move |_| {
            let query = location.query.get_untracked();
            if let Some(a) = audio.clone().filter(|_| query.get("audio").is_none()) {
                navigate_param.run(("audio", Some(a)));
            } else if let Some(b) = burn.clone().filter(|_| query.get("burn").is_none()) {
                navigate_param.run(("burn", Some(b)));
            }
        });
    }

    // Attach HLS once the element exists in the browser (never on the server).
    #[cfg(feature = "hydrate")]
    if is_hls {
        hls::attach(
            video_ref,
            src.clone(),
            info.stop_url.clone(),
            info.timeline_url.clone(),
            set_error,
        );
    }

    let video = move || video_ref.get();

    // In a shared session the controls tell the session instead of acting locally; the
    // session moves this video to follow the group.
    let synced = session.is_some();
    if let Some(hooks) = session {
        Effect::new(move |_| {
            if let Some(v) = video_ref.get() {
                hooks.on_video_attached.run(v);
            }
        });
    }
    let stalled = move |on: bool| {
        if let Some(hooks) = session {
            hooks.on_stall.run(on);
        }
    };

    // The server-rendered <video> starts loading before the WASM arrives, so events may have
    // fired before hydration: read the element's state once it is ours.
    Effect::new(move |_| {
        let Some(v) = video_ref.get() else { return };
        if let Some(err) = v.error() {
            set_error.set(Some(media_error_message(err.code()).to_string()));
        }
        let d = v.duration();
        if d.is_finite() && d > 0.0 {
            set_duration.set(d);
        }
        set_time.set(v.current_time());
        set_playing.set(!v.paused());
        set_volume.set(v.volume());
        set_muted.set(v.muted());
    });
    let play_when_loaded = StoredValue::new(false);
    let toggle_play = move || {
        if let Some(hooks) = session {
            if hooks.group_playing.get_untracked() {
                hooks.on_pause.run(());
            } else {
                hooks.on_play.run(());
            }
            return;
        }
        if let Some(v) = video() {
            if v.paused() {
                // A direct-play source that failed stays failed: `play()` alone does nothing,
                // and clearing the message would leave a dead player without a word. Load it
                // again (the retry the message offers); a new failure shows the message again.
                if !is_hls && v.error().is_some() {
                    v.load();
                }
                set_error.set(None);
                // hls.js attaching its source restarts the element's loading, which drops a
                // `play()` made before it: remember the press until the stream is there.
                if is_hls && v.current_src().is_empty() {
                    play_when_loaded.set_value(true);
                }
                let _ = v.play();
            } else {
                let _ = v.pause();
            }
        }
    };
    let seek_to = move |t: f64| {
        if let Some(hooks) = session {
            let max = duration.get_untracked();
            let t = if max > 0.0 {
                t.clamp(0.0, max)
            } else {
                t.max(0.0)
            };
            hooks.on_seek.run(t);
            return;
        }
        if let Some(v) = video() {
            let d = v.duration();
            let max = if d.is_finite() { d } else { f64::MAX };
            v.set_current_time(t.clamp(0.0, max));
        }
    };
    let set_vol = move |vol: f64| {
        if let Some(v) = video() {
            v.set_volume(vol.clamp(0.0, 1.0));
            v.set_muted(false);
        }
    };
    let toggle_mute = move || {
        if let Some(v) = video() {
            v.set_muted(!v.muted());
        }
    };
    let toggle_fullscreen = move || {
        let document = web_sys::window().and_then(|w| w.document());
        if let Some(doc) = document {
            if doc.fullscreen_element().is_some() {
                doc.exit_fullscreen();
            } else if let Some(el) = shell_ref.get() {
                let _ = el.request_fullscreen();
            }
        }
    };

    // Keyboard shortcuts anywhere on the page, except while typing in a form field.
    let key_handle = window_event_listener(ev::keydown, move |e: web_sys::KeyboardEvent| {
        let typing = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"));
        if typing {
            return;
        }
        let Some(action) = action_for(&e.key(), e.ctrl_key() || e.meta_key()) else {
            return;
        };
        e.prevent_default();
        let now = video().map(|v| v.current_time()).unwrap_or(0.0);
        match action {
            KeyAction::TogglePlay => toggle_play(),
            KeyAction::SeekBy(delta) => seek_to(now + delta),
            KeyAction::SeekToFraction(f) => seek_to(duration.get_untracked() * f),
            KeyAction::VolumeBy(delta) => set_vol(volume.get_untracked() + delta),
            KeyAction::ToggleMute => toggle_mute(),
            KeyAction::ToggleFullscreen => toggle_fullscreen(),
        }
    });
    on_cleanup(move || key_handle.remove());
    let fs_handle = window_event_listener(ev::fullscreenchange, move |_| {
        let active = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.fullscreen_element())
            .is_some();
        set_fullscreen.set(active);
    });
    on_cleanup(move || fs_handle.remove());

    let update_buffered = move || {
        if let Some(v) = video() {
            set_buffered.set(buffered_percentages(&v, v.duration()));
        }
    };
    let navigate = use_navigate();
    let rating_key = info.rating_key.clone();
    let versions = info.versions.clone();
    let selected = info.media_index;
    let quality = info.quality;
    let menus_info = info.clone();

    view! {
        <div
            class="player"
            node_ref=shell_ref
            class:fullscreen=fullscreen
            data-mode=if is_hls { "hls" } else { "direct" }
            data-ready=move || ready.get().then_some("1")
        >
            <video
                node_ref=video_ref
                class=move || format!("player-video {}", subs.player_classes().get())
                src=(!is_hls).then(|| src.clone())
                poster=info.backdrop.as_deref().map(crate::paths::local)
                preload="metadata"
                playsinline=true
                on:click=move |_| toggle_play()
                on:dblclick=move |_| toggle_fullscreen()
                on:play=move |_| set_playing.set(true)
                on:pause=move |_| set_playing.set(false)
                on:timeupdate=move |_| {
                    if let Some(v) = video() {
                        set_time.set(v.current_time());
                    }
                }
                on:durationchange=move |_| {
                    if let Some(v) = video() {
                        let d = v.duration();
                        if d.is_finite() && d > 0.0 {
                            set_duration.set(d);
                        }
                    }
                }
                on:loadedmetadata=move |_| {
                    if play_when_loaded.get_value() {
                        play_when_loaded.set_value(false);
                        if let Some(v) = video() {
                            let _ = v.play();
                        }
                    }
                }
                on:progress=move |_| update_buffered()
                on:loadeddata=move |_| update_buffered()
                on:waiting=move |_| {
                    set_waiting.set(true);
                    stalled(true);
                }
                on:seeking=move |_| {
                    set_waiting.set(true);
                    if let Some(v) = video() {
                        set_time.set(v.current_time());
                    }
                }
                on:playing=move |_| {
                    set_waiting.set(false);
                    stalled(false);
                    update_buffered();
                }
                on:seeked=move |_| set_waiting.set(false)
                on:canplay=move |_| {
                    set_waiting.set(false);
                    stalled(false);
                }
                on:volumechange=move |_| {
                    if let Some(v) = video() {
                        set_volume.set(v.volume());
                        set_muted.set(v.muted());
                    }
                }
                on:error=move |_| {
                    if let Some(code) = video().and_then(|v| v.error()).map(|e| e.code()) {
                        set_error.set(Some(media_error_message(code).to_string()));
                        set_waiting.set(false);
                    }
                }
            >
                {subs.track_element()}
            </video>
            {move || {
                session
                    .filter(|hooks| hooks.needs_click.get())
                    .map(|hooks| {
                        view! {
                            <button class="player-join" on:click=move |_| hooks.on_gesture_play.run(())>
                                <Icon kind=IconKind::Play />
                                <span>"Click to join playback"</span>
                            </button>
                        }
                    })
            }}
            <Show when=move || waiting.get() && error.get().is_none()>
                <div class="player-spinner" role="status" aria-label="Buffering"></div>
            </Show>
            {move || {
                error
                    .get()
                    .map(|msg| {
                        view! {
                            <div class="player-error" role="alert">
                                <strong>"Can't play this video"</strong>
                                <p>{msg}</p>
                            </div>
                        }
                    })
            }}
            <div class="controls">
                <button
                    class="ctl play"
                    aria-label=move || if playing.get() { "Pause" } else { "Play" }
                    on:click=move |_| toggle_play()
                >
                    <Icon kind=Signal::derive(move || if playing.get() { IconKind::Pause } else { IconKind::Play }) />
                </button>
                <div
                    class="seek"
                    on:pointermove=move |e| set_hover.set(pointer_fraction(&e))
                    on:pointerleave=move |_| set_hover.set(None)
                >
                    {move || {
                        let base = previews.clone()?;
                        let fraction = hover.get()?;
                        let at = fraction * duration.get();
                        (duration.get() > 0.0)
                            .then(|| {
                                view! {
                                    <div
                                        class="seek-preview"
                                        aria-hidden="true"
                                        style:left=format!("{:.2}%", fraction * 100.0)
                                    >
                                        <img alt="" src=preview_src(&base, at) />
                                        <span>{format_time(at)}</span>
                                    </div>
                                }
                            })
                    }}
                    <div class="seek-buffered" aria-hidden="true">
                        {move || {
                            buffered
                                .get()
                                .into_iter()
                                .map(|(left, width)| {
                                    // Set through the CSSOM (`style:`), which the CSP allows; a
                                    // `style` attribute it would refuse.
                                    view! {
                                        <span
                                            style:left=format!("{left:.2}%")
                                            style:width=format!("{width:.2}%")
                                        ></span>
                                    }
                                })
                                .collect_view()
                        }}
                    </div>
                    <input
                        class="seek-input"
                        type="range"
                        min="0"
                        step="0.1"
                        aria-label="Seek"
                        prop:max=move || duration.get()
                        prop:value=move || time.get()
                        on:input=move |e| {
                            if let Ok(t) = event_target_value(&e).parse::<f64>() {
                                if synced {
                                    set_time.set(t); // sent on release, not for every pixel dragged
                                } else {
                                    seek_to(t);
                                }
                            }
                        }
                        on:change=move |e| {
                            if synced && let Ok(t) = event_target_value(&e).parse::<f64>() {
                                seek_to(t);
                            }
                        }
                    />
                </div>
                <span class="time" aria-live="off">
                    {move || format!("{} / {}", format_time(time.get()), format_time(duration.get()))}
                </span>
                <button
                    class="ctl mute"
                    aria-label=move || if muted.get() { "Unmute" } else { "Mute" }
                    on:click=move |_| toggle_mute()
                >
                    <Icon kind=Signal::derive(move || {
                        if muted.get() || volume.get() == 0.0 { IconKind::Muted } else { IconKind::Volume }
                    }) />
                </button>
                <input
                    class="volume"
                    type="range"
                    min="0"
                    max="1"
                    step="0.05"
                    aria-label="Volume"
                    prop:value=move || if muted.get() { 0.0 } else { volume.get() }
                    on:input=move |e| {
                        if let Ok(v) = event_target_value(&e).parse::<f64>() {
                            set_vol(v);
                        }
                    }
                />
                <Show when={
                    let n = versions.len();
                    move || n > 1 && !synced
                }>
                    <select
                        class="version"
                        aria-label="Version"
                        on:change={
                            let navigate = navigate.clone();
                            let rating_key = rating_key.clone();
                            move |e| {
                                let v = event_target_value(&e);
                                navigate(&format!("/watch/{rating_key}?v={v}"), Default::default());
                            }
                        }
                    >
                        {versions
                            .iter()
                            .map(|v| {
                                view! {
                                    <option value=v.index.to_string() selected=v.index == selected>
                                        {v.label.clone()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </Show>
                <tracks::AudioMenu info=menus_info.clone() navigate=navigate_param />
                <tracks::SubtitleMenu info=menus_info subs navigate=navigate_param />
                <select
                    class="quality"
                    aria-label="Quality"
                    title="A lower quality is transcoded by Plex: for a slow connection, or a browser that cannot play the original"
                    on:change=move |e| {
                        let chosen = event_target_value(&e);
                        navigate_param.run(("quality", (!chosen.is_empty()).then_some(chosen)));
                    }
                >
                    <option value="" selected=quality.is_none()>"Original"</option>
                    {crate::model::TRANSCODE_QUALITIES
                        .iter()
                        .map(|k| {
                            view! {
                                <option value=k.to_string() selected=quality == Some(*k)>
                                    {format!("{} Mbps", f64::from(*k) / 1000.0)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <button class="ctl fs" aria-label="Fullscreen" on:click=move |_| toggle_fullscreen()>
                    <Icon kind=IconKind::Fullscreen />
                </button>
            </div>
            <p class="shortcuts muted">{keys::HELP}</p>
        </div>
    }
    .into_any()
}
