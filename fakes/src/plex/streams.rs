//! The streams of the fake's media, listed as Plex lists them, and what each one is made of.
//!
//! Plex describes every stream of a Part (`streamType` 1 video, 2 audio, 3 subtitle) with its
//! `language`, `languageCode`, `title`, `codec`, `default` and `forced` flags; only external
//! (sidecar) subtitles carry a `key`, the path `/library/streams/{id}` that serves the file.
//! Which audio and subtitle stream play is a per-account choice stored on the Part
//! (`PUT /library/parts/{id}?audioStreamID=…&subtitleStreamID=…`), reflected as `selected`.
//!
//! The demo's image subtitle (a stream listed as PGS) has no bitmap inside the file: ffmpeg
//! cannot make PGS. The fake draws its cues from a text file when it burns them in, which is
//! the only way Plex delivers an image subtitle to a browser anyway.

use serde_json::{Value, json};

use super::library::MediaKind;

/// Where a subtitle stream's cues come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubSource {
    /// The `n`-th subtitle stream inside the media file (ffmpeg's `0:s:n`).
    Embedded(usize),
    /// A sidecar file next to the media (served at `/library/streams/{id}`).
    Sidecar(Sidecar),
    /// An image stream; the fake burns it from this text file.
    Image(Sidecar),
}

/// The demo's subtitle files (see [`super::media::MediaFiles::sidecar`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sidecar {
    /// French SRT of the multi-language movie.
    FrenchSrt,
    /// Styled Spanish ASS of the multi-language movie.
    SpanishAss,
    /// English forced-only SRT of the multi-language movie.
    EnglishForcedSrt,
    /// The cues the "PGS" stream shows, burned in.
    ImageCues,
}

/// One stream of a Part.
#[derive(Debug, Clone)]
pub struct FakeStream {
    pub id: i64,
    /// 1 video, 2 audio, 3 subtitle.
    pub stream_type: i64,
    pub codec: &'static str,
    pub language: Option<&'static str>,
    pub language_code: Option<&'static str>,
    pub title: Option<&'static str>,
    pub default: bool,
    pub forced: bool,
    /// For audio: ffmpeg's `0:a:n` index.
    pub audio_index: Option<usize>,
    /// For subtitles: where the cues are.
    pub subtitle: Option<SubSource>,
}

impl FakeStream {
    fn new(id: i64, stream_type: i64, codec: &'static str) -> Self {
        FakeStream {
            id,
            stream_type,
            codec,
            language: None,
            language_code: None,
            title: None,
            default: false,
            forced: false,
            audio_index: None,
            subtitle: None,
        }
    }

    fn lang(mut self, language: &'static str, code: &'static str) -> Self {
        self.language = Some(language);
        self.language_code = Some(code);
        self
    }

    /// Whether the stream is a sidecar file (it then has a `key`).
    pub fn is_sidecar(&self) -> bool {
        matches!(self.subtitle, Some(SubSource::Sidecar(_)))
    }

    /// Plex's JSON for the stream; `selected` as the account chose.
    pub fn render(&self, index: usize, selected: bool) -> Value {
        let mut v = json!({
            "id": self.id,
            "streamType": self.stream_type,
            "codec": self.codec,
            "index": index,
        });
        if let Some(l) = self.language {
            v["language"] = json!(l);
        }
        if let Some(c) = self.language_code {
            v["languageCode"] = json!(c);
        }
        if let Some(t) = self.title {
            v["title"] = json!(t);
        }
        if self.default {
            v["default"] = json!(true);
        }
        if self.forced {
            v["forced"] = json!(true);
        }
        if let Some(tag) = self.language_code.and_then(language_tag) {
            v["languageTag"] = json!(tag);
        }
        if selected {
            v["selected"] = json!(true);
        }
        v["displayTitle"] = json!(self.display_title());
        v["extendedDisplayTitle"] = json!(match self.title {
            Some(t) if self.stream_type != 1 => format!("{t} ({})", self.display_title()),
            _ => self.display_title(),
        });
        if self.is_sidecar() {
            v["key"] = json!(format!("/library/streams/{}", self.id));
            v["format"] = json!(self.codec);
            // Sidecars sit after the container's streams and have no container index.
            v.as_object_mut().map(|m| m.remove("index"));
        }
        v
    }

    fn display_title(&self) -> String {
        let language = self.language.unwrap_or("Unknown");
        match self.stream_type {
            1 => "360p (H.264)".to_string(),
            2 => format!("{language} ({} Stereo)", self.codec.to_uppercase()),
            _ => {
                let mut t = format!("{language} ({})", self.codec.to_uppercase());
                if self.forced {
                    t = format!("{language} Forced ({})", self.codec.to_uppercase());
                }
                if self.is_sidecar() {
                    t.push_str(" External");
                }
                t
            }
        }
    }
}

/// The BCP 47 tag Plex adds beside the ISO 639-2 code.
fn language_tag(code: &str) -> Option<&'static str> {
    match code {
        "eng" => Some("en"),
        "fra" => Some("fr"),
        "spa" => Some("es"),
        _ => None,
    }
}

/// The streams of a Part of `kind`, with ids made from `part_id`.
pub fn streams_of(kind: MediaKind, part_id: i64) -> Vec<FakeStream> {
    let id = |n: i64| part_id * 10 + n;
    let (vcodec, acodec) = match kind {
        MediaKind::Hevc => ("hevc", "ac3"),
        _ => ("h264", "aac"),
    };
    let mut video = FakeStream::new(id(1), 1, vcodec);
    video.default = true;
    let mut audio = FakeStream::new(id(2), 2, acodec).lang("English", "eng");
    audio.default = true;
    audio.audio_index = Some(0);
    let mut out = vec![video, audio];
    match kind {
        MediaKind::MultiTrack => {
            let mut french = FakeStream::new(id(3), 2, "aac").lang("Français", "fra");
            french.title = Some("Doublage français");
            french.audio_index = Some(1);
            out.push(french);
            let mut embedded = FakeStream::new(id(4), 3, "mov_text").lang("English", "eng");
            embedded.subtitle = Some(SubSource::Embedded(0));
            out.push(embedded);
            let mut srt = FakeStream::new(id(5), 3, "srt").lang("Français", "fra");
            srt.subtitle = Some(SubSource::Sidecar(Sidecar::FrenchSrt));
            out.push(srt);
            let mut ass = FakeStream::new(id(6), 3, "ass").lang("Español", "spa");
            ass.title = Some("Styled");
            ass.subtitle = Some(SubSource::Sidecar(Sidecar::SpanishAss));
            out.push(ass);
            let mut forced = FakeStream::new(id(7), 3, "srt").lang("English", "eng");
            forced.title = Some("Signs");
            forced.forced = true;
            forced.subtitle = Some(SubSource::Sidecar(Sidecar::EnglishForcedSrt));
            out.push(forced);
        }
        MediaKind::ImageSubs => {
            let mut pgs = FakeStream::new(id(3), 3, "pgs").lang("English", "eng");
            pgs.subtitle = Some(SubSource::Image(Sidecar::ImageCues));
            out.push(pgs);
        }
        MediaKind::H264 | MediaKind::Hevc | MediaKind::Long => {}
    }
    out
}

/// The account's choice on a Part: audio and subtitle stream ids (`None`: Plex's default
/// audio, no subtitles).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Selection {
    pub audio: Option<i64>,
    pub subtitle: Option<i64>,
}

impl Selection {
    /// The audio stream that plays: the chosen one, else the default.
    pub fn audio_of<'a>(&self, streams: &'a [FakeStream]) -> Option<&'a FakeStream> {
        let audio = || streams.iter().filter(|s| s.stream_type == 2);
        self.audio
            .and_then(|id| audio().find(|s| s.id == id))
            .or_else(|| audio().find(|s| s.default))
            .or_else(|| audio().next())
    }

    /// The subtitle stream chosen, if any.
    pub fn subtitle_of<'a>(&self, streams: &'a [FakeStream]) -> Option<&'a FakeStream> {
        let id = self.subtitle?;
        streams.iter().find(|s| s.stream_type == 3 && s.id == id)
    }
}
