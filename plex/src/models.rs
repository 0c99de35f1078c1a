//! Plex data as Marquee uses it.
//!
//! Every field is lenient (see [`crate::lenient`]) because real servers disagree on types and
//! omit anything optional; unknown fields are ignored so newer servers do not break us.

use serde::{Deserialize, Serialize};

use crate::lenient;

/// The server's identity (`/identity`), used to check a configured URL points at Plex.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// Stable id of the server.
    #[serde(default, deserialize_with = "lenient::string")]
    pub machine_identifier: String,
    /// Server version string.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub version: Option<String>,
    /// Whether the server is claimed by a Plex account.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub claimed: Option<bool>,
}

/// What a library section holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SectionType {
    /// Films.
    Movie,
    /// TV shows.
    Show,
    /// Music.
    Artist,
    /// Photos.
    Photo,
    /// Anything else (new server types must not fail parsing).
    #[default]
    #[serde(other)]
    Other,
}

/// A library section (`/library/sections`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Section {
    /// Section key, e.g. `"1"`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub key: String,
    /// Content type.
    #[serde(default, rename = "type")]
    pub r#type: SectionType,
    /// Display title.
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: String,
    /// Section icon path.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub thumb: Option<String>,
    /// Section backdrop path.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub art: Option<String>,
    /// Unix time of the last change; lets caches know when to refetch.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub updated_at: Option<i64>,
    /// Unix time of the last scan.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub scanned_at: Option<i64>,
    /// Section UUID.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub uuid: Option<String>,
}

/// Plex metadata type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetadataType {
    /// A film.
    Movie,
    /// A TV show.
    Show,
    /// A season of a show.
    Season,
    /// A TV episode.
    Episode,
    /// Anything else (clips, tracks, photos…).
    #[default]
    #[serde(other)]
    Other,
}

/// A tag such as a genre (`Genre[]{tag}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    /// The tag text.
    #[serde(default, deserialize_with = "lenient::string")]
    pub tag: String,
}

/// A library item: movie, show, season or episode.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Stable id used in every item URL.
    #[serde(default, deserialize_with = "lenient::string")]
    pub rating_key: String,
    /// Path of the item (or of its children for shows/seasons).
    #[serde(default, deserialize_with = "lenient::string")]
    pub key: String,
    /// Item type.
    #[serde(default, rename = "type")]
    pub r#type: MetadataType,
    /// Display title.
    #[serde(default, deserialize_with = "lenient::string")]
    pub title: String,
    /// Release year.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub year: Option<i64>,
    /// Plot summary.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub summary: Option<String>,
    /// Poster path (fetch through the photo transcoder).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub thumb: Option<String>,
    /// Backdrop path.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub art: Option<String>,
    /// Length in milliseconds.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub duration: Option<i64>,
    /// Resume position in milliseconds.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub view_offset: Option<i64>,
    /// Episode number, or season number for seasons (0 = Specials).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub index: Option<i64>,
    /// Season number of an episode.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub parent_index: Option<i64>,
    /// Season title of an episode / show title of a season.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub parent_title: Option<String>,
    /// Show title of an episode.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub grandparent_title: Option<String>,
    /// ratingKey of the parent.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub parent_rating_key: Option<String>,
    /// ratingKey of the grandparent.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub grandparent_rating_key: Option<String>,
    /// Show poster of an episode (episodes often lack their own).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub grandparent_thumb: Option<String>,
    /// Number of episodes below a show/season.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub leaf_count: Option<i64>,
    /// How many of them the account has watched.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub viewed_leaf_count: Option<i64>,
    /// Times the account has watched it (absent: never).
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub view_count: Option<i64>,
    /// Number of seasons of a show.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub child_count: Option<i64>,
    /// Age rating such as "PG-13".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub content_rating: Option<String>,
    /// Audience rating (0–10).
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub audience_rating: Option<f64>,
    /// Section the item belongs to.
    #[serde(
        default,
        rename = "librarySectionID",
        deserialize_with = "lenient::opt_string"
    )]
    pub library_section_id: Option<String>,
    /// Unix time of the last metadata change.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub updated_at: Option<i64>,
    /// Genres.
    #[serde(default, rename = "Genre", deserialize_with = "lenient::vec")]
    pub genres: Vec<Tag>,
    /// Playable versions; a movie can have several.
    #[serde(default, rename = "Media", deserialize_with = "lenient::vec")]
    pub media: Vec<Media>,
    /// Intro, credits and commercial markers (only with `includeMarkers=1`).
    #[serde(default, rename = "Marker", deserialize_with = "lenient::vec")]
    pub markers: Vec<Marker>,
}

/// A stretch of an item Plex detected (`Marker[]` of `/library/metadata/{id}?includeMarkers=1`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Marker {
    /// `intro`, `credits` (not "credit") or `commercial`.
    #[serde(default, rename = "type", deserialize_with = "lenient::string")]
    pub kind: String,
    /// Start, in milliseconds.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub start_time_offset: i64,
    /// End, in milliseconds.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub end_time_offset: i64,
    /// The last credits of the item (`final`, sent as `true` or `1`; absent otherwise).
    #[serde(default, rename = "final", deserialize_with = "lenient::opt_bool")]
    pub last: Option<bool>,
}

/// One version of an item (a movie may exist as 4K HEVC and 1080p H.264).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    /// Media id.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub id: i64,
    /// Length in milliseconds.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub duration: Option<i64>,
    /// Overall bitrate in kbps.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub bitrate: Option<i64>,
    /// Video width in pixels.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub width: Option<i64>,
    /// Video height in pixels.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub height: Option<i64>,
    /// Video codec, e.g. "h264", "hevc".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub video_codec: Option<String>,
    /// Audio codec, e.g. "aac", "ac3".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub audio_codec: Option<String>,
    /// Audio channel count.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub audio_channels: Option<i64>,
    /// Container, e.g. "mp4", "mkv".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub container: Option<String>,
    /// Resolution label, e.g. "1080", "720", "sd", "4k".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub video_resolution: Option<String>,
    /// Set in transcode decisions on the version the server picked.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub selected: Option<bool>,
    /// Files of this version (usually one).
    #[serde(default, rename = "Part", deserialize_with = "lenient::vec")]
    pub parts: Vec<Part>,
}

/// One file of a Media version.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    /// Part id.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub id: i64,
    /// Download path, `/library/parts/{id}/{stamp}/file.ext` (supports Range).
    #[serde(default, deserialize_with = "lenient::string")]
    pub key: String,
    /// Length in milliseconds.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub duration: Option<i64>,
    /// File size in bytes.
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    pub size: Option<u64>,
    /// Container, e.g. "mp4".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub container: Option<String>,
    /// Path on the server's disk (absent for some users/servers).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub file: Option<String>,
    /// In transcode decisions: "directplay", "copy" or "transcode".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub decision: Option<String>,
    /// Which thumbnail indexes the server made for seek previews (`sd`), if any.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub indexes: Option<String>,
    /// Video, audio and subtitle streams.
    #[serde(default, rename = "Stream", deserialize_with = "lenient::vec")]
    pub streams: Vec<Stream>,
}

/// Stream kinds as Plex numbers them.
pub mod stream_type {
    /// Video stream.
    pub const VIDEO: i64 = 1;
    /// Audio stream.
    pub const AUDIO: i64 = 2;
    /// Subtitle stream.
    pub const SUBTITLE: i64 = 3;
}

/// A video, audio or subtitle stream of a Part.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stream {
    /// Stream id.
    #[serde(default, deserialize_with = "lenient::i64")]
    pub id: i64,
    /// 1 video, 2 audio, 3 subtitle (see [`stream_type`]).
    #[serde(default, deserialize_with = "lenient::i64")]
    pub stream_type: i64,
    /// Codec name.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub codec: Option<String>,
    /// Index in the container.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub index: Option<i64>,
    /// Video height.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub height: Option<i64>,
    /// Video width.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub width: Option<i64>,
    /// Audio channels.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub channels: Option<i64>,
    /// Bitrate in kbps.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub bitrate: Option<i64>,
    /// Language name.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub language: Option<String>,
    /// ISO 639-2 language code.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub language_code: Option<String>,
    /// Human-readable description.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub display_title: Option<String>,
    /// Whether the stream is selected for playback.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub selected: Option<bool>,
    /// Only external subtitle streams carry a key.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub key: Option<String>,
    /// The stream's own name ("Commentary", "SDH", "Signs"), when the file gives one.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub title: Option<String>,
    /// The file marks it as the default of its kind.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub default: Option<bool>,
    /// A forced subtitle: only the lines in another language, or signs.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub forced: Option<bool>,
    /// Subtitles for the deaf and hard of hearing (SDH).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub hearing_impaired: Option<bool>,
    /// A sidecar's format (srt, ass, vtt), where Plex names it.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub format: Option<String>,
    /// In transcode decisions: "copy", "transcode", "burn".
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub decision: Option<String>,
}

/// A page of a listing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// Items of this page.
    pub items: Vec<T>,
    /// Offset of the first item.
    pub offset: u32,
    /// Total items in the listing.
    pub total_size: u32,
}

/// A search hub (`/hubs/search`): one per result type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Hub {
    #[serde(default, rename = "Metadata", deserialize_with = "lenient::vec")]
    pub metadata: Vec<Metadata>,
    #[serde(default, rename = "Directory", deserialize_with = "lenient::vec")]
    pub directory: Vec<Metadata>,
}

/// The `MediaContainer` of listings (sections/all, children, search, on deck…).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Listing {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub size: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub total_size: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub offset: Option<i64>,
    #[serde(default, rename = "Metadata", deserialize_with = "lenient::vec")]
    pub metadata: Vec<Metadata>,
    #[serde(default, rename = "Directory", deserialize_with = "lenient::vec")]
    pub directory: Vec<Metadata>,
    #[serde(default, rename = "Hub", deserialize_with = "lenient::vec")]
    pub hubs: Vec<Hub>,
}

impl Listing {
    /// Real items only: drops pseudo-directories such as "All episodes", which have no
    /// ratingKey.
    pub fn into_items(self) -> Vec<Metadata> {
        self.metadata
            .into_iter()
            .chain(self.directory)
            .chain(
                self.hubs
                    .into_iter()
                    .flat_map(|h| h.metadata.into_iter().chain(h.directory)),
            )
            .filter(|m| !m.rating_key.is_empty())
            .collect()
    }
}

/// `MediaContainer` of `/library/sections`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SectionList {
    #[serde(default, rename = "Directory", deserialize_with = "lenient::vec")]
    pub directory: Vec<Section>,
}

/// `MediaContainer` of a transcode decision.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DecisionContainer {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub general_decision_code: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub general_decision_text: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub direct_play_decision_code: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub direct_play_decision_text: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub transcode_decision_code: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub transcode_decision_text: Option<String>,
    #[serde(default, rename = "Metadata", deserialize_with = "lenient::vec")]
    pub metadata: Vec<Metadata>,
}

/// Plex's answer to a `/:/timeline` report: empty, unless the server ended the playback
/// (its transcode stopped, or the owner ended the stream), when it says why.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TimelineAnswer {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub termination_code: Option<i64>,
    /// For the viewer: Plex's own sentence.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub termination_text: Option<String>,
}

/// The `{"MediaContainer": …}` wrapper every Plex response has.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Envelope<T> {
    #[serde(rename = "MediaContainer")]
    pub media_container: T,
}
