//! A viewer's own choices of language and subtitle look, kept in this browser and never sent
//! to anyone else: the next episode plays in the same audio language with the same subtitles,
//! and one viewer's choice changes nothing for the rest of the group.
//!
//! Choices are remembered by language (ISO 639 code), since stream ids differ from one file to
//! the next; the timing nudge is remembered per item (a subtitle file is early or late as a
//! whole, and the next file is not).

use serde::{Deserialize, Serialize};

use crate::model::{AudioTrack, PlaybackInfo, SubtitleTrack};
use crate::storage;

const PREFS_KEY: &str = "marquee.tracks";

fn nudge_slot(rating_key: &str) -> String {
    format!("marquee.subtitle_nudge.{rating_key}")
}

/// Subtitles on or off, by language.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubtitleChoice {
    /// Nothing chosen yet: a track the file marks as default shows, else none.
    #[default]
    Unset,
    Off,
    /// This language; `image` when the choice was a picture track (burned in).
    Language {
        code: String,
        forced: bool,
        image: bool,
    },
}

/// How large subtitles are drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubtitleSize {
    Small,
    #[default]
    Medium,
    Large,
}

/// What is behind subtitle text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubtitleBackground {
    /// A dark box: readable on any picture.
    #[default]
    Box,
    /// A lighter, see-through box.
    Translucent,
    /// No box, an outline shadow.
    Shadow,
}

impl SubtitleSize {
    pub const ALL: [SubtitleSize; 3] = [Self::Small, Self::Medium, Self::Large];

    pub fn name(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
        }
    }

    pub fn from_name(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .unwrap_or_default()
    }
}

impl SubtitleBackground {
    pub const ALL: [SubtitleBackground; 3] = [Self::Box, Self::Translucent, Self::Shadow];

    pub fn name(self) -> &'static str {
        match self {
            Self::Box => "box",
            Self::Translucent => "translucent",
            Self::Shadow => "shadow",
        }
    }

    pub fn from_name(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .unwrap_or_default()
    }
}

/// Everything remembered (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrackPrefs {
    /// The audio language last chosen (`None`: each file's default).
    pub audio: Option<String>,
    pub subtitles: SubtitleChoice,
    pub size: SubtitleSize,
    pub background: SubtitleBackground,
}

impl TrackPrefs {
    /// What this browser remembers (defaults on the server, or when nothing is stored).
    pub fn load() -> TrackPrefs {
        storage::get(PREFS_KEY)
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    pub fn save(&self) {
        if let Ok(text) = serde_json::to_string(self) {
            storage::set(PREFS_KEY, &text);
        }
    }
}

/// The timing nudge for an item's subtitles, in seconds (positive: shown later).
pub fn nudge(rating_key: &str) -> f64 {
    storage::get(&nudge_slot(rating_key))
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && v.abs() <= MAX_NUDGE)
        .unwrap_or(0.0)
}

pub fn set_nudge(rating_key: &str, seconds: f64) {
    storage::set(&nudge_slot(rating_key), &format!("{seconds:.1}"));
}

/// The largest nudge either way, in seconds.
pub const MAX_NUDGE: f64 = 30.0;

/// One nudge step, in seconds.
pub const NUDGE_STEP: f64 = 0.1;

/// How a menu choice is written in the watch page's URL: the language when it names this
/// track alone among `same_kind` (so it carries to the next episode), else the stream id.
pub fn pick_value(id: i64, language: Option<&str>, same_kind: &[Option<&str>]) -> String {
    match language {
        Some(lang) if same_kind.iter().filter(|l| **l == Some(lang)).count() == 1 => {
            lang.to_string()
        }
        _ => id.to_string(),
    }
}

/// The audio language to switch to on load: the remembered one, when this version has it and
/// it is not what plays.
pub fn wanted_audio<'a>(info: &'a PlaybackInfo, prefs: &TrackPrefs) -> Option<&'a AudioTrack> {
    let lang = prefs.audio.as_deref()?;
    let playing = info
        .audio_tracks
        .iter()
        .find(|t| Some(t.id) == info.audio)?;
    if playing.language.as_deref() == Some(lang) {
        return None;
    }
    info.audio_tracks
        .iter()
        .find(|t| t.language.as_deref() == Some(lang))
}

/// The subtitle track to show on load, from the remembered choice: the same language and
/// kind (forced or full), a text track before a picture one. With nothing remembered, a text
/// track the file marks as default.
pub fn wanted_subtitle<'a>(
    tracks: &'a [SubtitleTrack],
    prefs: &TrackPrefs,
) -> Option<&'a SubtitleTrack> {
    match &prefs.subtitles {
        SubtitleChoice::Off => None,
        SubtitleChoice::Unset => tracks.iter().find(|t| t.default && !t.image),
        SubtitleChoice::Language {
            code,
            forced,
            image,
        } => {
            let of_lang = |t: &&SubtitleTrack| t.language.as_deref() == Some(code.as_str());
            let exact = |t: &&SubtitleTrack| of_lang(t) && t.forced == *forced;
            let text_first = tracks
                .iter()
                .filter(exact)
                .find(|t| !t.image)
                .or_else(|| tracks.iter().find(exact));
            let found = text_first.or_else(|| tracks.iter().find(of_lang));
            // A picture track of the language only when a picture track was chosen: a burn-in
            // costs a transcode.
            found.filter(|t| !t.image || *image)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sub(id: i64, lang: &str, forced: bool, image: bool) -> SubtitleTrack {
        SubtitleTrack {
            id,
            label: lang.into(),
            language: Some(lang.into()),
            default: false,
            forced,
            image,
            url: (!image).then(|| format!("/subs/{id}.vtt")),
        }
    }

    #[test]
    fn remembered_languages_pick_tracks_of_the_next_file() {
        let tracks = [
            sub(1, "eng", true, false),
            sub(2, "eng", false, false),
            sub(3, "fra", false, true),
        ];
        let prefs = |code: &str, forced, image| TrackPrefs {
            subtitles: SubtitleChoice::Language {
                code: code.into(),
                forced,
                image,
            },
            ..Default::default()
        };
        assert_eq!(
            wanted_subtitle(&tracks, &prefs("eng", false, false))
                .unwrap()
                .id,
            2
        );
        assert_eq!(
            wanted_subtitle(&tracks, &prefs("eng", true, false))
                .unwrap()
                .id,
            1
        );
        assert_eq!(wanted_subtitle(&tracks, &prefs("fra", false, false)), None);
        assert_eq!(
            wanted_subtitle(&tracks, &prefs("fra", false, true))
                .unwrap()
                .id,
            3
        );
        assert_eq!(wanted_subtitle(&tracks, &TrackPrefs::default()), None);
        assert_eq!(pick_value(2, Some("eng"), &[Some("eng"), Some("eng")]), "2");
        assert_eq!(
            pick_value(3, Some("fra"), &[Some("eng"), Some("fra")]),
            "fra"
        );
    }

    #[test]
    fn stored_prefs_survive_a_round_trip_and_junk() {
        let prefs = TrackPrefs {
            audio: Some("fra".into()),
            subtitles: SubtitleChoice::Off,
            size: SubtitleSize::Large,
            background: SubtitleBackground::Shadow,
        };
        let text = serde_json::to_string(&prefs).unwrap();
        assert_eq!(serde_json::from_str::<TrackPrefs>(&text).unwrap(), prefs);
        assert_eq!(
            serde_json::from_str::<TrackPrefs>("{\"size\":\"huge\"}").ok(),
            None
        );
        assert_eq!(
            serde_json::from_str::<TrackPrefs>("{}").unwrap(),
            TrackPrefs::default()
        );
    }
}
