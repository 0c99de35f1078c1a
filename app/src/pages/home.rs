//! Home: the library's sections and what people were in the middle of watching.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::cards::PosterRow;
use crate::components::icons::{Icon, IconKind};
use crate::components::layout::{ErrorBox, Loading};
use crate::error::AppError;
use crate::model::{HomeData, WatchingNow};
use crate::player::format::format_time;

/// Sections, the sessions under way, and the continue-watching and recently-added rows.
#[server(endpoint = "home")]
pub async fn get_home() -> Result<HomeData, AppError> {
    let services = crate::ssr::services()?;
    let mut home = services.library.home().await?;
    // The rows came signed; the sessions' posters are signed here.
    home.watching_now = crate::ssr::sessions::watching_now(&services).await;
    for w in &mut home.watching_now {
        w.poster = w.poster.take().map(|p| services.urls.image(&p));
    }
    Ok(home)
}

#[component]
pub fn HomePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_home());
    view! {
        <Title text="" />
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(home) => view! { <Home home /> }.into_any(),
                    Err(err) => view! { <ErrorBox err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Home(home: HomeData) -> impl IntoView {
    let has_continue = !home.continue_watching.is_empty();
    let has_recent = !home.recently_added.is_empty();
    let watching = (!home.watching_now.is_empty()).then(|| {
        view! {
            <section class="watching-now">
                <h2>"Watching now"</h2>
                <ul class="watching-list">
                    {home.watching_now.iter().cloned().map(|w| view! { <WatchingCard w /> }).collect_view()}
                </ul>
            </section>
        }
    });
    let unplayable = (!home.unplayable.is_empty()).then(|| {
        view! {
            <section class="unplayable-sections">
                <h2>"Also on this Plex server"</h2>
                <p class="muted">"Marquee plays movies and TV shows; these libraries stay in Plex."</p>
                <ul class="section-list">
                    {home
                        .unplayable
                        .into_iter()
                        .map(|s| {
                            let (icon, what) = match s.kind.as_str() {
                                "artist" => (IconKind::Music, "music"),
                                "photo" => (IconKind::Photo, "photo"),
                                _ => (IconKind::Film, "other"),
                            };
                            view! {
                                <li>
                                    <span class="section-link unplayable" aria-disabled="true">
                                        <span class="section-icon"><Icon kind=icon /></span>
                                        <span class="section-text">
                                            <span>{s.title}</span>
                                            <small class="muted">{format!("{what} library · not playable here")}</small>
                                        </span>
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </section>
        }
    });
    view! {
        <section class="sections">
            <h1>"Libraries"</h1>
            <ul class="section-list">
                {home
                    .sections
                    .into_iter()
                    .map(|s| {
                        let icon = match s.kind.as_str() {
                            "show" => IconKind::Tv,
                            _ => IconKind::Film,
                        };
                        view! {
                            <li>
                                <a class="section-link" href=format!("/library/{}", s.key)>
                                    <span class="section-icon"><Icon kind=icon /></span>
                                    <span>{s.title}</span>
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
        {watching}
        {home
            .continue_unavailable
            .map(|why| view! { <p class="notice continue-unavailable" role="status">{why}</p> })}
        <Show when=move || has_continue>
            <section>
                <h2>"Continue watching"</h2>
                <PosterRow items=home.continue_watching.clone() />
            </section>
        </Show>
        <Show when=move || has_recent>
            <section class="recently-added">
                <h2>"Recently added"</h2>
                <PosterRow items=home.recently_added.clone() />
            </section>
        </Show>
        {unplayable}
    }
}

/// One session under way: its poster, what plays and where, who is there, and Join.
#[component]
fn WatchingCard(w: WatchingNow) -> impl IntoView {
    let state = if w.playing { "Playing" } else { "Paused" };
    let at = match w.duration {
        Some(d) => format!("{} / {}", format_time(w.position), format_time(d)),
        None => format_time(w.position),
    };
    let who = match w.viewers.len() {
        0 => String::new(),
        1..=3 => w.viewers.join(", "),
        n => format!("{}, {} and {} more", w.viewers[0], w.viewers[1], n - 2),
    };
    let title = match &w.label {
        Some(label) => format!("{label} · {}", w.title),
        None => w.title.clone(),
    };
    view! {
        <li class="watching-card">
            <div class="watching-poster" aria-hidden="true">
                {w.poster.clone().map(|src| view! { <img src=src alt="" width="60" height="90" loading="lazy" /> })}
            </div>
            <div class="watching-text">
                <strong class="watching-title">{title}</strong>
                <span class="muted watching-at">{format!("{state} · {at}")}</span>
                <span class="watching-who">{who}</span>
            </div>
            <a class="button small primary watching-join" href=w.url.clone()>"Join"</a>
        </li>
    }
}
