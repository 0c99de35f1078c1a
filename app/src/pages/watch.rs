//! The watch page: the player for one item.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::layout::{ErrorBox, Loading};
use crate::player::{Player, get_playback};
use crate::session::WatchTogether;

#[component]
pub fn WatchPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let args = move || {
        (
            params.read().get("key").unwrap_or_default(),
            query.read().get("v").and_then(|v| v.parse::<u32>().ok()),
            query
                .read()
                .get("quality")
                .and_then(|q| q.parse::<u32>().ok()),
            query.read().get("audio"),
            query.read().get("burn"),
        )
    };
    let data = Resource::new(args, |(key, version, quality, audio, burn)| {
        get_playback(key, version, quality, audio, burn)
    });
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(info) => {
                        view! {
                            <Title text=info.title.clone() />
                            <div class="watch">
                                <Player info=info.clone() />
                                <div class="watch-info">
                                    <h1>{info.title.clone()}</h1>
                                    {info.subtitle.clone().map(|s| view! { <p class="muted">{s}</p> })}
                                    <a class="muted" href=format!("/item/{}", info.rating_key)>"Details"</a>
                                    <WatchTogether rating_key=info.rating_key.clone() />
                                </div>
                            </div>
                        }
                            .into_any()
                    }
                    Err(err) => view! { <ErrorBox err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
