//! Loading a bundled script (hls.js, Discord's Embedded App SDK) on demand: a `<script>` tag
//! from Marquee's own origin (the CSP allows nothing else), resolved once its global exists.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

fn global_present(name: &str) -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str(name)).ok())
        .is_some_and(|v| !v.is_undefined())
}

/// Loads `path` (a Marquee path, see [`crate::paths::local`]) once and resolves when `window[global]`
/// exists. `what` names the script in errors people may see.
pub async fn ensure_loaded(path: &str, global: &str, what: &str) -> Result<(), String> {
    if global_present(global) {
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
    script.set_src(&crate::paths::local(path));
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
        .map_err(|_| format!("the {what} script failed to load"))?;
    if global_present(global) {
        Ok(())
    } else {
        Err(format!("the {what} script did not start"))
    }
}
