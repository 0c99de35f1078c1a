//! "Link Plex": a signed-in viewer's own Plex account, so what they watch in Marquee lands in
//! their Plex history (progress and watched marks), not only the server owner's.
//!
//! The person approves Marquee in Plex's auth app, opened in a new window (in the Discord
//! Activity, through Discord's `openExternalLink`); the page asks the server every second
//! until the server has seen the approval at plex.tv (see `ssr::plex_accounts`).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::PlexLinkState;

/// How often the page asks whether the approval has arrived.
#[cfg(feature = "hydrate")]
const POLL_MS: u64 = 1_000;
/// After this long without an approval the page stops asking (plex.tv's PIN lives longer; the
/// person starts again).
#[cfg(feature = "hydrate")]
const GIVE_UP_AFTER_POLLS: u32 = 600;

#[cfg(feature = "ssr")]
fn accounts_and_viewer() -> Result<
    (
        std::sync::Arc<crate::ssr::plex_accounts::PlexAccounts>,
        String,
    ),
    AppError,
> {
    let account = crate::ssr::account::current()
        .account
        .ok_or(AppError::SignInRequired)?;
    let services = crate::ssr::services()?;
    let accounts = services.plex_accounts.ok_or_else(|| {
        AppError::Unavailable("This Marquee is not set up to link Plex accounts.".into())
    })?;
    Ok((accounts, account.discord_id))
}

#[cfg(feature = "ssr")]
fn link_error(e: crate::ssr::plex_accounts::LinkError) -> AppError {
    use crate::ssr::plex_accounts::LinkError;
    match e {
        LinkError::Expired | LinkError::NoAccess { .. } => AppError::BadRequest(e.to_string()),
        LinkError::PlexTv(_) => AppError::Unavailable(format!(
            "plex.tv could not be reached; try again in a moment (reference {}).",
            crate::ssr::errors::log_internal("asking plex.tv", &e)
        )),
        other => crate::ssr::errors::internal("linking Plex", &other),
    }
}

/// Where the signed-in viewer's Plex link stands (finishing it once Plex approved).
#[server(endpoint = "plex-link/status")]
pub async fn plex_link_status() -> Result<PlexLinkState, AppError> {
    let services = crate::ssr::services()?;
    if services.plex_accounts.is_none() {
        return Ok(PlexLinkState::default());
    }
    let (accounts, viewer) = accounts_and_viewer()?;
    accounts.status(&viewer).await.map_err(link_error)
}

/// Starts linking: the address of Plex's auth app, where the viewer approves Marquee.
#[server(endpoint = "plex-link/start")]
pub async fn start_plex_link() -> Result<String, AppError> {
    let (accounts, viewer) = accounts_and_viewer()?;
    accounts
        .start(&viewer)
        .await
        .map(|s| s.auth_url)
        .map_err(link_error)
}

/// Unlinks the viewer's Plex account.
#[server(endpoint = "plex-link/unlink")]
pub async fn unlink_plex() -> Result<PlexLinkState, AppError> {
    let (accounts, viewer) = accounts_and_viewer()?;
    accounts.unlink(&viewer).await.map_err(link_error)?;
    Ok(PlexLinkState::unlinked())
}

/// The "Link Plex" control of a signed-in viewer (nothing when this Marquee cannot link).
#[component]
pub fn PlexLink() -> impl IntoView {
    let state = RwSignal::new(None::<PlexLinkState>);
    let problem = RwSignal::new(None::<String>);
    // The auth app's address while waiting, for a "open it again" link (a blocked popup).
    let auth_url = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |done: Option<()>| {
        if done.is_none() {
            refresh(state, problem, 0);
        }
    });
    let start = move |_| {
        problem.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match start_plex_link().await {
                Ok(url) => {
                    open_auth_app(&url);
                    auth_url.set(Some(url));
                    state.update(|s| {
                        if let Some(s) = s {
                            s.pending = true;
                            s.problem = None;
                        }
                    });
                    refresh(state, problem, 1);
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
        });
    };
    let unlink = move |_| {
        problem.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match unlink_plex().await {
                Ok(s) => state.set(Some(s)),
                Err(e) => problem.set(Some(e.to_string())),
            }
        });
    };
    view! {
        {move || {
            let s = state.get().filter(|s| s.available)?;
            let shown_problem = problem.get().or(s.problem.clone());
            let body = match (&s.linked, s.pending) {
                (Some(linked), _) => {
                    view! {
                        <span class="plex-linked" title="Your progress goes to this Plex account">
                            "Plex: "
                            <strong>{linked.username.clone()}</strong>
                        </span>
                        <button type="button" class="link-button plex-unlink" on:click=unlink>
                            "Unlink"
                        </button>
                    }
                        .into_any()
                }
                (None, true) => {
                    view! {
                        <span class="plex-pending" aria-live="polite">
                            "Approve Marquee in the Plex window… "
                        </span>
                        {auth_url
                            .get()
                            .map(|url| {
                                view! {
                                    <a class="link-button" href=url target="_blank" rel="noopener">
                                        "Open it again"
                                    </a>
                                }
                            })}
                    }
                        .into_any()
                }
                (None, false) => {
                    view! {
                        <button
                            type="button"
                            class="link-button plex-link"
                            title="Your own Plex account keeps your progress and what you watched"
                            on:click=start
                        >
                            "Link Plex"
                        </button>
                    }
                        .into_any()
                }
            };
            Some(
                view! {
                    <span class="plex-account">
                        {body}
                        {shown_problem.map(|p| view! { <span class="problem plex-problem" role="alert">{p}</span> })}
                    </span>
                },
            )
        }}
    }
}

/// Asks for the link's state; while one is pending, again in a second (`polls` so far).
#[cfg(feature = "hydrate")]
fn refresh(state: RwSignal<Option<PlexLinkState>>, problem: RwSignal<Option<String>>, polls: u32) {
    leptos::task::spawn_local(async move {
        match plex_link_status().await {
            Ok(s) => {
                let pending = s.pending;
                state.set(Some(s));
                if pending && polls < GIVE_UP_AFTER_POLLS {
                    set_timeout(
                        move || refresh(state, problem, polls + 1),
                        std::time::Duration::from_millis(POLL_MS),
                    );
                }
            }
            // Not signed in, or the server is away: nothing to show, and no retry loop.
            Err(AppError::SignInRequired) => {}
            Err(e) if polls > 0 => problem.set(Some(e.to_string())),
            Err(_) => {}
        }
    });
}

/// Opens Plex's auth app: through Discord inside the Activity (an iframe cannot open windows
/// of its own there), else in a new window.
#[cfg(feature = "hydrate")]
fn open_auth_app(url: &str) {
    if crate::activity::open_external_link(url) {
        return;
    }
    if let Some(w) = web_sys::window() {
        let _ = w.open_with_url_and_target(url, "_blank");
    }
}
