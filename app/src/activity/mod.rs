//! The Discord Activity (`/activity`): the player inside Discord, joined to the watch session of
//! the voice channel it was launched in.
//!
//! Discord loads the Activity in an iframe through its proxy. The page is its own document (no
//! header, nothing but the session) whose URLs all work under the proxy's `/.proxy/` prefix (see
//! [`crate::paths`]). Once hydrated, [`flow`] runs Discord's Embedded App SDK (bundled from npm
//! at build time): ready → authorize (a code) → Marquee's server exchanges the code → the SDK's
//! authenticate → the channel's session, which the page then shows like the web page does, joined
//! as the Discord user. If nothing is playing in the channel yet, the user picks something.

#[cfg(feature = "hydrate")]
mod flow;
#[cfg(feature = "hydrate")]
pub mod sdk;

#[cfg(feature = "hydrate")]
pub use flow::open_external_link;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::Router;
use marquee_sync::Session;

use crate::components::pick::PlayablePicker;
use crate::components::plex_link::PlexLink;
use crate::model::ItemCard;
use crate::session::{Embedded, SessionRoom};

/// The `data-marquee` value of the Activity's `<body>`: the browser entry point hydrates
/// [`ActivityApp`] rather than [`crate::App`] when it sees it.
pub const DOCUMENT_KIND: &str = "activity";

/// What the server tells the Activity page: the Discord application's client id (public; the SDK
/// needs it), if sign-in with Discord is set up.
#[derive(Clone, Debug, Default)]
pub struct ActivitySettings {
    pub client_id: Option<String>,
}

/// Where the Activity is in getting the user into the session.
#[derive(Clone, Debug, PartialEq)]
pub enum Stage {
    /// Waiting for Discord's handshake.
    Connecting,
    /// Authorizing with Discord and exchanging the code.
    SigningIn,
    /// Nothing plays in this channel yet: the user picks something (`name` is theirs).
    Pick { name: String },
    /// Starting what the user picked.
    Starting,
    /// In the session, as `name`.
    Watching { session: Box<Session>, name: String },
    /// Stuck, with the sentence to show.
    Failed(String),
}

impl Stage {
    /// A stable name for styling and tests (`data-stage`).
    pub fn kind(&self) -> &'static str {
        match self {
            Stage::Connecting => "connecting",
            Stage::SigningIn => "signing-in",
            Stage::Pick { .. } => "pick",
            Stage::Starting => "starting",
            Stage::Watching { .. } => "watching",
            Stage::Failed(_) => "failed",
        }
    }
}

/// The Activity's HTML document. Every URL in it is relative, so it works at `/activity` and at
/// `/.proxy/activity` alike.
pub fn activity_shell(_options: LeptosOptions, settings: ActivitySettings) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::expose_script_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
                <meta name="color-scheme" content="dark" />
                <crate::assets::SiteHead root="." />
                <MetaTags />
            </head>
            <body data-marquee=DOCUMENT_KIND data-client-id=settings.client_id.unwrap_or_default()>
                <ActivityApp />
            </body>
        </html>
    }
}

/// The Activity's app: the sign-in stages, then the session.
#[component]
pub fn ActivityApp() -> impl IntoView {
    provide_meta_context();
    let stage = RwSignal::new(Stage::Connecting);
    let participants = RwSignal::new(None::<usize>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            flow::start(stage, participants);
        }
    });
    let kind = move || stage.with(Stage::kind);
    view! {
        <Router>
            <Title text="Marquee" />
            <main class="activity" data-stage=kind>
                {move || {
                    participants
                        .get()
                        .filter(|n| *n > 0)
                        .map(|n| {
                            let who = if n == 1 { "1 person".to_owned() } else { format!("{n} people") };
                            view! { <p class="activity-participants muted">{format!("{who} in this Activity")}</p> }
                        })
                }}
                {move || {
                    matches!(stage.get(), Stage::Pick { .. } | Stage::Watching { .. })
                        .then(|| view! { <p class="activity-account"><PlexLink /></p> })
                }}
                {move || match stage.get() {
                    Stage::Connecting => status("Connecting to Discord…").into_any(),
                    Stage::SigningIn => status("Signing in with Discord…").into_any(),
                    Stage::Starting => status("Starting the session…").into_any(),
                    Stage::Failed(why) => {
                        view! {
                            <div class="activity-status">
                                <p class="problem" role="alert">{why}</p>
                            </div>
                        }
                            .into_any()
                    }
                    Stage::Pick { name } => view! { <Picker name /> }.into_any(),
                    Stage::Watching { session, name } => {
                        view! { <SessionRoom session=*session embedded=Embedded { name } /> }.into_any()
                    }
                }}
            </main>
        </Router>
    }
}

fn status(text: &'static str) -> impl IntoView {
    view! {
        <div class="activity-status" aria-live="polite">
            <p class="activity-brand">"Marquee"</p>
            <p>{text}</p>
        </div>
    }
}

/// Nothing plays in this voice channel yet: search the library and start something.
#[component]
fn Picker(name: String) -> impl IntoView {
    view! {
        <section class="activity-pick">
            <h1>{format!("Hi {name}: nothing is playing in this channel yet.")}</h1>
            <p class="muted">"Pick something and everyone here watches it together."</p>
            <PlayablePicker
                placeholder="Search the library"
                action="Watch"
                button_class="button small primary"
                on_pick=|item: ItemCard| {
                    #[cfg(feature = "hydrate")]
                    flow::pick(item.rating_key);
                    #[cfg(not(feature = "hydrate"))]
                    let _ = item;
                }
            />
        </section>
    }
}
