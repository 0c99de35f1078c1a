//! What the bot needs from the Plex library, behind a trait so the bot does not depend on the web
//! app: the server implements it over its cached library, tests can implement it over anything.

use async_trait::async_trait;

/// A library entry the bot can offer: a movie, a show or an episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Title {
    /// Plex ratingKey.
    pub rating_key: String,
    pub title: String,
    /// The year, or "S1 · E3" for an episode.
    pub subtitle: Option<String>,
}

impl Title {
    /// How it appears in a list: "Harbor Lights (2019)".
    pub fn label(&self) -> String {
        match &self.subtitle {
            Some(sub) => format!("{} ({sub})", self.title),
            None => self.title.clone(),
        }
    }
}

/// Something that can be put in a session: always a movie or an episode (a show resolves to its
/// first episode).
#[derive(Debug, Clone, PartialEq)]
pub struct Playable {
    pub rating_key: String,
    /// As shown in the queue: "Harbor Lights", or "Lanterns of Vell · S1 · E1 · First Flame".
    pub title: String,
    pub duration_ms: Option<i64>,
    /// Where Plex says the owner's account left off (ms), for `/play … resume:True`.
    pub resume_ms: Option<i64>,
    /// Marquee-relative poster URL (`/img/…`), served by Marquee so no Plex token leaves it.
    pub poster: Option<String>,
}

/// Why the library could not answer; the bot turns each into a clear reply.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CatalogError {
    #[error("no such item in the library")]
    NotFound,
    #[error("the library has nothing to play")]
    Empty,
    #[error("Plex is unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Invalid(String),
}

/// The library, as the bot sees it.
#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Every movie and show, for autocomplete. Must be fast when warm: it is called on each
    /// keystroke. Implementations keep it cached.
    async fn titles(&self) -> Result<std::sync::Arc<TitleIndex>, CatalogError>;
    /// Plex search (movies, shows, episodes), for `/search`.
    async fn search(&self, query: &str) -> Result<Vec<Title>, CatalogError>;
    /// The item to play for `rating_key`; a show gives its first episode.
    async fn playable(&self, rating_key: &str) -> Result<Playable, CatalogError>;
}

/// A prepared list of titles that answers autocomplete without touching Plex: titles starting
/// with the typed text first, then titles with a word starting with it, then any containing it.
#[derive(Debug, Default)]
pub struct TitleIndex {
    titles: Vec<Title>,
    /// Lower-cased titles, parallel to `titles`.
    folded: Vec<String>,
}

impl TitleIndex {
    /// Builds the index, sorted by title so equal matches come out alphabetically.
    pub fn new(mut titles: Vec<Title>) -> Self {
        titles.sort_by_cached_key(|t| t.title.to_lowercase());
        let folded = titles.iter().map(|t| t.title.to_lowercase()).collect();
        Self { titles, folded }
    }

    pub fn len(&self) -> usize {
        self.titles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.titles.is_empty()
    }

    /// Up to `limit` titles matching `typed`, best first. An empty `typed` gives the first titles.
    pub fn suggest(&self, typed: &str, limit: usize) -> Vec<&Title> {
        let needle = typed.trim().to_lowercase();
        if needle.is_empty() {
            return self.titles.iter().take(limit).collect();
        }
        let mut ranked: [Vec<&Title>; 3] = Default::default();
        for (title, folded) in self.titles.iter().zip(&self.folded) {
            let rank = if folded.starts_with(&needle) {
                0
            } else if let Some(pos) = folded.find(&needle) {
                let at_word = folded[..pos].ends_with(|c: char| !c.is_alphanumeric());
                if at_word { 1 } else { 2 }
            } else {
                continue;
            };
            ranked[rank].push(title);
            if ranked[0].len() >= limit {
                break;
            }
        }
        ranked.into_iter().flatten().take(limit).collect()
    }

    /// The entry with this rating key.
    pub fn by_key(&self, rating_key: &str) -> Option<&Title> {
        self.titles.iter().find(|t| t.rating_key == rating_key)
    }

    /// The best entry for free text: an exact title (case-insensitive), else the first suggestion.
    pub fn best(&self, typed: &str) -> Option<&Title> {
        let needle = typed.trim().to_lowercase();
        if needle.is_empty() {
            return None;
        }
        self.folded
            .iter()
            .position(|f| *f == needle)
            .map(|i| &self.titles[i])
            .or_else(|| self.suggest(&needle, 1).into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn t(key: &str, title: &str) -> Title {
        Title {
            rating_key: key.into(),
            title: title.into(),
            subtitle: None,
        }
    }

    fn index() -> TitleIndex {
        TitleIndex::new(vec![
            t("1", "The Quiet Orchard"),
            t("2", "Harbor Lights"),
            t("3", "Orchard Street"),
            t("4", "Copper Sky"),
            t("5", "Midnight Cartographers"),
            t("6", "Harbour"),
        ])
    }

    #[test]
    fn prefix_then_word_then_substring() {
        let idx = index();
        let names = |q| {
            idx.suggest(q, 10)
                .into_iter()
                .map(|t| t.title.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(names("orch"), ["Orchard Street", "The Quiet Orchard"]);
        // Prefixes first, then titles that merely contain the text.
        assert_eq!(
            names("HAR"),
            [
                "Harbor Lights",
                "Harbour",
                "Orchard Street",
                "The Quiet Orchard"
            ]
        );
        assert_eq!(names("ight"), ["Harbor Lights", "Midnight Cartographers"]);
        assert!(names("zzz").is_empty());
        assert_eq!(idx.suggest("", 2).len(), 2);
        assert_eq!(idx.suggest("r", 3).len(), 3);
    }

    #[test]
    fn best_prefers_an_exact_title() {
        let idx = index();
        assert_eq!(idx.best("harbour").unwrap().rating_key, "6");
        assert_eq!(idx.best("harb").unwrap().rating_key, "2");
        assert_eq!(idx.best("  "), None);
        assert_eq!(idx.by_key("4").unwrap().title, "Copper Sky");
    }
}
