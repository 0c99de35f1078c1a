//! Plex's HLS playlists, read once and rewritten as Marquee's own.
//!
//! A viewer never sees Plex's names: Marquee's media playlist lists segment `i` as `{i}.ts`,
//! and Marquee keeps, per segment, the file name Plex gave it (relative to the transcode
//! session, without any token) and where it starts in the item. The same names hold for every
//! Plex session of one rendition, so re-targeting a transcode (a new Plex session at a new
//! offset) changes nothing a player holds.

/// One segment of a rendition.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Plex's file name, relative to `…/session/{id}/base/` (`00012.ts`).
    pub plex_name: String,
    /// Where it starts in the item, in seconds.
    pub start: f64,
    pub duration: f64,
}

/// A rendition's media playlist: Plex's segments, and the text Marquee sends.
#[derive(Debug, Clone)]
pub struct MediaPlaylist {
    pub segments: Vec<Segment>,
    /// Marquee's playlist: Plex's tags, segment `i` as `{i}.ts`.
    pub text: String,
}

impl MediaPlaylist {
    /// Reads a Plex media playlist. `None` if it lists no segment, or a segment by a name
    /// Marquee would not forward.
    pub fn parse(plex: &str) -> Option<MediaPlaylist> {
        let mut segments = Vec::new();
        let mut text = String::with_capacity(plex.len());
        let mut start = 0.0;
        let mut pending: Option<f64> = None;
        for line in plex.lines().map(str::trim) {
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix("#EXTINF:") {
                let duration: f64 = rest.split(',').next()?.trim().parse().ok()?;
                if !duration.is_finite() || duration <= 0.0 {
                    return None;
                }
                pending = Some(duration);
                text.push_str(line);
                text.push('\n');
            } else if line.starts_with("#EXT-X-KEY") || line.starts_with("#EXT-X-MAP") {
                // Keys and init sections would carry Plex URIs; Marquee's transcodes use
                // neither (MPEG-TS, no encryption), so a playlist with them is not relayed.
                return None;
            } else if line.starts_with('#') {
                text.push_str(line);
                text.push('\n');
            } else {
                let duration = pending.take()?;
                let name = plex_name(line)?;
                let ext = name.rsplit_once('.').map_or("ts", |(_, e)| e);
                text.push_str(&format!("{}.{ext}\n", segments.len()));
                segments.push(Segment {
                    plex_name: name,
                    start,
                    duration,
                });
                start += duration;
            }
        }
        (!segments.is_empty()).then_some(MediaPlaylist { segments, text })
    }

    /// The segment holding item time `secs` (the last one past the end).
    pub fn segment_at(&self, secs: f64) -> usize {
        self.segments
            .iter()
            .position(|s| secs < s.start + s.duration)
            .unwrap_or(self.segments.len().saturating_sub(1))
    }
}

/// A segment URI as Plex wrote it (relative, or absolute to its transcoder) → the file name
/// relative to the session's directory, without query. `None` for anything else.
fn plex_name(uri: &str) -> Option<String> {
    let path = uri.split(['?', '#']).next()?;
    let name = match path.rfind("/base/") {
        Some(at) => &path[at + "/base/".len()..],
        None if !path.contains("://") && !path.starts_with('/') => path,
        None => return None,
    };
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.split('/').all(|part| {
            !part.is_empty()
                && part != ".."
                && part != "."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        });
    ok.then(|| name.to_string())
}

/// The first variant of a Plex master playlist: its `#EXT-X-STREAM-INF` line and its URI.
pub fn first_variant(master: &str) -> Option<(String, String)> {
    let mut lines = master.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line.starts_with("#EXT-X-STREAM-INF") {
            let uri = lines.find(|l| !l.is_empty() && !l.starts_with('#'))?;
            return Some((line.to_string(), uri.to_string()));
        }
    }
    None
}

/// Marquee's master playlist for one viewer: Plex's variant description, pointing at the
/// viewer's own path (its token is its proof of access).
pub fn master_for(stream_inf: &str, viewer: &str, label: &str) -> String {
    format!("#EXTM3U\n#EXT-X-VERSION:3\n{stream_inf}\nsession/{viewer}/{label}/index.m3u8\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn segments_get_marquee_names_and_item_times() {
        let plex = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.000000,\n00000.ts\n#EXTINF:4.0,\nhttp://plex:32400/video/:/transcode/universal/session/abc/base/00001.ts?X-Plex-Token=SECRET\n#EXTINF:2.5,\n00002.ts\n#EXT-X-ENDLIST\n";
        let p = MediaPlaylist::parse(plex).unwrap();
        assert_eq!(p.segments.len(), 3);
        assert_eq!(p.segments[1].plex_name, "00001.ts");
        assert_eq!(p.segments[2].start, 8.0);
        assert!(
            !p.text.contains("SECRET") && !p.text.contains("plex"),
            "{}",
            p.text
        );
        assert!(p.text.contains("\n0.ts\n") && p.text.contains("\n2.ts\n#EXT-X-ENDLIST"));
        assert_eq!(p.segment_at(0.0), 0);
        assert_eq!(p.segment_at(8.1), 2);
        assert_eq!(p.segment_at(99.0), 2);
    }

    /// Review item 17: Plex (or a proxy in front of it) may write the parameter in any case;
    /// Marquee keeps only file names, so none survives.
    #[test]
    fn tokens_are_stripped_in_any_case() {
        let plex = "#EXTINF:4,\na.ts?x-plex-token=SECRET1&b=2\n#EXTINF:4,\nb.ts?X-PLEX-TOKEN=SECRET2\n#EXTINF:4,\nhttp://plex/video/:/transcode/universal/session/s/base/c.ts?q=1&X-Plex-token=SECRET3\n";
        let p = MediaPlaylist::parse(plex).unwrap();
        assert!(
            !p.text.to_ascii_lowercase().contains("secret"),
            "{}",
            p.text
        );
        let names: Vec<&str> = p.segments.iter().map(|s| s.plex_name.as_str()).collect();
        assert_eq!(names, ["a.ts", "b.ts", "c.ts"]);
    }

    #[test]
    fn foreign_uris_and_keys_are_refused() {
        assert!(MediaPlaylist::parse("#EXTINF:4,\nhttp://evil/x.ts\n").is_none());
        assert!(MediaPlaylist::parse("#EXTINF:4,\n../../library/x.ts\n").is_none());
        assert!(
            MediaPlaylist::parse("#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n#EXTINF:4,\na.ts\n")
                .is_none()
        );
        assert!(MediaPlaylist::parse("#EXTM3U\n").is_none());
    }

    #[test]
    fn the_master_names_the_viewer_and_the_rendition() {
        let master =
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000\nsession/plexid/base/index.m3u8\n";
        let (inf, uri) = first_variant(master).unwrap();
        assert_eq!(uri, "session/plexid/base/index.m3u8");
        let out = master_for(&inf, "viewer-token", "q2000");
        assert!(out.contains("BANDWIDTH=900000\nsession/viewer-token/q2000/index.m3u8\n"));
        assert!(!out.contains("plexid"));
    }
}
