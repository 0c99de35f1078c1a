//! hls.js, bundled from npm at build time and served as `/pkg/hls.min.js`, for the transcoded
//! (HLS) path: Chromium without native HLS and Discord's embedded browsers play it through Media
//! Source Extensions. The script is loaded only when a page actually needs it.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The `Hls` class that hls.js puts on `window`.
    #[derive(Clone)]
    pub type Hls;

    #[wasm_bindgen(constructor, js_class = "Hls")]
    pub fn new(config: &JsValue) -> Hls;

    #[wasm_bindgen(static_method_of = Hls, js_class = "Hls", js_name = isSupported)]
    pub fn is_supported() -> bool;

    #[wasm_bindgen(method, js_name = loadSource)]
    pub fn load_source(this: &Hls, url: &str);

    #[wasm_bindgen(method, js_name = attachMedia)]
    pub fn attach_media(this: &Hls, media: &web_sys::HtmlMediaElement);

    #[wasm_bindgen(method)]
    pub fn on(this: &Hls, event: &str, callback: &js_sys::Function);

    #[wasm_bindgen(method)]
    pub fn destroy(this: &Hls);
}

/// How often a playing (or paused) player reports its state (see
/// `PlaybackInfo::timeline_url`), besides on play, pause and seek: Plex's own players report
/// about every 10 s, and the server's idle limit is a few of these.
pub const REPORT_EVERY_SECS: u64 = 10;

/// hls.js's plain name under `/pkg/` (see [`crate::assets`]).
pub const SCRIPT: &str = "hls.min.js";

/// Load hls.js once and resolve when `window.Hls` exists.
pub async fn ensure_loaded() -> Result<(), String> {
    crate::script::ensure_loaded(&crate::assets::pkg_path(SCRIPT), "Hls", "HLS player").await
}

/// Play `src` through hls.js in `video` (or natively where the browser has HLS), report fatal
/// stream errors through `set_error`, report the player's state to `timeline_url` (on play,
/// pause, seek, stalls and every [`REPORT_EVERY_SECS`]) so the transcode stays alive and Plex
/// knows where the party is, and leave (`stop_url`) when the player goes away or the page is
/// hidden. When Plex ended the stream, its reason is shown.
#[cfg(feature = "hydrate")]
pub fn attach(
    video_ref: leptos::prelude::NodeRef<leptos::html::Video>,
    src: String,
    stop_url: Option<String>,
    timeline_url: Option<String>,
    set_error: leptos::prelude::WriteSignal<Option<String>>,
) {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;

    // Client-only code, so thread-local storage is fine for the JS object.
    let instance = StoredValue::new_local(None::<Hls>);
    Effect::new(move |_| {
        let Some(video) = video_ref.get() else { return };
        let src = src.clone();
        leptos::task::spawn_local(async move {
            let media: &web_sys::HtmlMediaElement = video.as_ref();
            match ensure_loaded().await {
                Ok(()) if Hls::is_supported() => {
                    let player = Hls::new(&buffer_config());
                    let on_error =
                        Closure::<dyn Fn(JsValue, JsValue)>::new(move |_event, data: JsValue| {
                            let field = |name: &str| js_sys::Reflect::get(&data, &name.into()).ok();
                            if field("fatal").is_some_and(|v| v.is_truthy()) {
                                let detail = field("details")
                                    .and_then(|v| v.as_string())
                                    .unwrap_or_default();
                                let code = field("response")
                                    .and_then(|r| js_sys::Reflect::get(&r, &"code".into()).ok())
                                    .and_then(|c| c.as_f64());
                                set_error.set(Some(stream_error_message(code, &detail)));
                            }
                        });
                    player.on("hlsError", on_error.as_ref().unchecked_ref());
                    on_error.forget();
                    player.load_source(&src);
                    player.attach_media(media);
                    instance.set_value(Some(player));
                }
                Ok(())
                    if !media
                        .can_play_type("application/vnd.apple.mpegurl")
                        .is_empty() =>
                {
                    media.set_src(&src);
                }
                Ok(()) => set_error.set(Some(
                    "This browser can play neither the original file nor the transcoded stream."
                        .into(),
                )),
                Err(e) => set_error.set(Some(e)),
            }
        });
    });

    // A stored value, so that `report` is `Copy` and each listener gets its own.
    let timeline_url = StoredValue::new(timeline_url.map(|url| crate::paths::local(&url)));
    let report = move |state: &'static str| {
        let (Some(url), Some(video)) = (timeline_url.get_value(), video_ref.get_untracked()) else {
            return;
        };
        // A video taken off the page (the player is going away: it leaves with `stop_url`)
        // pauses on its way out; that is not the viewer pausing.
        if !video.is_connected() {
            return;
        }
        let ms = (video.current_time() * 1000.0).round().max(0.0) as i64;
        leptos::task::spawn_local(async move {
            if let Some(reason) = post_report(&format!("{url}?state={state}&time={ms}")).await {
                set_error.set(Some(reason));
            }
        });
    };
    let state_now = move || match video_ref.get_untracked() {
        Some(v) if !v.paused() => "playing",
        _ => "paused",
    };
    let listeners = StoredValue::new_local(Vec::<(&'static str, Closure<dyn Fn()>)>::new());
    Effect::new(move |_| {
        let Some(video) = video_ref.get() else { return };
        let target: &web_sys::EventTarget = video.as_ref();
        for (event, state) in [
            ("playing", Some("playing")),
            ("pause", Some("paused")),
            ("waiting", Some("buffering")),
            ("seeked", None),
        ] {
            let on = Closure::<dyn Fn()>::new(move || report(state.unwrap_or_else(state_now)));
            let _ = target.add_event_listener_with_callback(event, on.as_ref().unchecked_ref());
            listeners.update_value(|all| all.push((event, on)));
        }
    });
    let reporter = set_interval_with_handle(
        move || report(state_now()),
        std::time::Duration::from_secs(REPORT_EVERY_SECS),
    )
    .ok();
    let stop_url = stop_url.map(|url| crate::paths::local(&url));
    let stop = move || {
        if let (Some(url), Some(window)) = (stop_url.clone(), web_sys::window()) {
            let _ = window.navigator().send_beacon(&url);
        }
    };
    let hide_handle = window_event_listener(leptos::ev::pagehide, {
        let stop = stop.clone();
        move |_| stop()
    });
    on_cleanup(move || {
        hide_handle.remove();
        if let Some(reporter) = reporter {
            reporter.clear();
        }
        if let Some(video) = video_ref.get_untracked() {
            let target: &web_sys::EventTarget = video.as_ref();
            for (event, on) in listeners
                .try_update_value(std::mem::take)
                .unwrap_or_default()
            {
                let _ =
                    target.remove_event_listener_with_callback(event, on.as_ref().unchecked_ref());
            }
        }
        if let Some(player) = instance.try_update_value(Option::take).flatten() {
            player.destroy();
        }
        stop();
    });
}

/// hls.js buffers up to 60 MB ahead by default (minutes of a transcode): bytes from Plex the
/// party may never watch, and transcoder time, after every seek. Half a minute is plenty.
#[cfg(feature = "hydrate")]
fn buffer_config() -> JsValue {
    let config = js_sys::Object::new();
    for (name, value) in [
        ("maxBufferLength", 30.0),
        ("maxMaxBufferLength", 45.0),
        ("maxBufferSize", 16.0 * 1000.0 * 1000.0),
        ("backBufferLength", 30.0),
    ] {
        let _ = js_sys::Reflect::set(&config, &name.into(), &value.into());
    }
    config.into()
}

/// Posts one state report; the sentence to show if the stream is gone (`410`: stopped idle,
/// or ended by Plex, which says why).
#[cfg(feature = "hydrate")]
async fn post_report(url: &str) -> Option<String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let window = web_sys::window()?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .ok()?
        .unchecked_into();
    if response.status() != 410 {
        return None;
    }
    let body = JsFuture::from(response.json().ok()?).await.ok()?;
    let message = js_sys::Reflect::get(&body, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| stream_error_message(Some(410.0), ""));
    Some(message)
}

/// What a viewer reads when the transcoded stream fails for good. The server's refusals
/// (`429`: too many transcodes; `410`: stopped while idle) get their own sentence.
pub fn stream_error_message(http_status: Option<f64>, detail: &str) -> String {
    match http_status.map(|c| c as u16) {
        Some(429) => "This Marquee is already running as many transcoded streams as it allows (or you are). Close another player, or try again in a minute.".into(),
        Some(410) => "The transcoded stream was stopped after it sat unused. Reload to start it again.".into(),
        _ => format!("The transcoded stream failed ({detail}). Reload to try again."),
    }
}
