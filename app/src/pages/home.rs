//! Home: the library's sections and what people were in the middle of watching.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::cards::PosterRow;
use crate::components::icons::{Icon, IconKind};
use crate::components::layout::{ErrorBox, Loading};
use crate::error::AppError;
use crate::model::HomeData;

/// Sections and the continue-watching row.
#[server(endpoint = "home")]
pub async fn get_home() -> Result<HomeData, AppError> {
    crate::ssr::services()?.library.home().await
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
        {home
            .continue_unavailable
            .map(|why| view! { <p class="notice continue-unavailable" role="status">{why}</p> })}
        <Show when=move || has_continue>
            <section>
                <h2>"Continue watching"</h2>
                <PosterRow items=home.continue_watching.clone() />
            </section>
        </Show>
        {unplayable}
    }
}
