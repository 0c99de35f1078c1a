//! The header's account corner: "Sign in with Discord", or the signed-in name and "Sign out".

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::plex_link::PlexLink;
use crate::error::AppError;
use crate::model::AccountState;

/// Who is signed in. The server reads it from the request (its auth layer verified the access
/// cookie before the page rendered).
#[server(endpoint = "account")]
pub async fn get_account() -> Result<AccountState, AppError> {
    Ok(crate::ssr::account::current())
}

/// Cookie (readable by scripts, holding no secret) that says this browser has a sign-in whose
/// access token may have expired; the server sets and clears it with the session cookies.
pub const SIGNED_IN_HINT: &str = "__Host-marquee_signed_in";

/// The account corner of the header.
#[component]
pub fn AccountCorner() -> impl IntoView {
    let state = Resource::new(|| (), |_| get_account());
    // The access token lives 15 minutes; the refresh token (sent only to /auth) much longer. A
    // page that finds itself signed out while the browser still has a sign-in refreshes once.
    #[cfg(feature = "hydrate")]
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        match state.get() {
            Some(Ok(s)) if s.account.is_none() && s.sign_in_available => {
                refresh_sign_in();
                true
            }
            Some(_) => true,
            None => false,
        }
    });
    let location = use_location();
    let login_href = move || login_href(&location.pathname.get());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                state
                    .get()
                    .and_then(Result::ok)
                    .map(|s| match s.account {
                        Some(account) => {
                            view! {
                                <form class="account" method="post" action="/auth/logout">
                                    <PlexLink />
                                    <span class="account-name">{account.name}</span>
                                    <button type="submit" class="link-button">"Sign out"</button>
                                </form>
                            }
                                .into_any()
                        }
                        None if s.sign_in_available => {
                            view! {
                                <a class="account sign-in" href=login_href rel="external">
                                    "Sign in with Discord"
                                </a>
                            }
                                .into_any()
                        }
                        None => ().into_any(),
                    })
            }}
        </Suspense>
    }
}

/// The sign-in link that brings the browser back to `path` afterwards.
pub fn login_href(path: &str) -> String {
    format!("/auth/login?return_to={}", encode(path))
}

/// Percent-encodes a path for a query parameter.
fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Trades the refresh cookie for a new access cookie and reloads the page, if the browser has a
/// sign-in (the hint cookie). A failed refresh clears the hint, so this never loops.
#[cfg(feature = "hydrate")]
fn refresh_sign_in() {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return;
    };
    let hinted = window
        .document()
        .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
        .and_then(|d| d.cookie().ok())
        .is_some_and(|c| {
            c.split(';')
                .any(|p| p.trim() == format!("{SIGNED_IN_HINT}=1"))
        });
    if !hinted {
        return;
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let request = window.fetch_with_str_and_init("/auth/refresh", &init);
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(response) = wasm_bindgen_futures::JsFuture::from(request).await else {
            return;
        };
        let response: web_sys::Response = response.unchecked_into();
        if response.ok() {
            let _ = window.location().reload();
        }
    });
}
