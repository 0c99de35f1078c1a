//! The demo library's content and its rendering into Plex-shaped JSON.
//!
//! Items are plain Rust values rendered on demand, so the large "Archive" section costs
//! nothing until a page of it is requested.

use serde_json::{Map, Value, json};

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::media::{CLIP_MILLIS, LONG_MILLIS};
use super::streams::{FakeStream, Selection, streams_of};

/// Section keys, as Plex spells them (strings).
pub const MOVIES_SECTION: &str = "1";
/// The TV section.
pub const SHOWS_SECTION: &str = "2";
/// The large generated section used for paging tests.
pub const ARCHIVE_SECTION: &str = "3";
/// Section key of the music library (with `music_and_photos`): Marquee cannot play it.
pub const MUSIC_SECTION: &str = "4";
/// Section key of the photo library (with `music_and_photos`).
pub const PHOTOS_SECTION: &str = "5";
/// First ratingKey of the generated archive items.
pub const ARCHIVE_BASE_KEY: i64 = 100_000;
/// Base of the fake change stamps in thumb/art/part URLs.
const STAMP_BASE: i64 = 1_700_000_000;

/// Which generated file a Media version points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// H.264/AAC MP4: browsers direct-play it.
    H264,
    /// HEVC/AC3 MKV: needs the transcoder.
    Hevc,
    /// The ten-minute H.264/AAC MP4: direct-playable, long enough to seek around in.
    Long,
    /// H.264 with two audio languages, an embedded text subtitle and three sidecars.
    MultiTrack,
    /// The H.264 clip with one image (PGS) subtitle stream: only a burn-in shows it.
    ImageSubs,
}

impl MediaKind {
    /// The file's length, in milliseconds.
    pub fn millis(self) -> i64 {
        match self {
            MediaKind::H264 | MediaKind::Hevc | MediaKind::MultiTrack | MediaKind::ImageSubs => {
                CLIP_MILLIS
            }
            MediaKind::Long => LONG_MILLIS,
        }
    }
}

/// Plex metadata type of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A film.
    Movie,
    /// A TV show.
    Show,
    /// A season of a show.
    Season,
    /// An episode.
    Episode,
}

impl Kind {
    /// Plex's spelling of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Movie => "movie",
            Kind::Show => "show",
            Kind::Season => "season",
            Kind::Episode => "episode",
        }
    }
}

/// One library item of the fake.
#[derive(Debug, Clone)]
pub struct Item {
    /// Plex ratingKey.
    pub rating_key: i64,
    /// Metadata type.
    pub kind: Kind,
    /// Display title.
    pub title: String,
    /// Release year.
    pub year: Option<i64>,
    /// Plot summary (some real items have none).
    pub summary: Option<String>,
    /// Genre tags.
    pub genres: Vec<String>,
    /// Audience rating 0–10.
    pub rating: Option<f64>,
    /// Content rating such as "PG-13".
    pub content_rating: Option<String>,
    /// Whether the item has a poster.
    pub has_thumb: bool,
    /// Render every number as a string, as some Plex versions/proxies do.
    pub stringly: bool,
    /// Media versions.
    pub media: Vec<MediaKind>,
    /// Section the item lives in.
    pub section: &'static str,
    /// Parent (season for episodes, show for seasons).
    pub parent: Option<i64>,
    /// Grandparent (show for episodes).
    pub grandparent: Option<i64>,
    /// Episode or season number.
    pub index: Option<i64>,
    /// Poster picked for this item.
    pub poster: usize,
    /// Playback position for on-deck/continue-watching entries (ms).
    pub view_offset: Option<i64>,
}

impl Item {
    fn new(rating_key: i64, kind: Kind, title: &str, section: &'static str) -> Self {
        Item {
            rating_key,
            kind,
            title: title.to_string(),
            year: None,
            summary: None,
            genres: Vec::new(),
            rating: None,
            content_rating: None,
            has_thumb: true,
            stringly: false,
            media: Vec::new(),
            section,
            parent: None,
            grandparent: None,
            index: None,
            poster: (rating_key as usize) % 5,
            view_offset: None,
        }
    }

    /// Change stamp used in this item's URLs.
    pub fn stamp(&self) -> i64 {
        STAMP_BASE + self.rating_key
    }

    /// Part id of the `media_index`-th version (one Part per Media).
    pub fn part_id(&self, media_index: usize) -> i64 {
        self.rating_key * 10 + media_index as i64 + 1
    }
}

/// Sizes of the real files, reported in `Part.size`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileSizes {
    /// Size of the H.264 MP4.
    pub h264: u64,
    /// Size of the HEVC MKV.
    pub hevc: u64,
    /// Size of the long MP4.
    pub long: u64,
    /// Size of the multi-language MP4.
    pub multi: u64,
}

/// The whole demo library.
#[derive(Debug)]
pub struct Library {
    fixed: Vec<Item>,
    /// How many generated items the archive holds; it grows when a test adds one.
    archive_items: AtomicUsize,
    sizes: FileSizes,
    /// The account's audio and subtitle choice per Part (`PUT /library/parts/{id}`).
    selections: Mutex<HashMap<i64, Selection>>,
    /// Each account's resume points (ms) and view counts per item, by (account id, ratingKey),
    /// moved by the players' timeline reports and by scrobbles, as on a real server.
    progress: Mutex<HashMap<(i64, i64), Progress>>,
}

/// The server owner's account id (the token in [`super::FakePlexOptions::token`]).
pub const OWNER_ACCOUNT: i64 = 1;

tokio::task_local! {
    /// The account of the request being answered: what it reads and writes of watch state is
    /// that account's, as Plex keeps progress per user.
    pub(crate) static ACCOUNT: i64;
}

/// The account of the current request (the owner outside one).
fn current_account() -> i64 {
    ACCOUNT.try_with(|a| *a).unwrap_or(OWNER_ACCOUNT)
}

/// One item's watch state for the account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Resume point in ms (`viewOffset`), if partly watched.
    pub offset: Option<i64>,
    /// Times watched (`viewCount`).
    pub views: i64,
}

/// Items partly watched in a fresh demo library, and where (ms).
const DEMO_RESUME_POINTS: [(i64, i64); 3] = [(2120, 9_000), (103, 12_000), (101, 21_500)];

const ARCHIVE_ADJECTIVES: [&str; 8] = [
    "Amber", "Distant", "Hollow", "Velvet", "Northern", "Broken", "Silent", "Crimson",
];
const ARCHIVE_NOUNS: [&str; 8] = [
    "Harvest", "Signal", "Meridian", "Tide", "Parade", "Engine", "Garden", "Frontier",
];
const ARCHIVE_GENRES: [&str; 5] = ["Drama", "Comedy", "Documentary", "Thriller", "Western"];

impl Library {
    /// Build the demo library; `archive_items` sizes the large section.
    pub fn new(archive_items: usize, sizes: FileSizes) -> Self {
        let mut fixed = Vec::new();
        let movie = |rk: i64, title: &str, year: i64, summary: &str, genres: &[&str]| {
            let mut it = Item::new(rk, Kind::Movie, title, MOVIES_SECTION);
            it.year = Some(year);
            it.summary = Some(summary.to_string());
            it.genres = genres.iter().map(|g| g.to_string()).collect();
            it.media = vec![MediaKind::H264];
            it
        };

        let mut m = movie(
            101,
            "Harbor Lights",
            2019,
            "A retired ferry captain takes one last night crossing to reunite a scattered family.",
            &["Drama", "Family"],
        );
        m.rating = Some(7.8);
        m.content_rating = Some("PG".into());
        m.media = vec![MediaKind::H264, MediaKind::Hevc];
        fixed.push(m);

        let mut m = movie(
            102,
            "Copper Sky",
            2021,
            "Two rival prospectors share a canyon claim during the driest summer on record.",
            &["Western", "Adventure"],
        );
        m.rating = Some(6.9);
        m.content_rating = Some("PG-13".into());
        m.media = vec![MediaKind::Hevc];
        fixed.push(m);

        let mut m = movie(103, "The Quiet Orchard", 2015, "", &["Mystery"]);
        m.summary = None;
        m.rating = Some(7.1);
        m.stringly = true;
        fixed.push(m);

        let mut m = movie(
            104,
            "Midnight Cartographers",
            2023,
            "A night-shift mapmaker discovers streets that only exist after 2 a.m.",
            &["Fantasy", "Comedy"],
        );
        m.has_thumb = false;
        m.content_rating = Some("PG-13".into());
        fixed.push(m);

        let mut m = movie(
            105,
            "Paper Satellites",
            2008,
            "A schoolteacher and her class build a satellite out of origami and stubbornness.",
            &["Comedy", "Family"],
        );
        m.rating = Some(8.2);
        m.content_rating = Some("G".into());
        fixed.push(m);

        let mut m = movie(
            106,
            "Saltwater Saints",
            2012,
            "A coastal town's annual boat blessing goes wrong in every possible way.",
            &["Comedy"],
        );
        m.rating = Some(6.4);
        m.content_rating = Some("R".into());
        m.media = vec![MediaKind::Long];
        fixed.push(m);

        let mut m = movie(
            107,
            "Babel Street",
            2024,
            "Five neighbours, four languages, one stairwell, and a lift that only speaks French.",
            &["Comedy", "Drama"],
        );
        m.rating = Some(7.3);
        m.content_rating = Some("PG-13".into());
        m.media = vec![MediaKind::MultiTrack];
        fixed.push(m);

        let mut m = movie(
            108,
            "Glass Harbor",
            2017,
            "A lighthouse keeper's subtitled letters wash up a century late.",
            &["Mystery", "Drama"],
        );
        m.rating = Some(6.8);
        m.content_rating = Some("PG".into());
        m.media = vec![MediaKind::ImageSubs];
        fixed.push(m);

        // TV: one show, Specials + two seasons.
        let mut show = Item::new(201, Kind::Show, "Lanterns of Vell", SHOWS_SECTION);
        show.year = Some(2020);
        show.summary = Some(
            "Lamplighters in a city without sunrise keep the dark at bay, one street at a time."
                .into(),
        );
        show.genres = vec!["Fantasy".into(), "Drama".into()];
        show.content_rating = Some("TV-14".into());
        show.rating = Some(8.4);
        fixed.push(show);
        let seasons: [(i64, i64, &str, &[&str]); 3] = [
            (
                210,
                0,
                "Specials",
                &["Behind the Glass", "The Lamplighter's Guide"],
            ),
            (
                211,
                1,
                "Season 1",
                &["First Flame", "The Long Street", "Oil and Ash"],
            ),
            (
                212,
                2,
                "Season 2",
                &["Return of the Moths", "Ember Market", "The Last Wick"],
            ),
        ];
        for (season_key, season_index, season_title, episodes) in seasons {
            let mut s = Item::new(season_key, Kind::Season, season_title, SHOWS_SECTION);
            s.parent = Some(201);
            s.index = Some(season_index);
            s.poster = 3;
            fixed.push(s);
            for (i, title) in episodes.iter().enumerate() {
                let rk = season_key * 10 + i as i64;
                let mut e = Item::new(rk, Kind::Episode, title, SHOWS_SECTION);
                e.parent = Some(season_key);
                e.grandparent = Some(201);
                e.index = Some(i as i64 + 1);
                e.year = Some(2019 + season_index.max(1));
                e.summary = Some(format!("{season_title}, episode {}: {title}.", i + 1));
                e.media = if season_index == 2 && i == 2 {
                    vec![MediaKind::Hevc]
                } else {
                    vec![MediaKind::H264]
                };
                e.poster = 3;
                fixed.push(e);
            }
        }

        Library {
            fixed,
            archive_items: AtomicUsize::new(archive_items),
            sizes,
            selections: Mutex::default(),
            progress: Mutex::new(
                DEMO_RESUME_POINTS
                    .iter()
                    .map(|(k, o)| {
                        (
                            (OWNER_ACCOUNT, *k),
                            Progress {
                                offset: Some(*o),
                                views: 0,
                            },
                        )
                    })
                    .collect(),
            ),
        }
    }

    /// The same library without the hand-made demo items (only the large section remains).
    pub fn without_demo_items(mut self) -> Self {
        self.fixed.clear();
        self
    }

    /// The account's stream choice on a Part.
    pub fn selection(&self, part_id: i64) -> Selection {
        self.selections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&part_id)
            .copied()
            .unwrap_or_default()
    }

    /// Stores the account's stream choice on a Part, as `PUT /library/parts/{id}` does.
    pub fn select(&self, part_id: i64, selection: Selection) {
        self.selections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(part_id, selection);
    }

    /// The item and Media version a Part id names, with the Part's streams.
    pub fn part(&self, part_id: i64) -> Option<(Item, MediaKind, Vec<FakeStream>)> {
        let item = self.get(part_id / 10)?;
        let index = usize::try_from(part_id % 10 - 1).ok()?;
        let kind = *item.media.get(index)?;
        Some((item, kind, streams_of(kind, part_id)))
    }

    /// Look an item up by ratingKey.
    pub fn get(&self, rating_key: i64) -> Option<Item> {
        if let Some(item) = self.fixed.iter().find(|i| i.rating_key == rating_key) {
            let mut item = item.clone();
            item.view_offset = self.progress_of(rating_key).offset;
            return Some(item);
        }
        let n = rating_key - ARCHIVE_BASE_KEY;
        if n >= 0 && (n as usize) < self.archive_len() {
            return Some(self.archive_item(n as usize));
        }
        None
    }

    fn archive_item(&self, n: usize) -> Item {
        let adjective = ARCHIVE_ADJECTIVES[n % ARCHIVE_ADJECTIVES.len()];
        let noun = ARCHIVE_NOUNS[(n / ARCHIVE_ADJECTIVES.len()) % ARCHIVE_NOUNS.len()];
        let title = format!("{adjective} {noun} No. {}", n + 1);
        let mut it = Item::new(
            ARCHIVE_BASE_KEY + n as i64,
            Kind::Movie,
            &title,
            ARCHIVE_SECTION,
        );
        it.year = Some(1950 + (n % 70) as i64);
        it.summary = Some(format!("Reel {} from the archive.", n + 1));
        it.genres = vec![ARCHIVE_GENRES[n % ARCHIVE_GENRES.len()].to_string()];
        it.media = vec![if n % 7 == 3 {
            MediaKind::Hevc
        } else {
            MediaKind::H264
        }];
        it.stringly = n.is_multiple_of(50);
        it
    }

    /// How many items the archive holds now.
    fn archive_len(&self) -> usize {
        self.archive_items.load(Ordering::SeqCst)
    }

    /// A new item at the end of the archive (a file the server just scanned in).
    pub fn add_archive_item(&self) -> Item {
        let n = self.archive_items.fetch_add(1, Ordering::SeqCst);
        self.archive_item(n)
    }

    /// Number of items in a section's top level listing.
    pub fn section_len(&self, section: &str) -> Option<usize> {
        match section {
            ARCHIVE_SECTION => Some(self.archive_len()),
            MOVIES_SECTION | SHOWS_SECTION => Some(self.top_level(section).len()),
            _ => None,
        }
    }

    fn top_level(&self, section: &str) -> Vec<&Item> {
        self.fixed
            .iter()
            .filter(|i| i.section == section && matches!(i.kind, Kind::Movie | Kind::Show))
            .collect()
    }

    /// A page of a section's top level items.
    pub fn section_page(&self, section: &str, start: usize, size: usize) -> Vec<Item> {
        if section == ARCHIVE_SECTION {
            let end = start.saturating_add(size).min(self.archive_len());
            return (start.min(end)..end)
                .map(|n| self.archive_item(n))
                .collect();
        }
        self.top_level(section)
            .into_iter()
            .skip(start)
            .take(size)
            .cloned()
            .collect()
    }

    /// Direct children (seasons of a show, episodes of a season).
    pub fn children(&self, rating_key: i64) -> Vec<Item> {
        self.fixed
            .iter()
            .filter(|i| i.parent == Some(rating_key))
            .cloned()
            .collect()
    }

    /// All episodes of a show (or of a season).
    pub fn all_leaves(&self, rating_key: i64) -> Vec<Item> {
        self.fixed
            .iter()
            .filter(|i| {
                i.kind == Kind::Episode
                    && (i.grandparent == Some(rating_key) || i.parent == Some(rating_key))
            })
            .cloned()
            .collect()
    }

    /// Case-insensitive substring search over every item, in library order.
    pub fn search(&self, query: &str) -> Vec<Item> {
        let q = query.to_lowercase();
        let mut out: Vec<Item> = self
            .fixed
            .iter()
            .filter(|i| i.kind != Kind::Season && i.title.to_lowercase().contains(&q))
            .cloned()
            .collect();
        out.extend(
            (0..self.archive_len())
                .map(|n| self.archive_item(n))
                .filter(|i| i.title.to_lowercase().contains(&q)),
        );
        out
    }

    /// Movies and episodes, newest first (`/library/recentlyAdded`): the demo's own items (the
    /// archive was added long before them).
    pub fn recently_added(&self) -> Vec<Item> {
        let mut items: Vec<Item> = self
            .fixed
            .iter()
            .filter(|i| matches!(i.kind, Kind::Movie | Kind::Episode))
            .filter_map(|i| self.get(i.rating_key))
            .collect();
        items.sort_by_key(|i| std::cmp::Reverse(i.rating_key));
        items
    }

    /// Items that are partly watched: what on-deck and continue-watching show.
    pub fn in_progress(&self) -> Vec<Item> {
        let mut keys: Vec<(i64, i64)> = self
            .progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|((account, _), _)| *account == current_account())
            .filter_map(|((_, k), p)| p.offset.map(|o| (*k, o)))
            .collect();
        // The demo's order first (most recently watched), then the rest by key.
        keys.sort_by_key(|(k, _)| {
            DEMO_RESUME_POINTS
                .iter()
                .position(|(d, _)| d == k)
                .map_or((1, *k), |i| (0, i as i64))
        });
        keys.into_iter().filter_map(|(k, _)| self.get(k)).collect()
    }

    /// The current request's account's watch state of an item.
    pub fn progress_of(&self, rating_key: i64) -> Progress {
        self.progress_for(current_account(), rating_key)
    }

    /// An account's watch state of an item.
    pub fn progress_for(&self, account: i64, rating_key: i64) -> Progress {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(account, rating_key))
            .copied()
            .unwrap_or_default()
    }

    fn update_progress(&self, rating_key: i64, f: impl FnOnce(&mut Progress)) {
        let key = (current_account(), rating_key);
        let mut map = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(key).or_default();
        f(entry);
        if *entry == Progress::default() {
            map.remove(&key);
        }
    }

    /// How many of `items` the current account has watched.
    fn viewed(&self, items: &[Item]) -> usize {
        items
            .iter()
            .filter(|i| self.progress_of(i.rating_key).views > 0)
            .count()
    }

    /// A player said where it is (`/:/timeline` or `/:/progress`): a position inside the item
    /// becomes its resume point; one past 90 % or at 0 clears it (Plex counts the first as
    /// watched only when told to scrobble).
    pub fn record_position(&self, rating_key: i64, time_ms: i64, duration_ms: Option<i64>) {
        let Some(item) = self.get(rating_key) else {
            return;
        };
        let duration = duration_ms
            .or_else(|| item.media.first().map(|m| m.millis()))
            .unwrap_or(0);
        self.update_progress(rating_key, |p| {
            p.offset =
                (time_ms > 0 && (duration == 0 || time_ms * 10 < duration * 9)).then_some(time_ms);
        });
    }

    /// `/:/scrobble`: watched once more, no resume point.
    pub fn scrobble(&self, rating_key: i64) {
        self.update_progress(rating_key, |p| {
            p.views += 1;
            p.offset = None;
        });
    }

    /// `/:/unscrobble`: unwatched, no resume point.
    pub fn unscrobble(&self, rating_key: i64) {
        self.update_progress(rating_key, |p| *p = Progress::default());
    }

    /// The item's markers as Plex lists them with `includeMarkers=1`: every episode has an
    /// intro (0:03–0:15) and final credits (its last 12 s); the ten-minute movie has credits
    /// (its last 30 s, final) and no intro. Times in ms.
    pub fn markers(&self, item: &Item) -> Vec<Value> {
        let Some(media) = item.media.first() else {
            return Vec::new();
        };
        let end = media.millis();
        let rk = item.rating_key;
        let mut out = Vec::new();
        match item.kind {
            Kind::Episode => {
                out.push(json!({
                    "id": rk * 10 + 1, "type": "intro",
                    "startTimeOffset": 3_000, "endTimeOffset": 15_000,
                }));
                out.push(json!({
                    "id": rk * 10 + 2, "type": "credits",
                    "startTimeOffset": end - 12_000, "endTimeOffset": end, "final": true,
                }));
            }
            Kind::Movie if *media == MediaKind::Long => out.push(json!({
                "id": rk * 10 + 2, "type": "credits",
                "startTimeOffset": end - 30_000, "endTimeOffset": end, "final": true,
            })),
            _ => {}
        }
        out
    }

    /// Render an item as Plex JSON. `full` adds Stream details, as `/library/metadata` does.
    pub fn render(&self, item: &Item, full: bool) -> Value {
        let rk = item.rating_key;
        let mut m = Map::new();
        m.insert("ratingKey".into(), json!(rk.to_string()));
        let key = match item.kind {
            Kind::Show | Kind::Season => format!("/library/metadata/{rk}/children"),
            _ => format!("/library/metadata/{rk}"),
        };
        m.insert("key".into(), json!(key));
        m.insert(
            "guid".into(),
            json!(format!("plex://{}/marquee-demo-{rk}", item.kind.as_str())),
        );
        m.insert("type".into(), json!(item.kind.as_str()));
        m.insert("title".into(), json!(item.title));
        m.insert(
            "librarySectionID".into(),
            json!(item.section.parse::<i64>().unwrap_or(0)),
        );
        m.insert(
            "librarySectionKey".into(),
            json!(format!("/library/sections/{}", item.section)),
        );
        m.insert(
            "librarySectionTitle".into(),
            json!(section_title(item.section)),
        );
        if let Some(summary) = &item.summary {
            m.insert("summary".into(), json!(summary));
        }
        if let Some(year) = item.year {
            m.insert("year".into(), json!(year));
        }
        if let Some(rating) = item.rating {
            m.insert("audienceRating".into(), json!(rating));
            m.insert(
                "audienceRatingImage".into(),
                json!("rottentomatoes://image.rating.upright"),
            );
        }
        if let Some(cr) = &item.content_rating {
            m.insert("contentRating".into(), json!(cr));
        }
        if item.has_thumb {
            m.insert(
                "thumb".into(),
                json!(format!("/library/metadata/{rk}/thumb/{}", item.stamp())),
            );
            m.insert(
                "art".into(),
                json!(format!("/library/metadata/{rk}/art/{}", item.stamp())),
            );
        }
        // The archive was added long before the demo's own items.
        let added = if rk >= ARCHIVE_BASE_KEY {
            STAMP_BASE - 400 * 86_400 + (rk - ARCHIVE_BASE_KEY)
        } else {
            STAMP_BASE - 86_400 + rk
        };
        m.insert("addedAt".into(), json!(added));
        m.insert("updatedAt".into(), json!(item.stamp()));
        if let Some(index) = item.index {
            m.insert("index".into(), json!(index));
        }
        if let Some(offset) = item.view_offset {
            m.insert("viewOffset".into(), json!(offset));
            m.insert("lastViewedAt".into(), json!(STAMP_BASE + 500_000));
        }
        let views = self.progress_of(rk).views;
        if views > 0 {
            m.insert("viewCount".into(), json!(views));
        }
        match item.kind {
            Kind::Show => {
                let seasons = self.children(rk);
                m.insert("childCount".into(), json!(seasons.len()));
                let leaves = self.all_leaves(rk);
                m.insert("leafCount".into(), json!(leaves.len()));
                m.insert("viewedLeafCount".into(), json!(self.viewed(&leaves)));
            }
            Kind::Season => {
                if let Some(show) = item.parent.and_then(|p| self.get(p)) {
                    add_parent(&mut m, "parent", &show);
                }
                let episodes = self.children(rk);
                m.insert("leafCount".into(), json!(episodes.len()));
                m.insert("viewedLeafCount".into(), json!(self.viewed(&episodes)));
            }
            Kind::Episode => {
                if let Some(season) = item.parent.and_then(|p| self.get(p)) {
                    add_parent(&mut m, "parent", &season);
                    if let Some(i) = season.index {
                        m.insert("parentIndex".into(), json!(i));
                    }
                }
                if let Some(show) = item.grandparent.and_then(|p| self.get(p)) {
                    add_parent(&mut m, "grandparent", &show);
                }
            }
            Kind::Movie => {}
        }
        if !item.media.is_empty() {
            m.insert("duration".into(), json!(item.media[0].millis()));
            let media: Vec<Value> = item
                .media
                .iter()
                .enumerate()
                .map(|(i, kind)| self.render_media(item, i, *kind, full))
                .collect();
            m.insert("Media".into(), Value::Array(media));
        }
        if !item.genres.is_empty() {
            let genres: Vec<Value> = item
                .genres
                .iter()
                .enumerate()
                .map(|(i, g)| json!({"id": 900 + i, "filter": format!("genre={}", 900 + i), "tag": g}))
                .collect();
            m.insert("Genre".into(), Value::Array(genres));
        }
        let mut v = Value::Object(m);
        if item.stringly {
            stringify_numbers(&mut v);
        }
        v
    }

    /// Render one Media version (with its single Part).
    pub fn render_media(&self, item: &Item, index: usize, kind: MediaKind, full: bool) -> Value {
        let part_id = item.part_id(index);
        let (container, vcodec, acodec, size, ext, bitrate) = match kind {
            MediaKind::H264 | MediaKind::ImageSubs => {
                ("mp4", "h264", "aac", self.sizes.h264, "mp4", 400)
            }
            MediaKind::Hevc => ("mkv", "hevc", "ac3", self.sizes.hevc, "mkv", 300),
            MediaKind::Long => ("mp4", "h264", "aac", self.sizes.long, "mp4", 250),
            MediaKind::MultiTrack => ("mp4", "h264", "aac", self.sizes.multi, "mp4", 500),
        };
        let title = item.title.replace('/', "-");
        let folder = match item.kind {
            Kind::Episode => "/data/tv",
            _ => "/data/movies",
        };
        let mut part = json!({
            "id": part_id,
            "key": format!("/library/parts/{part_id}/{}/file.{ext}", item.stamp()),
            "duration": kind.millis(),
            "file": format!("{folder}/{title}/{title} [{vcodec}].{ext}"),
            "size": size,
            "container": container,
            "videoProfile": "main",
        });
        if kind != MediaKind::Hevc {
            part["optimizedForStreaming"] = json!(1);
            part["has64bitOffsets"] = json!(false);
        }
        // Seek-preview thumbnails exist for the files the demo made them for (Plex marks such
        // a Part `indexes="sd"`).
        if matches!(
            kind,
            MediaKind::H264 | MediaKind::ImageSubs | MediaKind::Long
        ) {
            part["indexes"] = json!("sd");
        }
        if full {
            let streams = streams_of(kind, part_id);
            let chosen = self.selection(part_id);
            let audio = chosen.audio_of(&streams).map(|s| s.id);
            let subtitle = chosen.subtitle_of(&streams).map(|s| s.id);
            let rendered: Vec<Value> = streams
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let selected = match s.stream_type {
                        2 => audio == Some(s.id),
                        3 => subtitle == Some(s.id),
                        _ => false,
                    };
                    let mut v = s.render(i, selected);
                    if s.stream_type == 1 {
                        v["bitrate"] = json!(bitrate - 96);
                        v["height"] = json!(360);
                        v["width"] = json!(640);
                        v["frameRate"] = json!(24.0);
                        v["profile"] = json!("main");
                        v["displayTitle"] = json!(format!(
                            "360p ({})",
                            if kind == MediaKind::Hevc {
                                "HEVC Main"
                            } else {
                                "H.264"
                            }
                        ));
                    } else if s.stream_type == 2 {
                        v["channels"] = json!(2);
                        v["samplingRate"] = json!(48000);
                    }
                    v
                })
                .collect();
            part["Stream"] = Value::Array(rendered);
        }
        json!({
            "id": part_id,
            "duration": kind.millis(),
            "bitrate": bitrate,
            "width": 640,
            "height": 360,
            "aspectRatio": 1.78,
            "audioChannels": 2,
            "audioCodec": acodec,
            "videoCodec": vcodec,
            "videoResolution": "sd",
            "container": container,
            "videoFrameRate": "24p",
            "videoProfile": "main",
            "Part": [part],
        })
    }
}

fn add_parent(m: &mut Map<String, Value>, prefix: &str, parent: &Item) {
    let rk = parent.rating_key;
    m.insert(format!("{prefix}RatingKey"), json!(rk.to_string()));
    m.insert(
        format!("{prefix}Key"),
        json!(format!("/library/metadata/{rk}")),
    );
    m.insert(format!("{prefix}Title"), json!(parent.title));
    if parent.has_thumb {
        m.insert(
            format!("{prefix}Thumb"),
            json!(format!("/library/metadata/{rk}/thumb/{}", parent.stamp())),
        );
    }
}

/// Title of a section by key.
pub fn section_title(section: &str) -> &'static str {
    match section {
        MOVIES_SECTION => "Movies",
        SHOWS_SECTION => "TV Shows",
        ARCHIVE_SECTION => "Archive",
        MUSIC_SECTION => "Music",
        PHOTOS_SECTION => "Photos",
        _ => "",
    }
}

/// Turn every number (and bool) into a string, as older servers/proxies serialise them.
pub fn stringify_numbers(v: &mut Value) {
    match v {
        Value::Number(n) => *v = Value::String(n.to_string()),
        Value::Bool(b) => *v = Value::String(if *b { "1" } else { "0" }.to_string()),
        Value::Array(items) => items.iter_mut().for_each(stringify_numbers),
        Value::Object(map) => map.values_mut().for_each(stringify_numbers),
        _ => {}
    }
}
