//! The page frame: header with search, and the error and not-found views.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;

/// Marquee's mark and name, a link home: the top bar's, and the server's refusal page's.
#[component]
pub fn Brand() -> impl IntoView {
    view! {
        <a class="brand" href="/">
            <span class="brand-mark" aria-hidden="true">"▶"</span>
            "Marquee"
        </a>
    }
}

/// Top bar: the brand (home link) and a search box that works without JavaScript (a GET form).
#[component]
pub fn Header() -> impl IntoView {
    let query = use_query_map();
    let current = move || query.read().get("q").unwrap_or_default();
    view! {
        <header class="topbar">
            <Brand />
            <form class="search" method="get" action="/search" role="search">
                <input
                    type="search"
                    name="q"
                    placeholder="Search the library"
                    aria-label="Search the library"
                    maxlength="100"
                    prop:value=current
                />
            </form>
            <crate::components::account::AccountCorner />
        </header>
    }
}

/// A readable error with a way forward.
#[component]
pub fn ErrorBox(err: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status_for(&err);
    let hint = match &err {
        AppError::PlexUnavailable { .. } | AppError::PlexMalformed { .. } => {
            "Marquee will retry when you reload the page."
        }
        AppError::PlexUnauthorized => "An administrator needs to update the Plex token.",
        AppError::NotFound(_) => "It may have been removed from the library.",
        AppError::Unsupported(_) => {
            "Its items stay in Plex; the libraries page lists what plays here."
        }
        _ => "",
    };
    let heading = match &err {
        AppError::Unsupported(_) => "Not something Marquee plays",
        _ => "Something went wrong",
    };
    if matches!(err, AppError::SignInRequired) {
        let location = leptos_router::hooks::use_location();
        let login = crate::components::account::login_href(&location.pathname.get_untracked());
        return view! {
            <section class="error-box sign-in-required" role="alert">
                <h2>"Sign in to watch"</h2>
                <p>"This Marquee admits only people signed in with Discord."</p>
                <a class="button primary" href=login rel="external">
                    "Sign in with Discord"
                </a>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="error-box" role="alert">
            <h2>{heading}</h2>
            <p class="error-message">{err.to_string()}</p>
            <p class="muted">{hint}</p>
            <a class="button" href="/">"Back to the library"</a>
        </section>
    }
    .into_any()
}

/// Shown for any URL that matches no page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <section class="error-box">
            <h2>"Page not found"</h2>
            <p>"There is nothing at this address."</p>
            <a class="button" href="/">"Back to the library"</a>
        </section>
    }
}

/// A loading placeholder for client-side navigation (server renders arrive complete).
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading" aria-live="polite">"Loading…"</p> }
}
