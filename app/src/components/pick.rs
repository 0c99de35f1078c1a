//! A search box over the library that lists what can be played, each match with one button: the
//! session's "Add to the queue" and the Activity's "what shall we watch?" both use it.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::ItemCard;

/// Items whose titles match `query` (the search page lists them too).
#[server(endpoint = "search")]
pub async fn search_library(query: String) -> Result<Vec<ItemCard>, AppError> {
    crate::ssr::services()?.library.search(&query).await
}

/// Most matches listed at once.
const MAX_MATCHES: usize = 8;

/// The search box and its playable matches; `on_pick` gets the match whose `action` button was
/// pressed. Searching starts at two characters.
#[component]
pub fn PlayablePicker<F>(
    /// The box's placeholder, which is also its accessible label.
    placeholder: &'static str,
    /// The button's text ("Add", "Watch").
    action: &'static str,
    /// The button's class (`link`, or `button small primary`).
    #[prop(default = "link")]
    button_class: &'static str,
    on_pick: F,
) -> impl IntoView
where
    F: Fn(ItemCard) + Clone + Send + Sync + 'static,
{
    let (query, set_query) = signal(String::new());
    let results = Resource::new(
        move || query.get(),
        |q| async move {
            if q.trim().chars().count() < 2 {
                Ok(Vec::new())
            } else {
                search_library(q).await
            }
        },
    );
    view! {
        <input
            class="queue-search"
            type="search"
            placeholder=placeholder
            aria-label=placeholder
            on:input=move |e| set_query.set(event_target_value(&e))
        />
        <Transition>
            {move || {
                let on_pick = on_pick.clone();
                Suspend::new(async move {
                    let items: Vec<ItemCard> = results.await.unwrap_or_default();
                    view! {
                        <ul class="queue-results">
                            {items
                                .into_iter()
                                .filter(|i| i.kind.is_playable())
                                .take(MAX_MATCHES)
                                .map(|item| {
                                    let on_pick = on_pick.clone();
                                    let title = item.title.clone();
                                    view! {
                                        <li>
                                            <span>{title}</span>
                                            <button class=button_class on:click=move |_| on_pick(item.clone())>
                                                {action}
                                            </button>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })
            }}
        </Transition>
    }
}
