//! Search across the whole library (Plex's hub search).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::cards::PosterGrid;
use crate::components::layout::{ErrorBox, Loading};
use crate::components::pick::search_library;

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let data = Resource::new(q, search_library);
    view! {
        <Title text="Search" />
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                let text = q();
                match data.await {
                    Ok(_) if text.trim().is_empty() => {
                        view! { <p class="muted">"Type a title in the search box above."</p> }.into_any()
                    }
                    Ok(items) if items.is_empty() => {
                        view! { <p class="empty">{format!("Nothing in the library matches “{text}”.")}</p> }
                            .into_any()
                    }
                    Ok(items) => {
                        view! {
                            <h1>{format!("Results for “{text}”")}</h1>
                            <PosterGrid items />
                        }
                            .into_any()
                    }
                    Err(err) => view! { <ErrorBox err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
