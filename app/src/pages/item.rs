//! An item's detail page: a movie or episode with its versions and a play button, a show with its
//! seasons, or a season with its episodes.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::cards::PosterGrid;
use crate::components::layout::{ErrorBox, Loading};
use crate::error::AppError;
use crate::model::{ItemDetail, ItemKind};
use crate::player::format::format_duration_ms;

/// Everything the detail page shows for one item.
#[server(endpoint = "item")]
pub async fn get_item(key: String) -> Result<ItemDetail, AppError> {
    crate::ssr::services()?.library.item(&key).await
}

#[component]
pub fn ItemPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || params.read().get("key").unwrap_or_default();
    let data = Resource::new(key, get_item);
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(item) => view! { <Detail item /> }.into_any(),
                    Err(err) => view! { <ErrorBox err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(item: ItemDetail) -> impl IntoView {
    let facts: Vec<String> = [
        item.year.map(|y| y.to_string()),
        item.content_rating.clone(),
        item.duration_ms
            .filter(|_| item.kind.is_playable())
            .map(format_duration_ms),
    ]
    .into_iter()
    .flatten()
    .collect();
    let children_title = match item.kind {
        ItemKind::Show => "Seasons",
        _ => "Episodes",
    };
    let play = item.kind.is_playable() && !item.versions.is_empty();
    let watch = format!("/watch/{}", item.rating_key);
    let versions = item.versions.clone();
    // An image rather than a CSS `url()` in a style attribute, which the CSP refuses.
    let backdrop = item
        .backdrop
        .clone()
        .map(|src| view! { <img class="detail-backdrop" src=src alt="" aria-hidden="true" /> });
    view! {
        <Title text=item.title.clone() />
        <article class="detail">
            {backdrop}
            <div class="detail-poster">
                {item.poster.clone().map(|src| view! { <img src=src alt="" width="400" height="600" /> })}
            </div>
            <div class="detail-body">
                <nav class="crumbs">
                    {item
                        .parents
                        .iter()
                        .map(|(k, t)| view! { <a href=format!("/item/{k}")>{t.clone()}</a> })
                        .collect_view()}
                </nav>
                <h1>{item.title.clone()}</h1>
                <p class="facts">{facts.join(" · ")}</p>
                <p class="genres">{item.genres.join(", ")}</p>
                {item.summary.clone().map(|s| view! { <p class="summary">{s}</p> })}
                {play.then(|| view! {
                    <div class="actions">
                        <a class="button primary play-link" href=watch.clone()>"▶ Play"</a>
                    </div>
                })}
                {(play && versions.len() > 1).then(|| view! {
                    <div class="versions">
                        <h2>"Versions"</h2>
                        <ul>
                            {versions
                                .iter()
                                .map(|v| {
                                    let note = if v.direct_play { "plays directly" } else { "transcoded for the browser" };
                                    view! {
                                        <li>
                                            <a href=format!("/watch/{}?v={}", item.rating_key, v.index)>{v.label.clone()}</a>
                                            <span class="muted">{format!(" — {note}")}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </div>
                })}
            </div>
        </article>
        {(!item.children.is_empty()).then(|| view! {
            <section>
                <h2>{children_title}</h2>
                <PosterGrid items=item.children.clone() />
            </section>
        })}
    }
}
