//! A version's audio and subtitle streams as the player's menus list them, and a viewer's
//! pick (a stream id, or a language remembered from an earlier item) resolved against them.
//!
//! Text subtitles reach the browser apart from the video, as WebVTT (`/subs/…`), so choosing
//! one never changes the stream. Image subtitles (PGS, VobSub, DVB) cannot be drawn by a
//! browser: choosing one asks Plex for a transcode with it burned in. An audio track other than
//! the default needs a transcode too: browsers play only a file's first audio track.

use marquee_plex::{Part, Stream, stream_type};

use crate::error::AppError;
use crate::model::{AudioTrack, SubtitleTrack};

/// Subtitle codecs that are pictures, as Plex and ffmpeg name them.
const IMAGE_CODECS: [&str; 8] = [
    "pgs",
    "hdmv_pgs_subtitle",
    "vobsub",
    "dvd_subtitle",
    "dvdsub",
    "dvb_subtitle",
    "dvbsub",
    "xsub",
];

/// Whether a subtitle stream is a picture format (burn-in only).
pub fn is_image_subtitle(stream: &Stream) -> bool {
    stream
        .codec
        .as_deref()
        .is_some_and(|c| IMAGE_CODECS.contains(&c.to_ascii_lowercase().as_str()))
}

/// A viewer's choice of track, as the watch page's URL carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pick {
    /// This stream of this item.
    Id(i64),
    /// The first track in this language (ISO 639 code): a choice carried to the next episode.
    Language(String),
}

impl Pick {
    /// `"1072"` or `"fra"`; anything else is refused with a sentence.
    pub fn parse(what: &str, text: &str) -> Result<Pick, AppError> {
        if !text.is_empty() && text.len() <= 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            return text
                .parse()
                .map(Pick::Id)
                .map_err(|_| AppError::BadRequest(format!("{what} {text:?} is not a stream")));
        }
        if (2..=3).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Ok(Pick::Language(text.to_ascii_lowercase()));
        }
        Err(AppError::BadRequest(format!(
            "{what} must be a stream id or a language code such as \"fra\", not {text:?}"
        )))
    }
}

/// A viewer's picks for one playback: the audio track, and an image subtitle to burn in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackPicks {
    pub audio: Option<Pick>,
    pub burn: Option<Pick>,
}

impl TrackPicks {
    /// From the watch page's `audio` and `burn` parameters (empty means none).
    pub fn parse(audio: Option<&str>, burn: Option<&str>) -> Result<TrackPicks, AppError> {
        let one = |what: &str, v: Option<&str>| {
            v.filter(|v| !v.is_empty())
                .map(|v| Pick::parse(what, v))
                .transpose()
        };
        Ok(TrackPicks {
            audio: one("audio", audio)?,
            burn: one("burn", burn)?,
        })
    }
}

fn label(stream: &Stream) -> String {
    let mut label = stream
        .language
        .clone()
        .or_else(|| stream.display_title.clone())
        .unwrap_or_else(|| "Unknown".into());
    if let Some(title) = stream.title.as_deref().filter(|t| !label.contains(t)) {
        label.push_str(" · ");
        label.push_str(title);
    }
    if stream.hearing_impaired == Some(true) && !label.contains("SDH") {
        label.push_str(" · SDH");
    }
    if let Some(codec) = &stream.codec {
        label.push_str(&format!(" ({})", codec.to_ascii_uppercase()));
    }
    label
}

/// The audio tracks of a Part, in Plex's order.
pub fn audio_tracks(part: &Part) -> Vec<AudioTrack> {
    part.streams
        .iter()
        .filter(|s| s.stream_type == stream_type::AUDIO)
        .map(|s| AudioTrack {
            id: s.id,
            label: label(s),
            language: s.language_code.clone(),
            default: s.default == Some(true),
        })
        .collect()
}

/// The subtitle tracks of a Part; `url` signs the WebVTT address of a text track's id.
pub fn subtitle_tracks(part: &Part, url: impl Fn(i64) -> String) -> Vec<SubtitleTrack> {
    part.streams
        .iter()
        .filter(|s| s.stream_type == stream_type::SUBTITLE)
        .map(|s| {
            let image = is_image_subtitle(s);
            SubtitleTrack {
                id: s.id,
                label: label(s),
                language: s.language_code.clone(),
                default: s.default == Some(true),
                forced: s.forced == Some(true),
                image,
                url: (!image).then(|| url(s.id)),
            }
        })
        .collect()
}

/// The default audio track: the one the file marks, else the first.
pub fn default_audio(tracks: &[AudioTrack]) -> Option<&AudioTrack> {
    tracks.iter().find(|t| t.default).or_else(|| tracks.first())
}

/// The audio track a pick names; `None` for no pick, or a language the item lacks (the
/// default plays). An id of another item is refused.
pub fn pick_audio<'a>(
    tracks: &'a [AudioTrack],
    pick: Option<&Pick>,
) -> Result<Option<&'a AudioTrack>, AppError> {
    match pick {
        None => Ok(None),
        Some(Pick::Id(id)) => tracks
            .iter()
            .find(|t| t.id == *id)
            .map(Some)
            .ok_or_else(|| {
                AppError::BadRequest(format!("audio track {id} is not a track of this version"))
            }),
        Some(Pick::Language(lang)) => Ok(tracks
            .iter()
            .find(|t| t.language.as_deref() == Some(lang.as_str()) && t.default)
            .or_else(|| {
                tracks
                    .iter()
                    .find(|t| t.language.as_deref() == Some(lang.as_str()))
            })),
    }
}

/// The image subtitle a burn pick names (a language picks its non-forced track first);
/// `None` for no pick or a language without one. A text track's id is refused: those are
/// drawn by the browser.
pub fn pick_burn<'a>(
    tracks: &'a [SubtitleTrack],
    pick: Option<&Pick>,
) -> Result<Option<&'a SubtitleTrack>, AppError> {
    let images = || tracks.iter().filter(|t| t.image);
    match pick {
        None => Ok(None),
        Some(Pick::Id(id)) => match tracks.iter().find(|t| t.id == *id) {
            Some(t) if t.image => Ok(Some(t)),
            Some(_) => Err(AppError::BadRequest(format!(
                "subtitle {id} is text: the player draws it, nothing is burned in"
            ))),
            None => Err(AppError::BadRequest(format!(
                "subtitle {id} is not a track of this version"
            ))),
        },
        Some(Pick::Language(lang)) => {
            let of_lang = |t: &&SubtitleTrack| t.language.as_deref() == Some(lang.as_str());
            Ok(images()
                .filter(of_lang)
                .find(|t| !t.forced)
                .or_else(|| images().find(of_lang)))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn stream(id: i64, t: i64, codec: &str, lang: &str) -> Stream {
        Stream {
            id,
            stream_type: t,
            codec: Some(codec.into()),
            language: Some(lang.into()),
            language_code: Some(lang[..3].to_ascii_lowercase()),
            ..Default::default()
        }
    }

    #[test]
    fn picks_resolve_by_id_or_language() {
        let part = Part {
            streams: vec![
                Stream {
                    default: Some(true),
                    ..stream(1, 2, "aac", "English")
                },
                Stream {
                    title: Some("Doublage".into()),
                    ..stream(2, 2, "aac", "Français")
                },
                stream(3, 3, "pgs", "English"),
                stream(4, 3, "srt", "Français"),
            ],
            ..Default::default()
        };
        let audio = audio_tracks(&part);
        assert_eq!(audio[1].label, "Français · Doublage (AAC)");
        assert_eq!(default_audio(&audio).unwrap().id, 1);
        let fra = Pick::parse("audio", "FRA").unwrap();
        assert_eq!(pick_audio(&audio, Some(&fra)).unwrap().unwrap().id, 2);
        let deu = Pick::parse("audio", "deu").unwrap();
        assert_eq!(pick_audio(&audio, Some(&deu)).unwrap(), None);
        assert!(pick_audio(&audio, Some(&Pick::Id(3))).is_err());
        let subs = subtitle_tracks(&part, |id| format!("/subs/{id}.vtt"));
        assert!(subs[0].image && subs[0].url.is_none());
        assert_eq!(subs[1].url.as_deref(), Some("/subs/4.vtt"));
        let eng = Pick::parse("burn", "eng").unwrap();
        assert_eq!(pick_burn(&subs, Some(&eng)).unwrap().unwrap().id, 3);
        assert!(pick_burn(&subs, Some(&Pick::Id(4))).is_err());
        assert!(Pick::parse("audio", "../x").is_err());
        assert!(Pick::parse("audio", "").is_err());
    }
}
