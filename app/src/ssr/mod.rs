//! Server-side services behind the server functions: the Plex client, the cache and the store,
//! bundled in one [`Services`] value that the server provides to every request as context.

pub mod account;
pub mod entries;
pub mod errors;
pub mod library;
pub mod mapping;
pub mod plex_accounts;
pub mod refusal;
pub mod sessions;
pub mod tracks;
pub mod urls;

use std::sync::Arc;

use leptos::prelude::use_context;
use marquee_plex::PlexClient;
use marquee_store::{Bus, Cache, SessionStore, Store};

use crate::error::AppError;
pub use library::Library;

/// Shared server state. Cheap to clone: every field is a handle.
#[derive(Clone)]
pub struct Services {
    pub plex: PlexClient,
    pub cache: Cache,
    pub store: Store,
    pub library: Arc<Library>,
    /// Watch sessions: persisted in `store`, changes announced on the event bus.
    pub sessions: SessionStore,
    /// Signs the media, HLS and image URLs handed to browsers.
    pub urls: urls::MediaUrls,
    /// Viewers' own Plex accounts, when this Marquee can link them.
    pub plex_accounts: Option<Arc<plex_accounts::PlexAccounts>>,
}

impl Services {
    pub fn new(
        plex: PlexClient,
        cache: Cache,
        store: Store,
        bus: Bus,
        urls: urls::MediaUrls,
    ) -> Self {
        let library = Arc::new(Library::new(
            plex.clone(),
            cache.clone(),
            store.clone(),
            urls.clone(),
        ));
        let sessions = SessionStore::new(store.clone(), bus);
        Services {
            plex,
            cache,
            store,
            library,
            sessions,
            urls,
            plex_accounts: None,
        }
    }
}

/// The services of the current request; an `Internal` error if the server forgot to provide them.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>()
        .ok_or_else(|| errors::internal("services", &"server services are not configured"))
}

/// Set the HTTP status of the server-rendered response from an error, so a missing item is a real
/// 404 and an unreachable Plex is a 502, not a 200 page that merely says so.
pub fn set_status_for(err: &AppError) {
    if let Some(opts) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(code) = http::StatusCode::from_u16(err.status_code())
    {
        opts.set_status(code);
    }
}
