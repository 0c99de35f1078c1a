//! hls.js, bundled from npm at build time and served as `/pkg/hls.min.js`, for the transcoded
//! (HLS) path: Chromium without native HLS and Discord's embedded browsers play it through Media
//! Source Extensions. The script is loaded only when a page actually needs it.

use wasm_bindgen::JsCast;
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

/// Where the build puts hls.js.
pub const SCRIPT_URL: &str = "/pkg/hls.min.js";

fn hls_present() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("Hls")).ok())
        .is_some_and(|v| !v.is_undefined())
}

/// Load hls.js once (adding a `<script>` tag) and resolve when `window.Hls` exists.
pub async fn ensure_loaded() -> Result<(), String> {
    if hls_present() {
        return Ok(());
    }
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let script: web_sys::HtmlScriptElement = document
        .create_element("script")
        .map_err(|_| "cannot create a script element")?
        .dyn_into()
        .map_err(|_| "not a script element")?;
    script.set_src(SCRIPT_URL);
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        script.set_onload(Some(&resolve));
        script.set_onerror(Some(&reject));
    });
    document
        .head()
        .ok_or("no <head>")?
        .append_child(&script)
        .map_err(|_| "cannot add the script")?;
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| "the HLS player script failed to load".to_string())?;
    if hls_present() {
        Ok(())
    } else {
        Err("the HLS player script did not start".into())
    }
}
