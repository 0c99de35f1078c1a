#![recursion_limit = "256"]
//! Browser entry point. `wasm-bindgen` exports [`hydrate`], which the page's hydration script
//! calls once the server-rendered HTML is in place.

use wasm_bindgen::prelude::wasm_bindgen;

/// Attach Leptos to the server-rendered DOM so the player and other interactive parts come alive.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
