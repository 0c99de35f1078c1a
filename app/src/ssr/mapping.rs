//! Turns Plex's models into the page models in [`crate::model`]. Pure functions, so the rules
//! (which poster, which label, what a browser can play) are unit-tested without a server.

use marquee_plex::{Media, Metadata, MetadataType, SectionType};

use crate::model::{ItemCard, ItemDetail, ItemKind, SectionSummary, VersionInfo};

/// Map Plex's `type` string to the kinds Marquee shows differently.
pub fn kind_of(meta: &Metadata) -> ItemKind {
    match meta.r#type {
        MetadataType::Movie => ItemKind::Movie,
        MetadataType::Show => ItemKind::Show,
        MetadataType::Season => ItemKind::Season,
        MetadataType::Episode => ItemKind::Episode,
        MetadataType::Other => ItemKind::Other,
    }
}

/// Marquee's image route for a Plex artwork path, or `None` for paths Marquee does not proxy.
///
/// Only `/library/metadata/{id}/{thumb|art}/{stamp}` is accepted, so the browser can never make
/// the server fetch an arbitrary Plex URL with the owner's token.
pub fn image_url(plex_path: Option<&str>, width: u32, height: u32) -> Option<String> {
    let path = plex_path?;
    let rest = path.strip_prefix("/library/metadata/")?;
    let mut parts = rest.split('/');
    let (id, kind, stamp) = (parts.next()?, parts.next()?, parts.next()?);
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !numeric(id) || !numeric(stamp) || !matches!(kind, "thumb" | "art")
    {
        return None;
    }
    Some(format!("/img/{id}/{kind}/{stamp}?w={width}&h={height}"))
}

/// Poster size used in grids (2:3).
pub const POSTER_W: u32 = 240;
pub const POSTER_H: u32 = 360;

/// The second line under a card's title.
pub fn subtitle(meta: &Metadata) -> Option<String> {
    match kind_of(meta) {
        ItemKind::Episode => {
            let season = meta.parent_index.map(|s| format!("S{s}"));
            let episode = meta.index.map(|e| format!("E{e}"));
            let code = [season, episode]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            Some(match &meta.grandparent_title {
                Some(show) if !code.is_empty() => format!("{show} · {code}"),
                Some(show) => show.clone(),
                None => code,
            })
            .filter(|s| !s.is_empty())
        }
        ItemKind::Season => meta
            .leaf_count
            .map(|n| format!("{n} episode{}", if n == 1 { "" } else { "s" })),
        ItemKind::Show => meta
            .child_count
            .map(|n| format!("{n} season{}", if n == 1 { "" } else { "s" })),
        _ => meta.year.map(|y| y.to_string()),
    }
}

/// A grid card for any item. Episodes in mixed rows use the show's poster when they have none.
pub fn card(meta: &Metadata) -> ItemCard {
    let thumb = meta.thumb.as_deref().or(meta.grandparent_thumb.as_deref());
    let progress = match (meta.view_offset, meta.duration) {
        (Some(offset), Some(duration)) if duration > 0 && offset > 0 => {
            Some((offset as f32 / duration as f32).clamp(0.0, 1.0))
        }
        _ => None,
    };
    let (watched, unwatched) = watch_state(meta);
    ItemCard {
        rating_key: meta.rating_key.clone(),
        title: meta.title.clone(),
        subtitle: subtitle(meta),
        kind: kind_of(meta),
        poster: image_url(thumb, POSTER_W, POSTER_H),
        progress,
        watched,
        unwatched,
    }
}

/// Whether Plex counts the item watched, and for a show or season how many episodes are left
/// (only when some were watched: a show nobody started needs no count).
pub fn watch_state(meta: &Metadata) -> (bool, Option<i64>) {
    match (meta.leaf_count, meta.viewed_leaf_count) {
        (Some(leaves), Some(viewed)) if leaves > 0 => {
            let left = (leaves - viewed).max(0);
            (left == 0, (viewed > 0 && left > 0).then_some(left))
        }
        (Some(_), _) => (false, None),
        _ => (
            meta.view_count.unwrap_or(0) > 0 && meta.view_offset.is_none_or(|o| o <= 0),
            None,
        ),
    }
}

/// Codecs and containers that Chromium, Firefox and Discord's clients play without help.
/// HEVC, AC3/EAC3, DTS and MKV are deliberately absent: they go through the transcoder.
pub fn browser_can_play(media: &Media) -> bool {
    let container_ok = matches!(
        media
            .container
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("mp4" | "m4v" | "mov" | "webm")
    );
    let video_ok = matches!(
        media
            .video_codec
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("h264" | "vp8" | "vp9" | "av1")
    );
    let audio_ok = match media.audio_codec.as_deref().map(str::to_ascii_lowercase) {
        None => true,
        Some(a) => matches!(a.as_str(), "aac" | "mp3" | "opus" | "vorbis" | "flac"),
    };
    container_ok && video_ok && audio_ok
}

/// "1080p · H264 · AAC": enough to tell versions apart in the picker.
pub fn version_label(media: &Media) -> String {
    let resolution = media.video_resolution.as_deref().map(|r| {
        if r.chars().all(|c| c.is_ascii_digit()) {
            format!("{r}p")
        } else {
            r.to_uppercase()
        }
    });
    let parts: Vec<String> = [
        resolution,
        media.video_codec.as_deref().map(str::to_uppercase),
        media.audio_codec.as_deref().map(str::to_uppercase),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "Original".to_string()
    } else {
        parts.join(" · ")
    }
}

/// The media versions of a playable item, in Plex's order (their index is Plex's `mediaIndex`).
pub fn versions(meta: &Metadata) -> Vec<VersionInfo> {
    meta.media
        .iter()
        .enumerate()
        .map(|(i, m)| VersionInfo {
            index: i as u32,
            label: version_label(m),
            direct_play: browser_can_play(m),
        })
        .collect()
}

/// A section for the home page.
pub fn section(s: &marquee_plex::Section) -> SectionSummary {
    SectionSummary {
        key: s.key.clone(),
        title: s.title.clone(),
        kind: match s.r#type {
            SectionType::Movie => "movie",
            SectionType::Show => "show",
            SectionType::Artist => "artist",
            SectionType::Photo => "photo",
            SectionType::Other => "other",
        }
        .to_string(),
    }
}

/// The detail page of an item with its already-fetched children.
pub fn detail(meta: &Metadata, children: &[Metadata]) -> ItemDetail {
    let mut parents = Vec::new();
    if let (Some(key), Some(title)) = (&meta.grandparent_rating_key, &meta.grandparent_title) {
        parents.push((key.clone(), title.clone()));
    }
    if let (Some(key), Some(title)) = (&meta.parent_rating_key, &meta.parent_title) {
        parents.push((key.clone(), title.clone()));
    }
    let poster_path = meta.thumb.as_deref().or(meta.grandparent_thumb.as_deref());
    ItemDetail {
        rating_key: meta.rating_key.clone(),
        kind: kind_of(meta),
        title: meta.title.clone(),
        parents,
        year: meta.year,
        summary: meta.summary.clone().filter(|s| !s.trim().is_empty()),
        genres: meta.genres.iter().map(|g| g.tag.clone()).collect(),
        duration_ms: meta.duration,
        resume_ms: meta.view_offset.filter(|o| *o > 0),
        content_rating: meta.content_rating.clone(),
        poster: image_url(poster_path, 400, 600),
        backdrop: image_url(meta.art.as_deref(), 1280, 720),
        versions: versions(meta),
        children: children.iter().map(card).collect(),
        watched: watch_state(meta).0,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn media(container: &str, video: &str, audio: &str) -> Media {
        serde_json::from_value(serde_json::json!({
            "container": container, "videoCodec": video, "audioCodec": audio,
            "videoResolution": "1080"
        }))
        .unwrap()
    }

    #[test]
    fn image_url_only_accepts_metadata_artwork() {
        assert_eq!(
            image_url(Some("/library/metadata/12/thumb/1700000000"), 240, 360).as_deref(),
            Some("/img/12/thumb/1700000000?w=240&h=360")
        );
        assert_eq!(
            image_url(Some("/library/metadata/12/art/5"), 1, 2).as_deref(),
            Some("/img/12/art/5?w=1&h=2")
        );
        for bad in [
            "/library/metadata/12/file/1",
            "/library/metadata/x/thumb/1",
            "/library/metadata/12/thumb/1/extra",
            "/:/prefs",
            "http://evil/library/metadata/1/thumb/1",
            "/library/metadata/12/thumb/",
        ] {
            assert_eq!(image_url(Some(bad), 1, 1), None, "{bad}");
        }
        assert_eq!(image_url(None, 1, 1), None);
    }

    #[test]
    fn browser_playability_follows_codecs() {
        assert!(browser_can_play(&media("mp4", "h264", "aac")));
        assert!(!browser_can_play(&media("mkv", "hevc", "eac3")));
        assert!(!browser_can_play(&media("mp4", "hevc", "aac")));
        assert!(!browser_can_play(&media("mp4", "h264", "ac3")));
        assert_eq!(
            version_label(&media("mp4", "h264", "aac")),
            "1080p · H264 · AAC"
        );
    }

    #[test]
    fn episode_subtitle_names_show_season_and_episode() {
        let m: Metadata = serde_json::from_value(serde_json::json!({
            "ratingKey": "5", "type": "episode", "title": "Pilot",
            "grandparentTitle": "The Show", "parentIndex": 1, "index": "3"
        }))
        .unwrap();
        assert_eq!(subtitle(&m).as_deref(), Some("The Show · S1 · E3"));
        assert_eq!(card(&m).kind, ItemKind::Episode);
    }
}
