//! The Discord bot inside Marquee: the library as the bot sees it ([`LibraryCatalog`]) and
//! starting the bot with this process's services.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::error::AppError;
use app::model::{ItemCard, ItemKind};
use app::ssr::{Library, Services};
use async_trait::async_trait;
use bot::{BotConfig, BotHandle, BotService, Catalog, CatalogError, Playable, Title, TitleIndex};

use crate::config::settings::DiscordSettings;

/// How long the prepared title index is reused before asking the cache again. The cache itself
/// holds the list for the system tier (minutes); this only saves re-sorting it per keystroke.
const INDEX_REUSE: Duration = Duration::from_secs(30);

/// The cached library, shaped for the bot.
pub struct LibraryCatalog {
    library: Arc<Library>,
    index: Mutex<Option<(Instant, Arc<TitleIndex>)>>,
    /// Serialises rebuilds so a burst of keystrokes after expiry builds the index once.
    rebuild: tokio::sync::Mutex<()>,
}

impl LibraryCatalog {
    pub fn new(library: Arc<Library>) -> Self {
        Self {
            library,
            index: Mutex::new(None),
            rebuild: tokio::sync::Mutex::new(()),
        }
    }

    fn fresh_index(&self) -> Option<Arc<TitleIndex>> {
        let guard = self.index.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .filter(|(at, _)| at.elapsed() < INDEX_REUSE)
            .map(|(_, index)| Arc::clone(index))
    }
}

fn catalog_error(e: AppError) -> CatalogError {
    match e {
        AppError::NotFound(_) => CatalogError::NotFound,
        AppError::BadRequest(why) | AppError::Unsupported(why) => CatalogError::Invalid(why),
        AppError::PlexUnauthorized => {
            CatalogError::Unavailable("it refused Marquee's token; check PLEX_TOKEN".into())
        }
        AppError::PlexUnavailable { reference } => {
            CatalogError::Unavailable(format!("it cannot be reached (reference {reference})"))
        }
        AppError::PlexMalformed { reference } => {
            CatalogError::Unavailable(format!("its answer was unreadable (reference {reference})"))
        }
        AppError::Internal { reference } => {
            CatalogError::Unavailable(format!("Marquee failed (reference {reference})"))
        }
        // The text is an internal failure's: it stays in the log, under a reference.
        AppError::Transport(why) => {
            let reference = app::ssr::errors::log_internal("library lookup for Discord", &why);
            CatalogError::Unavailable(format!("Marquee failed (reference {reference})"))
        }
        AppError::SignInRequired => CatalogError::Unavailable("it wants a signed-in user".into()),
        AppError::Unavailable(why) => CatalogError::Unavailable(why),
    }
}

fn title(card: &ItemCard) -> Title {
    Title {
        rating_key: card.rating_key.clone(),
        title: card.title.clone(),
        subtitle: card.subtitle.clone(),
    }
}

#[async_trait]
impl Catalog for LibraryCatalog {
    async fn titles(&self) -> Result<Arc<TitleIndex>, CatalogError> {
        if let Some(index) = self.fresh_index() {
            return Ok(index);
        }
        let _building = self.rebuild.lock().await;
        if let Some(index) = self.fresh_index() {
            return Ok(index);
        }
        let cards = self.library.titles().await.map_err(catalog_error)?;
        let index = Arc::new(TitleIndex::new(cards.iter().map(title).collect()));
        *self.index.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), Arc::clone(&index)));
        Ok(index)
    }

    async fn search(&self, query: &str) -> Result<Vec<Title>, CatalogError> {
        let cards = self.library.search(query).await.map_err(catalog_error)?;
        Ok(cards
            .iter()
            .filter(|c| matches!(c.kind, ItemKind::Movie | ItemKind::Show | ItemKind::Episode))
            .map(title)
            .collect())
    }

    async fn playable(&self, rating_key: &str) -> Result<Playable, CatalogError> {
        let mut item = self.library.item(rating_key).await.map_err(catalog_error)?;
        if item.kind == ItemKind::Show {
            let episode = self
                .library
                .first_episode(rating_key)
                .await
                .map_err(catalog_error)?;
            item = self.library.item(&episode).await.map_err(catalog_error)?;
        }
        if !item.kind.is_playable() {
            return Err(CatalogError::Invalid(format!(
                "“{}” can't be played; pick a movie, a show or an episode",
                item.title
            )));
        }
        let title = if item.kind == ItemKind::Episode && !item.parents.is_empty() {
            let show = &item.parents[0].1;
            format!("{show} · {}", item.title)
        } else {
            item.title.clone()
        };
        // Fresh from Plex (the cached item may predate the last time it was watched).
        let resume_ms = self
            .library
            .resume_point(&item.rating_key)
            .await
            .unwrap_or(item.resume_ms);
        Ok(Playable {
            rating_key: item.rating_key,
            title,
            duration_ms: item.duration_ms,
            resume_ms,
            poster: item.poster,
        })
    }
}

/// The bot's view of this process's services.
pub fn bot_service(
    services: &Services,
    discord: &DiscordSettings,
    public_url: String,
) -> BotService {
    BotService {
        catalog: Arc::new(LibraryCatalog::new(Arc::clone(&services.library))),
        sessions: services.sessions.clone(),
        store: services.store.clone(),
        public_url,
        activity: discord.activity,
    }
}

/// Starts the bot if a token is configured; otherwise says once why there is no bot.
pub async fn maybe_start(
    discord: &DiscordSettings,
    service: BotService,
) -> Result<Option<BotHandle>, bot::StartError> {
    let Some(token) = &discord.bot_token else {
        tracing::info!("no DISCORD_TOKEN: the Discord bot is off (the web app works without it)");
        return Ok(None);
    };
    let bot_config = BotConfig {
        token: token.clone(),
        api_base: discord.api_override(),
    };
    let handle = bot::start(bot_config, service).await?;
    tracing::info!("Discord bot starting");
    Ok(Some(handle))
}
