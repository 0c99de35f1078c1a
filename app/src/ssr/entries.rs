//! What a watch session needs to know of a queued item, from Plex: its length, its intro and
//! credits markers, and for an episode the episode after it (what plays next when nothing is
//! queued). The server describes each entry once, after it is queued.

use marquee_plex::{Metadata, MetadataType};
use marquee_sync::{EntryInfo, Marker, MarkerKind, Suggestion};

use crate::error::AppError;
use crate::ssr::Library;

/// Plex's description of `rating_key` for a session's queue.
pub async fn describe(library: &Library, rating_key: &str) -> Result<EntryInfo, AppError> {
    let mut meta = library.metadata(rating_key).await?;
    // The resume point moves as people watch: ask Plex now, not the cache.
    match library.resume_point(rating_key).await {
        Ok(offset) => meta.view_offset = offset,
        Err(e) => {
            tracing::info!(rating_key, error = %e, "no fresh resume point; using the cached one")
        }
    }
    let next = if meta.r#type == MetadataType::Episode {
        match next_episode(library, &meta).await {
            Ok(next) => next,
            // The entry still plays and ends; it just has nothing after it.
            Err(e) => {
                tracing::warn!(rating_key, error = %e, "could not find the next episode");
                None
            }
        }
    } else {
        None
    };
    Ok(info_of(&meta, next))
}

/// The session's view of one item's metadata.
pub fn info_of(meta: &Metadata, next: Option<Suggestion>) -> EntryInfo {
    let duration_ms = meta
        .duration
        .or_else(|| meta.media.first().and_then(|m| m.duration))
        .unwrap_or(0);
    let mut markers: Vec<Marker> = meta
        .markers
        .iter()
        .filter_map(|m| {
            let kind = match m.kind.as_str() {
                "intro" => MarkerKind::Intro,
                "credits" => MarkerKind::Credits,
                _ => return None,
            };
            let (start, end) = (m.start_time_offset, m.end_time_offset);
            (start >= 0 && end > start).then(|| Marker {
                kind,
                start: start as f64 / 1000.0,
                end: end as f64 / 1000.0,
                last: m.last.unwrap_or(false),
            })
        })
        .collect();
    markers.sort_by(|a, b| a.start.total_cmp(&b.start));
    // Plex's resume point for the owner's account; none at the very start or end.
    let resume = meta
        .view_offset
        .filter(|o| *o >= 1_000 && (duration_ms == 0 || *o * 100 < duration_ms * 95))
        .map(|o| o as f64 / 1000.0);
    EntryInfo {
        duration: duration_ms.max(0) as f64 / 1000.0,
        markers,
        label: episode_label(meta),
        next,
        resume,
    }
}

/// "S01E04" for an episode with both numbers.
pub fn episode_label(meta: &Metadata) -> Option<String> {
    (meta.r#type == MetadataType::Episode)
        .then_some(())
        .and(meta.parent_index.zip(meta.index))
        .map(|(season, episode)| format!("S{season:02}E{episode:02}"))
}

/// The episode after `episode`: the next one in its season, else the first of the next season.
/// Specials (season 0) are followed only by specials.
async fn next_episode(
    library: &Library,
    episode: &Metadata,
) -> Result<Option<Suggestion>, AppError> {
    let Some(show) = episode.grandparent_rating_key.as_deref() else {
        return Ok(None);
    };
    let leaves = library.all_leaves(show).await?;
    Ok(following(episode, &leaves).map(|m| Suggestion {
        rating_key: m.rating_key.clone(),
        title: m.title.clone(),
        label: episode_label(m),
    }))
}

/// See [`next_episode`]: `leaves` in any order.
pub fn following<'a>(episode: &Metadata, leaves: &'a [Metadata]) -> Option<&'a Metadata> {
    let season = episode.parent_index?;
    let index = episode.index?;
    leaves
        .iter()
        .filter_map(|m| Some(((m.parent_index?, m.index?), m)))
        .filter(|((s, i), _)| {
            if season == 0 {
                *s == 0 && *i > index
            } else {
                (*s == season && *i > index) || *s > season
            }
        })
        .min_by_key(|(order, _)| *order)
        .map(|(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(key: &str, season: i64, index: i64) -> Metadata {
        Metadata {
            rating_key: key.into(),
            r#type: MetadataType::Episode,
            title: format!("E{key}"),
            parent_index: Some(season),
            index: Some(index),
            ..Default::default()
        }
    }

    #[test]
    fn the_next_episode_is_next_in_the_season_then_the_next_season() {
        let leaves = vec![
            ep("s2e1", 2, 1),
            ep("sp1", 0, 1),
            ep("s1e2", 1, 2),
            ep("s1e1", 1, 1),
            ep("s3e1", 3, 1),
            ep("sp2", 0, 2),
        ];
        let next = |e: &Metadata| following(e, &leaves).map(|m| m.rating_key.clone());
        assert_eq!(next(&ep("s1e1", 1, 1)).as_deref(), Some("s1e2"));
        assert_eq!(next(&ep("s1e2", 1, 2)).as_deref(), Some("s2e1"));
        assert_eq!(next(&ep("s2e1", 2, 1)).as_deref(), Some("s3e1"));
        assert_eq!(next(&ep("s3e1", 3, 1)), None);
        assert_eq!(next(&ep("sp1", 0, 1)).as_deref(), Some("sp2"));
        assert_eq!(next(&ep("sp2", 0, 2)), None);
    }

    #[test]
    fn markers_become_seconds_and_unknown_kinds_are_dropped() {
        let meta: Metadata = serde_json::from_value(serde_json::json!({
            "ratingKey": "2110", "type": "episode", "title": "First Flame",
            "index": "1", "parentIndex": 1, "duration": 120000, "viewOffset": 21500,
            "Marker": [
                {"type": "credits", "startTimeOffset": 108000, "endTimeOffset": 120000, "final": "1"},
                {"type": "commercial", "startTimeOffset": 50000, "endTimeOffset": 60000},
                {"type": "intro", "startTimeOffset": "3000", "endTimeOffset": 15000},
                {"type": "intro", "startTimeOffset": 9000, "endTimeOffset": 2000}
            ]
        }))
        .expect("parses");
        let info = info_of(&meta, None);
        assert_eq!(info.duration, 120.0);
        assert_eq!(info.label.as_deref(), Some("S01E01"));
        assert_eq!(info.resume, Some(21.5));
        assert_eq!(
            info.markers,
            vec![
                Marker {
                    kind: MarkerKind::Intro,
                    start: 3.0,
                    end: 15.0,
                    last: false
                },
                Marker {
                    kind: MarkerKind::Credits,
                    start: 108.0,
                    end: 120.0,
                    last: true
                },
            ]
        );
    }
}
