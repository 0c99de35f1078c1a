#![recursion_limit = "256"]
//! Browser entry point. `wasm-bindgen` exports [`hydrate`], which the page's hydration script
//! calls once the server-rendered HTML is in place.

use wasm_bindgen::prelude::wasm_bindgen;

/// Attach Leptos to the server-rendered DOM so the player and other interactive parts come alive.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The Discord Activity is its own document (see `app::activity`).
    let activity = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
        .and_then(|b| b.get_attribute("data-marquee"))
        .is_some_and(|kind| kind == app::activity::DOCUMENT_KIND);
    if activity {
        leptos::mount::hydrate_body(app::activity::ActivityApp);
    } else {
        leptos::mount::hydrate_body(app::App);
    }
}
