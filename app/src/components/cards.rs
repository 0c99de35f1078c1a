//! Poster cards and the grids and rows that hold them.

use leptos::prelude::*;

use crate::model::{ItemCard, ItemKind};

/// One poster with its title; links to the item (or straight to the player for episodes in
/// continue-watching rows, where the next step is obviously "play").
#[component]
pub fn Card(item: ItemCard) -> impl IntoView {
    let href = format!("/item/{}", item.rating_key);
    let initial = item.title.chars().next().unwrap_or('?').to_string();
    let kind_class = match item.kind {
        ItemKind::Season | ItemKind::Show => "card card-group",
        _ => "card",
    };
    view! {
        <a class=kind_class href=href data-key=item.rating_key.clone()>
            <div class="poster">
                {match item.poster.clone() {
                    Some(src) => {
                        view! {
                            <img src=src alt="" loading="lazy" decoding="async" width="240" height="360" />
                        }
                            .into_any()
                    }
                    None => view! { <div class="poster-fallback" aria-hidden="true">{initial}</div> }.into_any(),
                }}
                {item
                    .progress
                    .map(|p| {
                        view! {
                            <progress
                                class="progress"
                                aria-hidden="true"
                                max="1000"
                                value=format!("{:.0}", (p * 1000.0).clamp(0.0, 1000.0))
                            ></progress>
                        }
                    })}
                {if item.watched {
                    Some(view! { <span class="card-watched" title="Watched">"✓"</span> }.into_any())
                } else {
                    item.unwatched
                        .map(|n| {
                            view! {
                                <span class="card-unwatched" title=format!("{n} unwatched")>{n}</span>
                            }
                                .into_any()
                        })
                }}
            </div>
            <div class="card-title">{item.title.clone()}</div>
            {item.subtitle.clone().map(|s| view! { <div class="card-subtitle">{s}</div> })}
        </a>
    }
}

/// A responsive grid of cards.
#[component]
pub fn PosterGrid(items: Vec<ItemCard>) -> impl IntoView {
    view! {
        <div class="grid">
            {items.into_iter().map(|item| view! { <Card item /> }).collect_view()}
        </div>
    }
}

/// A horizontally scrolling row of cards (home page rows).
#[component]
pub fn PosterRow(items: Vec<ItemCard>) -> impl IntoView {
    view! {
        <div class="row">
            {items.into_iter().map(|item| view! { <Card item /> }).collect_view()}
        </div>
    }
}
