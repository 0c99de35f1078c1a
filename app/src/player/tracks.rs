//! The player's audio and subtitle menus, and the text subtitles it draws.
//!
//! Each viewer picks for themselves ([`super::prefs`]): a text subtitle is a `<track>` of
//! Marquee's WebVTT on this viewer's `<video>`, drawn by the browser in the chosen size and
//! background, shifted by the viewer's timing nudge. An audio track other than the file's
//! default, or a picture subtitle, needs another stream: the menu puts the choice in the page's
//! URL (`audio=`, `burn=`), the page asks the server for that stream, and in a shared session
//! the player rejoins the group where it is.

use leptos::html;
use leptos::prelude::*;

use super::prefs::{
    self, MAX_NUDGE, NUDGE_STEP, SubtitleBackground, SubtitleChoice, SubtitleSize, TrackPrefs,
};
use crate::model::{PlaybackInfo, SubtitleTrack};

/// The state of this viewer's subtitles. `Copy`: signals and stored values only.
#[derive(Clone, Copy)]
pub struct Subtitles {
    /// The text track shown, by stream id.
    pub chosen: RwSignal<Option<i64>>,
    pub size: RwSignal<SubtitleSize>,
    pub background: RwSignal<SubtitleBackground>,
    /// Seconds the cues are moved (positive: later).
    pub nudge: RwSignal<f64>,
    tracks: StoredValue<Vec<SubtitleTrack>>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    rating_key: StoredValue<String>,
    track_ref: NodeRef<html::Track>,
    /// Bumped when the `<track>` finished loading its cues.
    loaded: RwSignal<u32>,
    /// How far the loaded cues have been moved already.
    applied: StoredValue<f64>,
}

impl Subtitles {
    /// Nothing shown until the browser has read the viewer's choices (the server renders
    /// the page without them, and hydration must match).
    pub fn new(info: &PlaybackInfo) -> Self {
        Subtitles {
            chosen: RwSignal::new(None),
            size: RwSignal::new(SubtitleSize::default()),
            background: RwSignal::new(SubtitleBackground::default()),
            nudge: RwSignal::new(0.0),
            tracks: StoredValue::new(info.subtitle_tracks.clone()),
            rating_key: StoredValue::new(info.rating_key.clone()),
            track_ref: NodeRef::new(),
            loaded: RwSignal::new(0),
            applied: StoredValue::new(0.0),
        }
    }

    fn track(&self, id: i64) -> Option<SubtitleTrack> {
        self.tracks
            .with_value(|all| all.iter().find(|t| t.id == id).cloned())
    }

    /// The `<track>` of the chosen text subtitle, for inside the `<video>`.
    pub fn track_element(self) -> impl IntoView {
        move || {
            let track = self.chosen.get().and_then(|id| self.track(id))?;
            let url = crate::paths::local(track.url.as_deref()?);
            Some(view! {
                <track
                    node_ref=self.track_ref
                    kind="subtitles"
                    src=url
                    srclang=track.language.clone().unwrap_or_else(|| "und".into())
                    label=track.label.clone()
                    default=true
                    on:load=move |_| {
                        self.applied.set_value(0.0);
                        self.loaded.update(|n| *n += 1);
                    }
                />
            })
        }
    }

    /// Reads the viewer's choices once hydrated, shows their track, and keeps the cues
    /// moved by the nudge.
    #[cfg(feature = "hydrate")]
    pub fn start(self, info: &PlaybackInfo) {
        let burned = info.burned;
        // After hydration (an effect): the server rendered none of this.
        Effect::new(move |_| {
            let prefs = TrackPrefs::load();
            self.size.set(prefs.size);
            self.background.set(prefs.background);
            self.nudge
                .set(self.rating_key.with_value(|k| prefs::nudge(k)));
            if burned.is_none() {
                let wanted = self
                    .tracks
                    .with_value(|all| prefs::wanted_subtitle(all, &prefs).map(|t| (t.id, t.image)));
                if let Some((id, false)) = wanted {
                    self.chosen.set(Some(id));
                }
            }
        });
        Effect::new(move |_| {
            self.loaded.track();
            let nudge = self.nudge.get();
            let Some(el) = self.track_ref.get() else {
                return;
            };
            let Some(track) = el.track() else { return };
            track.set_mode(web_sys::TextTrackMode::Showing);
            let Some(cues) = track.cues() else { return };
            let delta = nudge - self.applied.get_value();
            if delta == 0.0 {
                return;
            }
            for i in 0..cues.length() {
                if let Some(cue) = web_sys::TextTrackCueList::get(&cues, i) {
                    cue.set_end_time((cue.end_time() + delta).max(0.0));
                    cue.set_start_time((cue.start_time() + delta).max(0.0));
                }
            }
            self.applied.set_value(nudge);
        });
    }

    fn classes(self) -> String {
        format!(
            "subtitles-{} subtitles-{}",
            self.size.get().name(),
            self.background.get().name()
        )
    }

    /// Classes for the player: how the cues are drawn.
    pub fn player_classes(self) -> Signal<String> {
        Signal::derive(move || self.classes())
    }
}

/// What a menu asks of the page: set (or, with `None`, drop) a URL parameter, so that the
/// page loads the stream with it.
pub type Navigate = Callback<(&'static str, Option<String>)>;

/// The audio menu (when the version has more than one track).
#[component]
pub fn AudioMenu(info: PlaybackInfo, navigate: Navigate) -> impl IntoView {
    let tracks = info.audio_tracks.clone();
    if tracks.len() < 2 {
        return ().into_any();
    }
    let playing = info.audio;
    let languages: Vec<Option<String>> = tracks.iter().map(|t| t.language.clone()).collect();
    let on_change = {
        let tracks = tracks.clone();
        move |e: leptos::ev::Event| {
            let Ok(id) = event_target_value(&e).parse::<i64>() else {
                return;
            };
            let Some(track) = tracks.iter().find(|t| t.id == id) else {
                return;
            };
            let mut prefs = TrackPrefs::load();
            prefs.audio = track.language.clone();
            prefs.save();
            let langs: Vec<Option<&str>> = languages.iter().map(|l| l.as_deref()).collect();
            let value = (!track.default)
                .then(|| prefs::pick_value(track.id, track.language.as_deref(), &langs));
            navigate.run(("audio", value));
        }
    };
    view! {
        <select class="audio" aria-label="Audio" title="Audio track: yours alone" on:change=on_change>
            {tracks
                .iter()
                .map(|t| {
                    let mark = if t.default { " · default" } else { "" };
                    view! {
                        <option value=t.id.to_string() selected=playing == Some(t.id)>
                            {format!("{}{mark}", t.label)}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
    .into_any()
}

/// The subtitle menu and the subtitle look (size, background, timing).
#[component]
pub fn SubtitleMenu(info: PlaybackInfo, subs: Subtitles, navigate: Navigate) -> impl IntoView {
    let tracks = info.subtitle_tracks.clone();
    if tracks.is_empty() {
        return ().into_any();
    }
    let burned = info.burned;
    // Size, background and timing apply to the text the browser draws, not to burned-in text.
    let has_text = tracks.iter().any(|t| !t.image);
    let images: Vec<Option<String>> = tracks
        .iter()
        .filter(|t| t.image)
        .map(|t| t.language.clone())
        .collect();
    let rating_key = StoredValue::new(info.rating_key.clone());
    let current = move || match (burned, subs.chosen.get()) {
        (Some(id), _) => format!("i{id}"),
        (None, Some(id)) => format!("t{id}"),
        (None, None) => String::new(),
    };
    let on_change = {
        let tracks = tracks.clone();
        move |e: leptos::ev::Event| {
            let value = event_target_value(&e);
            let mut prefs = TrackPrefs::load();
            let track = value
                .get(1..)
                .and_then(|id| id.parse::<i64>().ok())
                .and_then(|id| tracks.iter().find(|t| t.id == id));
            match track {
                None => {
                    prefs.subtitles = SubtitleChoice::Off;
                    prefs.save();
                    subs.chosen.set(None);
                    if burned.is_some() {
                        navigate.run(("burn", None));
                    }
                }
                Some(t) => {
                    prefs.subtitles = SubtitleChoice::Language {
                        code: t.language.clone().unwrap_or_else(|| "und".into()),
                        forced: t.forced,
                        image: t.image,
                    };
                    prefs.save();
                    if t.image {
                        let langs: Vec<Option<&str>> =
                            images.iter().map(|l| l.as_deref()).collect();
                        let value = prefs::pick_value(t.id, t.language.as_deref(), &langs);
                        navigate.run(("burn", Some(value)));
                    } else {
                        subs.chosen.set(Some(t.id));
                        if burned.is_some() {
                            navigate.run(("burn", None));
                        }
                    }
                }
            }
        }
    };
    let nudge_by = move |step: f64| {
        let next = ((subs.nudge.get_untracked() + step) * 10.0).round() / 10.0;
        let next = next.clamp(-MAX_NUDGE, MAX_NUDGE);
        subs.nudge.set(next);
        rating_key.with_value(|k| prefs::set_nudge(k, next));
    };
    let save_look = move || {
        let mut prefs = TrackPrefs::load();
        prefs.size = subs.size.get_untracked();
        prefs.background = subs.background.get_untracked();
        prefs.save();
    };
    view! {
        <select class="subtitles" aria-label="Subtitles" title="Subtitles: yours alone" prop:value=current on:change=on_change>
            <option value="">"Subtitles off"</option>
            {tracks
                .iter()
                .map(|t| {
                    let mut label = t.label.clone();
                    if t.forced {
                        label.push_str(" · forced");
                    }
                    if t.default {
                        label.push_str(" · default");
                    }
                    if t.image {
                        label.push_str(" · burned in");
                    }
                    let value = format!("{}{}", if t.image { "i" } else { "t" }, t.id);
                    view! { <option value=value>{label}</option> }
                })
                .collect_view()}
        </select>
        {has_text.then(|| view! {
            <details class="subtitle-look">
                <summary aria-label="Subtitle settings" title="Subtitle size, background and timing">"Aa"</summary>
                <div class="subtitle-look-panel">
                    <label>
                        "Size"
                        <select
                            class="subtitle-size"
                            prop:value=move || subs.size.get().name()
                            on:change=move |e| {
                                subs.size.set(SubtitleSize::from_name(&event_target_value(&e)));
                                save_look();
                            }
                        >
                            {SubtitleSize::ALL
                                .map(|s| view! { <option value=s.name()>{s.name()}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    <label>
                        "Background"
                        <select
                            class="subtitle-background"
                            prop:value=move || subs.background.get().name()
                            on:change=move |e| {
                                subs.background
                                    .set(SubtitleBackground::from_name(&event_target_value(&e)));
                                save_look();
                            }
                        >
                            {SubtitleBackground::ALL
                                .map(|b| view! { <option value=b.name()>{b.name()}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    <div class="subtitle-timing" role="group" aria-label="Subtitle timing">
                        <span>"Timing"</span>
                        <button class="ctl nudge-earlier" aria-label="Subtitles earlier" on:click=move |_| nudge_by(-NUDGE_STEP)>"−"</button>
                        <output class="nudge" aria-live="polite">{move || format!("{:+.1} s", subs.nudge.get())}</output>
                        <button class="ctl nudge-later" aria-label="Subtitles later" on:click=move |_| nudge_by(NUDGE_STEP)>"+"</button>
                    </div>
                </div>
            </details>
        })}
    }
    .into_any()
}
