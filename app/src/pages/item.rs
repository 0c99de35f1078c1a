//! An item's detail page: a movie or episode with its versions and a play button, a show with its
//! seasons, or a season with its episodes.

use leptos::form::ActionForm;
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

/// Marks the item (a show or season: every episode) watched or unwatched in Plex: on the
/// server owner's account, and on the asking viewer's own when they linked one.
#[server(endpoint = "watched")]
pub async fn set_watched(key: String, watched: bool) -> Result<(), AppError> {
    let services = crate::ssr::services()?;
    let mut accounts = vec![services.plex.clone()];
    let viewer = crate::ssr::account::current().account;
    if let (Some(linked), Some(viewer)) = (&services.plex_accounts, viewer) {
        match linked.clients_for(&[viewer.discord_id]).await {
            Ok(clients) => accounts.extend(clients.into_iter().map(|(_, c)| c)),
            Err(e) => tracing::warn!(error = %e, "could not read the viewer's Plex account"),
        }
    }
    services.library.set_watched(&key, watched, &accounts).await
}

#[component]
pub fn ItemPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || params.read().get("key").unwrap_or_default();
    let mark = ServerAction::<SetWatched>::new();
    provide_context(mark);
    let data = Resource::new(
        move || (key(), mark.version().get()),
        |(key, _)| get_item(key),
    );
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

/// "Mark as watched" / "Mark as unwatched": a form, so it works before the page hydrates.
#[component]
fn WatchedToggle(key: String, watched: bool) -> impl IntoView {
    let mark = expect_context::<ServerAction<SetWatched>>();
    let problem = move || {
        mark.value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <p class="problem" role="alert">{e.to_string()}</p> })
    };
    view! {
        <ActionForm action=mark attr:class="watched-form">
            <input type="hidden" name="key" value=key />
            <input type="hidden" name="watched" value=if watched { "false" } else { "true" } />
            <button
                type="submit"
                class="button mark-watched"
                data-watched=if watched { "1" } else { "0" }
                disabled=move || mark.pending().get()
            >
                {if watched { "✓ Watched · mark unwatched" } else { "Mark as watched" }}
            </button>
        </ActionForm>
        {problem}
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
                <div class="actions">
                    {play.then(|| view! { <a class="button primary play-link" href=watch.clone()>"▶ Play"</a> })}
                    <WatchedToggle key=item.rating_key.clone() watched=item.watched />
                </div>
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
