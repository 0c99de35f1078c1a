//! Previous/next paging links for section grids; plain links, so paging works before hydration.

use leptos::prelude::*;

/// Links to the neighbouring pages of `base?page=N`.
#[component]
pub fn Pager(base: String, page: u32, page_count: u32) -> impl IntoView {
    let link = move |p: u32| format!("{base}?page={p}");
    let prev = (page > 1).then(|| link(page - 1));
    let next = (page < page_count).then(|| link(page + 1));
    view! {
        <nav class="pager" aria-label="Pages">
            {match prev {
                Some(href) => view! { <a class="button" rel="prev" href=href>"← Previous"</a> }.into_any(),
                None => view! { <span class="button disabled">"← Previous"</span> }.into_any(),
            }}
            <span class="pager-status">{format!("Page {page} of {page_count}")}</span>
            {match next {
                Some(href) => view! { <a class="button" rel="next" href=href>"Next →"</a> }.into_any(),
                None => view! { <span class="button disabled">"Next →"</span> }.into_any(),
            }}
        </nav>
    }
}
