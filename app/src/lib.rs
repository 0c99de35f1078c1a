#![recursion_limit = "256"]
//! Marquee's user interface: Leptos components and the server functions they call.
//!
//! The library browser (home, sections, items, search) is rendered on the server with its data in
//! place (`SsrMode::Async`), so the first byte a browser gets is a complete page; the same
//! components then hydrate in the browser, where the [`player`] wraps the HTML5 `<video>` element.
//! Server-only code (Plex, cache, store) lives in [`ssr`], compiled with the `ssr` feature.

pub mod activity;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod paths;
pub mod player;
pub mod script;
pub mod session;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::components::layout::{Header, NotFound};
use crate::pages::{
    home::HomePage, item::ItemPage, search::SearchPage, section::SectionPage, watch::WatchPage,
};
use crate::session::SessionPage;

/// Response header through which a page tells the server the nonce its inline scripts carry,
/// so the server's Content-Security-Policy allows exactly those scripts (it removes the header).
pub const SCRIPT_NONCE_HEADER: &str = "x-marquee-script-nonce";

/// Gives this page's inline scripts (Leptos's hydration bootstrap) a fresh nonce and passes it to
/// the server's security headers.
#[cfg(feature = "ssr")]
pub(crate) fn expose_script_nonce() {
    leptos::nonce::provide_nonce();
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) = http::HeaderValue::from_str(&nonce)
    {
        response.insert_header(http::HeaderName::from_static(SCRIPT_NONCE_HEADER), value);
    }
}

/// The HTML document around the app; the server renders it for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    expose_script_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: header, routes and the page each route shows.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="marquee-css" href="/pkg/marquee.css" />
        <Title formatter=|t: String| if t.is_empty() { "Marquee".to_string() } else { format!("{t} · Marquee") } />
        <Router>
            <Header />
            <main class="page">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/library/:key") view=SectionPage ssr=SsrMode::Async />
                    <Route path=path!("/item/:key") view=ItemPage ssr=SsrMode::Async />
                    <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async />
                    <Route path=path!("/watch/:key") view=WatchPage ssr=SsrMode::Async />
                    <Route path=path!("/session/:id") view=SessionPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
