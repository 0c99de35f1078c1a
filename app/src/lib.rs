#![recursion_limit = "256"]
//! Marquee's user interface: Leptos components and the server functions they call.
//!
//! The library browser (home, sections, items, search) is rendered on the server with its data in
//! place (`SsrMode::Async`), so the first byte a browser gets is a complete page; the same
//! components then hydrate in the browser, where the [`player`] wraps the HTML5 `<video>` element.
//! Server-only code (Plex, cache, store) lives in [`ssr`], compiled with the `ssr` feature.

pub mod activity;
pub mod assets;
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
pub mod storage;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
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

/// A response header no response may carry: pages once told the server their nonce through it
/// (see [`ScriptNonce`] for why they no longer do); the security middleware strips it.
pub const SCRIPT_NONCE_HEADER: &str = "x-marquee-script-nonce";

/// The nonce of one response's inline scripts, chosen by the server's security middleware
/// *before* the page renders and handed to it as a request extension, so the
/// Content-Security-Policy header and the page's scripts always carry the same one.
///
/// It used to travel the other way, from the shell through `leptos_axum::ResponseOptions` to the
/// middleware. That is not a private channel: leptos_axum's static-file handler creates its
/// `Owner` as a child of whatever owner is current on the thread and takes the headers of any
/// `ResponseOptions` it can see from there, so under concurrent load a page could lose its nonce
/// header to another response and be served a policy that blocks its own bootstrap.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptNonce(pub String);

/// Gives this page's inline scripts (Leptos's hydration bootstrap) the nonce the security
/// middleware chose for this response. Rendered outside the middleware (there is none), Leptos
/// keeps the nonce of its own, which no policy names.
#[cfg(feature = "ssr")]
pub(crate) fn expose_script_nonce() {
    let chosen = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ScriptNonce>().cloned());
    if let Some(ScriptNonce(nonce)) = chosen {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

/// The HTML document around the app; the server renders it for every page.
pub fn shell(_options: LeptosOptions) -> impl IntoView {
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
                <crate::assets::SiteHead />
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
