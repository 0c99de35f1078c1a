//! BIF ("Base Index Frames", from Roku), the format of Plex's seek-preview thumbnails
//! (`/library/parts/{id}/indexes/sd`): a 64-byte header, an index of (timestamp, offset) pairs
//! ending with a `0xffffffff` timestamp whose offset is the end of the data, then the JPEGs.
//!
//! ```text
//! 0..8    magic 89 42 49 46 0d 0a 1a 0a
//! 8..12   version (0), little-endian u32
//! 12..16  number of images
//! 16..20  timestamp multiplier: milliseconds per timestamp unit (0 means 1000)
//! 20..64  reserved
//! 64..    (timestamp u32, offset u32) × (images + 1)
//! ```

use std::ops::Range;

/// The first eight bytes of every BIF.
pub const MAGIC: [u8; 8] = [0x89, 0x42, 0x49, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const HEADER: usize = 64;
/// More images than a BIF of a very long film at one per second has: a bound on what a
/// malformed index can make Marquee allocate.
const MAX_IMAGES: usize = 200_000;

/// Why bytes are not a usable BIF.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BifError {
    #[error("not a BIF file (wrong magic)")]
    Magic,
    #[error("the BIF is cut short")]
    Truncated,
    #[error("the BIF's index is inconsistent: {0}")]
    Index(&'static str),
}

/// A parsed BIF index over its bytes.
#[derive(Debug, Clone)]
pub struct Bif {
    bytes: bytes::Bytes,
    /// (start ms, byte range of its JPEG), by time.
    frames: Vec<(u64, Range<usize>)>,
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, BifError> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(BifError::Truncated)
}

impl Bif {
    /// Parses and checks the index (every range inside the file, in order).
    pub fn parse(bytes: bytes::Bytes) -> Result<Bif, BifError> {
        if bytes.len() < HEADER || bytes[..8] != MAGIC {
            return Err(if bytes.len() >= 8 && bytes[..8] != MAGIC {
                BifError::Magic
            } else {
                BifError::Truncated
            });
        }
        let count = u32_at(&bytes, 12)? as usize;
        if count > MAX_IMAGES {
            return Err(BifError::Index("too many images"));
        }
        let multiplier = match u32_at(&bytes, 16)? {
            0 => 1000,
            m => u64::from(m),
        };
        let mut entries = Vec::with_capacity(count + 1);
        for i in 0..=count {
            let at = HEADER + i * 8;
            entries.push((u32_at(&bytes, at)?, u32_at(&bytes, at + 4)? as usize));
        }
        if entries.last().map(|e| e.0) != Some(u32::MAX) {
            return Err(BifError::Index("no end entry"));
        }
        let mut frames = Vec::with_capacity(count);
        for pair in entries.windows(2) {
            let ((ts, start), (_, end)) = (pair[0], pair[1]);
            if start > end || end > bytes.len() || start < HEADER + (count + 1) * 8 {
                return Err(BifError::Index("an image lies outside the file"));
            }
            if frames
                .last()
                .is_some_and(|(prev, _): &(u64, Range<usize>)| *prev > u64::from(ts) * multiplier)
            {
                return Err(BifError::Index("timestamps go backwards"));
            }
            frames.push((u64::from(ts) * multiplier, start..end));
        }
        Ok(Bif { bytes, frames })
    }

    /// Its size in bytes (what keeping it costs).
    pub fn size(&self) -> usize {
        self.bytes.len() + self.frames.len() * std::mem::size_of::<(u64, Range<usize>)>()
    }

    /// How many images it holds.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The JPEG shown at `ms`: the last image starting at or before it (the first one before
    /// the first image's time).
    pub fn frame_at(&self, ms: u64) -> Option<bytes::Bytes> {
        let i = self.frames.partition_point(|(start, _)| *start <= ms);
        let (_, range) = self.frames.get(i.saturating_sub(1))?;
        Some(self.bytes.slice(range.clone()))
    }

    /// The image times (ms).
    pub fn times(&self) -> impl Iterator<Item = u64> + '_ {
        self.frames.iter().map(|(t, _)| *t)
    }
}

/// Writes a BIF of `images` (JPEG bytes) taken every `interval_ms`: what a Plex server (and the
/// fake) serves.
pub fn write(images: &[Vec<u8>], interval_ms: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(images.len() as u32).to_le_bytes());
    out.extend_from_slice(&interval_ms.to_le_bytes());
    out.resize(HEADER, 0);
    let mut offset = HEADER + (images.len() + 1) * 8;
    for (i, image) in images.iter().enumerate() {
        out.extend_from_slice(&(i as u32).to_le_bytes());
        out.extend_from_slice(&(offset as u32).to_le_bytes());
        offset += image.len();
    }
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    out.extend_from_slice(&(offset as u32).to_le_bytes());
    for image in images {
        out.extend_from_slice(image);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bif {
        let images = vec![b"first".to_vec(), b"second".to_vec(), b"third".to_vec()];
        Bif::parse(write(&images, 2000).into()).expect("a BIF it wrote")
    }

    #[test]
    fn the_frame_at_a_time_is_the_last_one_started() {
        let bif = sample();
        assert_eq!(bif.len(), 3);
        assert_eq!(bif.times().collect::<Vec<_>>(), vec![0, 2000, 4000]);
        let at = |ms| {
            bif.frame_at(ms)
                .map(|b| String::from_utf8(b.to_vec()).expect("text"))
        };
        assert_eq!(at(0).as_deref(), Some("first"));
        assert_eq!(at(1999).as_deref(), Some("first"));
        assert_eq!(at(2000).as_deref(), Some("second"));
        assert_eq!(at(99_000).as_deref(), Some("third"));
    }

    #[test]
    fn malformed_files_are_refused_not_trusted() {
        let good = write(&[b"a".to_vec(), b"bb".to_vec()], 1000);
        assert_eq!(
            Bif::parse(bytes::Bytes::from_static(b"GIF89a")).expect_err("refused"),
            BifError::Truncated
        );
        let mut wrong = good.clone();
        wrong[1] = b'X';
        assert_eq!(
            Bif::parse(wrong.into()).expect_err("refused"),
            BifError::Magic
        );
        assert_eq!(
            Bif::parse(good[..good.len() - 1].to_vec().into()).expect_err("refused"),
            BifError::Index("an image lies outside the file")
        );
        let mut huge = good.clone();
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            Bif::parse(huge.into()).expect_err("refused"),
            BifError::Index("too many images")
        );
        let mut no_end = good.clone();
        no_end[64 + 16..64 + 20].copy_from_slice(&7u32.to_le_bytes());
        assert_eq!(
            Bif::parse(no_end.into()).expect_err("refused"),
            BifError::Index("no end entry")
        );
    }
}
