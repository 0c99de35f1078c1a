//! Data the pages show, shared by the server (which fills it from Plex) and the browser (which
//! hydrates it). Nothing here carries a Plex URL or token: images and media are addressed through
//! Marquee's own routes (`/img/…`, `/media/…`, `/hls/…`).

use serde::{Deserialize, Serialize};

/// What kind of thing an item is; decides how its detail page and cards look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemKind {
    Movie,
    Show,
    Season,
    Episode,
    Other,
}

impl ItemKind {
    /// Movies and episodes have media; shows and seasons only have children.
    pub fn is_playable(self) -> bool {
        matches!(self, ItemKind::Movie | ItemKind::Episode | ItemKind::Other)
    }
}

/// A library section as listed on the home page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SectionSummary {
    pub key: String,
    pub title: String,
    /// "movie", "show", … as Plex names it.
    pub kind: String,
}

/// One poster in a grid or row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemCard {
    pub rating_key: String,
    pub title: String,
    /// A short second line: the year, "Season 2", "S1 · E3", …
    pub subtitle: Option<String>,
    pub kind: ItemKind,
    /// Marquee-relative poster URL (`/img/…`), if the item has artwork.
    pub poster: Option<String>,
    /// Watched fraction in `0.0..=1.0`, for continue-watching rows.
    pub progress: Option<f32>,
    /// Watched in Plex (a movie or episode seen; a show or season whose episodes all were).
    #[serde(default)]
    pub watched: bool,
    /// Episodes of a show or season not watched yet, when some were.
    #[serde(default)]
    pub unwatched: Option<i64>,
}

/// The home page: sections and the continue-watching row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HomeData {
    /// The libraries Marquee can play (movies and TV).
    pub sections: Vec<SectionSummary>,
    /// The server's other libraries (music, photos): listed, so nobody wonders where they
    /// went, but not links.
    pub unplayable: Vec<SectionSummary>,
    pub continue_watching: Vec<ItemCard>,
    /// Why the continue-watching row is missing, when Plex failed to give it: the rest of the
    /// page still shows.
    pub continue_unavailable: Option<String>,
    /// Plex's newest items.
    #[serde(default)]
    pub recently_added: Vec<ItemCard>,
    /// Watch sessions with people in them now (anyone who sees this page may join them).
    #[serde(default)]
    pub watching_now: Vec<WatchingNow>,
}

/// A watch session under way, as the home page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WatchingNow {
    /// Marquee-relative link to the session page.
    pub url: String,
    pub title: String,
    /// "S01E02" of an episode.
    pub label: Option<String>,
    pub poster: Option<String>,
    /// Where the group is (s) when the page was made, and the item's length.
    pub position: f64,
    pub duration: Option<f64>,
    pub playing: bool,
    /// Who is in it.
    pub viewers: Vec<String>,
}

/// One page of a section grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SectionPage {
    pub section: SectionSummary,
    pub items: Vec<ItemCard>,
    /// 1-based page number.
    pub page: u32,
    pub page_size: u32,
    pub total: u32,
}

impl SectionPage {
    /// Number of pages, at least 1 so an empty section still shows "page 1 of 1".
    pub fn page_count(&self) -> u32 {
        self.total.div_ceil(self.page_size.max(1)).max(1)
    }
}

/// A media version of a playable item ("1080p · H.264", "4K · HEVC").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub index: u32,
    pub label: String,
    /// Whether a browser can play the file as it is (otherwise Marquee transcodes to HLS).
    pub direct_play: bool,
}

/// Everything the detail page shows for one item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemDetail {
    pub rating_key: String,
    pub kind: ItemKind,
    pub title: String,
    /// For seasons and episodes: the show (and season) they belong to, as links.
    pub parents: Vec<(String, String)>,
    pub year: Option<i64>,
    pub summary: Option<String>,
    pub genres: Vec<String>,
    pub duration_ms: Option<i64>,
    /// Where Plex says the owner's account left off, in ms.
    #[serde(default)]
    pub resume_ms: Option<i64>,
    pub content_rating: Option<String>,
    pub poster: Option<String>,
    pub backdrop: Option<String>,
    pub versions: Vec<VersionInfo>,
    /// Seasons of a show, or episodes of a season.
    pub children: Vec<ItemCard>,
    /// Watched in Plex (a show or season: every episode).
    #[serde(default)]
    pub watched: bool,
}

/// How the player gets its media.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlayMode {
    /// The original file, streamed through Marquee with Range support.
    Direct,
    /// An HLS stream from Plex's transcoder, proxied through Marquee; needs hls.js or native HLS.
    Hls,
}

/// The bitrate caps (kbps) a viewer may ask a transcode for, best first. A fixed list, so a
/// stranger cannot make one Plex transcode per number.
pub const TRANSCODE_QUALITIES: [u32; 4] = [4000, 2000, 1000, 500];

/// The path label of a transcode quality: `base` for the original, `q2000` for 2 Mbps.
pub fn quality_label(kbps: Option<u32>) -> String {
    kbps.map_or_else(|| "base".to_string(), |k| format!("q{k}"))
}

/// An audio stream a viewer may pick (the item's file may hold several languages).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioTrack {
    /// Plex's stream id.
    pub id: i64,
    /// "Français · Doublage français (AAC Stereo)".
    pub label: String,
    /// ISO 639-2 code ("fra"), what a viewer's choice is remembered by.
    pub language: Option<String>,
    pub default: bool,
}

/// A subtitle stream a viewer may pick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubtitleTrack {
    pub id: i64,
    pub label: String,
    pub language: Option<String>,
    pub default: bool,
    /// Only the lines in another language, or signs.
    pub forced: bool,
    /// A picture format (PGS, VobSub): shown only burned into a transcode.
    pub image: bool,
    /// For text tracks: Marquee's signed WebVTT of it, drawn by the browser.
    pub url: Option<String>,
}

/// The path label of a rendition: the quality (`base`, `q2000`), then `-a{id}` for an audio
/// track other than the default and `-s{id}` for a subtitle burned in.
pub fn rendition_label(kbps: Option<u32>, audio: Option<i64>, burn: Option<i64>) -> String {
    let mut label = quality_label(kbps);
    if let Some(a) = audio {
        label.push_str(&format!("-a{a}"));
    }
    if let Some(s) = burn {
        label.push_str(&format!("-s{s}"));
    }
    label
}

/// Reads a [`rendition_label`]: the quality label and the two stream ids.
pub fn parse_rendition_label(label: &str) -> Option<(&str, Option<i64>, Option<i64>)> {
    let mut parts = label.split('-');
    let quality = parts.next()?;
    let (mut audio, mut burn) = (None, None);
    for part in parts {
        let id = |p: &str| p.parse::<i64>().ok().filter(|n| *n > 0);
        match part.split_at_checked(1)? {
            ("a", n) if audio.is_none() && burn.is_none() => audio = Some(id(n)?),
            ("s", n) if burn.is_none() => burn = Some(id(n)?),
            _ => return None,
        }
    }
    Some((quality, audio, burn))
}

/// What the watch page needs to start playback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaybackInfo {
    pub rating_key: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub versions: Vec<VersionInfo>,
    /// Index into `versions` (Plex's `mediaIndex`) being played.
    pub media_index: u32,
    pub mode: PlayMode,
    /// Marquee-relative media URL.
    pub src: String,
    /// The bitrate cap (kbps) of the transcode asked for, `None` for the original quality.
    pub quality: Option<u32>,
    /// Where the player says it is done with an HLS `src`, so Plex stops transcoding.
    pub stop_url: Option<String>,
    /// Where the player reports its state (`?state=playing&time=ms`) on play, pause and seek
    /// and every [`crate::player::hls::REPORT_EVERY_SECS`]: Marquee passes it on to Plex,
    /// which stops a transcode whose player reports nothing.
    pub timeline_url: Option<String>,
    pub duration_ms: Option<i64>,
    pub poster: Option<String>,
    pub backdrop: Option<String>,
    /// The version's audio tracks, and the one this stream plays.
    pub audio_tracks: Vec<AudioTrack>,
    pub audio: Option<i64>,
    /// The version's subtitle tracks, and the image one burned into this stream, if any.
    pub subtitle_tracks: Vec<SubtitleTrack>,
    pub burned: Option<i64>,
    /// The signed seek-preview link of the version, when Plex made thumbnails of it (see
    /// `MediaUrls::previews`).
    #[serde(default)]
    pub previews: Option<String>,
}

/// A newly created watch session: where to go, and the member id to join as its host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedSession {
    pub id: String,
    /// The host's member id, and the key that proves it (keep both to join as the host).
    pub member: String,
    pub member_key: String,
    /// Marquee-relative link to the session page (the share link).
    pub url: String,
}

/// Who is signed in (with Discord), as the pages show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub discord_id: String,
    /// Whether this Marquee admits them (members of its Discord servers, by default).
    pub allowed: bool,
}

/// A viewer's own Plex account, as "Link Plex" shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlexLinkState {
    /// This Marquee can link Plex accounts (plex.tv and a token key are configured).
    pub available: bool,
    pub linked: Option<PlexLinked>,
    /// A sign-in with Plex is waiting for the person's approval.
    pub pending: bool,
    /// Why the last attempt failed, in words for the person.
    pub problem: Option<String>,
}

impl PlexLinkState {
    /// Available, nothing linked, nothing under way.
    pub fn unlinked() -> Self {
        PlexLinkState {
            available: true,
            ..PlexLinkState::default()
        }
    }
}

/// A linked Plex account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlexLinked {
    pub username: String,
}

/// The header's sign-in state: who is signed in, and whether signing in is possible at all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountState {
    pub account: Option<Account>,
    pub sign_in_available: bool,
}
