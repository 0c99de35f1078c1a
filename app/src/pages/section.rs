//! A library section as a paged poster grid.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::cards::PosterGrid;
use crate::components::layout::{ErrorBox, Loading};
use crate::components::pager::Pager;
use crate::error::AppError;
use crate::model::SectionPage as SectionData;

/// One page (1-based) of a section's items.
#[server(endpoint = "section")]
pub async fn get_section(key: String, page: u32) -> Result<SectionData, AppError> {
    crate::ssr::services()?
        .library
        .section_page(&key, page)
        .await
}

#[component]
pub fn SectionPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let args = move || {
        let key = params.read().get("key").unwrap_or_default();
        let page = query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(1);
        (key, page)
    };
    let data = Resource::new(args, |(key, page)| get_section(key, page));
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(section) => {
                        let base = format!("/library/{}", section.section.key);
                        let count = section.page_count();
                        view! {
                            <Title text=section.section.title.clone() />
                            <div class="page-head">
                                <h1>{section.section.title.clone()}</h1>
                                <span class="muted">{format!("{} items", section.total)}</span>
                            </div>
                            <PosterGrid items=section.items.clone() />
                            {(count > 1).then(|| view! { <Pager base page=section.page page_count=count /> })}
                        }
                            .into_any()
                    }
                    Err(err) => view! { <ErrorBox err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
